"""The one cattrs converter between the API's JSON and the generated attrs models.

Reading (structure) is tolerant where the API evolves and strict where a value is wrong:
- an unknown field is ignored; an unknown enum value becomes a pseudo-member that keeps the
  raw value (see `instantly._types.unknown_member`);
- `date-time` strings become timezone-aware `datetime`s (a naive one is taken as UTC);
- a wrong type or a missing required field raises `StructureError` naming the class and the
  field path: `Lead.email_open_count: expected a number, got 'x'`.

Writing (unstructure) sends only what was set: optional fields left at their default (`UNSET`
for request models, `None` for response models) are omitted; a field explicitly set to `None`
on a request model is sent as JSON null (the API uses null to clear a value).

Hooks are generated once per class (`make_dict_structure_fn`), with the wire names of renamed
fields (`stepID` -> `step_id`) taken from the generated models' field metadata. Structuring runs
without cattrs' detailed validation (it costs about a third of the speed); only when it fails is
the payload structured again with detailed validation, to name the field in the error.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._types import Unset
from .errors import InstantlyError

__all__ = ["StructureError", "converter", "structure", "unstructure"]

T = TypeVar("T")


class StructureError(InstantlyError, ValueError):
    """A payload does not fit its model: a wrong type or a missing required field.

    `path` is where, as `Class.field[index].field`; `reason` is what was expected.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


_TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


class _WrongType(TypeError):
    def __init__(self, expected: str, value: Any) -> None:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(f"expected {expected}, got {shown}")


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _WrongType("a string", value)


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _WrongType("an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    # An int is a valid number (and keeps the JSON as it came: `0` stays `0`).
    if type(value) is float or type(value) is int:
        return value
    raise _WrongType("a number", value)


def _structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise _WrongType("a boolean", value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if type(value) is not str:
        raise _WrongType("a date-time string", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _WrongType("an ISO 8601 date-time", value) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _unstructure_datetime(value: datetime) -> str:
    # The API writes `2026-08-13T11:11:55.811Z`: UTC, a `Z`, and milliseconds when there are any.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    micro = value.microsecond
    if micro == 0:
        frac = ""
    elif micro % 1000 == 0:
        frac = f".{micro // 1000:03d}"
    else:
        frac = f".{micro:06d}"
    return value.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def _structure_date(value: Any, _: Any) -> date:
    if type(value) is not str:
        raise _WrongType("a date string", value)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _WrongType("an ISO 8601 date", value) from None


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_attrs(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp)


def _structure_int_enum(value: Any, cls: type[enum.IntEnum]) -> Any:
    # An unknown value of the right kind becomes a pseudo-member (the enum's `_missing_`).
    if type(value) is int or (type(value) is float and value.is_integer()):
        return cls(int(value))
    raise _WrongType(f"an integer ({cls.__name__})", value)


def _structure_str_enum(value: Any, cls: type[enum.StrEnum]) -> Any:
    if type(value) is str:
        return cls(value)
    raise _WrongType(f"a string ({cls.__name__})", value)


def _build(detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    # These dispatch on subclasses too (IntEnum is an int), so the enum bases get their own,
    # more specific, hooks below.
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(enum.IntEnum, _structure_int_enum)
    conv.register_structure_hook(enum.StrEnum, _structure_str_enum)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(typing.Any, _structure_any)
    conv.register_unstructure_hook(Unset, lambda _: None)
    conv.register_unstructure_hook_factory(
        lambda tp: isinstance(tp, type) and issubclass(tp, enum.Enum),
        lambda _tp: lambda member: member.value,
    )
    # A StrEnum is a str, and cattrs passes str (subclasses included) through unchanged: without
    # this the member itself would be sent, and reading it back would fail.
    conv.register_unstructure_hook(enum.StrEnum, lambda member: member.value)

    # cattrs makes a list of any iterable (a string, an object's keys) and reads an object from
    # anything with `in`: JSON of the wrong kind must fail instead.
    def list_factory(tp: Any) -> Callable[[Any, Any], Any]:
        inner = list_structure_factory(tp, conv)

        def structure_list(value: Any, _: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise _WrongType("a list", value)
            return inner(value, tp)

        return structure_list

    def dict_factory(tp: Any) -> Callable[[Any, Any], Any]:
        inner = conv.gen_structure_mapping(tp)

        def structure_dict(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise _WrongType("an object", value)
            return inner(value, tp)

        return structure_dict

    conv.register_structure_hook_factory(lambda tp: cast(Any, get_origin(tp)) is list, list_factory)
    conv.register_structure_hook_factory(lambda tp: cast(Any, get_origin(tp)) is dict, dict_factory)

    def union_factory(tp: Any) -> Callable[[Any, Any], Any]:
        members = [m for m in get_args(tp) if m is not Unset]
        nullable = type(None) in members
        members = [m for m in members if m is not type(None)]
        if len(members) == 1:
            only = conv.get_structure_hook(members[0])
            target = members[0]

            def structure_optional(value: Any, _: Any) -> Any:
                if value is None:
                    if nullable:
                        return None
                    raise _WrongType(_describe(target), value)
                return only(value, target)

            return structure_optional
        hooks = [(m, conv.get_structure_hook(m)) for m in members]
        # Objects first when the value is a dict, primitives otherwise: the first that fits wins.

        def structure_union(value: Any, _: Any) -> Any:
            if value is None:
                if nullable:
                    return None
                raise _WrongType(" or ".join(_describe(m) for m in members), value)
            for member, hook in hooks:
                if _is_attrs(member) and not isinstance(value, Mapping):
                    continue
                try:
                    return hook(value, member)
                except Exception:
                    continue
            raise _WrongType(" or ".join(_describe(m) for m in members), value)

        return structure_union

    conv.register_structure_hook_factory(_is_union, union_factory)

    def attrs_structure_factory(cls: type) -> Callable[[Any, Any], Any]:
        attrs.resolve_types(cls)
        if not detailed:
            return _fast_structure_fn(cls, conv)
        overrides: dict[str, Any] = {
            a.name: override(rename=a.metadata["wire"])
            for a in attrs.fields(cls)
            if "wire" in a.metadata
        }
        inner: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=False, **overrides
        )

        def structure_object(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise _WrongType(f"an object ({cls.__name__})", value)
            return inner(value, cls)

        return structure_object

    def attrs_unstructure_factory(cls: type) -> Callable[[Any], Any]:
        attrs.resolve_types(cls)
        overrides: dict[str, Any] = {
            a.name: override(rename=a.metadata["wire"])
            for a in attrs.fields(cls)
            if "wire" in a.metadata
        }
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **overrides)

    conv.register_structure_hook_factory(_is_attrs, attrs_structure_factory)
    conv.register_unstructure_hook_factory(_is_attrs, attrs_unstructure_factory)
    return conv


class _LazyHook:
    """The structure hook of a class whose own hook is still being built (a model that holds
    itself, directly or not); looked up at the first call."""

    def __init__(self, conv: cattrs.Converter, tp: Any) -> None:
        self._conv = conv
        self._tp = tp
        self._hook: Callable[[Any, Any], Any] | None = None

    def __call__(self, value: Any, tp: Any) -> Any:
        if self._hook is None:
            self._hook = self._conv.get_structure_hook(self._tp)
        return self._hook(value, tp)


_BUILDING: set[type] = set()
_PRIMITIVE_CHECKS = {
    str: "type({v}) is not str",
    bool: "type({v}) is not bool",
    float: "type({v}) is not float and type({v}) is not int",
}


def _fast_structure_fn(cls: type, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A structure function for one model, written out field by field and compiled once.

    The decoding hot path (a page of 100 Leads, 48 fields each): primitive checks are inlined
    and the other fields call their hook directly, with none of the per-field calls of the
    generic path. It accepts exactly what the cattrs hooks accept; any failure raises, and
    `structure` then runs the detailed converter to name the field.
    """
    _BUILDING.add(cls)
    try:
        ns: dict[str, Any] = {"_cls": cls, "_Mapping": Mapping, "_WrongType": _WrongType}
        body: list[str] = []
        args: list[str] = []
        optional: list[str] = []
        for i, field in enumerate(attrs.fields(cls)):
            wire = field.metadata.get("wire", field.name)
            var = f"v{i}"
            code = _field_code(var, field.type, i, ns, conv)
            if field.default is attrs.NOTHING:
                body.append(f"    {var} = o[{wire!r}]")
                body.extend("    " + line for line in code)
                args.append(f"{field.name}={var}")
            elif field.default is None:
                body.append(f"    {var} = o.get({wire!r})")
                body.extend("    " + line for line in code)
                args.append(f"{field.name}={var}")
            else:  # UNSET or another default: passed only when the payload has the field
                body.append(f"    if {wire!r} in o:")
                body.append(f"        {var} = o[{wire!r}]")
                body.extend("        " + line for line in code)
                body.append(f"        kw[{field.name!r}] = {var}")
                optional.append(field.name)
        lines = [
            "def structure(o, _=None):",
            "    if not isinstance(o, _Mapping):",
            f"        raise _WrongType('an object ({cls.__name__})', o)",
        ]
        if optional:
            lines.append("    kw = {}")
        lines += body
        call = ", ".join(args + (["**kw"] if optional else []))
        lines.append(f"    return _cls({call})")
        source = "\n".join(lines)
        exec(compile(source, f"<instantly structure {cls.__name__}>", "exec"), ns)
        return cast(Callable[[Any, Any], Any], ns["structure"])
    finally:
        _BUILDING.discard(cls)


def _field_code(var: str, tp: Any, i: int, ns: dict[str, Any], conv: cattrs.Converter) -> list[str]:
    """Lines that check and convert `var` (a field's raw value) in place, raising if it is bad."""
    nullable = False
    if _is_union(tp):
        members = [m for m in get_args(tp) if m is not Unset]
        nullable = type(None) in members
        members = [m for m in members if m is not type(None)]
        if len(members) != 1:  # a real union: its hook picks the member
            ns[f"_h{i}"] = conv.get_structure_hook(tp)
            ns[f"_t{i}"] = tp
            return [f"{var} = _h{i}({var}, _t{i})"]
        tp = members[0]
    inner = _value_code(var, tp, i, ns, conv)
    if nullable:
        return [f"if {var} is not None:"] + ["    " + line for line in inner]
    return [f"if {var} is None:", f"    raise _WrongType('a value', {var})", *inner]


def _value_code(var: str, tp: Any, i: int, ns: dict[str, Any], conv: cattrs.Converter) -> list[str]:
    if tp is Any or tp is typing.Any:
        return []
    check = _PRIMITIVE_CHECKS.get(tp)
    if check is not None:
        return [f"if {check.format(v=var)}:", f"    raise _WrongType('a value', {var})"]
    if tp is datetime:
        ns["_fromiso"] = datetime.fromisoformat
        ns["_UTC"] = UTC
        ns["_dt"] = _structure_datetime
        return [
            f"if type({var}) is str:",
            f"    {var} = _fromiso({var})",
            f"    if {var}.tzinfo is None:",
            f"        {var} = {var}.replace(tzinfo=_UTC)",
            "else:",
            f"    {var} = _dt({var}, None)",
        ]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        # Known values by dict lookup; the hook handles the rest (unknown values, floats).
        kind = "int" if issubclass(tp, int) else "str"
        ns[f"_m{i}"] = tp._value2member_map_
        ns[f"_h{i}"] = conv.get_structure_hook(tp)
        ns[f"_t{i}"] = tp
        return [
            f"_e = _m{i}.get({var}) if type({var}) is {kind} else None",
            f"{var} = _e if _e is not None else _h{i}({var}, _t{i})",
        ]
    if get_origin(tp) is dict and get_args(tp)[1:] in ((Any,), (typing.Any,)):
        # A free-form object (`payload`): a dict from JSON is taken as it is, not copied.
        ns[f"_h{i}"] = conv.get_structure_hook(tp)
        ns[f"_t{i}"] = tp
        return [f"if type({var}) is not dict:", f"    {var} = _h{i}({var}, _t{i})"]
    if _is_attrs(tp) and tp in _BUILDING:
        ns[f"_h{i}"] = _LazyHook(conv, tp)
    else:
        ns[f"_h{i}"] = conv.get_structure_hook(tp)
    ns[f"_t{i}"] = tp
    return [f"{var} = _h{i}({var}, _t{i})"]


def _describe(tp: Any) -> str:
    if tp in _TYPE_WORDS:
        return _TYPE_WORDS[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"a {tp.__name__} value"
    if _is_attrs(tp):
        return f"an object ({tp.__name__})"
    origin = get_origin(tp)
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if tp is datetime:
        return "a date-time string"
    return getattr(tp, "__name__", str(tp))


converter = _build(detailed=False)
_detailed = _build(detailed=True)


def _type_name(cl: Any) -> str:
    if _is_attrs(cl):
        return str(cl.__name__)
    origin = get_origin(cl)
    if origin is list:
        (item,) = get_args(cl) or (Any,)
        return f"list[{_type_name(item)}]"
    return getattr(cl, "__name__", str(cl))


def _first_error(exc: BaseException, path: str) -> tuple[str, str]:
    """Walk cattrs' exception groups to the first leaf, building `Class.field[i]` as we go."""
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        for sub in exc.exceptions:
            notes = getattr(sub, "__notes__", [])
            note = notes[-1] if notes else None
            step = ""
            if note is not None and hasattr(note, "name"):
                step = f".{note.name}"
            elif note is not None and hasattr(note, "index"):
                step = f"[{note.index}]"
            inner_path = path + step
            if isinstance(sub, KeyError):
                return inner_path, "required field is missing"
            return _first_error(sub, inner_path)
    if isinstance(exc, _WrongType):
        return path, str(exc)
    if isinstance(exc, KeyError):
        return path, "required field is missing"
    return path, f"{type(exc).__name__}: {exc}"


@cache
def _hook(cl: Any) -> Callable[[Any, Any], Any]:
    return converter.get_structure_hook(cl)


def structure(data: Any, cl: type[T] | Any) -> T:
    """Turn decoded JSON into `cl` (a model, `list[Model]`, a primitive...); see the module doc."""
    try:
        return _hook(cast(Any, cl))(data, cl)  # type: ignore[no-any-return]
    except Exception as exc:
        if _is_attrs(cl) and not isinstance(data, Mapping):
            raise StructureError(
                _type_name(cl), f"expected an object, got {type(data).__name__}"
            ) from None
        try:
            _detailed.structure(data, cl)
        except Exception as detailed_exc:
            path, reason = _first_error(detailed_exc, _type_name(cl))
            raise StructureError(path, reason) from None
        raise StructureError(_type_name(cl), f"{type(exc).__name__}: {exc}") from None


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list/dict of them) into JSON-ready data, sending only what was set."""
    return converter.unstructure(obj)
