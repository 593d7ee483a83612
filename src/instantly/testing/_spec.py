"""What the mock knows of the API, read from the spec shipped in the package.

The spec (`instantly/_generated/spec.json`, written by codegen from `openapi/instantly-v2.yaml`)
gives the routes, the request and response schemas, the success status of each operation and its
stricter rate limits. Validators are fastjsonschema functions, compiled on first use of an
operation and kept for the life of the process (schemas never change while it runs): compiling
all 240 up front would cost over a second at every start.

Why fastjsonschema: it compiles a schema to Python code. Checking the body of a 1,000-lead
`POST /api/v2/leads/add` costs about 3 ms with it, against about 50 ms with jsonschema and 120 ms
with openapi-core (which runs jsonschema underneath); the mock sits on the benchmarks' hot path.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from typing import Any, Final

import attrs
import fastjsonschema

__all__ = [
    "Route",
    "SpecViolation",
    "example",
    "load_spec",
    "match_route",
    "operation_schemas",
    "request_validator",
    "response_validator",
    "routes",
]

HTTP_METHODS: Final = ("get", "post", "put", "patch", "delete")
UUID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
# draft-07 knows date, date-time, email and uri; OpenAPI adds uuid.
_FORMATS: Final = {"uuid": UUID_PATTERN}

Validator = Callable[[Any], Any]


class SpecViolation(ValueError):
    """A value that its schema refuses; the message names the field, as the API's 400 does."""


@functools.cache
def load_spec() -> dict[str, Any]:
    """The OpenAPI document shipped in the package (parsed once per process)."""
    text = resources.files("instantly._generated").joinpath("spec.json").read_text("utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


@attrs.frozen(slots=True)
class Route:
    """One operation as the server routes it."""

    operation_id: str
    method: str  # upper case
    path: str  # the template, e.g. /api/v2/leads/{id}
    segments: tuple[str, ...]  # the template's segments; "{name}" stands for a parameter
    success_status: int
    content_type: str | None  # of the success answer; None when it has no body
    has_body: bool
    body_required: bool
    rate_limits: tuple[tuple[int, float], ...]


def _success(op: Mapping[str, Any]) -> tuple[int, str | None]:
    for code in sorted(op["responses"]):
        if code.startswith("2"):
            content = op["responses"][code].get("content")
            return int(code), (next(iter(content)) if content else None)
    return 200, None


@functools.cache
def routes() -> tuple[Route, ...]:
    """Every operation of the spec, in the spec's order."""
    out = []
    for path, item in load_spec()["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            status, ctype = _success(op)
            body = op.get("requestBody")
            limits = tuple(
                (int(x["requests"]), float(x["seconds"])) for x in op.get("x-rate-limit", ())
            )
            out.append(
                Route(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    segments=tuple(path.strip("/").split("/")),
                    success_status=status,
                    content_type=ctype,
                    has_body=body is not None,
                    body_required=bool(body and body.get("required")),
                    rate_limits=limits,
                )
            )
    return tuple(out)


@functools.cache
def _route_table() -> tuple[dict[tuple[str, str], Route], dict[tuple[str, int], list[Route]]]:
    static: dict[tuple[str, str], Route] = {}
    templated: dict[tuple[str, int], list[Route]] = {}
    for route in routes():
        if "{" in route.path:
            templated.setdefault((route.method, len(route.segments)), []).append(route)
        else:
            static[(route.method, route.path.rstrip("/") or "/")] = route
    for candidates in templated.values():
        # Where two templates fit one path, the one with more literal segments is meant.
        candidates.sort(key=lambda r: sum(s.startswith("{") for s in r.segments))
    return static, templated


def match_route(method: str, segments: list[str]) -> tuple[Route, dict[str, str]] | None:
    """The route of a request and its path parameters.

    Args:
        method: the HTTP method, upper case.
        segments: the request path split on "/", each segment already percent-decoded.

    Returns:
        The route and the path parameters by name; None when no operation has that path.
    """
    static, templated = _route_table()
    route = static.get((method, "/" + "/".join(segments)))
    if route is not None:
        return route, {}
    for candidate in templated.get((method, len(segments)), ()):
        params: dict[str, str] = {}
        for want, got in zip(candidate.segments, segments, strict=True):
            if want[0] == "{":
                if not got:
                    break
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return candidate, params
    return None


# --- schemas ---------------------------------------------------------------------------------


@functools.cache
def _components(for_requests: bool) -> dict[str, Any]:
    """The spec's components, made fit for a draft-07 validator.

    Requests: an open enum (`x-open-enum`, e.g. custom interest statuses) accepts any value of its
    type, as the server does; answers keep the listed values.
    """
    schemas = copy.deepcopy(load_spec()["components"]["schemas"])
    if for_requests:
        for schema in schemas.values():
            if schema.get("x-open-enum"):
                schema.pop("enum", None)
            # Rules across fields, at any depth, as the validator knows them: the spec keeps
            # them as extensions so that the code generator sees plain classes.
            rules = list(schema.get("x-conditions", ()))
            groups = schema.get("x-required-any-of")
            if groups:
                rules.append({"anyOf": [{"required": list(g)} for g in groups]})
            if rules:
                schema["allOf"] = [*schema.get("allOf", ()), *rules]
    return {"schemas": schemas}


def _refs(node: Any) -> Iterator[str]:
    """The names of the component schemas that `node` refers to directly."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _compile(schema: Mapping[str, Any], for_requests: bool) -> Validator:
    # Only the components the schema reaches go in: fastjsonschema walks the whole document at
    # every compile, and all 412 schemas would make each compile ~20 times slower.
    schemas = _components(for_requests)["schemas"]
    needed: dict[str, Any] = {}
    todo = list(_refs(schema))
    while todo:
        name = todo.pop()
        if name not in needed:
            needed[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    document = {**schema, "components": {"schemas": needed}}

    # use_default=False: fastjsonschema would otherwise write defaults into the checked value.
    # The validator used is the one without detailed errors: the schema copied into each of its
    # raise statements makes compiling several times slower. When it refuses a value, the
    # detailed one (compiled then, once) says which field and why.
    def compile_it(detailed: bool) -> Validator:
        return fastjsonschema.compile(
            document, formats=_FORMATS, use_default=False, detailed_exceptions=detailed
        )

    fast = compile_it(False)
    detailed: list[Validator] = []

    def check(value: Any) -> None:
        try:
            fast(value)
        except fastjsonschema.JsonSchemaValueException:
            if not detailed:
                detailed.append(compile_it(True))
            detailed[0](value)
            raise

    return check


@functools.cache
def _operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, item in load_spec()["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is not None and op["operationId"] == operation_id:
                return path, method, op
    raise KeyError(operation_id)


def operation_schemas(
    operation_id: str,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any] | None]:
    """The parameters, the request body schema and the success answer's schema of an operation."""
    _, _, op = _operation(operation_id)
    body = op.get("requestBody")
    body_schema = body["content"]["application/json"]["schema"] if body else None
    answer: dict[str, Any] | None = None
    for code in sorted(op["responses"]):
        if code.startswith("2"):
            content = op["responses"][code].get("content") or {}
            media = content.get("application/json")
            answer = media["schema"] if media else None
            break
    return list(op.get("parameters", [])), body_schema, answer


def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema with its top-level `$ref` followed."""
    while "$ref" in schema:
        schema = load_spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(schema: Mapping[str, Any]) -> list[str]:
    schema = resolve(schema)
    if "oneOf" in schema:
        return [t for option in schema["oneOf"] for t in _types(option)]
    kind = schema.get("type")
    if kind is None:
        return []
    return list(kind) if isinstance(kind, list) else [kind]


def _coerce(raw: list[str], schema: Mapping[str, Any], comma_separated: bool) -> Any:
    """A query or path value as its schema's type; a value that does not parse stays a string,
    so that the validator names it."""
    types = _types(schema)
    if "array" in types:
        items = resolve(schema).get("items", {})
        values = [v for one in raw for v in one.split(",")] if comma_separated else raw
        return [_coerce([v], items, False) for v in values]
    value = raw[-1]
    for kind in types:
        if kind == "integer" and re.fullmatch(r"[+-]?\d+", value):
            return int(value)
        if kind == "number":
            try:
                return float(value) if not re.fullmatch(r"[+-]?\d+", value) else int(value)
            except ValueError:
                continue
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


@attrs.frozen(slots=True)
class RequestValidator:
    """Checks and converts the parameters and the body of one operation's requests."""

    # (where, name, schema, comma-separated); where is "params" (the path) or "querystring",
    # the words the API's messages use.
    params: tuple[tuple[str, str, dict[str, Any], bool], ...]
    check_params: Validator | None
    check_body: Validator | None
    required_any_of: tuple[tuple[str, ...], ...]
    min_properties: int = 0  # of the body: a PATCH must change something

    def parameters(self, path: Mapping[str, str], query: Any) -> dict[str, Any]:
        """Path and query parameters by name, converted to their types and checked.

        Args:
            path: the path parameters, decoded.
            query: the query string, a multidict (`getall`) of decoded values.

        Returns:
            Every parameter given, by name, as its schema's type.

        Raises:
            SpecViolation: a parameter the spec refuses (the mock answers 400).
        """
        values: dict[str, dict[str, Any]] = {"params": {}, "querystring": {}}
        for where, name, schema, comma in self.params:
            if where == "params":
                if name in path:
                    values["params"][name] = _coerce([path[name]], schema, comma)
            elif name in query:
                values["querystring"][name] = _coerce(query.getall(name), schema, comma)
        if self.check_params is not None:
            _run(self.check_params, values, "")
        return {**values["querystring"], **values["params"]}

    def body_absent(self) -> None:
        """Check a request that sent no body where one is optional."""
        if self.min_properties:
            raise SpecViolation(f"body must have at least {self.min_properties} field(s) to change")

    def body(self, body: Any) -> None:
        """Check a parsed JSON body against the operation's request schema."""
        # The body's own rules first: their message names the fields, the validator's would not.
        groups = self.required_any_of
        if groups and isinstance(body, dict) and not any(all(k in body for k in g) for g in groups):
            names = " or ".join("+".join(g) for g in groups)
            raise SpecViolation(f"body must have {names}")
        if self.min_properties and (not isinstance(body, dict) or len(body) < self.min_properties):
            raise SpecViolation(f"body must have at least {self.min_properties} field(s) to change")
        if self.check_body is not None:
            _run(self.check_body, body, "body")


def _run(check: Validator, value: Any, prefix: str) -> None:
    try:
        check(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise SpecViolation(_message(exc, prefix)) from None


def _message(exc: fastjsonschema.JsonSchemaValueException, prefix: str) -> str:
    """fastjsonschema's `data.leads[3].email must be ...` as the API says it:
    `body/leads/3/email must be ...`."""
    name = exc.name or "data"
    rest = exc.message[len(name) :] if exc.message.startswith(name) else " " + exc.message
    where = re.sub(r"\[(\d+)\]", r"/\1", name.removeprefix("data")).replace(".", "/")
    where = (prefix + where) if prefix else where.lstrip("/")
    return f"{where or 'body'}{rest}"


@functools.cache
def request_validator(operation_id: str) -> RequestValidator:
    """The (cached) checker of one operation's requests."""
    params, body_schema, _ = operation_schemas(operation_id)
    plan = []
    groups: dict[str, dict[str, Any]] = {"params": {}, "querystring": {}}
    required: dict[str, list[str]] = {"params": [], "querystring": []}
    for prm in params:
        where = "params" if prm["in"] == "path" else "querystring"
        schema = prm.get("schema", {})
        comma = prm.get("explode") is False
        plan.append((where, prm["name"], schema, comma))
        groups[where][prm["name"]] = schema
        if prm.get("required"):
            required[where].append(prm["name"])
    check_params = None
    if params:
        check_params = _compile(
            {
                "type": "object",
                "properties": {
                    where: {"type": "object", "properties": props, "required": required[where]}
                    for where, props in groups.items()
                },
            },
            True,
        )
    check_body = _body_validator(body_schema) if body_schema else None
    any_of: tuple[tuple[str, ...], ...] = ()
    least = 0
    if body_schema:
        any_of = tuple(tuple(g) for g in resolve(body_schema).get("x-required-any-of", ()))
        least = int(resolve(body_schema).get("minProperties", 0))
    return RequestValidator(tuple(plan), check_params, check_body, any_of, least)


def _body_validator(schema: Mapping[str, Any]) -> Validator:
    """A request body's checker, quick on long arrays of objects (1,000 leads).

    fastjsonschema formats every array item's name (`data.leads[7]`) before checking it, which
    costs more than the check itself; so such arrays are checked here item by item, with the
    item's own validator. Only when something fails does the whole-body validator run again, to
    name the field exactly as it would have.
    """
    full = _compile(schema, True)
    target = resolve(schema)
    props: Mapping[str, Any] = target.get("properties", {})
    arrays = {
        name: prop["items"]
        for name, prop in props.items()
        if prop.get("type") == "array" and "$ref" in prop.get("items", {})
    }
    if not arrays:
        return full
    shallow = {
        **target,
        "properties": {
            name: ({k: v for k, v in prop.items() if k != "items"} if name in arrays else prop)
            for name, prop in props.items()
        },
    }
    check_shallow = _compile(shallow, True)
    check_items = [(name, _compile(items, True)) for name, items in arrays.items()]

    def check(body: Any) -> None:
        try:
            check_shallow(body)
            for name, check_item in check_items:
                for item in body.get(name, ()):
                    check_item(item)
        except fastjsonschema.JsonSchemaValueException:
            full(body)  # raises, naming the field with its full path
            raise

    return check


@functools.cache
def response_validator(operation_id: str) -> Validator | None:
    """The (cached) checker of one operation's success answers; None when it has no JSON body."""
    _, _, answer = operation_schemas(operation_id)
    return _compile(answer, False) if answer is not None else None


def check_response(operation_id: str, body: Any) -> None:
    """Raise SpecViolation if `body` is not what the spec says the operation answers."""
    check = response_validator(operation_id)
    if check is not None:
        _run(check, body, "response")


# --- examples --------------------------------------------------------------------------------

_STRING_FORMATS: Final = {
    "uuid": "3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b",
    "date-time": "2026-01-02T03:04:05.000Z",
    "date": "2026-01-02",
    "email": "ada@example.com",
    "uri": "https://example.com/",
}
# Tried in turn for a string with a `pattern`: the first one that fits is used.
_PATTERN_CANDIDATES: Final = (
    "example",
    "09:00",
    "ptid_example",
    "example.com",
    "rule-0",
    "https://example.com/hook",
    _STRING_FORMATS["uuid"],
)


def example(schema: Mapping[str, Any], *, all_fields: bool = True) -> Any:
    """A value that `schema` accepts, made from the schema alone (deterministic).

    Args:
        schema: a JSON Schema of the spec (`$ref`s are followed).
        all_fields: fill optional object fields too (two levels deep); False fills required
            ones only.

    Returns:
        The value: an enum's first member, the least number its bounds allow, a string of
        its format and pattern, one item per list, and so on.
    """
    return _example(schema, 0, (), all_fields)


def _example(schema: Mapping[str, Any], depth: int, seen: tuple[str, ...], full: bool) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = load_spec()["components"]["schemas"][name]
        # A schema that contains itself is filled once; deeper, only what it requires.
        return _example(target, depth, (*seen, name), full and name not in seen)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf", schema.get("anyOf", []))
        chosen = next((o for o in options if _types(o) != ["null"]), options[0])
        return _example(chosen, depth, seen, full)
    if "enum" in schema:
        return schema["enum"][0]
    kinds = _types(schema) or ["object"]
    kind = next((k for k in kinds if k != "null"), "null")
    if kind == "object":
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        # At least one group of `x-required-any-of` must be there: the first one is.
        required.update(next(iter(schema.get("x-required-any-of", [])), []))
        keys = list(props) if full and depth < 3 else [k for k in props if k in required]
        # `minProperties` (a PATCH must change something): fill fields in order until it holds.
        keys += [k for k in props if k not in keys][
            : max(0, schema.get("minProperties", 0) - len(keys))
        ]
        return {k: _example(props[k], depth + 1, seen, full) for k in keys}
    if kind == "array":
        count = max(schema.get("minItems", 0), 1 if full and depth < 3 else 0)
        return [_example(schema.get("items", {}), depth + 1, seen, full) for _ in range(count)]
    if kind == "string":
        return _example_string(schema)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        value = max(low, 1)
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    return None


def _example_string(schema: Mapping[str, Any]) -> str:
    value = _STRING_FORMATS.get(schema.get("format", ""), "example")
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        fits = [c for c in _PATTERN_CANDIDATES if re.search(pattern, c)]
        if not fits:
            raise ValueError(f"no example string fits the pattern {pattern!r}; add one to the mock")
        value = fits[0]
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    if high is not None:
        value = value[:high]
    return value
