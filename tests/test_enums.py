"""Enums read well: the member's name in repr (and str, for numbers), the raw value kept."""

from __future__ import annotations

import json

import orjson

from instantly._convert import structure
from instantly._generated.models import LeadUploadMethod
from instantly._types import is_unknown
from instantly.models import Lead, LeadStatus


def test_an_int_enum_prints_its_name_and_keeps_its_number() -> None:
    status = LeadStatus(1)
    assert repr(status) == str(status) == f"{status}" == "LeadStatus.ACTIVE"
    assert status.value == 1 and int(status) == 1 and status == 1
    assert f"{status:d}" == "1" and f"{status:>3}" == "  1"  # a format spec formats the number
    assert json.dumps({"status": status}) == '{"status": 1}'
    assert orjson.dumps(status) == b"1"


def test_an_unknown_int_value_prints_as_unknown_and_keeps_its_number() -> None:
    status = LeadStatus(7)
    assert repr(status) == str(status) == "LeadStatus.UNKNOWN_7"
    assert status.value == 7 and status == 7 and is_unknown(status)
    assert LeadStatus(7) is status


def test_a_str_enum_prints_its_value() -> None:
    # What a CSV cell, a log line or a URL wants; the repr still names the member.
    method = LeadUploadMethod("api")
    assert repr(method) == "LeadUploadMethod.API"
    assert str(method) == f"{method}" == "api"
    unknown = LeadUploadMethod("carrier-pigeon")
    assert repr(unknown) == "LeadUploadMethod.UNKNOWN_carrier-pigeon"
    assert str(unknown) == "carrier-pigeon" and unknown == "carrier-pigeon"


def test_a_decoded_lead_shows_its_status_by_name() -> None:
    lead = structure(
        {
            "id": "L1",
            "timestamp_created": "2026-01-01T00:00:00Z",
            "timestamp_updated": "2026-01-01T00:00:00Z",
            "organization": "o",
            "status": 3,
            "email_open_count": 0,
            "email_reply_count": 0,
            "email_click_count": 0,
            "company_domain": "example.com",
            "status_summary": {},
        },
        Lead,
    )
    assert "status=LeadStatus.COMPLETED" in repr(lead)
    assert f"{lead.status}" == "LeadStatus.COMPLETED"
