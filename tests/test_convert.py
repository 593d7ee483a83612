"""The converter between the API's JSON and the generated models: what a user can rely on."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from instantly._convert import StructureError, structure, unstructure
from instantly._generated import models
from instantly._types import UNSET, is_unknown
from instantly.errors import InstantlyError

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def _lead() -> dict[str, Any]:
    """A full Lead as the API sends it (seed 000)."""
    page = json.loads((SEEDS / "lead_page_list_leads.json").read_text(encoding="utf-8"))
    return copy.deepcopy(page["items"][0])


def _campaign() -> dict[str, Any]:
    return {
        "id": "019cc043-9cff-7f4c-88ba-3c17864ea05e",
        "name": "Q3 outreach",
        "status": 1,
        "campaign_schedule": {
            "schedules": [
                {
                    "name": "Weekdays",
                    "timing": {"from": "09:00", "to": "17:00"},
                    "days": {"1": True, "2": True},
                    "timezone": "Etc/GMT+12",
                }
            ]
        },
        "timestamp_created": "2026-03-05T23:09:42.527Z",
        "timestamp_updated": "2026-03-05T23:09:42.527Z",
        "email_list": ["sender@example.com"],
    }


def _error(data: Any, cls: Any) -> StructureError:
    with pytest.raises(StructureError) as info:
        structure(data, cls)
    return info.value


# --- tolerance: unknown fields and values -------------------------------------------------


def test_unknown_fields_are_ignored_at_every_level() -> None:
    plain = structure(_lead(), models.Lead)
    data = _lead()
    data["brand_new_field"] = {"anything": [1, 2]}
    data["status_summary"]["lastStep"]["new_nested_field"] = "x"
    assert structure(data, models.Lead) == plain


def test_unknown_int_enum_value_is_kept() -> None:
    data = _lead()
    data["status"] = 7
    lead = structure(data, models.Lead)
    assert isinstance(lead.status, models.LeadStatus)
    assert lead.status.value == 7
    assert lead.status == 7
    assert lead.status.name == "UNKNOWN_7"
    assert is_unknown(lead.status)
    assert not is_unknown(models.LeadStatus.ACTIVE)
    # The same pseudo-member every time, so `is` comparisons and dict keys work.
    assert structure(data, models.Lead).status is lead.status
    assert models.LeadStatus(7) is lead.status
    written = unstructure(lead)["status"]
    assert written == 7
    assert type(written) is int


def test_unknown_int_enum_value_keeps_custom_interest_statuses() -> None:
    # Custom lead labels have their own interest values, beyond the documented ones.
    data = _lead()
    data["lt_interest_status"] = 123456
    lead = structure(data, models.Lead)
    assert lead.lt_interest_status == 123456
    assert lead.lt_interest_status is not None
    assert lead.lt_interest_status.name == "UNKNOWN_123456"


def test_unknown_str_enum_value_is_kept() -> None:
    data = _lead()
    data["upload_method"] = "carrier-pigeon"
    lead = structure(data, models.Lead)
    assert isinstance(lead.upload_method, models.LeadUploadMethod)
    assert lead.upload_method is not None
    assert lead.upload_method.value == "carrier-pigeon"
    assert lead.upload_method == "carrier-pigeon"
    assert lead.upload_method.name == "UNKNOWN_carrier-pigeon"
    assert is_unknown(lead.upload_method)
    assert structure(data, models.Lead).upload_method is lead.upload_method
    written = unstructure(lead)["upload_method"]
    assert written == "carrier-pigeon"
    assert type(written) is str


def test_str_enums_are_written_as_plain_strings() -> None:
    job = models.BackgroundJob(
        id="675266e304a8e55b17f0228b",
        workspace_id="w",
        type=models.BackgroundJobType.MOVE_LEADS,
        progress=50,
        status=models.BackgroundJobStatus.IN_PROGRESS,
        created_at=datetime(2025, 3, 14, 2, 18, 43, 561000, UTC),
        updated_at=datetime(2025, 3, 14, 2, 18, 43, 561000, UTC),
        entity_type=models.BackgroundJobEntityType.CAMPAIGN,
    )
    written = unstructure(job)
    for key, value in [
        ("type", "move-leads"),
        ("status", "in-progress"),
        ("entity_type", "campaign"),
    ]:
        assert written[key] == value
        assert type(written[key]) is str, key
    assert structure(written, models.BackgroundJob) == job


# --- null ----------------------------------------------------------------------------------


def test_null_is_read_where_the_field_is_nullable() -> None:
    data = _lead()
    data.update(email=None, lt_interest_status=None, payload=None, status_summary_subseq=None)
    lead = structure(data, models.Lead)
    assert lead.email is None
    assert lead.lt_interest_status is None
    assert lead.payload is None
    assert lead.status_summary_subseq is None


def test_null_in_a_required_field_is_an_error() -> None:
    data = _lead()
    data["id"] = None
    error = _error(data, models.Lead)
    assert error.path == "Lead.id"
    assert error.reason == "expected a string, got None"


# --- missing required fields ---------------------------------------------------------------


def test_missing_required_field_names_the_class_and_field() -> None:
    data = _lead()
    del data["email_open_count"]
    error = _error(data, models.Lead)
    assert error.path == "Lead.email_open_count"
    assert error.reason == "required field is missing"
    assert str(error) == "Lead.email_open_count: required field is missing"
    assert isinstance(error, ValueError)
    assert isinstance(error, InstantlyError)


def test_missing_required_field_in_a_list_item_names_the_index() -> None:
    second = _lead()
    del second["status_summary"]
    error = _error({"items": [_lead(), second]}, models.LeadPage)
    assert error.path == "LeadPage.items[1].status_summary"
    assert error.reason == "required field is missing"


def test_missing_required_renamed_field_is_reported() -> None:
    data = _campaign()
    del data["campaign_schedule"]["schedules"][0]["timing"]["from"]
    error = _error(data, models.Campaign)
    assert error.path == "Campaign.campaign_schedule.schedules[0].timing.from_"


# --- wrong types ---------------------------------------------------------------------------


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


WRONG_TYPES = [
    # (what, model, payload factory, where, bad value, expected path, expected reason)
    (
        "string where number",
        models.Lead,
        _lead,
        ["email_open_count"],
        "x",
        "Lead.email_open_count",
        "expected a number, got 'x'",
    ),
    (
        "number where string",
        models.Lead,
        _lead,
        ["email"],
        5,
        "Lead.email",
        "expected a string, got 5",
    ),
    (
        "bool where number",
        models.Lead,
        _lead,
        ["email_reply_count"],
        True,
        "Lead.email_reply_count",
        "expected a number, got True",
    ),
    (
        "bool where int enum",
        models.Lead,
        _lead,
        ["status"],
        True,
        "Lead.status",
        "expected an integer (LeadStatus), got True",
    ),
    (
        "string where int enum",
        models.Lead,
        _lead,
        ["verification_status"],
        "1",
        "Lead.verification_status",
        "expected an integer (LeadVerificationStatus), got '1'",
    ),
    (
        "number where str enum",
        models.Lead,
        _lead,
        ["upload_method"],
        1,
        "Lead.upload_method",
        "expected a string (LeadUploadMethod), got 1",
    ),
    (
        "string where bool",
        models.Lead,
        _lead,
        ["is_website_visitor"],
        "true",
        "Lead.is_website_visitor",
        "expected a boolean, got 'true'",
    ),
    (
        "list where object",
        models.Lead,
        _lead,
        ["status_summary"],
        [],
        "Lead.status_summary",
        "expected an object (LeadStatusSummary), got []",
    ),
    (
        "string where object",
        models.Lead,
        _lead,
        ["status_summary", "lastStep"],
        "campaign",
        "Lead.status_summary.last_step",
        "expected an object (LeadStatusSummaryLastStep), got 'campaign'",
    ),
    (
        "list where free-form object",
        models.Lead,
        _lead,
        ["payload"],
        ["a"],
        "Lead.payload",
        "expected an object, got ['a']",
    ),
    (
        "number in a nested renamed field",
        models.Lead,
        _lead,
        ["status_summary", "lastStep", "stepID"],
        5,
        "Lead.status_summary.last_step.step_id",
        "expected a string, got 5",
    ),
    (
        "bad date-time",
        models.Lead,
        _lead,
        ["timestamp_created"],
        "yesterday",
        "Lead.timestamp_created",
        "expected an ISO 8601 date-time, got 'yesterday'",
    ),
    (
        "object where list",
        models.Campaign,
        _campaign,
        ["email_list"],
        {"a": "b"},
        "Campaign.email_list",
        "expected a list, got {'a': 'b'}",
    ),
    (
        "string where list",
        models.Campaign,
        _campaign,
        ["email_list"],
        "sender@example.com",
        "Campaign.email_list",
        "expected a list, got 'sender@example.com'",
    ),
    (
        "number in a list of strings",
        models.Campaign,
        _campaign,
        ["email_list"],
        ["a@example.com", 3],
        "Campaign.email_list[1]",
        "expected a string, got 3",
    ),
    (
        "wrong type deep in lists",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "schedules", 0, "days", "2"],
        "yes",
        "Campaign.campaign_schedule.schedules[0].days.field_2",
        "expected a boolean, got 'yes'",
    ),
    (
        "object where list of objects",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "schedules"],
        {"name": "Weekdays"},
        "Campaign.campaign_schedule.schedules",
        "expected a list, got {'name': 'Weekdays'}",
    ),
]


@pytest.mark.parametrize(
    ("model", "factory", "where", "value", "path", "reason"),
    [case[1:] for case in WRONG_TYPES],
    ids=[case[0] for case in WRONG_TYPES],
)
def test_wrong_type_names_the_path(
    model: type, factory: Any, where: list[Any], value: Any, path: str, reason: str
) -> None:
    error = _error(_set(factory(), where, value), model)
    assert error.path == path
    assert error.reason == reason
    assert str(error) == f"{path}: {reason}"


def test_bool_where_int_is_an_error() -> None:
    error = _error({"statusCode": True}, models.Error)
    assert error.path == "Error.status_code"
    assert error.reason == "expected an integer, got True"
    assert structure({"statusCode": 404}, models.Error).status_code == 404


def test_wrong_type_in_a_list_item_names_the_index() -> None:
    second = _lead()
    second["status_summary"]["lastStep"]["timestamp_executed"] = 17
    error = _error({"items": [_lead(), second]}, models.LeadPage)
    assert error.path == "LeadPage.items[1].status_summary.last_step.timestamp_executed"
    assert error.reason == "expected a date-time string, got 17"


@pytest.mark.parametrize("items", [{}, "abc", 5, None])
def test_page_items_must_be_a_list(items: Any) -> None:
    error = _error({"items": items}, models.LeadPage)
    assert error.path == "LeadPage.items"
    assert error.reason.startswith("expected a list, got ")


@pytest.mark.parametrize("data", [[], "lead", 3, None])
def test_a_model_needs_an_object(data: Any) -> None:
    error = _error(data, models.Lead)
    assert error.path == "Lead"
    assert error.reason.startswith("expected an object")


def test_a_list_of_models_needs_a_list() -> None:
    error = _error({"items": []}, list[models.Lead])
    assert error.path == "list[Lead]"
    assert error.reason == "expected a list, got {'items': []}"
    assert structure([_lead()], list[models.Lead])[0].email == "example@example.com"


def test_long_values_are_shortened_in_the_message() -> None:
    data = _lead()
    data["email"] = ["x" * 200]
    error = _error(data, models.Lead)
    assert error.path == "Lead.email"
    assert len(error.reason) < 100
    assert error.reason.endswith("...")


# --- date-times ----------------------------------------------------------------------------


def test_datetime_with_z_is_utc_aware_and_written_back_in_the_api_form() -> None:
    data = _lead()
    data["timestamp_created"] = "2026-08-13T11:11:55.811Z"
    lead = structure(data, models.Lead)
    assert lead.timestamp_created == datetime(2026, 8, 13, 11, 11, 55, 811000, tzinfo=UTC)
    assert lead.timestamp_created.utcoffset() == timedelta(0)
    assert unstructure(lead)["timestamp_created"] == "2026-08-13T11:11:55.811Z"


@pytest.mark.parametrize(
    ("wire", "read", "written"),
    [
        ("2026-08-13T13:11:55.811+02:00", datetime(2026, 8, 13, 11, 11, 55, 811000, UTC), ".811Z"),
        ("2026-08-13T11:11:55Z", datetime(2026, 8, 13, 11, 11, 55, tzinfo=UTC), "55Z"),
        ("2026-08-13T11:11:55.000123Z", datetime(2026, 8, 13, 11, 11, 55, 123, UTC), ".000123Z"),
        ("2026-08-13T11:11:55.811", datetime(2026, 8, 13, 11, 11, 55, 811000, UTC), ".811Z"),
    ],
    ids=["offset", "no fraction", "microseconds", "naive is utc"],
)
def test_datetime_forms(wire: str, read: datetime, written: str) -> None:
    data = _lead()
    data["timestamp_updated"] = wire
    lead = structure(data, models.Lead)
    assert lead.timestamp_updated == read
    assert lead.timestamp_updated.tzinfo is not None
    out = unstructure(lead)["timestamp_updated"]
    assert out.startswith("2026-08-13T11:11:")
    assert out.endswith(written)


def test_aware_datetime_in_another_zone_is_sent_as_utc() -> None:
    summary = models.LeadStatusSummaryLastStep(
        timestamp_executed=datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    )
    assert unstructure(summary) == {"timestamp_executed": "2025-12-31T22:00:00Z"}


# --- request models: only what was set -----------------------------------------------------


def test_request_sends_only_what_was_set() -> None:
    body = unstructure(models.UpdateLeadRequest(first_name="A", last_name=None))
    assert body == {"first_name": "A", "last_name": None}
    assert json.dumps(body, sort_keys=True) == '{"first_name": "A", "last_name": null}'


def test_empty_request_sends_an_empty_object() -> None:
    assert unstructure(models.UpdateLeadRequest()) == {}


def test_request_enums_and_free_form_values_are_sent_as_json() -> None:
    body = unstructure(
        models.UpdateLeadRequest(
            lt_interest_status=models.LeadInterestStatus.MEETING_BOOKED,
            custom_variables={"tier": "gold", "seats": 3, "vip": True, "old": None},
        )
    )
    assert body == {
        "lt_interest_status": 2,
        "custom_variables": {"tier": "gold", "seats": 3, "vip": True, "old": None},
    }
    assert type(body["lt_interest_status"]) is int


def test_request_read_back_keeps_unset_apart_from_null() -> None:
    request = structure({"first_name": "A", "last_name": None}, models.UpdateLeadRequest)
    assert request.first_name == "A"
    assert request.last_name is None
    assert request.phone is UNSET
    assert unstructure(request) == {"first_name": "A", "last_name": None}


def test_response_model_omits_what_is_absent() -> None:
    label = models.LeadLabel(
        id="l1",
        timestamp_created=datetime(2025, 10, 17, 18, 27, 0, 501000, UTC),
        created_by="u1",
        organization_id="o1",
        label="Hot Lead",
        interest_status_label=models.InterestStatusLabel.POSITIVE,
        interest_status=1,
    )
    assert unstructure(label) == {
        "id": "l1",
        "timestamp_created": "2025-10-17T18:27:00.501Z",
        "created_by": "u1",
        "organization_id": "o1",
        "label": "Hot Lead",
        "interest_status_label": "positive",
        "interest_status": 1,
    }


# --- wire names ----------------------------------------------------------------------------


def test_renamed_fields_are_read_from_their_wire_names() -> None:
    subseq = structure(
        {
            "from": "campaign",
            "stepID": "019cc043-9d00-75e0-9e83-192783c224fa",
            "timestampExecuted": "2026-03-05T23:09:42.528Z",
        },
        models.LeadStatusSummarySubseq,
    )
    assert subseq.from_ == "campaign"
    assert subseq.step_id == "019cc043-9d00-75e0-9e83-192783c224fa"
    assert subseq.timestamp_executed == datetime(2026, 3, 5, 23, 9, 42, 528000, UTC)


def test_python_names_on_the_wire_are_unknown_fields() -> None:
    subseq = structure({"from_": "campaign", "step_id": "s1"}, models.LeadStatusSummarySubseq)
    assert subseq.from_ is None
    assert subseq.step_id is None


def test_renamed_fields_are_written_with_their_wire_names() -> None:
    last_step = models.LeadStatusSummaryLastStep(from_="campaign", step_id="s1")
    assert unstructure(last_step) == {"from": "campaign", "stepID": "s1"}
    timing = models.CampaignScheduleTiming(from_="09:00", to="17:00")
    assert unstructure(timing) == {"from": "09:00", "to": "17:00"}
    assert structure({"from": "09:00", "to": "17:00"}, models.CampaignScheduleTiming) == timing


def test_renamed_fields_of_request_models_are_written_with_their_wire_names() -> None:
    values = models.BulkAssignLeadsRequestQueryValues(occurrence_days=3)
    assert unstructure(values) == {"occurrence-days": 3}


def test_renamed_fields_round_trip_inside_a_lead() -> None:
    data = _lead()
    written = unstructure(structure(data, models.Lead))
    assert written["status_summary"] == data["status_summary"]
    assert written["status_summary_subseq"] == data["status_summary_subseq"]
