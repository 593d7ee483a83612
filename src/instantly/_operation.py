"""The description of one API operation, as the generated operation table holds it."""

from __future__ import annotations

from typing import Any, Literal

import attrs

Pagination = Literal["query", "body"]


@attrs.frozen(slots=True)
class Param:
    """One path or query parameter of an operation."""

    name: str  # Python keyword argument
    wire: str  # name on the wire
    type: Any  # Python type the argument accepts
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_items: int | None = None
    max_items: int | None = None
    comma_separated: bool = False  # a list sent as `a,b,c`
    # Whether None is sent as JSON null (a body field that None clears: nullable in a PATCH, or
    # nullable and required); for every other parameter None means "not sent".
    nullable: bool = False


@attrs.frozen(slots=True)
class BodyRule:
    """A rule across the fields of one object of a request body, from the spec.

    `min_properties`: at least that many fields must be set (a PATCH that changes nothing);
    `required_any_of`: at least one of these groups of fields must all be set (forward-email's
    `body` or `include_original_body`). `path` leads from the body to the object; `fields` are
    the object's fields, for the message.
    """

    path: tuple[str, ...]
    min_properties: int = 0
    required_any_of: tuple[tuple[str, ...], ...] = ()
    fields: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class Operation:
    """Everything the pipeline needs to send one operation and decode its answer."""

    operation_id: str
    method: str
    path: str
    namespace: str
    name: str
    summary: str
    path_params: tuple[Param, ...] = ()
    query_params: tuple[Param, ...] = ()
    body: Any = None  # the request model class, or None
    body_required: bool = False
    body_fields: tuple[Param, ...] = ()  # the body's top-level fields, as keyword arguments
    body_rules: tuple[BodyRule, ...] = ()  # rules across fields, checked before sending
    response: Any = None  # the type to structure the answer into; None for no content
    accept: str = "application/json"  # the success answer's media type, sent as `Accept`
    pagination: Pagination | None = None
    page_item: Any = None  # item type of a paginated operation
    retry_safe: bool = False
    retry_safe_when_any: tuple[str, ...] = ()  # body flags that make a retry safe
    rate_limits: tuple[
        tuple[int, float], ...
    ] = ()  # (requests, seconds), stricter than the workspace's
    scopes: tuple[str, ...] = ()

    def is_retry_safe(self, body: Any = None) -> bool:
        """Whether sending this request twice does no harm (so a 5xx may be retried)."""
        if self.retry_safe:
            return True
        if self.retry_safe_when_any and isinstance(body, dict):
            return any(body.get(flag) is True for flag in self.retry_safe_when_any)
        return False
