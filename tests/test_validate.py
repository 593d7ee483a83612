"""The fast yes/no argument check agrees with the one that explains a refusal."""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instantly import UNSET, models
from instantly._generated.operations import OPEN_ENUMS, OPERATIONS
from instantly._validate import _check, _predicate

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and the infinities too: refused, as JSON has no form for them
    st.text(max_size=5),
    st.just(UNSET),
    st.sampled_from(list(models.LeadInterestStatus)),
    # Naive and aware datetimes, dates and UUIDs: the typed arguments' edge.
    st.datetimes(timezones=st.sampled_from([None, datetime.UTC])),
    st.dates(),
    st.uuids(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)

# Every type a body field of any operation accepts.
TYPES = sorted(
    {p.type for op in OPERATIONS.values() for p in (*op.body_fields, *op.query_params)},
    key=repr,
)


def lead_like(model: type) -> st.SearchStrategy[dict[str, Any]]:
    names = [a.metadata.get("wire", a.name) for a in attrs.fields(model)] + ["frist_name"]
    return st.dictionaries(st.sampled_from(names), VALUES, max_size=6)


def explains(tp: Any, value: Any) -> bool:
    try:
        _check("x", value, tp, OPEN_ENUMS)
    except (TypeError, ValueError):
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TYPES), VALUES)
def test_fast_check_agrees_on_any_value(tp: Any, value: Any) -> None:
    assert _predicate(tp, OPEN_ENUMS)(value) is explains(tp, value)


@pytest.mark.parametrize(
    "model", [models.BulkAddLeadsRequestLead, models.CreateLeadRequest], ids=lambda m: m.__name__
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_check_agrees_on_model_dicts(model: type, data: st.DataObject) -> None:
    value = data.draw(lead_like(model))
    assert _predicate(model, OPEN_ENUMS)(value) is explains(model, value)
