"""Property tests of the converter against the spec's own response schemas.

(a) Payloads generated from `components/schemas` (with `hypothesis-jsonschema`) must structure
    into the generated models and round-trip: structure -> unstructure -> structure is the same.
(b) Random JSON given to `structure` either works or raises `StructureError`, nothing else.
"""

from __future__ import annotations

import copy
import sys
import types
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis_jsonschema._from_schema as hjs_from_schema
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import from_schema

from instantly._convert import StructureError, _detailed, converter, structure, unstructure
from instantly._generated import models


class _ManyCompat:
    """The `many` helper as hypothesis-jsonschema 0.23.1 drives it (`while elements.more()`).

    Hypothesis 6.17x replaced that private API with a context manager, so every object schema
    fails with `AttributeError: 'many' object has no attribute 'more'`. This keeps the same
    decisions (a biased coin per extra property) through `ConjectureData.draw_boolean`.
    """

    def __init__(
        self, data: Any, min_size: int, max_size: float, average_size: float, **_: Any
    ) -> None:
        self.data = data
        self.min_size = min_size
        self.max_size = max_size
        wanted = max(average_size - min_size, 0)
        self.p_continue = wanted / (wanted + 1)
        self.count = 0
        self.rejections = 0
        self.force_stop = False

    def more(self) -> bool:
        if self.force_stop or self.count >= self.max_size:
            go = False
        elif self.count < self.min_size:
            go = True
        else:
            go = self.p_continue > 0 and self.data.draw_boolean(self.p_continue)
        if go:
            self.count += 1
        return go

    def reject(self, why: str | None = None) -> None:
        self.count -= 1
        self.rejections += 1
        if self.rejections > max(3, 2 * self.count):
            if self.count < self.min_size:
                self.data.mark_invalid(why)
            self.force_stop = True


if not hasattr(conjecture_utils.many, "more"):
    hjs_from_schema.cu = types.SimpleNamespace(many=_ManyCompat)  # type: ignore[attr-defined]

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "instantly-v2.yaml"
REF_PREFIX = "#/components/schemas/"
MAX_REF_DEPTH = 2  # how many times one schema may appear inside itself
# Bounds on generation only, to keep payloads small: arrays hold at most MAX_ITEMS items, and
# objects with declared properties get no extra ones (unknown fields: see test_convert.py).
MAX_ITEMS = 2

# Our names for the formats we generate ourselves (hypothesis-jsonschema will not let us replace
# its own, whose grammar allows forms such as leap second 60 that no API sends).
DATE_TIME = "x-test-rfc3339-date-time"
DATE = "x-test-full-date"

SCHEMAS = [
    "Lead",
    "LeadList",
    "LeadLabel",
    "Campaign",
    "Email",
    "BackgroundJob",
    "Account",
    "Webhook",
    # Pages of the big models add minutes and nothing new: LeadPage stands for them all.
    "LeadPage",
    "LeadListPage",
    "LeadLabelPage",
    # Refers to itself (`spam_assassin_report`): exercises the depth limit of the resolver.
    "InboxPlacementBlacklistAndSpamAssassinReport",
]

EXAMPLES_PER_SCHEMA = 20


@cache
def _components() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: seconds faster
    spec = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _inline(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """A self-contained JSON schema: `$ref`s replaced by their targets, OpenAPI formats mapped,
    generation bounded (MAX_ITEMS, no undeclared properties).

    A schema nested in itself more than MAX_REF_DEPTH times becomes `false` (nothing is valid):
    an optional property then never appears and an array of it stays empty.
    """
    if isinstance(node, list):
        return [_inline(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith(REF_PREFIX), ref
        name = ref.removeprefix(REF_PREFIX)
        if seen.count(name) >= MAX_REF_DEPTH:
            return False
        target = _inline(_components()[name], (*seen, name))
        siblings = {k: _inline(v, seen) for k, v in node.items() if k != "$ref"}
        # Siblings of a $ref (readOnly, default) are annotations; allOf keeps them exact.
        return {"allOf": [target], **siblings} if siblings else target
    out: dict[str, Any] = {}
    if node.get("type") == "array" or "items" in node:
        out["maxItems"] = min(node.get("maxItems", MAX_ITEMS), MAX_ITEMS)
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    for key, value in node.items():
        if key.startswith("x-"):
            out[key] = value  # vendor extensions: not schema, leave untouched
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {name: _inline(sub, seen) for name, sub in value.items()}
        elif key == "maxItems":
            continue
        elif key == "oneOf" and _null_or_other(value, seen):
            # `oneOf: [X, null]` with X never null is `anyOf`, which needs no check that
            # exactly one branch matches (a large share of generation time otherwise).
            out["anyOf"] = _inline(value, seen)
        elif key == "format" and value == "date-time":
            out[key] = DATE_TIME
        elif key == "format" and value == "date":
            out[key] = DATE
        else:
            out[key] = _inline(value, seen)
    return out


def _null_or_other(branches: list[Any], seen: tuple[str, ...]) -> bool:
    nulls = [b for b in branches if b == {"type": "null"}]
    others = [_inline(b, seen) for b in branches if b != {"type": "null"}]
    return len(nulls) == 1 and not any(
        jsonschema.Draft202012Validator(b).is_valid(None) for b in others
    )


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
_DATES = st.dates(min_value=date(1970, 1, 1), max_value=date(2199, 12, 31)).map(date.isoformat)
CUSTOM_FORMATS = {DATE_TIME: _DATE_TIMES, DATE: _DATES}


def _strategy(name: str) -> st.SearchStrategy[Any]:
    return from_schema(_inline(_components()[name], (name,)), custom_formats=CUSTOM_FORMATS)


def _contains_key(node: Any, key: str) -> bool:
    if isinstance(node, dict):
        return key in node or any(_contains_key(v, key) for v in node.values())
    if isinstance(node, list):
        return any(_contains_key(v, key) for v in node)
    return False


def test_resolver_inlines_every_ref_and_maps_formats() -> None:
    lead = _inline(_components()["Lead"], ("Lead",))
    assert not _contains_key(lead, "$ref")
    assert lead["properties"]["timestamp_created"]["format"] == DATE_TIME
    last_step = lead["properties"]["status_summary"]["properties"]["lastStep"]
    assert "stepID" in last_step["properties"]


def test_resolver_cuts_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    # The spec has no schema that contains itself (since its spam_assassin_report fix), so the
    # test gives the resolver one.
    node = {"type": "object", "properties": {"child": {"$ref": REF_PREFIX + "Node"}}}
    components = {**_components(), "Node": node}
    monkeypatch.setattr(sys.modules[__name__], "_components", lambda: components)
    report = _inline(node, ("Node",))
    inner = report["properties"]["child"]
    assert inner["properties"]["child"] is False
    assert not _contains_key(report, "$ref")


def test_generated_date_times_are_what_the_api_sends() -> None:
    assert _rfc3339(datetime(2026, 8, 13, 11, 11, 55, 811000, UTC), 0) == "2026-08-13T11:11:55.811Z"


@pytest.mark.parametrize("name", SCHEMAS)
def test_spec_payloads_structure_and_round_trip(name: str) -> None:
    cls = getattr(models, name)

    @settings(
        max_examples=EXAMPLES_PER_SCHEMA,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(payload=_strategy(name))
    def check(payload: Any) -> None:
        original = copy.deepcopy(payload)
        obj = structure(payload, cls)
        assert payload == original  # reading does not change the caller's data
        written = unstructure(obj)
        assert structure(written, cls) == obj
        # Writing is stable too: what we write reads back and writes the same.
        assert unstructure(structure(written, cls)) == written

    check()


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _junk_for(name: str) -> st.SearchStrategy[Any]:
    """Random JSON; half the time an object with the model's own keys, so that fields are reached."""
    cls = getattr(models, name)
    keys = sorted(a.metadata.get("wire", a.name) for a in cls.__attrs_attrs__)
    with_keys = st.dictionaries(st.sampled_from(keys), _JSON, max_size=len(keys))
    return _JSON | with_keys


@pytest.mark.parametrize("name", ["Lead", "LeadPage", "Campaign", "BackgroundJob", "Email"])
def test_junk_raises_only_structure_error(name: str) -> None:
    cls = getattr(models, name)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(junk=_junk_for(name))
    def check(junk: Any) -> None:
        try:
            result = structure(junk, cls)
        except StructureError as error:
            assert error.path.startswith(name)
            assert error.reason
        else:
            assert isinstance(result, cls)

    check()


@settings(max_examples=50, deadline=None)
@given(lead=_strategy("Lead"), field=st.sampled_from(["status_summary", "email_open_count"]))
def test_removing_a_required_field_is_reported(lead: dict[str, Any], field: str) -> None:
    del lead[field]
    with pytest.raises(StructureError) as info:
        structure(lead, models.Lead)
    assert info.value.path == f"Lead.{field}"
    assert info.value.reason == "required field is missing"


@pytest.mark.parametrize("name", ["Lead", "LeadPage", "Campaign", "BackgroundJob", "Email"])
def test_the_compiled_hooks_accept_exactly_what_cattrs_accepts(name: str) -> None:
    # `structure` runs hooks compiled per model; cattrs' own (the detailed converter, used to
    # explain a failure) is the reference: same object when both accept, both refuse otherwise.
    cls = getattr(models, name)
    fast = converter.get_structure_hook(cls)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=_junk_for(name) | _strategy(name))
    def check(payload: Any) -> None:
        try:
            expected = _detailed.structure(copy.deepcopy(payload), cls)
        except Exception:
            with pytest.raises(Exception):  # noqa: B017 - any refusal is a refusal
                fast(payload, cls)
        else:
            assert fast(payload, cls) == expected

    check()
