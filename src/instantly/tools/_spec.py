"""The description of one agent tool, as the generated tool table (`_generated/tools.py`) holds it."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .._operation import Param
from .._types import UNSET

__all__ = ["Arg", "Field", "Shape", "ToolSpec"]

Location = Literal["path", "query", "body"]


@attrs.frozen(slots=True)
class Arg:
    """One argument of a tool and where it goes in the request.

    `param.name` is the tool's name for it (what errors name), `param.wire` the request's, and
    `param.type` and its bounds are what `call` checks before anything is sent.
    """

    param: Param
    location: Location
    sub: str | None = None  # a field of the body object `param.wire` (`body_text` -> body.text)
    default: Any = UNSET  # sent when the argument is left out; UNSET sends nothing


@attrs.frozen(slots=True)
class Field:
    """A field a default tool keeps from each item of the answer."""

    name: str
    kinds: tuple[str, ...]  # JSON types it may have; () for any
    fields: tuple[Field, ...] = ()  # of a nested object (an email's body)


@attrs.frozen(slots=True)
class Shape:
    """How a tool lays out the API's answer next to `success` and `error`.

    page: the page's items under `key`, with `count` and `next_starting_after`.
    object: the answer under `key`.
    data: the answer, as it came, under `key`.
    top: only the `top` fields.
    `detail` (page, object) keeps those fields of each item; `top` copies (result field,
    answer field, JSON types) to the result's top level.
    """

    kind: Literal["page", "object", "data", "top"]
    key: str = ""
    detail: tuple[Field, ...] | None = None
    top: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@attrs.frozen(slots=True, eq=False)
class ToolSpec:
    """One tool: its definition (JSON Schemas, words for the model) and how to call it."""

    name: str
    operation_id: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    args: tuple[Arg, ...]
    shape: Shape
    required_any_of: tuple[tuple[str, ...], ...] = ()  # at least one group must be given whole
    read_only: bool = False  # changes nothing
    destructive: bool = False  # deletes
    idempotent: bool = False  # a repeat with the same arguments changes nothing more
