"""Codegen of the spec's `webhooks` section: its checks name the JSON path, and the generated
table is what the spec says."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_codegen import generate, spec

from instantly._generated import webhooks as generated

_ = spec  # the fixture: the spec as loaded from openapi/


def test_the_generated_tables_are_the_specs_webhooks(spec: dict[str, Any]) -> None:
    generate.check_webhooks(spec)
    events = generate.webhook_events(spec)
    assert {e["event_type"]: e["model"] for e in events} == {
        t: m.__name__ for t, m in generated.EVENT_MODELS.items()
    }
    assert generated.SUBSCRIPTIONS["link_clicked"] == "email_link_clicked"
    assert generated.SUBSCRIPTIONS["auto_reply_received"] is None
    assert generated.INTEREST_EVENTS[1] == "lead_interested"
    assert generated.EXTRA_KEYS == "custom_variables"
    # Every subscription the API offers (but all_events) names an event of ours.
    offered = set(spec["components"]["schemas"]["WebhookEventType"]["enum"]) - {"all_events"}
    assert offered <= set(generated.SUBSCRIPTIONS.values())


def _post(s: dict[str, Any], name: str) -> dict[str, Any]:
    post: dict[str, Any] = s["webhooks"][name]["post"]
    return post


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (
            lambda s: _post(s, "link_clicked").update({"x-subscription": "link_clicked"}),
            "#/webhooks/link_clicked/post/x-subscription",
        ),
        (
            lambda s: _post(s, "email_opened").update({"x-event-type": "email_sent"}),
            "#/webhooks/email_opened/post/x-event-type",
        ),
        (
            lambda s: _post(s, "lead_closed").update({"x-interest-value": 1}),
            "#/webhooks/lead_closed/post/x-interest-value",
        ),
        (
            lambda s: _post(s, "email_sent").pop("requestBody"),
            "#/webhooks/email_sent/post/requestBody",
        ),
        (
            lambda s: s["components"]["schemas"]["BaseEvent"]["properties"]["custom_variables"].pop(
                "x-extra-keys"
            ),
            "#/components/schemas/EmailSentEvent",
        ),
    ],
)
def test_webhook_spec_errors_name_the_json_path(
    spec: dict[str, Any], mutate: Any, where: str
) -> None:
    broken = copy.deepcopy(spec)
    mutate(broken)
    with pytest.raises(generate.SpecError) as info:
        generate.check_webhooks(broken)
    assert info.value.path == where
