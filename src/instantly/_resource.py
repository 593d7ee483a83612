"""The base of every namespace (`client.leads`, ...): turns a method call into one request.

Generated methods (`_generated/resources.py`) pass their arguments here by wire name; this is
where they are checked (before any request), encoded, sent through the client's one pipeline,
and structured into the operation's model.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

from ._convert import structure, unstructure
from ._generated.operations import OPEN_ENUMS, OPERATIONS
from ._operation import Operation, Param
from ._options import check_headers, check_max_retries, check_timeout
from ._pagination import Page, paginate
from ._transport import NO_BODY, _encode_scalar
from ._types import UNSET, Unset
from ._validate import check_param
from .errors import ResponseTooDeepError

if TYPE_CHECKING:
    from typing import Self

    from ._client import AsyncInstantly

__all__ = ["Resource"]

_STRUCTURED_AS_IS = (None, str, bytes, Any)


class Resource:
    """A namespace of operations that share one client."""

    # The raw twin of a namespace (`with_raw_response`) sets this; see `_raw_twin`.
    _raw = False

    def __init__(self, client: AsyncInstantly) -> None:
        """Bind the namespace to a client.

        Args:
            client: The client whose pipeline every call goes through.
        """
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _raw_twin(self) -> Self:
        """A copy of this namespace whose calls return the `RawResponse` of their answer."""
        twin = copy.copy(self)
        twin.__dict__.pop("with_raw_response", None)  # a cached property of the original
        twin._raw = True
        return twin

    async def _request(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | Unset | None = UNSET,  # noqa: ASYNC109 - the call's deadline
        max_retries: int | None = None,
    ) -> Any:
        op = OPERATIONS[operation_id]
        url, params, payload = _encode(op, path, query, body)
        if (
            extra_headers is None
            and extra_query is None
            and extra_body is None
            and timeout is UNSET
            and max_retries is None
        ):
            data = await self._send(op, url, params, payload)
        else:
            params, payload = _with_extras(op, params, payload, extra_query, extra_body)
            data = await self._send(
                op,
                url,
                params,
                payload,
                headers=check_headers(extra_headers) if extra_headers is not None else None,
                timeout=timeout if isinstance(timeout, Unset) else check_timeout(timeout),
                max_retries=None if max_retries is None else check_max_retries(max_retries),
            )
        if self._raw:
            return data._then(lambda value: _structured(op, url, value))
        return _structured(op, url, data)

    def _send(
        self,
        op: Operation,
        url: str,
        params: dict[str, Any] | None,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | Unset | None = UNSET,
        max_retries: int | None = None,
        retry_safe: bool | None = None,
    ) -> Awaitable[Any]:
        """Send an already checked and encoded request; await it for the decoded JSON.

        A plain function handing back the pipeline's coroutine: awaited by the caller, it costs
        no coroutine of its own on the path every call takes.

        Args:
            op: The operation.
            url: The request path, parameters filled in and encoded.
            params: The encoded query parameters.
            payload: The encoded body, or NO_BODY.
            headers: Extra headers for this call.
            timeout: This call's deadline; UNSET for the client's.
            max_retries: This call's retries; None for the client's.
            retry_safe: None for the operation's own rule; False makes the caller handle a 5xx
                or a dropped connection itself (bulk import looks up what such a request added).
        """
        return self._client._transport.request(
            op.method,
            url,
            query=params,
            json=payload,
            retry_safe=op.is_retry_safe(payload) if retry_safe is None else retry_safe,
            rate_key=op.operation_id if op.rate_limits else None,
            endpoint_limits=op.rate_limits,
            accept=None if op.accept == "application/json" else op.accept,
            headers=headers,
            timeout=timeout,
            max_retries=max_retries,
            raw=self._raw,
        )

    async def _page(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        *options: Any,
    ) -> Page[Any]:
        if body is not None and body.get("starting_after", Unset.UNSET) is None:
            # None means "the first page", which the API wants as no cursor at all.
            body = {**body, "starting_after": Unset.UNSET}
        result = await self._request(operation_id, path, query, body, *options)

        def page(result: Any) -> Page[Any]:
            # Its next page comes through the namespace as users have it, not the raw twin.
            plain = self._plain()

            async def fetch(cursor: str) -> Page[Any]:
                query_, body_ = _with_cursor(OPERATIONS[operation_id], query, body, cursor)
                return await plain._page(operation_id, path, query_, body_, *options)

            # `items` is None when the answer's was not a list (see `instantly.mismatches`).
            items = result.items if result.items is not None else []
            return Page(items, result.next_starting_after or None, fetch_next=fetch)

        if self._raw:
            return result._then(page)  # type: ignore[no-any-return]
        return page(result)

    def _plain(self) -> Resource:
        if not self._raw:
            return self
        plain = copy.copy(self)
        plain._raw = False
        return plain

    def _iterate(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        max_items: int | None = None,
        *options: Any,
    ) -> AsyncIterator[Any]:
        op = OPERATIONS[operation_id]
        # Check now, not at the first `async for` step, so a bad argument fails where it is made.
        _encode(op, path, query, body)
        if options:
            _check_options(op, *options)

        plain = self._plain()

        async def fetch(cursor: str | None) -> Page[Any]:
            query_, body_ = _with_cursor(op, query, body, cursor)
            return await plain._page(operation_id, path, query_, body_, *options)

        # One page ahead: the server works on the next page while this one is used.
        return paginate(fetch, max_items=max_items, read_ahead=True)


def _with_cursor(
    op: Operation,
    query: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
    cursor: str | None,
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The query and body of a page request, the cursor put where the operation takes it."""
    if op.pagination == "body":
        return query, {**(body or {}), "starting_after": cursor}
    return {**(query or {}), "starting_after": cursor}, body


def _structured(op: Operation, url: str, data: Any) -> Any:
    """The decoded answer as the operation's model."""
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


def _with_extras(
    op: Operation,
    params: dict[str, Any] | None,
    payload: Any,
    extra_query: Mapping[str, object] | None,
    extra_body: Mapping[str, object] | None,
) -> tuple[dict[str, Any] | None, Any]:
    """The encoded query and body with the caller's `extra_query` and `extra_body` merged in."""
    if extra_query is not None:
        if not isinstance(extra_query, Mapping) or not all(isinstance(k, str) for k in extra_query):
            raise TypeError("extra_query must be a mapping of parameter names (str) to values")
        params = {**(params or {}), **extra_query}
    if extra_body is not None:
        if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
            raise TypeError("extra_body must be a mapping of field names (str) to values")
        if op.body is None:
            raise ValueError(
                f"extra_body: {op.namespace}.{op.name} sends no request body "
                f"({op.method} {op.path}); pass extra_query for query parameters"
            )
        base = payload if isinstance(payload, dict) else {}
        payload = {**base, **_jsonable(dict(extra_body))}
    return params, payload


def _check_options(
    op: Operation,
    extra_headers: Mapping[str, str] | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    timeout: float | Unset | None = UNSET,
    max_retries: int | None = None,
) -> None:
    """Refuse bad per-call options where the call is made (a `list` sends on first use)."""
    if extra_headers is not None:
        check_headers(extra_headers)
    _with_extras(op, None, NO_BODY, extra_query, extra_body)
    if not isinstance(timeout, Unset):
        check_timeout(timeout)
    if max_retries is not None:
        check_max_retries(max_retries)


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
_TEXT_TYPES = (str, uuid.UUID)
# What `quote(text, safe="")` leaves as it is: most ids (UUIDs) are, and skip the quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def _path_segment(param: Param, value: Any) -> str:
    """A path parameter as exactly one percent-encoded path segment.

    Everything but letters, digits and `-._~` is encoded (`/`, `?`, `#`, `%`, spaces, non-ASCII),
    so no value can end the segment, start a query or climb the path. `.` and `..` cannot be
    encoded (servers and URL libraries resolve `%2E` as a dot too), and an empty value would
    drop the segment: those are refused. Either way a value never reaches another endpoint.
    """
    if (
        type(value) is str
        and param.type in _TEXT_TYPES
        and _UNRESERVED(value)
        and value not in _REFUSED_SEGMENTS
    ):
        # The common case, a plain id: any str fits a str or uuid parameter, and nothing in it
        # needs quoting.
        return value
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
