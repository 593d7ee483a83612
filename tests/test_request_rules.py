"""What the spec's newer facts give a user: rules across fields checked before sending, the
`Accept` of a non-JSON answer, the new namespaces (stateful in the mock where a test needs it),
and per-endpoint limits with hour windows."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from aioresponses import aioresponses
from conftest import BASE_URL

from instantly import AsyncInstantly, BadRequestError, NotFoundError, models
from instantly._client import AsyncInstantly as ClientClass
from instantly._generated.operations import OPERATIONS
from instantly._generated.resources import NAMESPACES
from instantly._transport import Transport
from instantly.testing import MockInstantly


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None, validate_responses=True) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=0)


# --- rules across fields -------------------------------------------------------------------------


async def test_an_empty_patch_is_refused_before_sending_naming_the_fields(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    before = mock.state.requests
    with pytest.raises(ValueError, match=r"leads\.update needs at least 1 field") as caught:
        await client.leads.update("3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b")
    assert "first_name" in str(caught.value) and "personalization" in str(caught.value)
    with pytest.raises(ValueError, match=r"campaigns\.update needs at least 1 field"):
        await client.campaigns.update("3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b")
    assert mock.state.requests == before  # nothing was sent


async def test_a_patch_with_one_field_goes_through(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign("Old")
    updated = await client.campaigns.update(campaign["id"], name="New")
    assert updated.name == "New"


async def test_one_of_the_field_groups_is_needed(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    before = mock.state.requests
    with pytest.raises(ValueError, match=r"leads.bulk_delete needs campaign_id or list_id"):
        await client.leads.bulk_delete(ids=["3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b"])
    with pytest.raises(ValueError, match=r"emails.forward needs body or include_original_body"):
        await client.emails.forward(
            eaccount="me@example.com",
            reply_to_uuid="3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b",
            to_address_email_list="you@example.com",
            subject="Fwd",
        )
    assert mock.state.requests == before


async def test_the_mock_refuses_what_the_client_would_not_send(mock: MockInstantly) -> None:
    """Another client (or raw HTTP) meets the same rules at the mock, as at the API."""
    import aiohttp

    headers = {"Authorization": "Bearer k"}
    lead = "3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b"
    async with aiohttp.ClientSession(mock.url, headers=headers) as session:
        async with session.patch(f"/api/v2/leads/{lead}", json={}) as r:
            assert r.status == 400
            assert "at least 1 field" in (await r.json())["message"]
        async with session.patch(f"/api/v2/leads/{lead}") as r:
            assert r.status == 400  # no body at all
        # A rule from the spec's x-conditions: a basic guidance (category 0) takes no status.
        async with session.post(
            "/api/v2/ai-agents/inbox-manager/x/guidances",
            json={"label": "L", "category": 1},
        ) as r:
            assert r.status == 400


# --- answers that are not JSON -------------------------------------------------------------------


async def test_a_csv_download_sends_its_accept_and_returns_the_text() -> None:
    seen: list[str] = []
    csv = "Blocked Email,Date\r\nexample.com,2023-09-15T12:00:00Z\r\n"

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept", ""))
        return web.Response(text=csv, content_type="text/csv")

    app = web.Application()
    app.router.add_get("/api/v2/block-lists-entries/download", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with AsyncInstantly(
            api_key="k", base_url=f"http://127.0.0.1:{port}", rate_limit=None
        ) as client:
            text = await client.block_list_entries.download()
    finally:
        await runner.cleanup()
    assert seen == ["text/csv"]
    assert text == csv
    assert OPERATIONS["downloadBlockListEntry"].accept == "text/csv"
    assert OPERATIONS["getLead"].accept == "application/json"


async def test_a_binary_answer_comes_back_as_bytes(
    make_transport: Callable[..., Transport], mock_api: aioresponses
) -> None:
    mock_api.get(BASE_URL + "/file", body=b"\x00\xffPDF", content_type="application/pdf")
    transport = make_transport()
    data = await transport.request("GET", "/file", retry_safe=True, accept="application/pdf")
    assert data == b"\x00\xffPDF"
    ((_, calls),) = mock_api.requests.items()
    assert calls[0].kwargs["headers"]["Accept"] == "application/pdf"


# --- namespaces ----------------------------------------------------------------------------------


def test_every_namespace_is_annotated_on_the_client_by_codegen() -> None:
    hints = typing.get_type_hints(ClientClass)
    for name, cls in NAMESPACES.items():
        assert issubclass(hints[name], cls), name
    assert "ai_sales_agents" in NAMESPACES and "domain_forwarding" in NAMESPACES


def test_hour_windows_reach_the_operation_table() -> None:
    for op_id in ("updateDomainForwarding", "deleteDomainForwarding"):
        assert OPERATIONS[op_id].rate_limits == ((10, 60.0), (60, 3600.0))
    assert OPERATIONS["getDomainForwarding"].rate_limits == ()


# --- the mock's new state ------------------------------------------------------------------------


async def test_ai_agents_are_kept_by_the_mock(client: AsyncInstantly) -> None:
    created = await client.ai_agents.create(name="Inbox helper")
    assert isinstance(created, models.AiAgent) and created.name == "Inbox helper"
    got = await client.ai_agents.get(created.id)
    assert (got.id, got.name) == (created.id, "Inbox helper")
    await client.ai_agents.create(name="Second")
    names = [a.name async for a in client.ai_agents.list()]
    assert names == ["Inbox helper", "Second"]
    assert [a.name async for a in client.ai_agents.list(search="second")] == ["Second"]
    updated = await client.ai_agents.update(created.id, name="Renamed")
    assert updated.name == "Renamed"
    await client.ai_agents.delete(created.id)
    with pytest.raises(NotFoundError):
        await client.ai_agents.get(created.id)


async def test_domain_forwarding_is_kept_by_the_mock(client: AsyncInstantly) -> None:
    empty = await client.domain_forwarding.get("acme.com")
    assert (empty.domain, empty.forwarding_domain) == ("acme.com", None)
    set_ = await client.domain_forwarding.update(
        "acme.com", forwarding_domain="acme.io", forwarding_mode="stealth"
    )
    assert set_.forwarding_domain == "acme.io"
    got = await client.domain_forwarding.get("acme.com")
    assert (got.forwarding_domain, str(got.forwarding_mode)) == ("acme.io", "stealth")
    with pytest.raises(BadRequestError, match="differ"):
        await client.domain_forwarding.update("acme.com", forwarding_domain="acme.com")
    await client.domain_forwarding.delete("acme.com")
    await client.domain_forwarding.delete("acme.com")  # idempotent
    assert (await client.domain_forwarding.get("acme.com")).forwarding_domain is None


async def test_new_operations_answer_their_examples(client: AsyncInstantly) -> None:
    analytics = await client.ai_sales_agents.analytics("3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b")
    assert isinstance(analytics, models.SalesAgentAnalytics)
    legacy = await client.ai_sales_agents.sdr_analytics("3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b")
    assert isinstance(legacy, models.SalesAgentAnalytics)
    state = await client.ai_deliverability_agents.current_state()
    assert isinstance(state, models.DeliverabilityAgentState)


async def test_the_mock_checks_rules_inside_a_body(mock: MockInstantly) -> None:
    """x-required-any-of deeper than the body: an employee-count range needs min or max."""
    import aiohttp

    filters = {"employeeCount": [{"op": "between"}]}
    async with aiohttp.ClientSession(mock.url, headers={"Authorization": "Bearer k"}) as session:
        async with session.post(
            "/api/v2/supersearch-enrichment/count-leads-from-supersearch",
            json={"search_filters": filters},
        ) as r:
            assert r.status == 400
        filters["employeeCount"][0]["min"] = 10
        async with session.post(
            "/api/v2/supersearch-enrichment/count-leads-from-supersearch",
            json={"search_filters": filters},
        ) as r:
            assert r.status == 200, await r.text()


async def test_lead_finder_agents_are_kept_paused_and_resumed(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign("Outbound")
    agent = await client.ai_lead_finder_agents.create(
        name="Finder",
        campaign_id=campaign["id"],
        search_filters={"department": ["Engineering"]},
        min_active_leads=50,
        on_exhaustion="pause",
    )
    assert agent.name == "Finder" and agent.payload is not None
    assert agent.payload.campaign_id == campaign["id"]
    paused = await client.ai_lead_finder_agents.pause(agent.id)
    assert paused.status is models.AiAgentStatus.INACTIVE
    resumed = await client.ai_lead_finder_agents.resume(agent.id)
    assert resumed.status is models.AiAgentStatus.ACTIVE
    renamed = await client.ai_lead_finder_agents.update(agent.id, name="Finder 2")
    assert (await client.ai_lead_finder_agents.get(agent.id)).name == renamed.name == "Finder 2"
    assert [a.id async for a in client.ai_lead_finder_agents.list()] == [agent.id]
    # The same agent is an AI agent too, in the general listing.
    assert [a.id async for a in client.ai_agents.list()] == [agent.id]
    inbox = await client.ai_inbox_managers.create(name="Inbox", payload={"configuration_type": 1})
    with pytest.raises(NotFoundError):
        await client.ai_lead_finder_agents.get(inbox.id)  # not a lead finder


async def test_inbox_managers_and_sales_agents_are_kept(client: AsyncInstantly) -> None:
    inbox = await client.ai_inbox_managers.create(
        name="Inbox", payload={"configuration_type": 1, "handle_followup": True}
    )
    assert (await client.ai_inbox_managers.get(inbox.id)).name == "Inbox"
    updated = await client.ai_inbox_managers.update(inbox.id, name="Inbox 2")
    assert updated.name == "Inbox 2"
    sales = await client.ai_sales_agents.create(
        name="SDR", type="website", input="https://example.com", agent_type=2
    )
    assert (await client.ai_sales_agents.get(sales.id)).input == "https://example.com"
    assert (await client.ai_sales_agents.update(sales.id, name="SDR 2")).name == "SDR 2"


# --- facts the description writers found (openapi/tools/shape_reference.py) ----------------------


async def test_a_reply_or_forward_body_needs_html_or_text_before_sending(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    before = mock.state.requests
    uuid = "3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b"
    with pytest.raises(ValueError, match=r"emails\.reply\(\): body needs html or text"):
        await client.emails.reply(
            reply_to_uuid=uuid, eaccount="me@example.com", subject="Re", body={}
        )
    with pytest.raises(ValueError, match=r"emails\.forward\(\): body needs html or text"):
        await client.emails.forward(
            reply_to_uuid=uuid,
            eaccount="me@example.com",
            to_address_email_list="you@example.com",
            subject="Fwd",
            body=models.ReplyToEmailRequestBody(),
        )
    assert mock.state.requests == before


async def test_the_mock_holds_creating_a_lead_to_its_target_rule(mock: MockInstantly) -> None:
    """In a campaign a lead needs an email; in a list, an email or a name (a null is none)."""
    import aiohttp

    campaign = mock.state.add_campaign("C")["id"]
    lead_list = mock.state.add_lead_list("L")["id"]
    cases = [
        ({"campaign": campaign, "first_name": "Ada"}, 400),
        ({"campaign": campaign, "email": None}, 400),
        ({"campaign": campaign, "email": "ada@example.com"}, 200),
        ({"list_id": lead_list}, 400),
        ({"list_id": lead_list, "email": None, "last_name": None}, 400),
        ({"list_id": lead_list, "last_name": "Lovelace"}, 200),
        ({"list_id": lead_list, "email": "bob@example.com"}, 200),
    ]
    async with aiohttp.ClientSession(mock.url, headers={"Authorization": "Bearer k"}) as session:
        for body, status in cases:
            async with session.post("/api/v2/leads", json=body) as r:
                assert r.status == status, (body, await r.text())


async def test_webhooks_filter_on_every_event_type_a_webhook_can_have(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    hook = await client.webhooks.create(
        target_hook_url="https://example.com/h", event_type="lead_no_show"
    )
    found = [w.id async for w in client.webhooks.list(event_type="lead_no_show")]
    assert found == [hook.id]
    assert models.ListWebhookEventType.SUPERSEARCH_ENRICHMENT_COMPLETED.value == (
        "supersearch_enrichment_completed"
    )


def test_answers_decode_as_the_api_sends_them() -> None:
    from instantly._convert import mismatches, structure

    analytics = structure(
        [
            {
                "campaign_name": "C",
                "campaign_id": "3f1c5a2e-8b4d-4e6f-9a7b-1c2d3e4f5a6b",
                "campaign_status": 1,
                "campaign_is_evergreen": False,
                "contacted_count": 3,
                "open_count": 2,
                "reply_count": 1,
                "link_click_count": 0,
                "bounced_count": 0,
                "unsubscribed_count": 0,
                "completed_count": 0,
                "emails_sent_count": 4,
                "new_leads_contacted_count": 3,
                "total_opportunities": 0,
                "total_opportunity_value": 0,
            }
        ],
        list[models.CampaignAnalytics],
    )[0]
    assert (
        analytics.leads_count is None and mismatches(analytics) == []
    )  # exclude_total_leads_count
    enriched = structure(
        {"id": "a", "organization_id": "b", "resource_id": "c", "resource_type": 1},
        models.EnrichLeadsFromSupersearchResponse,
    )
    assert enriched.resource_type is models.SuperSearchEnrichmentResourceType.CAMPAIGN
    test = structure({"not_sending_status": ""}, models.GetInboxPlacementTestResponse)
    assert test.not_sending_status is models.InboxPlacementTestNotSendingStatus.EMPTY
    assert mismatches(test) == []


@pytest.mark.looptime
async def test_a_thirty_day_endpoint_window_holds_the_next_call_for_thirty_days() -> None:
    import asyncio

    from instantly._ratelimit import MARGIN, RateLimiter

    limits = OPERATIONS["testAiReplyLabelLeadLabels"].rate_limits
    assert limits == ((500, 30 * 86400.0),)
    limiter = RateLimiter(per_second=None, per_minute=None)  # the endpoint's window alone
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for _ in range(500):
        await limiter.acquire("testAiReplyLabelLeadLabels", limits)
    assert loop.time() == t0
    await limiter.acquire("testAiReplyLabelLeadLabels", limits)
    assert loop.time() - t0 == pytest.approx(30 * 86400 + MARGIN)
