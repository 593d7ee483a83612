"""Every operation of the spec answers the mock's requests with a body the spec allows.

Requests are made from the spec (required parameters and body fields, filled with example values,
ids pointing at records that exist), sent over loopback without the SDK, and each success answer
is checked with jsonschema, a validator independent of the mock's own (fastjsonschema).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import pytest_asyncio

from instantly.testing import MockInstantly
from instantly.testing._spec import example, load_spec, operation_schemas, routes

KEY = "spec-test-key"
SPEC = load_spec()
ROUTES = {route.operation_id: route for route in routes()}


def check(schema: dict[str, Any], value: Any) -> None:
    """Raise if `value` does not fit `schema` (its refs point into the spec's components)."""
    document = {**schema, "components": SPEC["components"]}
    jsonschema.Draft202012Validator(
        document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(value)


# One mock for the module (starting one per operation would cost more than all the checks).
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(
        KEY, rate_limit=None, validate_responses=True, job_seconds=0, webhook_retries=0
    ) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(mock: MockInstantly) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        mock.url, headers={"Authorization": f"Bearer {KEY}"}
    ) as client_session:
        yield client_session


@pytest_asyncio.fixture(loop_scope="module")
async def ids(mock: MockInstantly, session: aiohttp.ClientSession) -> dict[str, str]:
    """Fresh records of every stateful kind (a test may delete the one it is given)."""
    state = mock.state
    campaign, other = state.add_campaign(), state.add_campaign("Other")
    listed = state.add_lead_list()
    email = state.add_email(lead="ada@example.com", campaign_id=campaign["id"])
    lead = state.add_lead("ada@example.com", campaign=campaign["id"])
    async with session.post(
        "/api/v2/lead-labels", json={"label": "Hot", "interest_status_label": "positive"}
    ) as r:
        label = await r.json()
    async with session.post(
        "/api/v2/leads/move",
        json={"ids": [lead["id"]], "to_campaign_id": other["id"], "copy_leads": True},
    ) as r:
        job = await r.json()
    # A webhook whose delivery fails (nothing receives there), for a delivery log entry.
    async with session.post(
        "/api/v2/webhooks",
        json={"target_hook_url": f"{mock.url}/nobody-listens", "event_type": "all_events"},
    ) as r:
        webhook = await r.json()
    state.emit("email_sent")
    await mock.drain_webhooks()
    async with session.post("/api/v2/ai-agents", json={"name": "Inbox agent"}) as r:
        agent = await r.json()
    made = {
        "agent": agent["id"],
        "campaign": campaign["id"],
        "list": listed["id"],
        "lead": lead["id"],
        "label": label["id"],
        "email": email["id"],
        "thread": email["thread_id"],
        "job": job["id"],
        "webhook": webhook["id"],
        "webhook_event": next(reversed(state.webhook_events.rows)),
    }
    # One agent of each kind that the mock keeps, made as a client would.
    for kind, operation_id in (
        ("lead_finder", "createLeadFinderAgent"),
        ("inbox_manager", "createInboxManagerAgent"),
        ("sales_agent", "createSalesAgent"),
    ):
        path, _, body = build_request(operation_id, made)
        async with session.post(path, json=body) as r:
            assert r.status == 200, await r.text()
            made[kind] = (await r.json())["id"]
    return made


# Path parameters that must name a record of the mock, by (namespace tag path prefix, name).
_PATH_IDS = {
    "/api/v2/campaigns/": "campaign",
    "/api/v2/lead-lists/": "list",
    "/api/v2/leads/": "lead",
    "/api/v2/lead-labels/": "label",
    "/api/v2/emails/threads/": "thread",
    "/api/v2/emails/": "email",
    "/api/v2/background-jobs/": "job",
    "/api/v2/ai-agents/{id}": "agent",
    "/api/v2/ai-agents/lead-finder/{id}": "lead_finder",
    "/api/v2/ai-agents/inbox-manager/{id}": "inbox_manager",
    "/api/v2/ai-agents/sales/{id}": "sales_agent",
    "/api/v2/webhooks/": "webhook",
    "/api/v2/webhook-events/": "webhook_event",
}


def build_request(operation_id: str, ids: dict[str, str]) -> tuple[str, dict[str, str], Any]:
    """The path, query and body of a valid request for an operation."""
    route = ROUTES[operation_id]
    params, body_schema, _ = operation_schemas(operation_id)
    path = route.path
    query: dict[str, str] = {}
    for prm in params:
        value = example(prm.get("schema", {}), all_fields=False)
        if prm["in"] == "path":
            kind = next((k for p, k in _PATH_IDS.items() if route.path.startswith(p)), None)
            # The record's id goes in `{id}` (or the one parameter); others keep their example.
            named = [x for x in params if x["in"] == "path"]
            text = ids[kind] if kind and (prm["name"] == "id" or len(named) == 1) else str(value)
            path = path.replace("{" + prm["name"] + "}", text)
        elif prm.get("required"):
            query[prm["name"]] = json.dumps(value) if not isinstance(value, str) else value
    body = example(body_schema, all_fields=False) if body_schema else None
    overrides: dict[str, dict[str, Any]] = {
        "bulkAddLeads": {"campaign_id": ids["campaign"], "leads": [{"email": "new@example.com"}]},
        "moveLeads": {"ids": [ids["lead"]], "to_list_id": ids["list"]},
        "bulkDeleteLeads": {"campaign_id": ids["campaign"]},
        "replyToEmail": {"reply_to_uuid": ids["email"]},
        # Rules across fields (the spec's x-conditions): a guidance other than the basic one
        # has an instruction and a status; a new sales agent learns from a website.
        "createInboxManagerGuidance": {"category": 1, "instruction": "Be brief.", "status": 1},
        "createSalesAgent": {"type": "website", "input": "https://example.com", "agent_type": 2},
        "updateDomainForwarding": {"forwarding_domain": "example.org"},
    }
    if operation_id in overrides:
        body = {**(body or {}), **overrides[operation_id]}
    return path, query, body


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("operation_id", sorted(ROUTES))
async def test_every_operation_answers_what_the_spec_says(
    mock: MockInstantly, session: aiohttp.ClientSession, ids: dict[str, str], operation_id: str
) -> None:
    route = ROUTES[operation_id]
    path, query, body = build_request(operation_id, ids)
    if body is not None:
        _, body_schema, _ = operation_schemas(operation_id)
        assert body_schema is not None
        check(body_schema, body)  # the request itself is one the spec allows
    before = mock.state.by_operation[operation_id]
    async with session.request(
        route.method, path, params=query, json=body if route.has_body else None
    ) as r:
        raw = await r.read()
        assert r.status == route.success_status, raw[:500]
        content_type = r.content_type
    _, _, answer_schema = operation_schemas(operation_id)
    if route.content_type is None:
        assert raw == b""
    elif answer_schema is None:
        assert content_type == route.content_type and raw
    else:
        check(answer_schema, json.loads(raw))
    assert mock.state.by_operation[operation_id] == before + 1


def test_the_shipped_spec_is_the_one_in_openapi() -> None:
    yaml = pytest.importorskip("yaml")
    source = Path(__file__).parent.parent / "openapi" / "instantly-v2.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert yaml.load(source.read_text(), Loader=loader) == SPEC
    assert len(ROUTES) == 240
