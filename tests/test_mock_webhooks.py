"""The mock delivers webhooks: events in its state are POSTed to the subscribed webhooks with their
custom headers, failed deliveries are retried and then disable the webhook, as the API does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from instantly import AsyncInstantly
from instantly.testing import MockInstantly
from instantly.webhooks import (
    CustomLabelEvent,
    EmailBouncedEvent,
    EmailSentEvent,
    LeadInterestedEvent,
    ReplyReceivedEvent,
    parse_event,
)

pytestmark = pytest.mark.looptime(end=300)  # a hang fails instead of waiting for ever


class Inbox:
    """A plain HTTP endpoint that records what it is sent and answers `statuses` in turn."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body in self.received]


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    box = Inbox()
    app = web.Application()
    app.router.add_post("/hook", box.handle)
    box.server = TestServer(app)
    await box.server.start_server()
    yield box
    await box.server.close()


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None, webhook_retry_delay=2.0) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=0)


async def test_a_reply_is_posted_with_the_webhooks_custom_headers(
    mock: MockInstantly, client: AsyncInstantly, inbox: Inbox
) -> None:
    campaign = mock.state.add_campaign("Launch")
    lead = mock.state.add_lead(
        "ada@example.com", campaign=campaign["id"], payload={"company": "Engines"}
    )
    await client.webhooks.create(
        target_hook_url=inbox.url,
        event_type="reply_received",
        headers={"X-Instantly-Secret": "s3cret", "X-Team": "sales"},
    )
    mock.state.send_email(lead, "Launch", "Hi Ada")  # email_sent: not subscribed
    reply = mock.state.receive_reply(lead, "Tell me more\n\n> Hi Ada")
    await mock.drain_webhooks()

    ((headers, body),) = inbox.received
    assert headers["X-Instantly-Secret"] == "s3cret" and headers["X-Team"] == "sales"
    assert headers["Content-Type"] == "application/json"
    event = parse_event(body)
    assert isinstance(event, ReplyReceivedEvent)
    assert event.email_id == reply["id"]
    assert (event.lead_email, event.campaign_id, event.campaign_name) == (
        "ada@example.com",
        campaign["id"],
        "Launch",
    )
    assert event.workspace == mock.state.workspace_id
    assert (event.reply_text_snippet, event.email_subject, event.step) == (
        "Tell me more",
        "Launch",
        1,
    )
    assert event.is_first is True and event.unibox_url
    assert event.custom_variables == {"company": "Engines"}
    assert [e["event_type"] for e in mock.state.events] == ["email_sent", "reply_received"]


async def test_each_webhook_gets_what_it_subscribed_to(
    mock: MockInstantly, client: AsyncInstantly, inbox: Inbox
) -> None:
    launch, other = mock.state.add_campaign("Launch"), mock.state.add_campaign("Other")
    ada = mock.state.add_lead("ada@example.com", campaign=launch["id"])
    bob = mock.state.add_lead("bob@example.com", campaign=other["id"])
    hooks = {
        "all": {"event_type": "all_events"},
        "sent": {"event_type": "email_sent"},
        "clicks": {"event_type": "email_link_clicked"},
        "launch_replies": {"event_type": "reply_received", "campaign": launch["id"]},
        "label_7": {"event_type": None, "custom_interest_value": 7},
    }
    for name, fields in hooks.items():
        await client.webhooks.create(target_hook_url=f"{inbox.url}?hook={name}", **fields)
    mock.state.send_email(ada)
    mock.state.receive_reply(bob, "From the other campaign")
    mock.state.receive_reply(ada, "Yes")
    mock.state.emit("link_clicked", lead=ada)
    await client.leads.update_interest_status(lead_email="bob@example.com", interest_value=7)
    await mock.drain_webhooks()
    got: dict[str | None, list[Any]] = {}
    for headers, body in inbox.received:
        del headers
        got.setdefault(body["event_type"], []).append(body.get("lead_email"))
    # Each event reaches "all" and the webhooks that chose it; the campaign filter holds.
    assert sorted(got["email_sent"]) == ["ada@example.com"] * 2
    assert sorted(got["reply_received"]) == ["ada@example.com"] * 2 + ["bob@example.com"]
    assert got["link_clicked"] == ["ada@example.com"] * 2
    assert got[None] == ["bob@example.com"] * 2  # the custom label, event_type null
    assert len(inbox.received) == 9


async def test_interest_changes_and_bounces_raise_their_events(
    mock: MockInstantly, client: AsyncInstantly, inbox: Inbox
) -> None:
    campaign = mock.state.add_campaign()
    lead = mock.state.add_lead("ada@example.com", campaign=campaign["id"])
    await client.webhooks.create(target_hook_url=inbox.url, event_type="all_events")
    for value in (1, None, -3, 12):  # interested, cleared, lost (no event), a custom label
        await client.leads.update_interest_status(
            lead_email="ada@example.com", interest_value=value
        )
    sent = mock.state.send_email(lead)
    mock.state.bounce(lead)
    await mock.drain_webhooks()
    events = [parse_event(body) for body in inbox.bodies]
    assert [type(e) for e in events] == [
        LeadInterestedEvent,
        CustomLabelEvent,
        EmailSentEvent,
        EmailBouncedEvent,
    ]
    assert isinstance(events[1], CustomLabelEvent) and events[1].custom_interest_value == 12
    assert events[3].email_id == sent["id"]
    assert mock.state.leads.rows[lead["id"]]["status"] == -1


async def test_a_failed_delivery_is_retried_then_the_webhook_is_disabled(
    mock: MockInstantly, client: AsyncInstantly, inbox: Inbox
) -> None:
    loop = asyncio.get_running_loop()
    hook = await client.webhooks.create(target_hook_url=inbox.url, event_type="all_events")
    inbox.statuses = [500, 503]  # the third try succeeds
    start = loop.time()
    mock.state.emit("email_opened", lead="ada@example.com")
    await mock.drain_webhooks()
    assert len(inbox.received) == 3
    assert loop.time() - start >= 6.0  # waited 2 s, then 4 s
    assert (await client.webhooks.get(hook.id)).status == 1

    inbox.statuses = [500] * 4  # every try fails: 1 + 3 retries, then disabled
    mock.state.emit("email_opened", lead="bob@example.com")
    await mock.drain_webhooks()
    assert len(inbox.received) == 7
    disabled = await client.webhooks.get(hook.id)
    assert disabled.status == -1 and disabled.timestamp_error is not None
    mock.state.emit("email_opened", lead="cy@example.com")
    await mock.drain_webhooks()
    assert len(inbox.received) == 7  # a disabled webhook gets nothing

    log = [e async for e in client.webhook_events.list()]
    assert [(e.success, e.retry_count, e.status_code) for e in log] == [
        (False, 0, 500),
        (False, 1, 503),
        (True, 2, 200),
        (False, 0, 500),
        (False, 1, 500),
        (False, 2, 500),
        (False, 3, 500),
    ]
    assert [e.will_retry for e in log[3:]] == [True, True, True, False]
    assert [e.lead_email for e in log if not e.success][-1] == "bob@example.com"
    assert len([e async for e in client.webhook_events.list(success=True)]) == 1

    resumed = await client.webhooks.resume(hook.id)
    assert resumed.status == 1 and resumed.timestamp_error is None
    mock.state.emit("email_opened", lead="dee@example.com")
    await mock.drain_webhooks()
    assert inbox.bodies[-1]["lead_email"] == "dee@example.com"


async def test_a_receiver_that_does_not_answer_in_time_fails_the_delivery() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_post("/slow", slow)
    server = TestServer(app)
    await server.start_server()
    try:
        async with MockInstantly(
            "k", rate_limit=None, webhook_retries=1, webhook_timeout=5.0
        ) as mock:
            client = mock.client(rate_limit=None)
            hook = await client.webhooks.create(
                target_hook_url=str(server.make_url("/slow")), event_type="all_events"
            )
            mock.state.emit("email_sent")
            await mock.drain_webhooks()
            assert (await client.webhooks.get(hook.id)).status == -1
            errors = [e["error_message"] for e in mock.state.webhook_events]
            assert errors == ["no answer within 5 s"] * 2
    finally:
        await server.close()


async def test_webhook_crud(mock: MockInstantly, client: AsyncInstantly, inbox: Inbox) -> None:
    campaign = mock.state.add_campaign()
    made = await client.webhooks.create(
        target_hook_url=inbox.url, event_type="lead_interested", campaign=campaign["id"]
    )
    other = await client.webhooks.create(target_hook_url=inbox.url, event_type="all_events")
    assert made.status == 1 and made.organization == mock.state.workspace_id
    assert [w.id async for w in client.webhooks.list(campaign=campaign["id"])] == [made.id]
    assert [w.id async for w in client.webhooks.list(event_type="all_events")] == [other.id]
    changed = await client.webhooks.update(made.id, name="Hot leads", headers={"A": "b"})
    assert (changed.name, changed.headers) == ("Hot leads", {"A": "b"})
    await client.webhooks.delete(other.id)
    assert [w.id async for w in client.webhooks.list()] == [made.id]
    mock.state.emit("email_sent")
    await mock.drain_webhooks()
    assert inbox.received == []  # the deleted one got nothing, the other did not subscribe
