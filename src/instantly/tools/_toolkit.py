"""`Toolkit`: the API as tools for an agent, with definitions for the model and `call` to run them.

Definitions and argument checks come from the spec (`_generated/tools.py`). A call goes through
the client's one pipeline, as a resource method does: `_encode` (the operation's own checks),
then `Resource._send` (limiter, 429 pause, safe retries, error mapping). The answer is kept as
the API's JSON, so a result is JSON-serialisable and shows what the server sent.
"""

from __future__ import annotations

import copy
import difflib
import json
import logging
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from .._generated.operations import OPEN_ENUMS, OPERATIONS
from .._resource import _encode
from .._types import UNSET
from .._validate import check_param
from ..errors import InstantlyError
from ._spec import Arg, Field, Shape, ToolSpec

if TYPE_CHECKING:
    from .._client import AsyncInstantly
    from .._resource import Resource

__all__ = ["Format", "Toolkit"]

logger = logging.getLogger("instantly.tools")

Format = Literal["openai", "anthropic", "mcp"]
_FORMATS = ("openai", "anthropic", "mcp")


class ToolArgumentError(ValueError):
    """The arguments a model gave do not fit the tool; nothing was sent."""


class Toolkit:
    """The Instantly API as tools for an agent (OpenAI or Anthropic tool use, MCP).

    ```python
    toolkit = Toolkit(client)                          # the 13 default tools
    tools = toolkit.definitions(format="anthropic")    # give these to the model
    result = await toolkit.call("list_leads", {"campaign": "<uuid>", "limit": 10})
    ```

    A toolkit is a collection of tool names: `len(toolkit)`, `"list_leads" in toolkit`,
    `list(toolkit)`. Every result is a JSON-serialisable dict with `success` (bool) and `error` (a message with
    the HTTP status, or None) next to the data; `call` never raises for an API error, a timeout
    or a bad argument, so the model sees what went wrong and can decide what to do next.
    """

    def __init__(
        self,
        client: AsyncInstantly,
        tools: str | Iterable[str] | None = None,
        read_only: bool = False,
    ) -> None:
        """Choose the tools.

        Args:
            client: the AsyncInstantly every call goes through (its limits and retries apply).
            tools: None for the 13 default tools; "all" for one tool per operation of the API,
                named namespace_method (`leads_list`, `campaigns_activate`, ...); or a list of
                names from either set.
            read_only: keep only the tools that change nothing (reads, searches, analytics).

        Raises:
            ValueError: an unknown tool name (with the names it resembles), a string other
                than "all" for `tools`, or `read_only=True` with a list naming a tool that
                changes data.
        """
        from .._generated.tools import ALL_TOOLS, DEFAULT_TOOLS

        self._client = client
        self.read_only = read_only
        chosen: dict[str, ToolSpec]
        if tools is None or tools == "default":
            chosen = dict(DEFAULT_TOOLS)
        elif tools == "all":
            chosen = dict(ALL_TOOLS)
        elif isinstance(tools, str):
            raise ValueError(
                f"tools must be None (the 13 default tools), 'all', or a list of tool names; "
                f"got {tools!r} (for one tool, pass [{tools!r}])"
            )
        else:
            chosen = {}
            for name in tools:
                # Looked up in each table, not in a merged copy: a table makes an entry (and
                # builds the models it names) only when it is looked up.
                table = DEFAULT_TOOLS if name in DEFAULT_TOOLS else ALL_TOOLS
                if name not in table:
                    known = [*DEFAULT_TOOLS, *ALL_TOOLS]
                    raise ValueError(f"unknown tool {name!r}{_did_you_mean(name, known)}")
                chosen[name] = table[name]
            if read_only:
                writes = [n for n, t in chosen.items() if not t.read_only]
                if writes:
                    raise ValueError(
                        f"read_only=True, but these tools change data: {', '.join(writes)}"
                    )
        if read_only:
            chosen = {n: t for n, t in chosen.items() if t.read_only}
        self._tools = chosen

    def __repr__(self) -> str:
        return f"Toolkit({len(self._tools)} tools, read_only={self.read_only})"

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    @property
    def names(self) -> list[str]:
        """The names of the tools, in the order the definitions list them."""
        return list(self._tools)

    def spec(self, name: str) -> ToolSpec:
        """The generated description of one tool (its schemas, flags and call table).

        Args:
            name: one of `names`.

        Returns:
            The tool's description, as codegen wrote it from the spec.

        Raises:
            KeyError: the toolkit has no such tool.
        """
        return self._tools[name]

    def definitions(self, format: Format = "openai") -> list[dict[str, Any]]:
        """The tools as the model's API wants them.

        Every schema is JSON Schema 2020-12, an object at the top with no anyOf/oneOf/allOf
        there. The dicts are copies: change them freely.

        Args:
            format: "openai" for Chat Completions tools, `{"type": "function", "function":
                {name, description, parameters}}` (no `strict`: strict mode would make every
                optional parameter required); "anthropic" for Messages API tools, `{name,
                description, input_schema}`; "mcp" for MCP `Tool`s, `{name, title,
                description, inputSchema, outputSchema, annotations}` with readOnlyHint,
                destructiveHint, idempotentHint.

        Returns:
            One definition per tool, in the order of `names`.

        Raises:
            ValueError: an unknown `format`.
        """
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)}; got {format!r}")
        return [_definition(tool, format) for tool in self._tools.values()]

    async def call(
        self, name: str, arguments: Mapping[str, Any] | str | None = None
    ) -> dict[str, Any]:
        """Run one tool call and return its result; never raises for what the model asked.

        The call goes through the client's pipeline: its rate limit, 429 pause and safe
        retries apply.

        Args:
            name: the tool's name, as the model gave it.
            arguments: the tool's arguments, as a dict or as the JSON text of one (what OpenAI
                sends); None for none.

        Returns:
            `{"success": True, "error": None, ...data}` or `{"success": False, "error":
            "..."}`, JSON-serialisable. A bad argument is refused before any request, and the
            error names it; an API error gives its message with the HTTP status; a timeout or
            dropped connection says so. List tools put one page under their key (`leads`,
            `campaigns`, ...) with `count` and `next_starting_after`.
        """
        tool = self._tools.get(name)
        if tool is None:
            return _failure(f"unknown tool {name!r}{_did_you_mean(name, self._tools)}")
        op = OPERATIONS[tool.operation_id]
        try:
            path, query, body = _request_parts(tool, _parse(arguments))
            # The operation's own checks, as a method call makes them (they name wire fields).
            url, params, payload = _encode(op, path, query, body)
        except (ToolArgumentError, TypeError, ValueError) as exc:
            return _failure(f"bad arguments, nothing was sent: {exc}")
        resource: Resource = getattr(self._client, op.namespace)
        try:
            data = await resource._send(op, url, params, payload)
        except InstantlyError as exc:
            return _failure(str(exc))
        except Exception as exc:  # a bug of ours must not end the agent's run either
            logger.exception("tool %s failed unexpectedly", name)
            return _failure(f"unexpected error in the SDK: {type(exc).__name__}: {exc}")
        return _result(tool.shape, data)


# --- definitions ----------------------------------------------------------------------------


def _definition(tool: ToolSpec, format: str) -> dict[str, Any]:
    schema = copy.deepcopy(tool.input_schema)
    if format == "openai":
        return {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": schema},
        }
    if format == "anthropic":
        return {"name": tool.name, "description": tool.description, "input_schema": schema}
    annotations: dict[str, Any] = {
        "title": tool.title,
        "readOnlyHint": tool.read_only,
        "destructiveHint": tool.destructive,
        "idempotentHint": tool.read_only or tool.idempotent,
        "openWorldHint": True,  # it acts on a remote service (and may send real emails)
    }
    return {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "inputSchema": schema,
        "outputSchema": copy.deepcopy(tool.output_schema),
        "annotations": annotations,
    }


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=3)
    return f"; did you mean {' or '.join(close)}?" if close else ""


# --- arguments ------------------------------------------------------------------------------


def _parse(arguments: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if arguments is None:
        return {}
    if isinstance(arguments, str | bytes):
        if not arguments.strip():
            return {}
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            raise ToolArgumentError(f"the arguments are not valid JSON ({exc})") from None
    if not isinstance(arguments, Mapping):
        raise ToolArgumentError(
            f"the arguments must be a JSON object, got {type(arguments).__name__}"
        )
    return arguments


def _admits_none(tp: Any) -> bool:
    return tp is type(None) or (
        get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)
    )


def _request_parts(
    tool: ToolSpec, arguments: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Check the arguments against the tool and sort them into path, query and body by wire name."""
    names = {a.param.name for a in tool.args}
    unknown = [k for k in arguments if k not in names]
    if unknown:
        takes = ", ".join(a.param.name for a in tool.args) or "no arguments"
        raise ToolArgumentError(
            f"unknown argument {', '.join(repr(k) for k in unknown)}; {tool.name} takes: {takes}"
        )
    parts: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "body": {}}
    given: set[str] = set()
    for arg in tool.args:
        param = arg.param
        value = arguments.get(param.name, UNSET)
        if value is None and not _admits_none(param.type):
            value = UNSET  # models send null for "not given"; the API wants it left out
        if value is UNSET:
            if arg.default is not UNSET:
                value = arg.default
            elif param.required:
                raise ToolArgumentError(f"{param.name} is required")
            else:
                continue
        else:
            check_param(param, value, OPEN_ENUMS)
            if arg.location == "path" and isinstance(value, str) and not value.strip():
                raise ToolArgumentError(f"{param.name} must not be empty")
            given.add(param.name)
        _place(parts[arg.location], arg, value)
    alternatives = tool.required_any_of
    if alternatives and not any(given.issuperset(group) for group in alternatives):
        shown = " or ".join(" and ".join(group) for group in alternatives)
        raise ToolArgumentError(f"give at least one of: {shown}")
    return parts["path"], parts["query"], parts["body"]


def _place(target: dict[str, Any], arg: Arg, value: Any) -> None:
    if arg.sub is None:
        target[arg.param.wire] = value
    else:
        target.setdefault(arg.param.wire, {})[arg.sub] = value


# --- results --------------------------------------------------------------------------------


def _failure(message: str) -> dict[str, Any]:
    return {"success": False, "error": message}


def _result(shape: Shape, data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"success": True, "error": None}
    answer = data if isinstance(data, dict) else {}
    if shape.kind == "data":
        out[shape.key] = data
    elif shape.kind == "page":
        items = answer.get("items")
        items = items if isinstance(items, list) else []
        if shape.detail is not None:
            items = [_project(item, shape.detail) for item in items]
        out[shape.key] = items
        out["count"] = len(items)
        cursor = answer.get("next_starting_after")
        out["next_starting_after"] = cursor if isinstance(cursor, str) and cursor else None
    elif shape.kind == "object":
        out[shape.key] = _project(answer, shape.detail or ()) if answer else None
    for name, field, kinds in shape.top:
        out[name] = _fit(answer.get(field), kinds)
    return out


def _project(item: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """The listed fields of one item; a value of a type the schema does not allow becomes None.

    The result's output schema promises those types (an MCP client checks them), so a value the
    server sent in another type is left out rather than breaking the whole result.
    """
    source = item if isinstance(item, dict) else {}
    out: dict[str, Any] = {}
    for field in fields:
        value = source.get(field.name)
        if field.fields:
            out[field.name] = _project(value, field.fields) if isinstance(value, dict) else None
        else:
            out[field.name] = _fit(value, field.kinds)
    return out


_KINDS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _fit(value: Any, kinds: tuple[str, ...]) -> Any:
    if value is None or not kinds:
        return value
    return value if any(_KINDS[k](value) for k in kinds if k in _KINDS) else None
