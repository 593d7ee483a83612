"""Argument checks made before any request: a bad value names its argument.

Types come from the generated operation table. Models may be given as instances or as plain
dicts (tolerant on input); a dict's keys are checked against the model's fields, so a typo
(`frist_name`) is refused instead of silently dropped by the server.
"""

from __future__ import annotations

import enum
import math
import types
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, Union, get_args, get_origin

import attrs

from ._operation import Param
from ._types import Unset

__all__ = ["check_param", "check_value"]


def check_param(param: Param, value: Any, open_enums: frozenset[str] = frozenset()) -> None:
    """Raise TypeError/ValueError naming `param.name` unless `value` fits the parameter."""
    check_value(param.name, value, param.type, open_enums)
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


def check_value(name: str, value: Any, tp: Any, open_enums: frozenset[str] = frozenset()) -> None:
    """Raise TypeError/ValueError naming `name` unless `value` fits the type `tp`."""
    # The compiled predicate answers the common case (the value fits) without building any
    # message; only a misfit pays for the walk that finds and names the bad part.
    if not _predicate(tp, open_enums)(value):
        _check(name, value, tp, open_enums)


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
        datetime: "a timezone-aware datetime or an ISO 8601 string",
        date: "a date or an ISO 8601 date string",
        uuid.UUID: "a str or a UUID",
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


Predicate = Callable[[Any], bool]
_PLAIN = frozenset({str, type(None), Unset})


def _always(value: Any) -> bool:
    return True


@cache
def _predicate(tp: Any, open_enums: frozenset[str]) -> Predicate:
    """A fast yes/no version of `_check` for one type, built once per type.

    It must answer False exactly where `_check` raises: `check_value` relies on `_check` to
    explain a False.
    """
    if tp is Any or tp is object:
        return _always
    if _is_union(tp):
        # Members that a plain isinstance decides (str, None, Unset) go first, in one call.
        plain_members = tuple(m for m in get_args(tp) if m in _PLAIN)
        others = [_predicate(m, open_enums) for m in get_args(tp) if m not in _PLAIN]
        if not others:
            return lambda v: isinstance(v, plain_members)
        if len(others) == 1:
            (only,) = others
            return lambda v: isinstance(v, plain_members) or only(v)
        return lambda v: isinstance(v, plain_members) or any(p(v) for p in others)
    if tp is type(None):
        return lambda v: v is None
    if tp is Unset:
        return lambda v: isinstance(v, Unset)
    origin = get_origin(tp)
    if origin is list:
        (item_tp,) = get_args(tp) or (Any,)
        item = _predicate(item_tp, open_enums)
        return lambda v: isinstance(v, list | tuple) and all(item(i) for i in v)
    if origin is dict or tp is dict:
        value_tp = get_args(tp)[1] if len(get_args(tp)) == 2 else Any
        if value_tp is Any:
            return lambda v: type(v) is dict or isinstance(v, Mapping)  # the ABC check is slow
        value = _predicate(value_tp, open_enums)
        return lambda v: (
            (type(v) is dict or isinstance(v, Mapping)) and all(value(i) for i in v.values())
        )
    if tp is bool:
        return lambda v: isinstance(v, bool)
    if tp is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if tp is float:
        return lambda v: (
            type(v) is int
            or (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v))
        )
    if tp is str:
        return lambda v: isinstance(v, str)
    if tp is datetime:
        return lambda v: isinstance(v, str) or (isinstance(v, datetime) and _aware(v))
    if tp is date:
        return lambda v: isinstance(v, str) or (isinstance(v, date) and not isinstance(v, datetime))
    if tp is uuid.UUID:
        return lambda v: isinstance(v, str | uuid.UUID)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        base = int if issubclass(tp, int) else str
        if tp.__name__ in open_enums:
            return lambda v: isinstance(v, tp) or (isinstance(v, base) and not isinstance(v, bool))
        allowed = frozenset(m.value for m in tp.__members__.values())
        return lambda v: (
            isinstance(v, tp) or (isinstance(v, base) and not isinstance(v, bool) and v in allowed)
        )
    if isinstance(tp, type) and attrs.has(tp):
        # Resolved lazily: a model may refer to itself. Fields that one isinstance call
        # decides (str | None, the most common) skip the predicate call: this runs for every
        # lead of a bulk import.
        plain: dict[str, tuple[type, ...]] = {}
        other: dict[str, Predicate] = {}

        def fits_model(v: Any) -> bool:
            if type(v) is not dict:  # the common case first: the ABC check is slow
                if isinstance(v, tp):
                    return True
                if not isinstance(v, Mapping):
                    return False
            if not plain and not other:
                for key, (_, ftp) in _fields(tp).items():
                    kinds = _plain_kinds(ftp)
                    if kinds:
                        plain[key] = kinds
                    else:
                        other[key] = _predicate(ftp, open_enums)
            for key, item in v.items():
                decides = plain.get(key)
                if decides is not None:
                    if not isinstance(item, decides):
                        return False
                    continue
                p = other.get(key)
                if p is None or not p(item):
                    return False
            return True

        return fits_model
    if isinstance(tp, type):
        return lambda v: isinstance(v, tp)
    return _always


def _plain_kinds(tp: Any) -> tuple[type, ...]:
    """The types whose isinstance decides `tp` (str, None, Unset or a union of them), or ()."""
    members = get_args(tp) if _is_union(tp) else (tp,)
    return members if all(m in _PLAIN for m in members) else ()


def _check(name: str, value: Any, tp: Any, open_enums: frozenset[str]) -> None:
    if tp is Any or tp is object:
        return
    if _is_union(tp):
        members = get_args(tp)
        if any(_fits(name, value, m, open_enums) for m in members):
            return
        if float in members:
            _check_finite(name, value)
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
        if len(get_args(tp)) == 2:
            value_tp = get_args(tp)[1]
            for key, item in value.items():
                _check(f"{name}[{key!r}]", item, value_tp, open_enums)
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
        _check_finite(name, value)
        return
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {_shown(value)}")
        return
    if tp is datetime:
        if isinstance(value, datetime) and not _aware(value):
            raise ValueError(
                f"{name} is a naive datetime (no timezone), which the API would read as an "
                "unknown time; attach one, e.g. value.replace(tzinfo=datetime.UTC) or "
                "value.astimezone()"
            )
        if not isinstance(value, str | datetime):
            raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
        return
    if tp is date:
        if not isinstance(value, str | date) or isinstance(value, datetime):
            raise TypeError(f"{name} must be {_describe(tp)}, got {_shown(value)}")
        return
    if tp is uuid.UUID:
        if not isinstance(value, str | uuid.UUID):
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


def _check_finite(name: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or infinity: sent, it would silently become null.
        raise ValueError(
            f"{name} must be a finite number, got {value!r} (JSON has no NaN or infinity; "
            "pass None for no value)"
        )


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
