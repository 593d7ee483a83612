"""Every namespace, end to end through the client over a mocked API (aioresponses)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aioresponses import aioresponses

from instantly import AsyncInstantly, Page, models
from instantly._generated.operations import OPERATIONS
from instantly._generated.resources import NAMESPACES

API_KEY = "sk-resources-test-KEY-0987654321"
BASE = "https://api.instantly.test"
SPEC = yaml.safe_load((Path(__file__).parent.parent / "openapi" / "instantly-v2.yaml").read_text())
SCHEMAS = SPEC["components"]["schemas"]


def minimal(schema: dict[str, Any], depth: int = 0) -> Any:
    """The smallest JSON value that fits `schema` (required fields only)."""
    if "$ref" in schema:
        return minimal(SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]], depth + 1)
    if "oneOf" in schema or "anyOf" in schema:
        return minimal(schema.get("oneOf", schema.get("anyOf"))[0], depth)
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type", "object")
    t = next((x for x in t if x != "null"), "null") if isinstance(t, list) else t
    if t == "object":
        return {k: minimal(schema["properties"][k], depth + 1) for k in schema.get("required", [])}
    if t == "array":
        return []
    if t == "string":
        return {"date-time": "2026-01-02T03:04:05.000Z", "date": "2026-01-02"}.get(
            schema.get("format", ""), "x"
        )
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}[t]


def response_schema(op_id: str) -> dict[str, Any] | None:
    for item in SPEC["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == op_id:
                for code, r in sorted(op["responses"].items()):
                    if code.startswith("2"):
                        content = r.get("content")
                        return next(iter(content.values()))["schema"] if content else None
    raise KeyError(op_id)


@pytest.fixture
async def client() -> AsyncIterator[AsyncInstantly]:
    async with AsyncInstantly(api_key=API_KEY, base_url=BASE, rate_limit=None, max_retries=0) as c:
        yield c


def pick(namespace: str) -> str:
    """One operation of the namespace whose arguments are all path parameters (or none)."""
    ops = sorted(
        (o for o in OPERATIONS.values() if o.namespace == namespace),
        key=lambda o: (o.body_required, bool(o.path_params), o.method != "GET", o.name),
    )
    for op in ops:
        if not any(p.required for p in op.query_params) and not any(
            p.required for p in op.body_fields
        ):
            return op.operation_id
    raise AssertionError(f"no simple operation in {namespace}")


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
async def test_each_namespace_calls_one_operation_end_to_end(
    namespace: str, client: AsyncInstantly
) -> None:
    op = OPERATIONS[pick(namespace)]
    schema = response_schema(op.operation_id)
    answer = minimal(schema) if schema else None
    path = op.path
    kwargs: dict[str, Any] = {}
    args = []
    for p in op.path_params:
        args.append("abc-123")
        path = path.replace("{" + p.wire + "}", "abc-123")
    method = getattr(
        getattr(client, namespace),
        op.name if not op.pagination else ("list_page" if op.name == "list" else op.name + "_page"),
    )
    with aioresponses() as mock:
        url = re.compile(re.escape(BASE + path) + r"(\?.*)?$")
        if isinstance(answer, str):
            mock.add(url, op.method, body=answer, content_type="text/csv")
        elif answer is None:
            mock.add(url, op.method, status=204)
        else:
            mock.add(url, op.method, payload=answer)
        result = await method(*args, **kwargs)
        ((key, calls),) = mock.requests.items()
    assert key[0] == op.method
    headers = calls[0].kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    if op.pagination:
        assert isinstance(result, Page)
    elif op.response is None:
        assert result is None
    elif isinstance(op.response, type):
        assert isinstance(result, op.response)


async def test_get_lead_returns_the_model(client: AsyncInstantly) -> None:
    lead_json = json.loads(
        (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
    )["items"][0]
    with aioresponses() as mock:
        mock.get(f"{BASE}/api/v2/leads/{lead_json['id']}", payload=lead_json)
        lead = await client.leads.get(lead_json["id"])
    assert isinstance(lead, models.Lead)
    assert lead.status is models.LeadStatus.ACTIVE
    assert lead.timestamp_created.tzinfo is not None


async def test_update_sends_only_given_fields_and_null_to_clear(client: AsyncInstantly) -> None:
    answer = minimal({"$ref": "#/components/schemas/Lead"})
    with aioresponses() as mock:
        mock.patch(f"{BASE}/api/v2/leads/L1", payload=answer)
        await client.leads.update("L1", first_name="Ada", last_name=None)
        ((_, calls),) = mock.requests.items()
    assert json.loads(calls[0].kwargs["data"]) == {"first_name": "Ada", "last_name": None}
    assert calls[0].kwargs["headers"]["Content-Type"] == "application/json"


async def test_bodyless_post_sends_no_content_type(client: AsyncInstantly) -> None:
    answer = minimal({"$ref": "#/components/schemas/Campaign"})
    with aioresponses() as mock:
        mock.post(f"{BASE}/api/v2/campaigns/C1/activate", payload=answer)
        campaign = await client.campaigns.activate("C1")
        ((_, calls),) = mock.requests.items()
    assert isinstance(campaign, models.Campaign)
    assert calls[0].kwargs.get("data") is None
    assert "Content-Type" not in calls[0].kwargs["headers"]


async def test_bulk_delete_sends_its_filters_as_a_json_body(client: AsyncInstantly) -> None:
    with aioresponses() as mock:
        mock.delete(f"{BASE}/api/v2/leads", payload={"count": 2})
        result = await client.leads.bulk_delete(campaign_id="C1", ids=["a", "b"])
        ((_, calls),) = mock.requests.items()
    assert result.count == 2
    assert json.loads(calls[0].kwargs["data"]) == {"campaign_id": "C1", "ids": ["a", "b"]}


async def test_query_lists_are_comma_separated(client: AsyncInstantly) -> None:
    with aioresponses() as mock:
        mock.get(re.compile(re.escape(f"{BASE}/api/v2/campaigns/analytics") + r".*"), payload=[])
        result = await client.campaigns.analytics(ids=["c1", "c2"], exclude_total_leads_count=True)
        ((key, _),) = mock.requests.items()
    assert result == []
    assert key[1].query.getall("ids") == ["c1,c2"]
    assert key[1].query["exclude_total_leads_count"] == "true"


async def test_list_walks_body_cursor_pages(client: AsyncInstantly) -> None:
    lead = minimal({"$ref": "#/components/schemas/Lead"})
    pages = [
        {"items": [lead, lead], "next_starting_after": "c1"},
        {"items": [lead], "next_starting_after": "c2"},
        {"items": []},
    ]
    with aioresponses() as mock:
        for page in pages:
            mock.post(f"{BASE}/api/v2/leads/list", payload=page)
        leads = [x async for x in client.leads.list(campaign="C1", limit=2)]
        ((_, calls),) = mock.requests.items()
    assert len(leads) == 3
    bodies = [json.loads(c.kwargs["data"]) for c in calls]
    assert "starting_after" not in bodies[0]
    assert [b.get("starting_after") for b in bodies[1:]] == ["c1", "c2"]
    assert all(b["campaign"] == "C1" and b["limit"] == 2 for b in bodies)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda c: c.leads.list_page(limit=0), ValueError, "limit must be at least 1"),
        (lambda c: c.lead_lists.list_page(limit=101), ValueError, "limit must be at most 100"),
        (
            lambda c: c.leads.add(leads=[{"email": "a@b.co"}] * 1001, campaign_id="C"),
            ValueError,
            "leads takes at most 1,000",
        ),
        (lambda c: c.leads.create(email=1), TypeError, "email must be"),
        (lambda c: c.leads.create(emial="a@b.co"), TypeError, "emial"),
        (lambda c: c.leads.get(""), ValueError, "id must not be empty"),
        (
            lambda c: c.leads.add(leads=[{"frist_name": "A"}], campaign_id="C"),
            TypeError,
            "leads[0] has an unknown field 'frist_name'",
        ),
        (
            lambda c: c.leads.update_interest_status(lead_email="a@b.co", interest_value="x"),
            TypeError,
            "interest_value",
        ),
        (lambda c: c.background_jobs.list_page(sort_order="sideways"), ValueError, "sort_order"),
        # A custom variable is a string, number, boolean or null: the server refuses the rest.
        (
            lambda c: c.leads.create(email="a@b.co", custom_variables={"tags": ["vip"]}),
            TypeError,
            "custom_variables['tags'] must be a str or a number or a bool or None, got list",
        ),
        (
            lambda c: c.leads.update("L1", custom_variables={"crm": {"id": 1}}),
            TypeError,
            "custom_variables['crm']",
        ),
        # NaN (a blank cell of a DataFrame) has no JSON form: sent, it would become null.
        (
            lambda c: c.leads.create(email="a@b.co", custom_variables={"score": float("nan")}),
            ValueError,
            "custom_variables['score'] must be a finite number, got nan",
        ),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    client: AsyncInstantly, call: Any, error: type[Exception], words: str
) -> None:
    with aioresponses() as mock:
        with pytest.raises(error) as info:
            await call(client)
        assert mock.requests == {}
    assert words in str(info.value)


async def test_custom_interest_status_values_are_accepted(client: AsyncInstantly) -> None:
    with aioresponses() as mock:
        mock.post(
            f"{BASE}/api/v2/leads/update-interest-status", status=202, payload={"message": "queued"}
        )
        result = await client.leads.update_interest_status(
            lead_email="a@b.co", interest_value=12345
        )
    assert result.message == "queued"


async def test_list_page_without_a_cursor_asks_for_the_first_page(client: AsyncInstantly) -> None:
    lead = minimal({"$ref": "#/components/schemas/Lead"})
    with aioresponses() as mock:
        mock.post(
            f"{BASE}/api/v2/leads/list", payload={"items": [lead], "next_starting_after": "c"}
        )
        mock.post(f"{BASE}/api/v2/leads/list", payload={"items": []})
        page = await client.leads.list_page(campaign="C1", limit=1, starting_after=None)
        await client.leads.list_page(campaign="C1", starting_after=page.next_starting_after)
        ((_, calls),) = mock.requests.items()
    assert json.loads(calls[0].kwargs["data"]) == {"campaign": "C1", "limit": 1}
    assert json.loads(calls[1].kwargs["data"]) == {"campaign": "C1", "starting_after": "c"}
    assert page.has_more
