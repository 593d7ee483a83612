"""The base of every namespace (`client.leads`, ...): turns a method call into one request.

Generated methods (`_generated/resources.py`) pass their arguments here by wire name; this is
where they are checked (before any request), encoded, sent through the client's one pipeline,
and structured into the operation's model.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

from ._convert import structure, unstructure
from ._generated.operations import OPEN_ENUMS, OPERATIONS
from ._operation import Operation, Param
from ._pagination import Page, paginate
from ._transport import NO_BODY, _encode_scalar
from ._types import Unset
from ._validate import check_param
from .errors import ResponseTooDeepError

if TYPE_CHECKING:
    from ._client import AsyncInstantly

__all__ = ["Resource"]

_STRUCTURED_AS_IS = (None, str, bytes, Any)


class Resource:
    """A namespace of operations that share one client."""

    def __init__(self, client: AsyncInstantly) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    async def _request(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        op = OPERATIONS[operation_id]
        url, params, payload = _encode(op, path, query, body)
        data = await self._send(op, url, params, payload)
        if op.response in _STRUCTURED_AS_IS:
            return data
        try:
            return structure(data, op.response)
        except RecursionError:
            pass  # raised below, outside the handler, so the error has no context to drag along
        raise ResponseTooDeepError(
            200,
            None,
            method=op.method,
            path=url,
            message="the API's answer nests too deep to be read as a model",
        )

    async def _send(
        self,
        op: Operation,
        url: str,
        params: dict[str, Any] | None,
        payload: Any,
        retry_safe: bool | None = None,
    ) -> Any:
        """Send an already checked and encoded request; return the decoded JSON as it came.

        retry_safe: None for the operation's own rule; False makes the caller handle a 5xx or a
            dropped connection itself (bulk import looks up what such a request added instead).
        """
        return await self._client._transport.request(
            op.method,
            url,
            query=params,
            json=payload,
            retry_safe=op.is_retry_safe(payload) if retry_safe is None else retry_safe,
            rate_key=op.operation_id if op.rate_limits else None,
            endpoint_limits=op.rate_limits,
            accept=None if op.accept == "application/json" else op.accept,
        )

    async def _page(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Page[Any]:
        op = OPERATIONS[operation_id]
        return _as_page(op, await self._send(op, *_page_request(op, path, query, body)))

    def _iterate(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        max_items: int | None = None,
    ) -> AsyncIterator[Any]:
        op = OPERATIONS[operation_id]
        # Check now, not at the first `async for` step, so a bad argument fails where it is made.
        _encode(op, path, query, body)
        in_body = op.pagination == "body"
        # The next page's answer, asked for before this page is read into models: the server
        # works on it while this process decodes (a page of 100 Leads is about a millisecond of
        # CPU). One page ahead at most, and only when the walk will want it.
        ahead: dict[str, asyncio.Future[Any]] = {}
        taken = 0

        def ask(cursor: str | None) -> Any:
            if in_body:
                request = _page_request(op, path, query, {**(body or {}), "starting_after": cursor})
            else:
                request = _page_request(op, path, {**(query or {}), "starting_after": cursor}, body)
            return self._send(op, *request)

        async def fetch(cursor: str | None) -> Page[Any]:
            nonlocal taken
            early = ahead.pop(cursor, None) if cursor is not None else None
            data = await (early if early is not None else ask(cursor))
            if type(data) is dict:
                after, items = data.get("next_starting_after"), data.get("items")
                count = len(items) if type(items) is list else 0
                taken += count
                if (
                    type(after) is str
                    and after
                    and count
                    and (max_items is None or taken < max_items)
                ):
                    task = asyncio.ensure_future(ask(after))
                    task.add_done_callback(_leave_error_to_awaiter)
                    ahead[after] = task
                    await asyncio.sleep(0)  # lets the task put its request on the wire first
            return _as_page(op, data)

        async def walk() -> AsyncIterator[Any]:
            try:
                async for item in paginate(fetch, max_items=max_items):
                    yield item
            finally:
                for task in ahead.values():  # the walk ended early: nobody wants that page
                    task.cancel()

        return walk()


def _page_request(
    op: Operation,
    path: Mapping[str, Any] | None,
    query: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
) -> tuple[str, dict[str, Any] | None, Any]:
    if body is not None and body.get("starting_after", Unset.UNSET) is None:
        # None means "the first page", which the API wants as no cursor at all.
        body = {**body, "starting_after": Unset.UNSET}
    return _encode(op, path, query, body)


def _as_page(op: Operation, data: Any) -> Page[Any]:
    result = structure(data, op.response)
    # `items` is None when the answer's was not a list (see `instantly.mismatches`).
    items = result.items if result.items is not None else []
    return Page(items=items, next_starting_after=result.next_starting_after or None)


def _leave_error_to_awaiter(task: asyncio.Future[Any]) -> None:
    # A page asked for ahead fails where the walk reaches it (its `await` raises); if the walk
    # never does, the error is read here so that asyncio does not report it as lost.
    if not task.cancelled():
        task.exception()


def _encode(
    op: Operation,
    path: Mapping[str, Any] | None,
    query: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
) -> tuple[str, dict[str, Any] | None, Any]:
    url = op.path
    for param in op.path_params:
        url = url.replace("{" + param.wire + "}", _path_segment(param, (path or {})[param.wire]))
    params: dict[str, Any] | None = None
    if query:
        params = {}
        for param in op.query_params:
            value = query.get(param.wire)
            if value is None:
                continue
            check_param(param, value, OPEN_ENUMS)
            if param.comma_separated and isinstance(value, list | tuple):
                value = ",".join(e for v in value if (e := _encode_scalar(v)) is not None)
            params[param.wire] = value
    payload: Any = NO_BODY
    if op.body is not None:
        payload = {}
        for param in op.body_fields:
            value = (body or {}).get(param.wire, Unset.UNSET)
            if value is None and not param.nullable:
                # "Not sent": what an optional argument's None means, unless None clears it.
                if param.required:
                    raise TypeError(f"{param.name} is required and cannot be None")
                continue
            if isinstance(value, Unset):
                if param.required:
                    raise TypeError(f"{param.name} is required")
                continue
            check_param(param, value, OPEN_ENUMS)
            payload[param.wire] = _jsonable(value)
        if op.body_rules:
            _check_body_rules(op, payload)
        if not payload and not op.body_required:
            payload = NO_BODY
    return url, params, payload


_REFUSED_SEGMENTS = frozenset({".", ".."})
# What `quote(text, safe="")` leaves as it is: most ids (UUIDs) are, and skip the quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def _path_segment(param: Param, value: Any) -> str:
    """A path parameter as exactly one percent-encoded path segment.

    Everything but letters, digits and `-._~` is encoded (`/`, `?`, `#`, `%`, spaces, non-ASCII),
    so no value can end the segment, start a query or climb the path. `.` and `..` cannot be
    encoded (servers and URL libraries resolve `%2E` as a dot too), and an empty value would
    drop the segment: those are refused. Either way a value never reaches another endpoint.
    """
    check_param(param, value, OPEN_ENUMS)
    text = value if type(value) is str else _encode_scalar(value)
    if not text:
        raise ValueError(f"{param.name} must not be empty")
    if text in _REFUSED_SEGMENTS:
        raise ValueError(
            f"{param.name} must not be {text!r}: as a path segment it would address another "
            "endpoint"
        )
    return text if _UNRESERVED(text) else quote(text, safe="")


def _check_body_rules(op: Operation, payload: Mapping[str, Any]) -> None:
    """Refuse a body that breaks a rule across its fields (from the spec), naming the fields.

    The server would answer 400; failing here says which fields, before anything is sent. At the
    top of the body the names are the method's keyword arguments; deeper, the body's own keys.
    """
    names = {param.wire: param.name for param in op.body_fields}
    for rule in op.body_rules:
        target: Any = payload
        for key in rule.path:
            target = target.get(key) if isinstance(target, Mapping) else None
        if not isinstance(target, Mapping):
            continue  # the object is absent (or not an object): nothing to check
        top = not rule.path
        where = f"{op.namespace}.{op.name}" + ("" if top else f"(): {'.'.join(rule.path)}")

        def shown(wire: str, top: bool = top) -> str:
            return names.get(wire, wire) if top else wire

        present = [key for key, value in target.items() if not isinstance(value, Unset)]
        if len(present) < rule.min_properties:
            choices = ", ".join(shown(f) for f in rule.fields)
            raise ValueError(
                f"{where} needs at least {rule.min_properties} field(s) to send; "
                f"none was given (pass one of: {choices})"
            )
        groups = rule.required_any_of
        if groups and not any(all(key in present for key in group) for group in groups):
            options = " or ".join(" + ".join(shown(f) for f in group) for group in groups)
            raise ValueError(f"{where} needs {options}")


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """Models (and dicts or lists holding them) become JSON data; the rest is sent as it is."""
    # Plain data is the common case (1,000 lead dicts per bulk request): it is sent as it is,
    # and only a value that holds a model is copied.
    if _is_plain(value):
        return value
    if attrs.has(type(value)):
        return unstructure(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _is_plain(value: Any) -> bool:
    """Whether `value` is made of dicts, lists and scalars only (no models, enums, dates)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        return all(type(v) in _SCALARS or _is_plain(v) for v in value.values())
    if kind is list:
        return all(type(v) in _SCALARS or _is_plain(v) for v in value)
    return False
