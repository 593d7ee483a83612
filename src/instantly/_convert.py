"""The one converter between the API's JSON and the generated attrs models.

Reading (`structure`) follows one rule: the server is the authority on what it sends, so an
answer never breaks the program that asked for it.

- A value that fits its declared type is taken as it is (an unknown field is ignored; an
  unknown enum value becomes a pseudo-member that keeps it, see `instantly._types`).
- A value that does not fit becomes what can honestly be made of it, and the field still
  decodes: a number from a numeric string (`"12"` -> 12), a string from a number (12 -> `"12"`,
  true -> `"true"`), a boolean from `"true"`/`"false"`/0/1, the date of a date-time where a date
  was promised. Where nothing honest can be made (`""` or garbage for a date, an object where a
  number was, a required field left out, null where null is not allowed), the field holds None.
  An item of a list (or a value of a map) that cannot be made is left out rather than kept as
  None, so code that walks the list meets only items of the declared type. `""` for an enum that
  does not list `""` reads as None, like `""` for a date: it is how this API says "no value",
  and a pseudo-member `UNKNOWN_` would match no branch of the caller's code.
- The value as it came stays readable: `instantly.mismatches(obj)` lists every value of `obj`
  (and of the models inside it) that did not fit, with its path, what was expected, a short
  description of what came, and the raw value; `instantly.raw_value(obj, "field")` is one raw
  value. A DEBUG line on the `instantly` logger names each mismatch's path once per model and
  field (`Campaign.campaign_schedule.start_date: expected a date, got ''`), so that a user can
  report it; the value itself is never logged (it may be large, or personal data).
- Only a body of the wrong JSON kind at the top (HTML text, a list where an object must be, an
  object where a list must be) raises `StructureError`, naming the type.

Why the mismatches live outside the instances: decoding is the SDK's hot path (a page of 100
Leads of 48 fields each), and almost every answer fits. A record kept in the instance would cost
a slot and a store on every model of every answer, and a template change; a side table keyed by
the instance (dropped when the instance dies) costs nothing until a value does not fit. The
price: a copy of an instance (`attrs.evolve`, `copy.copy`, pickling) does not carry the record.
When a value does not fit, the model's field keeps the declared *annotation* but may hold None
even where the annotation does not say so; `mismatches` is how a program tells.

How it is fast: every type gets two decoders, built once (on first use) and cached.
- The strict one is Python source written out field by field and compiled: a type check inlined
  per field, dates parsed in line, known enum values found by one dict lookup, small nested
  models written into their parent, and the instance built by setting its slots directly (a
  48-keyword `__init__` call costs more than all the checks of a Lead together). It accepts only
  values that fit exactly and raises on anything else: no error path, no bookkeeping.
- The lenient one is the same code with each field's lines in a `try` (free in Python 3.11
  while nothing raises): a field that fits costs what it costs strictly, and only a field that
  misses goes to the slow path that makes what it can of it, records it and logs it.
`structure` runs the strict decoder of the whole answer; on a miss it runs the lenient one, in
which every list item and nested model is again read field by field at the strict cost: in a
page of 100 Leads with one odd value, the page is read twice over and that value alone takes
the slow path.

Writing (`unstructure`) sends only what was set: optional fields left at their default (`UNSET`
for request models, `None` for response models) are omitted; a field explicitly set to `None`
on a request model is sent as JSON null (the API uses null to clear a value). Wire names of
renamed fields (`stepID` -> `step_id`) come from the generated models' field metadata.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeVar, Union, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import iterable_unstructure_factory, mapping_unstructure_factory
from cattrs.gen import make_dict_unstructure_fn, override

from . import _json
from ._types import UNSET, Unset
from .errors import InstantlyError

__all__ = [
    "Mismatch",
    "StructureError",
    "converter",
    "mismatches",
    "raw_value",
    "structure",
    "unstructure",
]

T = TypeVar("T")
logger = logging.getLogger("instantly")

# (path, expected, got): one value that did not fit, as the lenient walk finds it.
_Problem = tuple[str, str, str]
_Problems = list[_Problem]
_MISSING_FIELD = "nothing (the field is missing)"


class StructureError(InstantlyError, ValueError):
    """An answer is not the JSON kind its operation promises: HTML or text where an object was
    promised, a list where an object must be, an object where a list must be.

    `path` is where (the type's name); `reason` what was expected and what came.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@attrs.frozen(slots=True)
class Mismatch:
    """A value the server sent that did not fit its declared type (see `mismatches`)."""

    path: str
    """Where, from the model asked about: `Campaign.campaign_schedule.start_date`,
    `CampaignPage.items[3].sequences[0]`."""
    field: str
    """The field (Python name) of the model that holds the value."""
    expected: str
    """What the spec promised: `a date`, `a number`, `an object (CampaignSchedule)`."""
    got: str
    """What came, described by its kind only: `''`, `a string`, `null`, `an object`."""
    raw: Any
    """The field's value as it came (`UNSET` when the server left a required field out)."""

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.got}"


# --- the record of mismatches, outside the instances ----------------------------------------


class _Entry(NamedTuple):
    suffix: str  # the path inside the instance: `start_date`, `sequences[0]`
    expected: str
    got: str
    raw: Any


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to an instance with a record, holding the record's key."""

    __slots__ = ("key",)
    key: int


# id(instance) -> (weak reference to it, field -> entry). Entries go when their instance does.
_RECORDS: dict[int, tuple[_Ref, dict[str, _Entry]]] = {}


def _forget(ref: _Ref) -> None:
    held = _RECORDS.get(ref.key)
    if held is not None and held[0] is ref:
        del _RECORDS[ref.key]


def _remember(obj: Any, record: dict[str, _Entry]) -> None:
    try:
        ref = _Ref(obj, _forget)
    except TypeError:  # a class without weak references: nothing to keep the record by
        return
    ref.key = key = id(obj)
    _RECORDS[key] = (ref, record)


def _record_of(obj: Any) -> dict[str, _Entry] | None:
    held = _RECORDS.get(id(obj))
    if held is None or held[0]() is not obj:
        return None
    return held[1]


def mismatches(obj: Any) -> list[Mismatch]:
    """Every value the server sent that did not fit its declared type, with its path.

    The field then holds what could honestly be made of the value (or None), and each
    `Mismatch` holds the value as it came (`.raw`).

    ```python
    campaign = await client.campaigns.get(campaign_id)
    for m in instantly.mismatches(campaign):
        print(m)        # Campaign.campaign_schedule.start_date: expected a date, got ''
    ```

    Args:
        obj: a model an answer decoded to, or a list or dict of them; the models inside it
            are searched too.

    Returns:
        The mismatches, in field order; empty when everything fit (nearly always). A copy of
        a model (`attrs.evolve`, `copy.copy`, pickling) has none.
    """
    found: list[Mismatch] = []
    _collect(obj, type(obj).__name__ if attrs.has(type(obj)) else "", found)
    return found


def _collect(obj: Any, path: str, found: list[Mismatch]) -> None:
    cls = type(obj)
    if attrs.has(cls):
        record = _record_of(obj)
        for field in attrs.fields(cls):
            if record is not None and field.name in record:
                entry = record[field.name]
                found.append(
                    Mismatch(
                        path=f"{path}.{entry.suffix}",
                        field=field.name,
                        expected=entry.expected,
                        got=entry.got,
                        raw=entry.raw,
                    )
                )
            _collect(getattr(obj, field.name), f"{path}.{field.name}", found)
    elif cls is list or cls is tuple:
        for index, item in enumerate(obj):
            _collect(item, f"{path}[{index}]", found)
    elif cls is dict:
        for key, item in obj.items():
            _collect(item, f"{path}[{key!r}]", found)


def raw_value(obj: Any, field: str) -> Any:
    """The value the server sent for `obj.field` when it did not fit its type.

    Args:
        obj: a model an answer decoded to.
        field: the field's Python name (`start_date`, `step_id`).

    Returns:
        The value as it came, or `UNSET` when the server left a required field out.

    Raises:
        KeyError: the value fit its type (the attribute itself is the value as it came).
        AttributeError: `obj` has no such field.
    """
    cls = type(obj)
    if not attrs.has(cls) or field not in attrs.fields_dict(cls):
        raise AttributeError(f"{cls.__name__} has no field {field!r}")
    record = _record_of(obj)
    if record is None or field not in record:
        raise KeyError(
            f"{cls.__name__}.{field} fit its declared type: the attribute is the value as it came"
        )
    return record[field].raw


# --- words ---------------------------------------------------------------------------------


def _got(value: Any) -> str:
    """What a value is, by its kind only: mismatches are logged, and values can be personal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "''" if not value else "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _type_name(tp: Any) -> str:
    if _is_attrs(tp):
        return str(tp.__name__)
    origin = get_origin(tp)
    if origin is list:
        (item,) = get_args(tp) or (Any,)
        return f"list[{_type_name(item)}]"
    if origin is dict:
        return f"dict[str, {_type_name(get_args(tp)[1])}]"
    if _is_union(tp):
        return " | ".join(_type_name(m) for m in get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_attrs(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp)


def _is_any(tp: Any) -> bool:
    return tp is Any or tp is typing.Any or tp is object


# --- what can honestly be made of a value --------------------------------------------------

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _number_from(text: str) -> int | float | None:
    """The number a string spells in JSON's grammar (surrounding spaces allowed), else None."""
    text = text.strip()
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    try:
        if match.group(1) is None and match.group(2) is None:
            return int(text)
        number = float(text)
    except ValueError:  # more digits than Python turns into an int
        return None
    return number if number - number == 0 else None  # not inf


def _as_str(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # more digits than Python writes out
            return None
    return None


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, str):
        return _number_from(value)
    return None


def _as_int(value: Any) -> int | None:
    number = _as_number(value)
    if isinstance(number, float):
        return int(number) if number.is_integer() else None
    return number


def _as_bool(value: Any) -> bool | None:
    if value in ("true", "false"):
        return bool(value == "true")
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return None


def _aware(value: datetime) -> datetime:
    # A date-time without an offset is taken as UTC, the API's own zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- decoders ------------------------------------------------------------------------------


class _Miss(Exception):
    """A value that does not fit exactly: the strict decoder gives up, the lenient one runs."""


_Fast = Callable[[Any], Any]
_Lenient = Callable[[Any, str, _Problems], Any]


class _Decoder:
    """The two ways to read one type: `fast` (exact fits only, raises otherwise) and `lenient`
    (never raises; appends what did not fit to `problems`; None where nothing can be made)."""

    __slots__ = ("expected", "fast", "kinds", "lenient", "nullable", "plan")

    def __init__(self, expected: str, kinds: frozenset[str], nullable: bool) -> None:
        self.expected = expected
        self.kinds = kinds  # JSON kinds that can make a value: "object", "list", "scalar"
        self.nullable = nullable  # None is a value of the type
        self.fast: _Fast = _never
        self.lenient: _Lenient = _nothing
        self.plan: _ModelPlan | None = None  # a model's decoder: its plan, once complete


def _never(value: Any) -> Any:
    raise _Miss


def _nothing(value: Any, path: str, problems: _Problems) -> Any:
    return None


_OBJECT = frozenset({"object"})
_LIST = frozenset({"list"})
_SCALAR = frozenset({"scalar"})
_ALL_KINDS = frozenset({"object", "list", "scalar"})

_DECODERS: dict[Any, _Decoder] = {}  # complete decoders, read without a lock
# Decoders being built (under the lock): a model that holds itself finds its own here. They
# join _DECODERS together once the outermost build is done, so that no other thread ever sees
# one half made.
_PENDING: dict[Any, _Decoder] = {}
_BUILD_LOCK = threading.RLock()


def _decoder(tp: Any) -> _Decoder:
    found = _DECODERS.get(tp)
    if found is not None:
        return found
    with _BUILD_LOCK:
        found = _DECODERS.get(tp) or _PENDING.get(tp)
        if found is not None:
            return found
        outermost = not _PENDING
        try:
            found = _PENDING[tp] = _build_decoder(tp)
            if outermost:
                _DECODERS.update(_PENDING)
        finally:
            if outermost:
                _PENDING.clear()
    return found


def _build_decoder(tp: Any) -> _Decoder:
    dec: _Decoder
    if _is_union(tp):
        dec = _union_decoder(tp)
    elif _is_attrs(tp):
        dec = _ModelPlan(tp).decoder  # registers itself before its fields (recursion)
    elif _is_any(tp):
        dec = _Decoder("any value", _ALL_KINDS, True)
        dec.fast = _identity
        dec.lenient = _lenient_any
    elif get_origin(tp) is list or tp is list:
        dec = _list_decoder(tp)
    elif get_origin(tp) is dict or tp is dict:
        dec = _dict_decoder(tp)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        dec = _enum_decoder(tp)
    elif tp in _SCALARS:
        expected, fast, read = _SCALARS[tp]
        dec = _Decoder(expected, _SCALAR, False)
        dec.fast = fast
        dec.lenient = _scalar_lenient(dec, read)
    else:
        raise TypeError(f"the converter cannot read {tp!r}")
    return dec


def _identity(value: Any) -> Any:
    return value


def _lenient_any(value: Any, path: str, problems: _Problems) -> Any:
    return value


# Scalars: (expected, strict, "make something of a value that does not fit": value or None).


def _fast_str(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Miss


def _fast_int(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _Miss


def _fast_float(value: Any) -> float:
    # An int is a valid number, and stays one (`0` is written back as `0`).
    if type(value) is float or type(value) is int:
        return value
    raise _Miss


def _fast_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _Miss


def _fast_datetime(value: Any) -> datetime:
    if type(value) is not str:
        raise _Miss
    return _aware(datetime.fromisoformat(value))


def _fast_date(value: Any) -> date:
    if type(value) is not str:
        raise _Miss
    return date.fromisoformat(value)


# What each scalar type makes of any value: (the value, whether it fit). A value that fits
# but is not the wire's own form (a str subclass, a datetime object handed to `structure`)
# is taken quietly; one that does not fit is made into what it honestly can be, or None.


def _read_str(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        return (value if type(value) is str else str.__str__(value)), True
    return _as_str(value), False


def _read_int(value: Any) -> tuple[Any, bool]:
    if type(value) is int:
        return value, True
    if type(value) is float and value.is_integer():
        return int(value), True
    return _as_int(value), False


def _read_float(value: Any) -> tuple[Any, bool]:
    if type(value) is int or type(value) is float:
        return value, True
    return _as_number(value), False


def _read_bool(value: Any) -> tuple[Any, bool]:
    if type(value) is bool:
        return value, True
    return _as_bool(value), False


def _read_datetime(value: Any) -> tuple[Any, bool]:
    if isinstance(value, datetime):
        return _aware(value), True
    if isinstance(value, str):
        try:
            return _aware(datetime.fromisoformat(value)), True
        except ValueError:
            pass
    return None, False


def _read_date(value: Any) -> tuple[Any, bool]:
    if type(value) is date:
        return value, True
    if isinstance(value, datetime):
        return value.date(), False
    if isinstance(value, str):
        try:
            return date.fromisoformat(value), True
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value).date(), False  # a date-time for a date
        except ValueError:
            pass
    return None, False


_SCALARS: dict[Any, tuple[str, _Fast, Callable[[Any], tuple[Any, bool]]]] = {
    str: ("a string", _fast_str, _read_str),
    int: ("an integer", _fast_int, _read_int),
    float: ("a number", _fast_float, _read_float),
    bool: ("a boolean", _fast_bool, _read_bool),
    datetime: ("a date-time", _fast_datetime, _read_datetime),
    date: ("a date", _fast_date, _read_date),
}


def _scalar_lenient(dec: _Decoder, read: Callable[[Any], tuple[Any, bool]]) -> _Lenient:
    expected = dec.expected

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        made, fits = read(value)
        if not fits:
            problems.append((path, expected, _got(value)))
        return made

    return lenient


def _enum_decoder(cls: type[enum.Enum]) -> _Decoder:
    int_based = issubclass(cls, int)
    str_based = issubclass(cls, str)
    word = "an integer" if int_based else "a string" if str_based else "a value"
    dec = _Decoder(f"{word} ({cls.__name__})", _SCALAR, False)
    members = cls._value2member_map_

    def fast(value: Any) -> Any:
        # Values of the right kind the spec does not list become pseudo-members (`_missing_`);
        # `""` is no value at all (see the module's doc), and the wrong kind is a miss.
        if int_based:
            if type(value) is float and value.is_integer():
                value = int(value)
            elif type(value) is not int:
                raise _Miss
        elif str_based and (type(value) is not str or (not value and value not in members)):
            raise _Miss
        member = members.get(value)
        return member if member is not None else cls(value)

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        try:
            return fast(value)
        except Exception:
            pass
        made: Any = None
        if int_based:
            made = _as_int(value)
        elif str_based and not isinstance(value, str):
            made = _as_str(value)
        problems.append((path, dec.expected, _got(value)))
        if made is None:
            return None
        try:
            return cls(made)
        except ValueError:
            return None

    dec.fast = fast
    dec.lenient = lenient
    return dec


def _list_decoder(tp: Any) -> _Decoder:
    (item_tp,) = get_args(tp) or (Any,)
    dec = _Decoder("a list", _LIST, False)
    _PENDING[tp] = dec  # before the item: a list of a model that holds the list
    item = _decoder(item_tp)
    ns: dict[str, Any] = {"_Miss": _Miss, "_new": object.__new__}
    check = _check_lines(item_tp, "x", ns, nullable=False)
    lines = ["def fast(v):", "    if type(v) is not list:", "        raise _Miss"]
    if len(check) == 1 and check[0].startswith("x = ") and check[0].endswith("(x)"):
        lines.append(f"    return [{check[0][4:]} for x in v]")  # one call per item
    else:
        lines += ["    out = []", "    for x in v:", *("        " + c for c in check)]
        lines += ["        out.append(x)", "    return out"]
    dec.fast = _compile(lines, ns, f"list[{_type_name(item_tp)}]")

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        if not isinstance(value, list | tuple):
            problems.append((path, dec.expected, _got(value)))
            return None
        out = []
        for index, x in enumerate(value):
            made = _lenient_item(item, x, f"{path}[{index}]", problems)
            if made is not None or item.nullable:
                out.append(made)
        return out

    dec.lenient = lenient
    return dec


def _dict_decoder(tp: Any) -> _Decoder:
    args = get_args(tp)
    value_tp = args[1] if len(args) == 2 else Any
    dec = _Decoder("an object", _OBJECT, False)
    if _is_any(value_tp):
        # A free-form object (`payload`): a dict from JSON is taken as it is, not copied.
        def fast_free(v: Any) -> Any:
            if type(v) is dict:
                return v
            raise _Miss

        def lenient_free(value: Any, path: str, problems: _Problems) -> Any:
            if isinstance(value, Mapping):
                return value if type(value) is dict else dict(value)
            problems.append((path, dec.expected, _got(value)))
            return None

        dec.fast = fast_free
        dec.lenient = lenient_free
        return dec
    _PENDING[tp] = dec
    item = _decoder(value_tp)
    ns: dict[str, Any] = {"_Miss": _Miss, "_new": object.__new__}
    lines = [
        "def fast(v):",
        "    if type(v) is not dict:",
        "        raise _Miss",
        "    out = {}",
        "    for k, x in v.items():",
        *("        " + line for line in _check_lines(value_tp, "x", ns, nullable=False)),
        "        out[k] = x",
        "    return out",
    ]
    dec.fast = _compile(lines, ns, f"dict[str, {_type_name(value_tp)}]")

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        if not isinstance(value, Mapping):
            problems.append((path, dec.expected, _got(value)))
            return None
        out = {}
        for key, x in value.items():
            made = _lenient_item(item, x, f"{path}[{key!r}]", problems)
            if made is not None or item.nullable:
                out[key] = made
        return out

    dec.lenient = lenient
    return dec


def _lenient_item(item: _Decoder, value: Any, path: str, problems: _Problems) -> Any:
    if value is None:
        if not item.nullable:
            problems.append((path, item.expected, "null"))
        return None
    return item.lenient(value, path, problems)


def _union_decoder(tp: Any) -> _Decoder:
    members = [m for m in get_args(tp) if m is not Unset]
    nullable = type(None) in members
    members = [m for m in members if m is not type(None)]
    if len(members) == 1:
        return _nullable_decoder(tp, members[0], nullable)
    dec = _Decoder("", _ALL_KINDS, nullable)
    _PENDING[tp] = dec
    decoders = [_decoder(m) for m in members]
    dec.expected = " or ".join(d.expected for d in decoders)
    dec.kinds = frozenset().union(*(d.kinds for d in decoders))

    def fast(value: Any) -> Any:
        if value is None and nullable:
            return None
        # In the spec's order; the first member the value fits exactly wins. (`.fast` looked up
        # per call: a member may be a model whose decoder is still being built.)
        for member in decoders:
            try:
                return member.fast(value)
            except Exception:
                continue
        raise _Miss

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        try:
            return fast(value)
        except Exception:
            pass
        kind = _kind(value)
        for member in decoders:
            if kind in member.kinds:
                tried: _Problems = []
                made = member.lenient(value, path, tried)
                if made is not None:
                    problems.extend(tried)
                    return made
        problems.append((path, dec.expected, _got(value)))
        return None

    dec.fast = fast
    dec.lenient = lenient
    return dec


def _nullable_decoder(tp: Any, inner_tp: Any, nullable: bool) -> _Decoder:
    inner = _decoder(inner_tp)
    if not nullable:
        return inner  # `X | Unset`: UNSET is a default, not a value the wire can send
    dec = _Decoder(inner.expected, inner.kinds, True)
    if inner.fast is not _never:  # built: called directly
        inner_fast = inner.fast

        def fast(value: Any) -> Any:
            return None if value is None else inner_fast(value)
    else:  # a model still being built (it holds itself): looked up at each call

        def fast(value: Any) -> Any:
            return None if value is None else inner.fast(value)

    def lenient(value: Any, path: str, problems: _Problems) -> Any:
        return None if value is None else inner.lenient(value, path, problems)

    dec.fast = fast
    dec.lenient = lenient
    _PENDING[tp] = dec
    return dec


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "list"
    return "scalar"


# --- the strict decoder of a model, compiled --------------------------------------------------


def _compile(lines: list[str], ns: dict[str, Any], name: str) -> _Fast:
    exec(compile("\n".join(lines), f"<instantly structure {name}>", "exec"), ns)
    return cast(_Fast, ns["fast"])


def _parser_key(wire: str) -> str:
    """The very object the JSON parser uses for this object key.

    orjson hands out one cached object per short key, the same in every document: a dict
    lookup whose key *is* the dict's own key object skips the string comparison (a Lead has 48
    lookups). Code constants cannot be these objects (compiling interns them), so the compiled
    decoders look them up by name. Equal strings either way: nothing changes if the parser
    ever stops caching.
    """
    (key,) = _json.loads(_json.dumps({wire: 0}))
    return cast(str, key)


_ABSENT: Any = object()


class _Deferred:
    """The strict decoder of a model still being built (it holds itself); found at first call."""

    def __init__(self, dec: _Decoder) -> None:
        self._dec = dec

    def __call__(self, value: Any) -> Any:
        return self._dec.fast(value)


_BUILDING: set[type] = set()


# Nested models of at most this many fields are written into their parent's decoder (a call
# and a dict check less per object), down to this depth.
_INLINE_FIELDS = 12
_INLINE_DEPTH = 3


def _check_lines(
    tp: Any, var: str, ns: dict[str, Any], *, nullable: bool, depth: int = 0
) -> list[str]:
    """Lines that check `var` against `tp` and turn it into the value, raising if it is no exact
    fit. `nullable`: None is accepted as it is (the field's default is None)."""
    if _is_union(tp):
        members = [m for m in get_args(tp) if m is not Unset]
        if type(None) in members:
            nullable = True
            members = [m for m in members if m is not type(None)]
        if len(members) != 1:
            name = _bind(ns, "_u", _decoder(typing.Union[tuple(members)]).fast)  # noqa: UP007
            call = [f"{var} = {name}({var})"]
            return [f"if {var} is not None:", "    " + call[0]] if nullable else call
        tp = members[0]
    if _is_any(tp):
        return []
    check = _INLINE_CHECKS.get(tp)
    if check is not None:
        cond = check.format(v=var)
        if nullable:
            cond = f"{cond} and {var} is not None"
        return [f"if {cond}:", "    raise _Miss"]
    body = _value_lines(tp, var, ns, depth)
    if nullable:
        return [f"if {var} is not None:", *("    " + line for line in body)]
    return body


# Exact-fit conditions, negated: true when the value does not fit.
_INLINE_CHECKS = {
    str: "type({v}) is not str",
    bool: "type({v}) is not bool",
    float: "type({v}) is not int and type({v}) is not float",  # counts are ints: int first
}


def _bind(ns: dict[str, Any], prefix: str, value: Any) -> str:
    name = f"{prefix}{len(ns)}"
    ns[name] = value
    return name


def _value_lines(tp: Any, var: str, ns: dict[str, Any], depth: int) -> list[str]:
    if tp is int:
        conv = _bind(ns, "_i", _fast_int)
        return [f"if type({var}) is not int:", f"    {var} = {conv}({var})"]
    if tp is datetime:
        # fromisoformat refuses anything but a string itself (TypeError: a miss like any other).
        ns["_fromiso"] = datetime.fromisoformat
        ns["_UTC"] = UTC
        return [
            f"{var} = _fromiso({var})",
            f"if {var}.tzinfo is None:",
            f"    {var} = {var}.replace(tzinfo=_UTC)",
        ]
    if tp is date:
        ns["_date_fromiso"] = date.fromisoformat
        return [f"{var} = _date_fromiso({var})"]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        # Known values (and pseudo-members made before) by one dict lookup; anything else is a
        # miss, and the lenient walk makes the pseudo-member, which later lookups then find.
        # An int enum checks the type first: True would find the member 1.
        members = _bind(ns, "_m", tp._value2member_map_)
        if issubclass(tp, str):
            return [f"{var} = {members}[{var}]"]
        if issubclass(tp, int):
            return [f"if type({var}) is not int:", "    raise _Miss", f"{var} = {members}[{var}]"]
        return [f"{var} = {_bind(ns, '_e', _decoder(tp).fast)}({var})"]
    if _is_attrs(tp):
        if tp in _BUILDING:
            return [f"{var} = {_bind(ns, '_d', _Deferred(_decoder(tp)))}({var})"]
        _decoder(tp)
        plan = _plan_of(tp)
        if depth < _INLINE_DEPTH and len(plan.fields) <= _INLINE_FIELDS and plan.direct:
            inner = f"i{depth + 1}"
            lines = plan.lines(var, inner, ns, depth + 1)
            return [*lines, f"{var} = {inner}"]
    return [f"{var} = {_bind(ns, '_f', _decoder(tp).fast)}({var})"]


def _settable(cls: type) -> bool:
    """Whether an instance can be made by setting its fields one by one, as its `__init__`
    would: no validators, converters, hooks or custom `__setattr__` to honour."""
    if getattr(cls, "__setattr__", None) is not object.__setattr__:
        return False
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    return all(f.init and f.validator is None and f.converter is None for f in attrs.fields(cls))


@attrs.frozen(slots=True)
class _FieldPlan:
    name: str
    wire: str
    decoder: _Decoder
    required: bool
    nullable: bool  # None is the field's own value (nullable type, or default None)
    default: Any  # the default, or a Factory


class _ModelPlan:
    """Everything needed to read one model: its fields and both decoders."""

    def __init__(self, cls: type) -> None:
        attrs.resolve_types(cls)
        self.cls = cls
        self.name = cls.__name__
        self.decoder = dec = _Decoder(f"an object ({cls.__name__})", _OBJECT, False)
        self.direct = _settable(cls)
        _PENDING[cls] = dec
        _BUILDING.add(cls)
        try:
            self.fields = [self._plan(f) for f in attrs.fields(cls)]
            dec.fast = self._compile_fast()
            self.walk = self._compile_walk()
        finally:
            _BUILDING.discard(cls)
        dec.lenient = self.lenient
        dec.plan = self

    def _plan(self, field: attrs.Attribute[Any]) -> _FieldPlan:
        field_dec = _decoder(field.type)
        return _FieldPlan(
            name=field.name,
            wire=field.metadata.get("wire", field.name),
            decoder=field_dec,
            required=field.default is attrs.NOTHING,
            nullable=field_dec.nullable or field.default is None,
            default=field.default,
        )

    def _compile_fast(self) -> _Fast:
        ns: dict[str, Any] = {"_Miss": _Miss, "_new": object.__new__}
        lines = ["def fast(o):", *("    " + line for line in self.lines("o", "i", ns, 0))]
        lines.append("    return i")
        return _compile(lines, ns, self.name)

    def _compile_walk(self) -> Callable[[Mapping[str, Any], str], Any]:
        # The same lines, each field's in a `try` (free in Python 3.11 while nothing raises):
        # a field that fits costs what it costs in `fast`; one that does not goes to
        # `_field_leniently` alone, which records and logs it.
        ns: dict[str, Any] = {"_Miss": _Miss, "_new": object.__new__, "_owner": self}
        ns["_slow"] = _field_leniently
        ns["_remember"] = _remember
        body = self.lines("o", "i", ns, 0, guarded=True)
        lines = ["def fast(o, path):", "    rec = None", *("    " + line for line in body)]
        lines += ["    if rec is not None:", "        _remember(i, rec)", "    return i"]
        return cast(Callable[[Mapping[str, Any], str], Any], _compile(lines, ns, self.name))

    def lines(
        self, src: str, out: str, ns: dict[str, Any], depth: int, *, guarded: bool = False
    ) -> list[str]:
        """Lines that read the dict in `src` into a new instance in `out`, or raise.

        guarded: a field that does not fit goes to `_field_leniently` instead of raising.
        """
        cls = self.cls
        v = f"v{depth}"
        made = _bind(ns, "_cls", cls)
        # A dict check only where no field would fail on another kind of value: `.get` and
        # `[...]` with a string key fail on everything JSON gives but an object.
        lines = (
            [f"if type({src}) is not dict:", "    raise _Miss"]
            if not self.fields and not guarded
            else []
        )
        if self.direct:
            lines.append(f"{out} = _new({made})")
            store = f"{out}.{{name}} = {v}"
        else:
            kw = f"kw{depth}"
            lines.append(f"{kw} = {{}}")
            store = f"{kw}[{{name!r}}] = {v}"
        for attr, plan in zip(attrs.fields(cls), self.fields, strict=True):
            wire = _bind(ns, "_w", _parser_key(plan.wire))
            read: list[str]
            if plan.required:
                read = [f"{v} = {src}[{wire}]"]
                read += _check_lines(attr.type, v, ns, nullable=False, depth=depth)
            elif plan.default is None:
                read = [f"{v} = {src}.get({wire})"]
                read += _check_lines(attr.type, v, ns, nullable=True, depth=depth)
            else:  # UNSET, another constant, or a factory: used when the payload has no value
                absent = _bind(ns, "_absent", _ABSENT)
                read = [f"{v} = {src}.get({wire}, {absent})"]
                check = _check_lines(attr.type, v, ns, nullable=False, depth=depth)
                if isinstance(plan.default, attrs.Factory):  # type: ignore[arg-type]
                    if plan.default.takes_self:
                        raise TypeError(f"{cls.__name__}.{attr.name}: takes_self defaults")
                    fill = f"    {v} = {_bind(ns, '_factory', plan.default.factory)}()"
                else:
                    fill = f"    {v} = {_bind(ns, '_default', plan.default)}"
                read += [f"if {v} is {absent}:", fill]
                if check:  # nothing to check for a field that takes any value
                    read += ["else:", *("    " + x for x in check)]
            if guarded:
                field = _bind(ns, "_field", plan)
                read = [
                    "try:",
                    *("    " + line for line in read),
                    "except Exception:",
                    f"    {v}, rec = _slow(_owner, {field}, {src}, path, rec)",
                ]
            lines += read
            lines.append(store.format(name=attr.name))
        if not self.direct:
            lines.append(f"{out} = {made}(**{kw})")
        return lines

    def lenient(self, value: Any, path: str, problems: _Problems) -> Any:
        if not isinstance(value, Mapping):
            problems.append((path, self.decoder.expected, _got(value)))
            return None
        return self.walk(value, path)


def _field_leniently(
    owner: _ModelPlan,
    plan: _FieldPlan,
    o: Mapping[str, Any],
    path: str,
    record: dict[str, _Entry] | None,
) -> tuple[Any, dict[str, _Entry] | None]:
    """One field that did not fit exactly: what can be made of it, recorded and logged."""
    field_path = f"{path}.{plan.name}"
    problems: _Problems
    if plan.wire in o:
        raw = o[plan.wire]
        if raw is None:
            problems = [(field_path, plan.decoder.expected, "null")]
            made = None
        else:
            problems = []
            made = plan.decoder.lenient(raw, field_path, problems)
    else:  # only a required field can be missing: the others have a default
        raw = UNSET
        problems = [(field_path, plan.decoder.expected, _MISSING_FIELD)]
        made = None
    if problems:
        where, expected, got = problems[0]
        if record is None:
            record = {}
        record[plan.name] = _Entry(where[len(path) + 1 :], expected, got, raw)
        _log_once(owner.cls, plan.name, where, expected, got)
    return made, record


_LOGGED: set[tuple[Any, str]] = set()


def _log_once(owner: Any, field: str, path: str, expected: str, got: str) -> None:
    key = (owner, field)
    if key in _LOGGED or not logger.isEnabledFor(logging.DEBUG):
        return
    _LOGGED.add(key)
    logger.debug(
        "%s: expected %s, got %s (decoded leniently; instantly.mismatches() has the raw value)",
        path,
        expected,
        got,
    )


# --- entry points --------------------------------------------------------------------------


def structure(data: Any, cl: type[T] | Any) -> T:
    """Turn decoded JSON into `cl`, leniently (see the module's docstring).

    Args:
        data: the decoded JSON (dicts, lists, strings, numbers, booleans, None).
        cl: the type to make: a model, `list[Model]`, `dict[str, Model]`, a primitive...

    Returns:
        The value as `cl`; a value that did not fit is recorded (see `mismatches`).

    Raises:
        StructureError: `data` is not the JSON kind `cl` needs at all (a list for a model).
    """
    dec = _DECODERS.get(cl)
    if dec is None:
        dec = _decoder(cl)
    try:
        return dec.fast(data)  # type: ignore[no-any-return]
    except Exception:
        return _structure_leniently(data, cl, dec)  # type: ignore[no-any-return]


def _structure_leniently(data: Any, cl: Any, dec: _Decoder) -> Any:
    name = _type_name(cl)
    if data is None and dec.nullable:
        return None
    if data is None or _kind(data) not in dec.kinds:
        raise StructureError(name, f"expected {dec.expected}, got {_got(data)}")
    problems: _Problems = []
    made = dec.lenient(data, name, problems)
    for where, expected, got in problems:
        _log_once(None, name, where, expected, got)
    if made is None:
        raise StructureError(name, f"expected {dec.expected}, got {_got(data)}")
    return made


def _plan_of(cls: type) -> _ModelPlan:
    plan = _decoder(cls).plan
    assert plan is not None
    return plan


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


def _or_none(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def unstructure_or_none(value: Any) -> Any:
        return None if value is None else hook(value)

    return unstructure_or_none


def _build_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_unstructure_hook(datetime, _or_none(_unstructure_datetime))
    conv.register_unstructure_hook(date, _or_none(date.isoformat))
    conv.register_unstructure_hook(Unset, lambda _: None)
    conv.register_unstructure_hook_factory(
        lambda tp: isinstance(tp, type) and issubclass(tp, enum.Enum),
        lambda _tp: lambda member: None if member is None else member.value,
    )
    # A StrEnum is a str, and cattrs passes str (subclasses included) through unchanged: without
    # this the member itself would be sent, and reading it back would fail.
    conv.register_unstructure_hook(
        enum.StrEnum, lambda member: None if member is None else member.value
    )

    def attrs_unstructure_factory(cls: type) -> Callable[[Any], Any]:
        attrs.resolve_types(cls)
        overrides: dict[str, Any] = {
            a.name: override(rename=a.metadata["wire"])
            for a in attrs.fields(cls)
            if "wire" in a.metadata
        }
        return _or_none(
            make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **overrides)
        )

    conv.register_unstructure_hook_factory(_is_attrs, attrs_unstructure_factory)
    # A value read leniently may be None where its type says otherwise (a list that came as a
    # string): writing it back writes null rather than failing.
    conv.register_unstructure_hook_factory(
        lambda tp: cast(Any, get_origin(tp)) is list,
        lambda tp: _or_none(iterable_unstructure_factory(tp, conv, unstructure_to=list)),
    )
    conv.register_unstructure_hook_factory(
        lambda tp: cast(Any, get_origin(tp)) is dict,
        lambda tp: _or_none(mapping_unstructure_factory(tp, conv, unstructure_to=dict)),
    )
    # `converter.structure(data, Model)` reads as `structure` does.
    conv.register_structure_hook_factory(_is_attrs, lambda cls: lambda v, _: structure(v, cls))
    return conv


converter = _build_converter()
"""The cattrs converter that writes models (`unstructure`); reading goes through `structure`."""


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list/dict of them) into JSON-ready data, sending only what was set.

    Args:
        obj: a model, or a list or dict of them (or plain data, returned as it is).

    Returns:
        Dicts by wire name, with the fields left at their default (`UNSET`, or None on a
        response model) left out; a field set to None on a request model is null.
    """
    return converter.unstructure(obj)
