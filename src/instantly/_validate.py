"""Argument checks made before any request: a bad value names its argument.

Types come from the generated operation table. Models may be given as instances or as plain
dicts (tolerant on input); a dict's keys are checked against the model's fields, so a typo
(`frist_name`) is refused instead of silently dropped by the server.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, Union, get_args, get_origin

import attrs

from ._operation import Param
from ._types import Unset

__all__ = ["check_param"]


def check_param(param: Param, value: Any, open_enums: frozenset[str] = frozenset()) -> None:
    """Raise TypeError/ValueError naming `param.name` unless `value` fits the parameter."""
    _check(param.name, value, param.type, open_enums)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if param.minimum is not None and value < param.minimum:
            raise ValueError(f"{param.name} must be at least {_num(param.minimum)}, got {value}")
        if param.maximum is not None and value > param.maximum:
            raise ValueError(f"{param.name} must be at most {_num(param.maximum)}, got {value}")
    if isinstance(value, list | tuple):
        if param.min_items is not None and len(value) < param.min_items:
            raise ValueError(
                f"{param.name} needs at least {param.min_items} item(s), got {len(value)}"
            )
        if param.max_items is not None and len(value) > param.max_items:
            raise ValueError(
                f"{param.name} takes at most {param.max_items:,} items per request, "
                f"got {len(value):,}; split it (leads.bulk_add does this for you)"
            )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _describe(tp: Any) -> str:
    if tp is type(None):
        return "None"
    if _is_union(tp):
        return " or ".join(_describe(t) for t in get_args(tp) if t is not Unset)
    origin = get_origin(tp)
    if origin is list:
        return f"a list of {_describe(get_args(tp)[0])}" if get_args(tp) else "a list"
    if origin is dict or tp is dict:
        return "a dict"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"a {tp.__name__} value"
    if isinstance(tp, type) and attrs.has(tp):
        return f"a {tp.__name__} (or a dict of its fields)"
    return {
        str: "a str",
        int: "an int",
        float: "a number",
        bool: "a bool",
        datetime: "a datetime or ISO 8601 string",
    }.get(tp, getattr(tp, "__name__", str(tp)))


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


@cache
def _fields(cls: type) -> dict[str, Any]:
    """Wire name -> (python name, type) of an attrs model."""
    attrs.resolve_types(cls)
    return {a.metadata.get("wire", a.name): (a.name, a.type) for a in attrs.fields(cls)}


def _fits(name: str, value: Any, tp: Any, open_enums: frozenset[str]) -> bool:
    try:
        _check(name, value, tp, open_enums)
    except (TypeError, ValueError):
        return False
    return True


def _check(name: str, value: Any, tp: Any, open_enums: frozenset[str]) -> None:
    if tp is Any or tp is object:
        return
    if _is_union(tp):
        members = get_args(tp)
        if any(_fits(name, value, m, open_enums) for m in members):
            return
        # A single non-None member gives the more precise error (e.g. from inside a dict).
        real = [m for m in members if m not in (type(None), Unset)]
        if len(real) == 1:
            _check(name, value, real[0], open_enums)
        raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
    if tp is type(None):
        if value is not None:
            raise TypeError(f"{name} must be None, got {_shown(value)}")
        return
    if tp is Unset:
        if not isinstance(value, Unset):
            raise TypeError(f"{name}: unexpected {_shown(value)}")
        return
    origin = get_origin(tp)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
        (item_tp,) = get_args(tp) or (Any,)
        for i, item in enumerate(value):
            _check(f"{name}[{i}]", item, item_tp, open_enums)
        return
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict, got {_shown(value)}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, got {_shown(value)}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {_shown(value)}")
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, got {_shown(value)}")
        return
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {_shown(value)}")
        return
    if tp is datetime or tp is date:
        if not isinstance(value, str | date):
            raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        _check_enum(name, value, tp, open_enums)
        return
    if isinstance(tp, type) and attrs.has(tp):
        if isinstance(value, tp):
            return
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
        fields = _fields(tp)
        for key, item in value.items():
            if key not in fields:
                known = ", ".join(sorted(fields))
                raise TypeError(f"{name} has an unknown field {key!r}; known fields: {known}")
            _check(f"{name}.{key}", item, fields[key][1], open_enums)
        return
    if isinstance(tp, type) and not isinstance(value, tp):
        raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")


def _check_enum(name: str, value: Any, tp: type[enum.Enum], open_enums: frozenset[str]) -> None:
    if isinstance(value, tp):
        return
    base = int if issubclass(tp, int) else str
    if isinstance(value, bool) or not isinstance(value, base):
        raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
    if tp.__name__ in open_enums:
        return
    allowed = {m.value for m in tp.__members__.values()}
    if value not in allowed:
        shown = ", ".join(f"{m.name}={m.value!r}" for m in tp.__members__.values())
        raise ValueError(f"{name} must be one of {shown}; got {value!r}")


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
