"""JSON in and out, in one place: every body the SDK sends or reads is encoded and decoded here.

orjson does the work: it is about ten times faster than the standard library on the bodies this
SDK moves (1,000-lead imports out, 100-lead pages in) and has wheels for every platform the SDK
runs on. What it does differently from `json` is decided here, once:
- `dumps` returns bytes (what aiohttp sends) and writes UTF-8 as it is, with no spaces;
- enums, dates, datetimes and UUIDs are written as their JSON values (an enum's `.value`, ISO
  8601, the UUID's string); anything else that is not JSON raises TypeError naming the type;
- `loads` accepts bytes or str.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Any, Final

import orjson

__all__ = ["Fragment", "JSONDecodeError", "dumps", "loads"]

JSONDecodeError: Final = orjson.JSONDecodeError
"""Raised by `loads` for text that is not JSON (a subclass of ValueError)."""

Fragment: Final = orjson.Fragment
"""JSON text encoded beforehand, written as it is where it sits in a value given to `dumps`
(bulk import encodes each chunk's leads once, then sends them inside the request body)."""


def _default(value: object) -> object:
    # orjson writes str/int enums, datetimes and UUIDs itself; this covers the rest it refuses.
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(
        f"cannot send a {type(value).__name__} in a JSON body; convert it to plain JSON types "
        "(dict, list, str, int, float, bool, None) first"
    )


def dumps(value: Any, *, indent: bool = False) -> bytes:
    """Encode `value` as compact UTF-8 JSON.

    Raises TypeError for a value JSON cannot carry: a type it has no form for, a dict key that
    is not a string, a string that is not valid UTF-8 (a lone surrogate), an integer beyond 64
    bits. NaN and infinities are written as `null`: callers that must not change a value check
    for them first (bulk import does). indent: two spaces per level, for people to read.
    """
    return orjson.dumps(value, default=_default, option=orjson.OPT_INDENT_2 if indent else None)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode JSON text; raises JSONDecodeError (a ValueError) if it is not JSON."""
    return orjson.loads(data)
