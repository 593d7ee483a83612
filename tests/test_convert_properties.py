"""Property tests of the converter against the spec's own response schemas.

For the answer of every operation of the spec (and so every model reachable from one):
(a) every payload valid by the spec's schema decodes with no mismatch and round-trips:
    structure -> unstructure -> structure is the same object, and what we write reads back and
    writes the same;
(b) the same payloads with any JSON put anywhere in them (wrong types, nulls, required fields
    removed, extra keys, nesting) decode without raising, and the strict compiled decoder of
    each model agrees with the lenient walk wherever it accepts a value.

The payloads come from a small generator of the spec's schemas (the keywords the spec uses:
type, enum, properties, required, additionalProperties, items, oneOf/anyOf, min/max, pattern,
formats), checked against the schema with `jsonschema`. It is written here rather than taken
from hypothesis-jsonschema, whose canonicalisation of a schema costs about a second each: the
spec has a hundred response schemas, and `make test` must stay quick.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from instantly import _convert
from instantly._convert import StructureError, mismatches, structure, unstructure
from instantly._generated.operations import OPERATIONS

SPEC = Path(_convert.__file__).parent / "_generated" / "spec.json"
REF_PREFIX = "#/components/schemas/"
MAX_REF_DEPTH = 2  # how many times one schema may appear inside itself
MAX_ITEMS = 2  # generation bound: arrays hold at most this many items (or their minItems)
# These set the run time: about a second each (derandomized: the same cases every run).
VALID_EXAMPLES = 200
JUNK_EXAMPLES = 200

_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return spec


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = _spec()["components"]["schemas"]
    return schemas


@cache
def _responses() -> list[tuple[str, Any, dict[str, Any]]]:
    """(operation id, the type its answer is read into, the answer's JSON schema), one per
    distinct pair, for every operation whose success answer is JSON read into a model."""
    found: dict[str, tuple[str, Any, dict[str, Any]]] = {}
    for op in OPERATIONS.values():
        if op.response in (None, str, Any):
            continue
        operation = _spec()["paths"][op.path][op.method.lower()]
        for code, answer in operation["responses"].items():
            content = answer.get("content", {}).get("application/json")
            if str(code).startswith("2") and content and "schema" in content:
                schema = content["schema"]
                key = json.dumps([repr(op.response), schema], sort_keys=True)
                found.setdefault(key, (op.operation_id, op.response, schema))
                break
    return sorted(found.values(), key=lambda entry: entry[0])


def _models_of(tp: Any, seen: set[type]) -> None:
    for arg in getattr(tp, "__args__", ()):
        _models_of(arg, seen)
    if isinstance(tp, type) and attrs.has(tp) and tp not in seen:
        seen.add(tp)
        attrs.resolve_types(tp)
        for field in attrs.fields(tp):
            _models_of(field.type, seen)


@cache
def _reachable_models() -> list[type]:
    seen: set[type] = set()
    for _, response, _ in _responses():
        _models_of(response, seen)
    return sorted(seen, key=lambda cls: cls.__name__)


# --- valid payloads from the spec's schemas ------------------------------------------------


def _rfc3339(moment: datetime, style: int) -> str:
    if style == 0:  # the API's own form
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{moment.microsecond // 1000:03d}Z"
        )
    if style == 1:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()  # numeric offset, microseconds when there are any


_ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=2)),
        timezone(timedelta(hours=-8)),
        timezone(timedelta(hours=5, minutes=30)),
    ]
)
_DATE_TIMES = st.builds(
    _rfc3339,
    st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30), timezones=_ZONES
    ),
    st.integers(0, 2),
)
_STRINGS: dict[str, st.SearchStrategy[str]] = {
    "date-time": _DATE_TIMES,
    "date": st.dates(min_value=date(1970, 1, 1), max_value=date(2199, 12, 31)).map(date.isoformat),
    "uuid": st.uuids().map(str),
    "email": st.from_regex(r"\A[a-z0-9.]{1,10}@[a-z]{1,10}\.(com|io)\Z"),
    "uri": st.sampled_from(["https://example.com/", "https://hooks.example.io/x?y=1"]),
}
# Keywords the generator does not know (minProperties, uniqueItems, contains, not, ...) are left
# to the check of every payload against its schema (`jsonschema`, then `assume`): rare in
# answers, each cuts few of the values generated.


def _valid(node: Any, seen: tuple[str, ...] = ()) -> st.SearchStrategy[Any] | None:
    """Values valid by `node`; None when none is (a schema nested in itself too deep)."""
    if node is True or node == {}:
        return _JSON
    if node is False:
        return None
    if "$ref" in node:
        name = node["$ref"].removeprefix(REF_PREFIX)
        if seen.count(name) >= MAX_REF_DEPTH:
            return None
        return _valid(_components()[name], (*seen, name))
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    for key in ("oneOf", "anyOf"):
        if key in node:
            rest = {k: v for k, v in node.items() if k != key}
            if all(set(b) <= {"required", "description"} for b in node[key]):
                # Which fields must be there (`anyOf: [{required: [a]}, {required: [b]}]`):
                # the object itself, with one branch's fields required too.
                options = [
                    _valid({**rest, "required": [*rest.get("required", []), *b["required"]]}, seen)
                    for b in node[key]
                ]
            else:
                options = [_valid(b, seen) for b in node[key]]
            branches = [s for s in options if s is not None]
            return st.one_of(branches) if branches else None
    if "allOf" in node:
        return _valid(_merged(node), seen)
    kinds = node.get("type")
    if kinds is None:
        kinds = "object" if "properties" in node else "array" if "items" in node else None
    if kinds is None:
        return _JSON
    if isinstance(kinds, list):
        options = [s for s in (_of_type(node, k, seen) for k in kinds) if s is not None]
        return st.one_of(options) if options else None
    return _of_type(node, kinds, seen)


def _merged(node: dict[str, Any]) -> dict[str, Any]:
    """`allOf`'s schemas as one (their properties and required fields together)."""
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in node["allOf"]:
        while "$ref" in part:
            part = {
                **_components()[part["$ref"].removeprefix(REF_PREFIX)],
                **{k: v for k, v in part.items() if k != "$ref"},
            }
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _of_type(node: dict[str, Any], kind: str, seen: tuple[str, ...]) -> Any:
    low, high = node.get("minimum"), node.get("maximum")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(low, high)
    if kind == "number":
        return st.integers(low, high) | st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "string":
        if node.get("format") in _STRINGS:
            return _STRINGS[node["format"]]
        if "pattern" in node:
            return st.from_regex(node["pattern"])
        return st.text(
            min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 12), 12)
        )
    if kind == "array":
        items = _valid(node.get("items", {}), seen)
        least = node.get("minItems", 0)
        if items is None:
            return st.just([]) if least == 0 else None
        return st.lists(items, min_size=least, max_size=max(least, MAX_ITEMS))
    assert kind == "object", kind
    properties = node.get("properties", {})
    required = set(node.get("required", []))
    fixed: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    for name, sub in properties.items():
        strategy = _valid(sub, seen)
        if strategy is None:
            if name in required:
                return None
            continue
        (fixed if name in required else optional)[name] = strategy
    extra = node.get("additionalProperties")
    if not properties and isinstance(extra, dict):
        values = _valid(extra, seen)
        if values is None:
            return st.just({})
        return st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=3)
    if not properties and extra is not False:
        return st.dictionaries(st.text(max_size=6), _JSON, max_size=3)
    return st.fixed_dictionaries(fixed, optional=optional)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["", "12", "2.5", "true", "2026-08-21T10:00:00Z", "2026-08-21"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@cache
def _strategy(index: int) -> st.SearchStrategy[Any]:
    _, _, schema = _responses()[index]
    strategy = _valid(schema)
    assert strategy is not None, _responses()[index][0]
    return strategy


@cache
def _validator(index: int) -> jsonschema.Draft202012Validator:
    _, _, schema = _responses()[index]
    # `$ref`s resolve against a root that holds the spec's components.
    root = {**schema, "components": {"schemas": _components()}}
    return jsonschema.Draft202012Validator(root)


_RESPONSES = st.integers(0, 10**6).map(lambda i: i % len(_responses()))
_VALID = _RESPONSES.flatmap(lambda i: st.tuples(st.just(i), _strategy(i)))


def test_the_responses_cover_the_spec() -> None:
    assert len(_responses()) >= 90
    assert {"Lead", "LeadPage", "Campaign", "CampaignScheduleSettings"} <= {
        cls.__name__ for cls in _reachable_models()
    }


def test_generated_date_times_are_what_the_api_sends() -> None:
    assert _rfc3339(datetime(2026, 8, 13, 11, 11, 55, 811000, UTC), 0) == "2026-08-13T11:11:55.811Z"


@settings(_SETTINGS, max_examples=VALID_EXAMPLES)
@given(case=_VALID)
def test_valid_answers_decode_without_mismatch_and_round_trip(case: tuple[int, Any]) -> None:
    index, payload = case
    assume(_validator(index).is_valid(payload))
    operation_id, response, _ = _responses()[index]
    original = copy.deepcopy(payload)
    obj = structure(payload, response)
    assert payload == original  # reading does not change the caller's data
    assert mismatches(obj) == [], operation_id
    written = unstructure(obj)
    assert structure(written, response) == obj
    # Writing is stable too: what we write reads back and writes the same.
    assert unstructure(structure(written, response)) == written


# --- anything anywhere -----------------------------------------------------------------------


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree below its root: dict keys and list indexes."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*path, key))
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*path, index))
            found += _places(value, (*path, index))
    return found


def _parent(root: Any, place: tuple[Any, ...]) -> Any:
    node = root
    for step in place[:-1]:
        node = node[step]
    return node


@st.composite
def _mangled(draw: st.DrawFn) -> tuple[int, Any]:
    """A valid answer with a few of its values replaced by any JSON, removed or added to."""
    index, payload = draw(_VALID)
    for _ in range(draw(st.integers(1, 4))):
        places = _places(payload)
        action = draw(st.sampled_from(["replace", "null", "remove", "add"]))
        if not places or action == "add":
            containers = [()] + [p for p in places if isinstance(_parent(payload, (*p, 0)), dict)]
            target = _parent(payload, (*draw(st.sampled_from(containers)), 0))
            if isinstance(target, dict):
                target[draw(st.text(max_size=6))] = draw(_JSON)
            continue
        place = draw(st.sampled_from(places))
        parent = _parent(payload, place)
        if action == "remove" and isinstance(parent, dict):
            del parent[place[-1]]
        else:
            parent[place[-1]] = None if action == "null" else draw(_JSON)
    return index, payload


def _strict_agrees_with_lenient(obj: Any, payload: Any) -> None:
    """Where a model's compiled decoder accepts a payload, the lenient walk reads it the same,
    with no mismatch: the fast path is only a shortcut."""
    cls = type(obj)
    if attrs.has(cls) and isinstance(payload, dict):
        try:
            fast = _convert._decoder(cls).fast(payload)
        except Exception:
            fast = None
        if fast is not None:
            walked = _convert._plan_of(cls).walk(payload, cls.__name__)
            assert walked == fast
            assert mismatches(walked) == []
        for field in attrs.fields(cls):
            wire = field.metadata.get("wire", field.name)
            if wire in payload:
                _strict_agrees_with_lenient(getattr(obj, field.name), payload[wire])
    elif isinstance(obj, list) and isinstance(payload, list) and len(obj) == len(payload):
        for item, raw in zip(obj, payload, strict=True):
            _strict_agrees_with_lenient(item, raw)


@settings(_SETTINGS, max_examples=JUNK_EXAMPLES)
@given(case=_mangled())
def test_any_json_anywhere_in_an_answer_decodes(case: tuple[int, Any]) -> None:
    index, payload = case
    _, response, _ = _responses()[index]
    original = copy.deepcopy(payload)
    obj = structure(payload, response)  # never raises: the top is still of the right kind
    assert payload == original
    found = mismatches(obj)
    assert all(str(m).startswith(m.path + ": expected ") for m in found)
    _strict_agrees_with_lenient(obj, payload)
    written = unstructure(obj)
    json.dumps(written, default=str)  # whatever was made can be written


@settings(_SETTINGS, max_examples=JUNK_EXAMPLES)
@given(data=st.data())
def test_any_object_decodes_into_any_model(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(_reachable_models()))
    keys = sorted(a.metadata.get("wire", a.name) for a in attrs.fields(cls))
    payload = data.draw(st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), _JSON))
    obj = structure(payload, cls)
    assert isinstance(obj, cls)
    _strict_agrees_with_lenient(obj, payload)
    required = {
        a.metadata.get("wire", a.name) for a in attrs.fields(cls) if a.default is attrs.NOTHING
    }
    missing = required - payload.keys()
    own = [m for m in mismatches(obj) if m.path == f"{cls.__name__}.{m.field}"]
    assert {m.field for m in own if m.raw is _convert.UNSET} == {
        a.name for a in attrs.fields(cls) if a.metadata.get("wire", a.name) in missing
    }


@pytest.mark.parametrize("body", [[], "<html>Bad gateway</html>", 5, None, True])
def test_only_a_body_of_the_wrong_kind_raises(body: Any) -> None:
    for _, response, _ in _responses():
        expects_list = getattr(response, "__origin__", None) is list
        if expects_list and isinstance(body, list):
            assert structure(body, response) == []
            continue
        with pytest.raises(StructureError) as info:
            structure(body, response)
        assert re.fullmatch(r"[\w\[\], |]+", info.value.path)
        assert info.value.reason.startswith("expected ")
