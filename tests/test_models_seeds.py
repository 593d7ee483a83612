"""The vendor's own JSON examples read into the generated models and write back unchanged.

The fixtures are copied from the seed documents (see `fixtures/seeds/README.md`). Where our spec
knowingly differs from an example, the difference is listed in `KNOWN_DIFFERENCES` below; every
other value must come back exactly (same keys, same JSON types, same values).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from instantly._convert import structure, unstructure
from instantly._generated import models

SEEDS = Path(__file__).parent / "fixtures" / "seeds"

MODELS: dict[str, type] = {
    "lead_page_list_leads.json": models.LeadPage,
    "lead_schema.json": models.Lead,
    "lead_create_lead.json": models.Lead,
    "lead_get_lead.json": models.Lead,
    "lead_patch_lead.json": models.Lead,
    "lead_delete_lead.json": models.Lead,
    "lead_merge_leads.json": models.Lead,
    "lead_subsequence_remove.json": models.Lead,
    "lead_subsequence_move.json": models.Lead,
    "background_job_move_leads.json": models.BackgroundJob,
    "lead_label_schema.json": models.LeadLabel,
    "lead_label_create_lead_label.json": models.LeadLabel,
    "lead_label_get_lead_label.json": models.LeadLabel,
    "lead_label_patch_lead_label.json": models.LeadLabel,
    "lead_label_delete_lead_label.json": models.LeadLabel,
}

_MISSING = "<missing>"

# Seed 001 (the Lead reference, March 2025) shows `status_summary` flat: `{from, stepID,
# timestamp_executed}`. Seeds 000 and 004 (newer) and our spec have `{lastStep: {from, stepID,
# timestamp_executed}, domain_complete}`, so the flat keys are unknown fields and are dropped.
_FLAT_STATUS_SUMMARY = {
    "status_summary.from": _MISSING,
    "status_summary.stepID": _MISSING,
    "status_summary.timestamp_executed": _MISSING,
}
KNOWN_DIFFERENCES: dict[str, dict[str, Any]] = {
    name: _FLAT_STATUS_SUMMARY
    for name, model in MODELS.items()
    if model is models.Lead  # every single-Lead example comes from seed 001
}


def _load(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


def _differences(expected: Any, got: Any, path: str = "") -> dict[str, Any]:
    """Paths where `got` differs from `expected`, with what `got` has there (strict JSON types)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found: dict[str, Any] = {}
        for key in expected.keys() | got.keys():
            sub = f"{path}.{key}" if path else key
            if key not in got:
                found[sub] = _MISSING
            elif key not in expected:
                found[sub] = got[key]
            else:
                found.update(_differences(expected[key], got[key], sub))
        return found
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        found = {}
        for index, (left, right) in enumerate(zip(expected, got, strict=True)):
            found.update(_differences(left, right, f"{path}[{index}]"))
        return found
    # `1 == 1.0 == True` in Python; JSON tells them apart, and so do we.
    if type(expected) is not type(got) or expected != got:
        return {path: got}
    return {}


def test_every_fixture_has_a_model_and_a_readme_line() -> None:
    on_disk = {path.name for path in SEEDS.glob("*.json")}
    assert on_disk == set(MODELS)
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    for name in MODELS:
        assert f"`{name}`" in readme, name


def test_difference_finder_sees_type_changes() -> None:
    # The round-trip test below is only as strict as this helper.
    assert _differences({"a": [1, {"b": True}]}, {"a": [1.0, {"b": 1}]}) == {
        "a[0]": 1.0,
        "a[1].b": 1,
    }
    assert _differences({"a": 1}, {"b": 1}) == {"a": _MISSING, "b": 1}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_seed_round_trips(name: str) -> None:
    data = _load(name)
    obj = structure(data, MODELS[name])
    assert isinstance(obj, MODELS[name])
    # Through real JSON, as the transport sends it.
    written = json.loads(json.dumps(unstructure(obj)))
    assert _differences(data, written) == KNOWN_DIFFERENCES.get(name, {})
    # What we write reads back to the same object.
    assert structure(written, MODELS[name]) == obj


def test_lead_seed_reads_into_typed_values() -> None:
    lead = structure(_load("lead_get_lead.json"), models.Lead)
    assert lead.status is models.LeadStatus.ACTIVE
    assert lead.lt_interest_status == 1
    assert lead.upload_method is models.LeadUploadMethod.MANUAL
    assert lead.timestamp_created == datetime(2025, 3, 14, 2, 18, 43, 371000, tzinfo=UTC)
    assert lead.status_summary_subseq is not None
    assert lead.status_summary_subseq.from_ == "campaign"
    assert lead.status_summary_subseq.step_id == "01959272-5d2b-7a87-a5d7-19a2b3a9c292"
    assert lead.payload is not None
    assert lead.payload["property1"] is None
    assert lead.email_open_count == 0


def test_lead_page_seed_reads_the_nested_status_summary() -> None:
    page = structure(_load("lead_page_list_leads.json"), models.LeadPage)
    assert page.next_starting_after == "019cc043-e397-7dfa-a912-4ff300057f58"
    (lead,) = page.items
    assert lead.status_summary.domain_complete is True
    assert lead.status_summary.last_step is not None
    assert lead.status_summary.last_step.step_id == "019cc043-9d00-75e0-9e83-1926965ab998"
    assert lead.esg_code is not None
    assert lead.esg_code.value == 1


def test_background_job_seed_reads_enums() -> None:
    job = structure(_load("background_job_move_leads.json"), models.BackgroundJob)
    assert job.type is models.BackgroundJobType.MOVE_LEADS
    assert job.status is models.BackgroundJobStatus.PENDING
    assert job.entity_type is models.BackgroundJobEntityType.LIST
    assert job.data == models.BackgroundJobData()


def test_lead_label_seed_reads_enums() -> None:
    label = structure(_load("lead_label_get_lead_label.json"), models.LeadLabel)
    assert label.interest_status_label is models.InterestStatusLabel.POSITIVE
    assert label.use_with_ai is False
    assert label.timestamp_created.tzinfo is not None
