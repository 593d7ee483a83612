"""The converter between the API's JSON and the generated models: what a user can rely on."""

from __future__ import annotations

import copy
import gc
import json
import logging
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import instantly
from instantly import AsyncInstantly, _convert
from instantly._convert import StructureError, mismatches, raw_value, structure, unstructure
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
    assert mismatches(lead) == []


def test_null_in_a_required_field_reads_as_none_and_is_recorded() -> None:
    data = _lead()
    data["id"] = None
    lead = structure(data, models.Lead)
    assert lead.id is None
    assert lead.email == "example@example.com"  # the rest of the lead is read as usual
    (mismatch,) = mismatches(lead)
    assert str(mismatch) == "Lead.id: expected a string, got null"
    assert mismatch.raw is None
    assert raw_value(lead, "id") is None


# --- missing required fields ---------------------------------------------------------------


def test_missing_required_field_reads_as_none() -> None:
    data = _lead()
    del data["email_open_count"]
    lead = structure(data, models.Lead)
    assert lead.email_open_count is None
    (mismatch,) = mismatches(lead)
    assert mismatch.path == "Lead.email_open_count"
    assert mismatch.field == "email_open_count"
    assert mismatch.expected == "an integer"
    assert mismatch.got == "nothing (the field is missing)"
    assert mismatch.raw is UNSET
    assert raw_value(lead, "email_open_count") is UNSET


def test_step_analytics_without_replies_automatic() -> None:
    # The API leaves out `replies_automatic` (declared required) on steps without replies.
    step = {
        "step": "0",
        "variant": "0",
        "sent": 10,
        "opened": 4,
        "unique_opened": 3,
        "replies": 1,
        "unique_replies": 1,
        "unique_replies_automatic": 0,
        "clicks": 0,
        "unique_clicks": 0,
    }
    (analytics,) = structure([step], list[models.CampaignStepAnalytics])
    assert analytics.sent == 10
    assert analytics.replies_automatic is None
    # The spec no longer requires it (live answers lack it), so its absence is no mismatch.
    assert mismatches(analytics) == []


def test_missing_required_field_in_a_list_item_is_recorded_on_that_item() -> None:
    second = _lead()
    del second["status_summary"]
    page = structure({"items": [_lead(), second]}, models.LeadPage)
    assert len(page.items) == 2
    assert page.items[1].status_summary is None
    assert mismatches(page.items[0]) == []
    assert [m.path for m in mismatches(page)] == ["LeadPage.items[1].status_summary"]
    assert [m.path for m in mismatches(page.items[1])] == ["Lead.status_summary"]


def test_missing_required_renamed_field_is_named_by_its_python_name() -> None:
    data = _campaign()
    del data["campaign_schedule"]["schedules"][0]["timing"]["from"]
    campaign = structure(data, models.Campaign)
    assert campaign.campaign_schedule.schedules[0].timing.from_ is None
    assert campaign.campaign_schedule.schedules[0].timing.to == "17:00"
    (mismatch,) = mismatches(campaign)
    assert mismatch.path == "Campaign.campaign_schedule.schedules[0].timing.from_"


# --- values of the wrong type --------------------------------------------------------------


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


def _get(obj: Any, path: list[str]) -> Any:
    for name in path:
        obj = obj[name] if isinstance(name, int) else getattr(obj, name)
    return obj


WRONG_TYPES: list[tuple[str, Any, Any, list[Any], Any, list[Any], Any, str, str]] = [
    # (what, model, payload factory, where on the wire, value sent, where in the model,
    #  what the field holds, mismatch path, "expected X, got Y")
    (
        "garbage where a number",
        models.Campaign,
        _campaign,
        ["pl_value"],
        "x",
        ["pl_value"],
        None,
        "Campaign.pl_value",
        "expected a number, got a string",
    ),
    (
        "numeric string where an integer",
        models.Lead,
        _lead,
        ["email_open_count"],
        "12",
        ["email_open_count"],
        12,
        "Lead.email_open_count",
        "expected an integer, got a string",
    ),
    (
        "decimal string where a number",
        models.Campaign,
        _campaign,
        ["pl_value"],
        " 2.5 ",
        ["pl_value"],
        2.5,
        "Campaign.pl_value",
        "expected a number, got a string",
    ),
    (
        "non-integral string where an integer",
        models.Error,
        dict,
        ["statusCode"],
        "4.5",
        ["status_code"],
        None,
        "Error.status_code",
        "expected an integer, got a string",
    ),
    (
        "number where a string",
        models.Lead,
        _lead,
        ["email"],
        5,
        ["email"],
        "5",
        "Lead.email",
        "expected a string, got a number",
    ),
    (
        "boolean where a string",
        models.Lead,
        _lead,
        ["email"],
        True,
        ["email"],
        "true",
        "Lead.email",
        "expected a string, got a boolean",
    ),
    (
        "boolean where a number",
        models.Campaign,
        _campaign,
        ["pl_value"],
        True,
        ["pl_value"],
        None,
        "Campaign.pl_value",
        "expected a number, got a boolean",
    ),
    (
        "boolean where an int enum",
        models.Lead,
        _lead,
        ["status"],
        True,
        ["status"],
        None,
        "Lead.status",
        "expected an integer (LeadStatus), got a boolean",
    ),
    (
        "numeric string where an int enum",
        models.Lead,
        _lead,
        ["verification_status"],
        "1",
        ["verification_status"],
        models.LeadVerificationStatus(1),
        "Lead.verification_status",
        "expected an integer (LeadVerificationStatus), got a string",
    ),
    (
        "number where a str enum",
        models.Lead,
        _lead,
        ["upload_method"],
        1,
        ["upload_method"],
        models.LeadUploadMethod("1"),
        "Lead.upload_method",
        "expected a string (LeadUploadMethod), got a number",
    ),
    (
        "empty string where a str enum",
        models.Lead,
        _lead,
        ["upload_method"],
        "",
        ["upload_method"],
        None,
        "Lead.upload_method",
        "expected a string (LeadUploadMethod), got ''",
    ),
    (
        "string where a boolean",
        models.Lead,
        _lead,
        ["is_website_visitor"],
        "true",
        ["is_website_visitor"],
        True,
        "Lead.is_website_visitor",
        "expected a boolean, got a string",
    ),
    (
        "0 where a boolean",
        models.Lead,
        _lead,
        ["is_website_visitor"],
        0,
        ["is_website_visitor"],
        False,
        "Lead.is_website_visitor",
        "expected a boolean, got a number",
    ),
    (
        "object where a string",
        models.Lead,
        _lead,
        ["first_name"],
        {"given": "Ada"},
        ["first_name"],
        None,
        "Lead.first_name",
        "expected a string, got an object",
    ),
    (
        "list where an object",
        models.Lead,
        _lead,
        ["status_summary"],
        [],
        ["status_summary"],
        None,
        "Lead.status_summary",
        "expected an object (LeadStatusSummary), got a list",
    ),
    (
        "string where an object",
        models.Lead,
        _lead,
        ["status_summary", "lastStep"],
        "campaign",
        ["status_summary", "last_step"],
        None,
        "Lead.status_summary.last_step",
        "expected an object (LeadStatusSummaryLastStep), got a string",
    ),
    (
        "list where a free-form object",
        models.Lead,
        _lead,
        ["payload"],
        ["a"],
        ["payload"],
        None,
        "Lead.payload",
        "expected an object, got a list",
    ),
    (
        "number in a nested renamed field",
        models.Lead,
        _lead,
        ["status_summary", "lastStep", "stepID"],
        5,
        ["status_summary", "last_step", "step_id"],
        "5",
        "Lead.status_summary.last_step.step_id",
        "expected a string, got a number",
    ),
    (
        "garbage where a date-time",
        models.Lead,
        _lead,
        ["timestamp_created"],
        "yesterday",
        ["timestamp_created"],
        None,
        "Lead.timestamp_created",
        "expected a date-time, got a string",
    ),
    (
        "empty string where a date-time",
        models.Lead,
        _lead,
        ["timestamp_last_open"],
        "",
        ["timestamp_last_open"],
        None,
        "Lead.timestamp_last_open",
        "expected a date-time, got ''",
    ),
    (
        "number where a date-time",
        models.Lead,
        _lead,
        ["status_summary", "lastStep", "timestamp_executed"],
        17,
        ["status_summary", "last_step", "timestamp_executed"],
        None,
        "Lead.status_summary.last_step.timestamp_executed",
        "expected a date-time, got a number",
    ),
    (
        "empty string where a date",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "start_date"],
        "",
        ["campaign_schedule", "start_date"],
        None,
        "Campaign.campaign_schedule.start_date",
        "expected a date, got ''",
    ),
    (
        "date-time where a date",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "start_date"],
        "2026-09-01T00:00:00.000Z",
        ["campaign_schedule", "start_date"],
        date(2026, 9, 1),
        "Campaign.campaign_schedule.start_date",
        "expected a date, got a string",
    ),
    (
        "object where a list",
        models.Campaign,
        _campaign,
        ["email_list"],
        {"a": "b"},
        ["email_list"],
        None,
        "Campaign.email_list",
        "expected a list, got an object",
    ),
    (
        "string where a list",
        models.Campaign,
        _campaign,
        ["email_list"],
        "sender@example.com",
        ["email_list"],
        None,
        "Campaign.email_list",
        "expected a list, got a string",
    ),
    (
        "number in a list of strings",
        models.Campaign,
        _campaign,
        ["email_list"],
        ["a@example.com", 3],
        ["email_list"],
        ["a@example.com", "3"],
        "Campaign.email_list[1]",
        "expected a string, got a number",
    ),
    (
        "null and an object in a list of strings are left out",
        models.Campaign,
        _campaign,
        ["email_list"],
        [None, "a@example.com", {"x": 1}],
        ["email_list"],
        ["a@example.com"],
        "Campaign.email_list[0]",
        "expected a string, got null",
    ),
    (
        "wrong type deep in lists",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "schedules", 0, "days", "2"],
        "yes",
        ["campaign_schedule", "schedules", 0, "days", "field_2"],
        None,
        "Campaign.campaign_schedule.schedules[0].days.field_2",
        "expected a boolean, got a string",
    ),
    (
        "object where a list of objects",
        models.Campaign,
        _campaign,
        ["campaign_schedule", "schedules"],
        {"name": "Weekdays"},
        ["campaign_schedule", "schedules"],
        None,
        "Campaign.campaign_schedule.schedules",
        "expected a list, got an object",
    ),
]


@pytest.mark.parametrize(
    ("model", "factory", "where", "value", "attr", "holds", "path", "words"),
    [case[1:] for case in WRONG_TYPES],
    ids=[case[0] for case in WRONG_TYPES],
)
def test_a_value_of_the_wrong_type_decodes_and_stays_readable(
    model: type,
    factory: Any,
    where: list[Any],
    value: Any,
    attr: list[Any],
    holds: Any,
    path: str,
    words: str,
) -> None:
    obj = structure(_set(factory(), where, copy.deepcopy(value)), model)
    assert isinstance(obj, model)
    made = _get(obj, attr)
    assert made == holds
    assert type(made) is type(holds)
    (mismatch,) = mismatches(obj)
    assert str(mismatch) == f"{path}: {words}"
    assert mismatch.path == path
    assert mismatch.raw == value
    owner = _get(obj, attr[:-1]) if not isinstance(attr[-1], int) else None
    if owner is not None and not isinstance(owner, list | dict):
        assert raw_value(owner, attr[-1]) == value


def test_resource_type_sent_as_a_word_where_a_number_is_declared() -> None:
    # campaigns/ai enrichment: the vendor's document says number; the API sends "CAMPAIGN".
    data = {
        "organization_id": "o1",
        "resource_id": "c1",
        "resource_type": "CAMPAIGN",
        "output_column": "summary",
        "status": 1,
    }
    item = structure(data, models.AiEnrichmentForResourceItem)
    assert item.output_column == "summary"
    if item.resource_type is None:  # our spec still types it as a number
        assert raw_value(item, "resource_type") == "CAMPAIGN"
        assert [str(m) for m in mismatches(item)] == [
            "AiEnrichmentForResourceItem.resource_type: expected a number, got a string"
        ]
    else:  # typed as what it is (number or string)
        assert item.resource_type == "CAMPAIGN"
        assert mismatches(item) == []
    data["resource_type"] = "7"
    assert structure(data, models.AiEnrichmentForResourceItem).resource_type in (7, "7")


def test_a_deeply_wrong_object_still_decodes() -> None:
    data = _lead()
    data.update(
        id=["not", "an", "id"],
        status={"code": 1},
        timestamp_created=12345,
        email_open_count=None,
        status_summary={"lastStep": [{"stepID": {"deep": [None]}}], "domain_complete": "no"},
        status_summary_subseq="x",
        payload=7,
        lt_interest_status="meeting",
        esp_code=[],
    )
    lead = structure(data, models.Lead)
    assert isinstance(lead, models.Lead)
    assert (lead.id, lead.status, lead.timestamp_created, lead.email_open_count) == (None,) * 4
    assert lead.status_summary == models.LeadStatusSummary(last_step=None, domain_complete=None)
    assert (lead.status_summary_subseq, lead.payload, lead.lt_interest_status) == (None,) * 3
    assert lead.esp_code is None
    assert lead.email == "example@example.com"
    paths = [m.path for m in mismatches(lead)]
    assert paths == [
        "Lead.id",
        "Lead.timestamp_created",
        "Lead.status",
        "Lead.email_open_count",
        "Lead.status_summary.last_step",
        "Lead.status_summary.domain_complete",
        "Lead.payload",
        "Lead.status_summary_subseq",
        "Lead.lt_interest_status",
        "Lead.esp_code",
    ]
    assert raw_value(lead.status_summary, "last_step") == [{"stepID": {"deep": [None]}}]


def test_an_item_of_a_list_of_models_that_is_no_object_is_left_out() -> None:
    data = _campaign()
    schedule = data["campaign_schedule"]["schedules"][0]
    data["campaign_schedule"]["schedules"] = ["weekdays", schedule, None]
    campaign = structure(data, models.Campaign)
    assert [s.name for s in campaign.campaign_schedule.schedules] == ["Weekdays"]
    assert [str(m) for m in mismatches(campaign)] == [
        "Campaign.campaign_schedule.schedules[0]: expected an object (CampaignSchedule), "
        "got a string"
    ]
    raw = raw_value(campaign.campaign_schedule, "schedules")
    assert raw == ["weekdays", schedule, None]


def test_everything_that_fits_has_no_mismatches() -> None:
    lead = structure(_lead(), models.Lead)
    assert mismatches(lead) == []
    with pytest.raises(KeyError, match="fit its declared type"):
        raw_value(lead, "email")
    with pytest.raises(AttributeError, match="no field 'emial'"):
        raw_value(lead, "emial")


def test_reading_leniently_does_not_change_the_callers_data() -> None:
    data = _lead()
    data.update(email_open_count="3", status_summary=[], timestamp_created="")
    before = copy.deepcopy(data)
    structure(data, models.Lead)
    assert data == before


def test_the_record_goes_with_its_instance() -> None:
    data = _lead()
    data["email_open_count"] = "3"
    lead = structure(data, models.Lead)
    assert len(mismatches(lead)) == 1
    key = id(lead)
    assert key in _convert._RECORDS
    del lead
    gc.collect()
    assert key not in _convert._RECORDS


def test_int_for_a_number_and_integral_float_for_an_integer_fit() -> None:
    error = structure({"statusCode": 404.0}, models.Error)
    assert error.status_code == 404
    assert type(error.status_code) is int
    assert mismatches(error) == []


# --- the log line --------------------------------------------------------------------------


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Any:
    monkeypatch.setattr(_convert, "_LOGGED", set())
    caplog.set_level(logging.DEBUG, logger="instantly")
    return caplog


def test_each_mismatch_is_logged_once_per_model_and_field(fresh_log: Any) -> None:
    secret = "ada.lovelace@example.com personal data"
    first, second = _lead(), _lead()
    first["timestamp_last_open"] = ""
    second["timestamp_last_open"] = secret
    second["email_open_count"] = "12"
    structure({"items": [first, second]}, models.LeadPage)
    structure({"items": [first]}, models.LeadPage)
    lines = [r.getMessage() for r in fresh_log.records if r.name == "instantly"]
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        "LeadPage.items[0].timestamp_last_open: expected a date-time, got ''"
    )
    assert lines[1].startswith(
        "LeadPage.items[1].email_open_count: expected an integer, got a string"
    )
    assert all(r.levelno == logging.DEBUG for r in fresh_log.records)
    assert not any(secret in line or "12" in line.split(":", 1)[1] for line in lines)


def test_campaign_schedule_start_date_line(fresh_log: Any) -> None:
    data = _campaign()
    data["campaign_schedule"]["start_date"] = ""
    structure(data, models.Campaign)
    (line,) = [r.getMessage() for r in fresh_log.records]
    assert line.startswith("Campaign.campaign_schedule.start_date: expected a date, got ''")


# --- only the wrong kind of body at the top raises -----------------------------------------


@pytest.mark.parametrize(
    ("data", "got"),
    [
        ([], "a list"),
        ("<html><body>Bad gateway</body></html>", "a string"),
        (3, "a number"),
        (None, "null"),
    ],
)
def test_a_model_needs_an_object(data: Any, got: str) -> None:
    error = _error(data, models.Lead)
    assert error.path == "Lead"
    assert error.reason == f"expected an object (Lead), got {got}"
    assert isinstance(error, ValueError)
    assert isinstance(error, InstantlyError)


def test_a_list_of_models_needs_a_list() -> None:
    error = _error({"items": []}, list[models.Lead])
    assert error.path == "list[Lead]"
    assert error.reason == "expected a list, got an object"
    assert structure([_lead()], list[models.Lead])[0].email == "example@example.com"


@pytest.mark.parametrize("items", [{}, "abc", 5, None])
def test_a_page_whose_items_are_no_list_still_decodes(items: Any) -> None:
    page = structure({"items": items, "next_starting_after": "c"}, models.LeadPage)
    assert page.items is None
    assert page.next_starting_after == "c"
    (mismatch,) = mismatches(page)
    assert mismatch.path == "LeadPage.items"


def test_the_error_message_never_holds_the_value() -> None:
    error = _error("x" * 10_000, models.Lead)
    assert len(str(error)) < 100


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


# --- end to end: a user's program over a real socket ---------------------------------------


async def test_campaigns_list_returns_a_campaign_whose_start_date_is_empty() -> None:
    # Seen live: one campaign with `campaign_schedule.start_date: ""` made `campaigns.list()`
    # raise for the whole workspace.
    odd = _campaign()
    odd["campaign_schedule"]["start_date"] = ""
    plain = _campaign()
    plain["id"] = "019cc043-9cff-7f4c-88ba-3c17864ea05f"
    pages = {
        None: {"items": [odd], "next_starting_after": odd["id"]},
        odd["id"]: {"items": [plain]},
    }

    campaigns = await _list_campaigns(pages)
    assert [c.id for c in campaigns] == [odd["id"], plain["id"]]
    first = campaigns[0]
    assert first.name == "Q3 outreach"
    assert first.campaign_schedule.start_date is None
    assert first.campaign_schedule.schedules[0].timing.from_ == "09:00"
    assert instantly.raw_value(first.campaign_schedule, "start_date") == ""
    assert [str(m) for m in instantly.mismatches(first)] == [
        "Campaign.campaign_schedule.start_date: expected a date, got ''"
    ]
    assert instantly.mismatches(campaigns[1]) == []


async def test_a_page_whose_items_are_not_a_list_ends_the_walk_without_raising() -> None:
    pages = {None: {"items": "oops", "next_starting_after": "c1"}}
    assert await _list_campaigns(pages) == []


async def _list_campaigns(pages: dict[str | None, Any]) -> list[Any]:
    """`client.campaigns.list()` against a server on 127.0.0.1 that answers `pages` by cursor."""

    async def list_campaigns(request: web.Request) -> web.Response:
        return web.json_response(pages[request.query.get("starting_after")])

    app = web.Application()
    app.router.add_get("/api/v2/campaigns", list_campaigns)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        AsyncInstantly(
            api_key="test-key", base_url=str(server.make_url("")), rate_limit=None
        ) as client,
    ):
        return [c async for c in client.campaigns.list()]


def test_a_number_too_long_for_python_reads_as_none() -> None:
    error = structure({"statusCode": "9" * 5000, "message": 10**5000}, models.Error)
    assert (error.status_code, error.message) == (None, None)
    assert [m.got for m in mismatches(error)] == ["a string", "a number"]


@attrs.define(kw_only=True, slots=True)
class Node:
    """A model that holds itself, first read in this test."""

    name: str
    children: list[Node] | None = None


def test_decoders_are_built_whole_before_other_threads_see_them() -> None:
    payload = {"name": "a", "children": [{"name": "b", "children": []}]}
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(structure(payload, Node))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = Node(name="a", children=[Node(name="b", children=[])])
    assert results == [expected] * 8
    assert all(mismatches(r) == [] for r in results)


@pytest.mark.parametrize(
    ("sent", "held", "got"),
    [
        (True, True, None),
        ("unknown", "unknown", None),
        (5, "5", "a number"),  # the first member that can honestly hold it: the string
        ({"x": 1}, None, "an object"),
    ],
)
def test_a_union_field_takes_the_member_that_fits(sent: Any, held: Any, got: str | None) -> None:
    # `catch_all: bool | str | None`
    data = {"email": "a@example.com", "verification_status": "verified", "catch_all": sent}
    verification = structure(data, models.EmailVerification)
    assert verification.catch_all == held
    assert type(verification.catch_all) is type(held)
    assert [m.got for m in mismatches(verification)] == ([got] if got else [])


def test_every_model_decodes_an_empty_object_and_a_full_one_of_wrong_kinds() -> None:
    # Every generated decoder compiles (request models included: a field that takes any value
    # once made one that did not), and the lenient path holds for each: missing fields and
    # values of the wrong kind all decode.
    import attrs

    from instantly import models as all_models

    for name in all_models.__all__:
        cls = getattr(all_models, name)
        if not (isinstance(cls, type) and attrs.has(cls)):
            continue
        structure({}, cls)
        wrong = {a.metadata.get("wire", a.name): {"odd": [1]} for a in attrs.fields(cls)}
        structure(wrong, cls)
