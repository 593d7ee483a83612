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
    """The operation's parameter it fills (its name, wire name, type and bounds)."""
    location: Location
    """Where it goes: "path", "query" or "body"."""
    sub: str | None = None
    """A field of the body object `param.wire` it fills (`body_text` -> body.text), or None."""
    default: Any = UNSET
    """What is sent when the argument is left out; UNSET sends nothing."""


@attrs.frozen(slots=True)
class Field:
    """A field a default tool keeps from each item of the answer."""

    name: str
    """The field's name in the answer and in the result."""
    kinds: tuple[str, ...]
    """The JSON types it may have ("string", "null", ...); () for any."""
    fields: tuple[Field, ...] = ()
    """The fields kept of a nested object (an email's body); () for a plain value."""


@attrs.frozen(slots=True)
class Shape:
    """How a tool lays out the API's answer next to `success` and `error`."""

    kind: Literal["page", "object", "data", "top"]
    """"page": the page's items under `key`, with `count` and `next_starting_after`;
    "object": the answer under `key`; "data": the answer, as it came, under `key`; "top":
    only the `top` fields."""
    key: str = ""
    """The result's key that holds the answer (`leads`, `campaign`, ...)."""
    detail: tuple[Field, ...] | None = None
    """The fields kept: of each item for "page" (None keeps them all), of the answer for
    "object"."""
    top: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(result field, answer field, JSON types) copied to the result's top level."""


@attrs.frozen(slots=True, eq=False)
class ToolSpec:
    """One tool: its definition (JSON Schemas, words for the model) and how to call it."""

    name: str
    """The tool's name, as the model calls it (`list_leads`, `campaigns_pause`)."""
    operation_id: str
    """The API operation it calls (the spec's operationId)."""
    title: str
    """A short title for people (MCP's `title`)."""
    description: str
    """What the model reads to choose the tool and use its result."""
    input_schema: dict[str, Any]
    """The JSON Schema (2020-12) of its arguments: an object."""
    output_schema: dict[str, Any]
    """The JSON Schema of its result (`success`, `error` and the data)."""
    args: tuple[Arg, ...]
    """Its arguments and where each goes in the request."""
    shape: Shape
    """How the result lays out the API's answer."""
    required_any_of: tuple[tuple[str, ...], ...] = ()
    """Groups of arguments of which at least one must be given whole; () for none."""
    read_only: bool = False
    """Whether it changes nothing (MCP's readOnlyHint)."""
    destructive: bool = False
    """Whether it deletes (MCP's destructiveHint)."""
    idempotent: bool = False
    """Whether a repeat with the same arguments changes nothing more (idempotentHint)."""
