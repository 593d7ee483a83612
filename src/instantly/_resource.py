"""The base of every namespace (`client.leads`, ...): turns a method call into one request.

Generated methods (`_generated/resources.py`) pass their arguments here by wire name; this is
where they are checked (before any request), encoded, sent through the client's one pipeline,
and structured into the operation's model.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

from ._convert import structure, unstructure
from ._generated.operations import OPEN_ENUMS, OPERATIONS
from ._operation import Operation
from ._pagination import Page, paginate
from ._transport import NO_BODY
from ._types import Unset
from ._validate import check_param

if TYPE_CHECKING:
    from ._client import AsyncInstantly

__all__ = ["Resource"]

_STRUCTURED_AS_IS = (None, str, Any)


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
        return structure(data, op.response)

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
        )

    async def _page(
        self,
        operation_id: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Page[Any]:
        if body is not None and body.get("starting_after", Unset.UNSET) is None:
            # None means "the first page", which the API wants as no cursor at all.
            body = {**body, "starting_after": Unset.UNSET}
        result = await self._request(operation_id, path, query, body)
        return Page(items=result.items, next_starting_after=result.next_starting_after or None)

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

        async def fetch(cursor: str | None) -> Page[Any]:
            if in_body:
                return await self._page(
                    operation_id, path, query, {**(body or {}), "starting_after": cursor}
                )
            return await self._page(
                operation_id, path, {**(query or {}), "starting_after": cursor}, body
            )

        return paginate(fetch, max_items=max_items)


def _encode(
    op: Operation,
    path: Mapping[str, Any] | None,
    query: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
) -> tuple[str, dict[str, Any] | None, Any]:
    url = op.path
    for param in op.path_params:
        value = (path or {})[param.wire]
        check_param(param, value, OPEN_ENUMS)
        if isinstance(value, str) and not value:
            raise ValueError(f"{param.name} must not be empty")
        url = url.replace("{" + param.wire + "}", quote(str(value), safe=""))
    params: dict[str, Any] | None = None
    if query:
        params = {}
        for param in op.query_params:
            value = query.get(param.wire)
            if value is None:
                continue
            check_param(param, value, OPEN_ENUMS)
            if param.comma_separated and isinstance(value, list | tuple):
                value = ",".join(str(_plain(v)) for v in value)
            params[param.wire] = value
    payload: Any = NO_BODY
    if op.body is not None:
        payload = {}
        for param in op.body_fields:
            value = (body or {}).get(param.wire, Unset.UNSET)
            if isinstance(value, Unset):
                if param.required:
                    raise TypeError(f"{param.name} is required")
                continue
            check_param(param, value, OPEN_ENUMS)
            payload[param.wire] = _jsonable(value)
        if not payload and not op.body_required:
            payload = NO_BODY
    return url, params, payload


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


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
