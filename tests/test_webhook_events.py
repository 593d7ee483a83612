"""`instantly.webhooks.parse_event`: every event type of the spec, unknown and custom-label
events, extra keys as custom variables, and the tolerance of API responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from instantly.webhooks import (
    EVENT_MODELS,
    BaseEvent,
    CustomLabelEvent,
    LinkClickedEvent,
    ReplyReceivedEvent,
    UnknownEvent,
    WebhookPayloadError,
    parse_event,
)


def delivery(event_type: str | None, **fields: Any) -> dict[str, Any]:
    """A delivery as Instantly sends it: the common fields, the lead's, a custom variable."""
    return {
        "timestamp": "2026-08-21T09:15:02.000Z",
        "event_type": event_type,
        "workspace": "0199b1c2-0000-7000-8000-00000000aaaa",
        "campaign_id": "0199b1c2-0000-7000-8000-00000000c0de",
        "campaign_name": "Launch",
        "lead_email": "ada@example.com",
        "email_account": "sales@acme.test",
        "unibox_url": None,
        "step": 1,
        "variant": 2,
        "is_first": True,
        "email_id": "0199b1c2-0000-7000-8000-00000000e001",
        "company": "Analytical Engines",
        **fields,
    }


@pytest.mark.parametrize("event_type", [t for t in EVENT_MODELS if t is not None])
def test_every_event_type_of_the_spec_parses_to_its_model(event_type: str) -> None:
    event = parse_event(json.dumps(delivery(event_type)))
    assert type(event) is EVENT_MODELS[event_type]
    assert isinstance(event, BaseEvent)
    assert event.event_type == event_type
    assert event.timestamp == datetime(2026, 8, 21, 9, 15, 2, tzinfo=UTC)
    assert (event.campaign_name, event.lead_email, event.step, event.variant) == (
        "Launch",
        "ada@example.com",
        1,
        2,
    )
    assert event.custom_variables == {"company": "Analytical Engines"}


def test_the_table_covers_the_documented_event_types() -> None:
    documented = {
        "email_sent", "email_opened", "link_clicked", "reply_received", "auto_reply_received",
        "email_bounced", "lead_unsubscribed", "lead_interested", "lead_not_interested",
        "lead_meeting_booked", "lead_meeting_completed", "lead_closed", "lead_out_of_office",
        "lead_wrong_person", "lead_no_show", "campaign_completed", "account_error",
        "supersearch_enrichment_completed",
    }  # fmt: skip
    assert documented <= set(EVENT_MODELS)
    assert EVENT_MODELS["link_clicked"] is LinkClickedEvent
    assert len(set(EVENT_MODELS.values())) == len(EVENT_MODELS)  # one model per type


def test_a_reply_carries_what_a_bot_answers_with() -> None:
    event = parse_event(
        delivery(
            "reply_received",
            unibox_url="https://app.instantly.ai/app/unibox?thread=1",
            reply_subject="Re: Launch",
            reply_text="Yes, let's talk.\n\n> earlier",
            reply_html="<p>Yes, let's talk.</p>",
            reply_text_snippet="Yes, let's talk.",
            email_subject="Launch",
            email_text="Hi Ada",
            email_html="<p>Hi Ada</p>",
        )
    )
    assert isinstance(event, ReplyReceivedEvent)
    assert event.email_id == "0199b1c2-0000-7000-8000-00000000e001"
    assert event.reply_text_snippet == "Yes, let's talk."
    assert event.unibox_url is not None and event.unibox_url.startswith("https://")
    assert event.email_html == "<p>Hi Ada</p>"


def test_a_custom_label_arrives_with_a_null_event_type() -> None:
    event = parse_event(delivery(None, custom_interest_value=7))
    assert isinstance(event, CustomLabelEvent)
    assert event.event_type is None
    assert event.custom_interest_value == 7
    assert "custom_interest_value" not in event.custom_variables


@pytest.mark.parametrize(
    "body",
    [
        delivery("lead_promoted_to_ceo", new_field="x"),
        {k: v for k, v in delivery("x").items() if k != "event_type"},
    ],
    ids=["new type", "no event_type"],
)
def test_a_type_nobody_has_seen_is_an_unknown_event(body: dict[str, Any]) -> None:
    event = parse_event(body)
    assert type(event) is UnknownEvent
    assert event.event_type == body.get("event_type")
    assert event.lead_email == "ada@example.com"
    assert event.custom_variables.get("company") == "Analytical Engines"


def test_extra_top_level_keys_are_the_custom_variables() -> None:
    body = delivery(
        "email_opened",
        custom_variables="a lead variable that happens to be called so",
        score=9.5,
        tags=["vip"],
        brand_new_api_field={"nested": True},
    )
    event = parse_event(body)
    assert event.custom_variables == {
        "company": "Analytical Engines",
        "custom_variables": "a lead variable that happens to be called so",
        "score": 9.5,
        "tags": ["vip"],
        "brand_new_api_field": {"nested": True},
    }


@pytest.mark.parametrize("kind", [bytes, bytearray, str, dict])
def test_the_body_may_be_bytes_text_or_a_mapping(kind: type) -> None:
    body = delivery("email_sent")
    raw: Any = (
        body
        if kind is dict
        else kind(json.dumps(body).encode() if kind is not str else json.dumps(body))
    )
    assert parse_event(raw).event_type == "email_sent"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-08-21T09:15:02Z", datetime(2026, 8, 21, 9, 15, 2, tzinfo=UTC)),
        ("2026-08-21T11:15:02+02:00", datetime(2026, 8, 21, 9, 15, 2, tzinfo=UTC)),
        ("2026-08-21T09:15:02", datetime(2026, 8, 21, 9, 15, 2, tzinfo=UTC)),  # naive: UTC
    ],
)
def test_timestamp_is_timezone_aware(stamp: str, expected: datetime) -> None:
    event = parse_event(delivery("email_sent", timestamp=stamp))
    assert event.timestamp.tzinfo is not None
    assert event.timestamp == expected


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not an object"),
        ('"reply_received"', "not an object"),
        ([{"event_type": "email_sent"}], "not an object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(body: Any, says: str) -> None:
    with pytest.raises(WebhookPayloadError, match=says):
        parse_event(body)
    assert issubclass(WebhookPayloadError, ValueError)


@pytest.mark.parametrize(
    "change",
    [
        {"workspace": ...},  # a required field missing
        {"timestamp": ...},
        {"campaign_id": ..., "campaign_name": ...},
        {"step": "2"},  # a string for a number
        {"is_first": "yes"},
        {"timestamp": ""},  # "" for a date
        {"variant": 1.5},
        {"event_type": 5},
    ],
    ids=repr,
)
def test_odd_values_and_missing_fields_never_raise(change: dict[str, Any]) -> None:
    body = delivery("reply_received", reply_text="hello")
    for key, value in change.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    event = parse_event(body)
    assert event.lead_email == "ada@example.com"
    assert event.custom_variables == {"company": "Analytical Engines"}
