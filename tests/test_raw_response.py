"""`with_raw_response`: the answer as it came (status, headers, body), and its model on demand."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from local_server import LocalServer

from instantly import AsyncInstantly, Page, RawResponse, models
from instantly.errors import NotFoundError, ServerError

KEY = "sk-raw-test-SECRET-0123456789"
LEAD = json.loads(
    (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
)["items"][0]


async def answer(request: web.Request) -> web.StreamResponse:
    path = request.path
    if path.endswith("/missing"):
        return web.json_response({"statusCode": 404, "error": "Not Found"}, status=404)
    if path.endswith("/echo"):
        # A careless server echoing the key, in a header and in the body.
        echoed = request.headers["Authorization"]
        return web.json_response(
            {**LEAD, "first_name": echoed}, headers={"X-Debug": echoed, "x-request-id": "r-2"}
        )
    if path.endswith("/share"):
        return web.Response(status=204)
    if path == "/api/v2/leads/list":
        after = None if "starting_after" in await request.json() else "c1"
        return web.json_response({"items": [LEAD], "next_starting_after": after})
    if path.endswith("/download"):
        return web.Response(text="email\nada@example.com\n", content_type="text/csv")
    return web.json_response(LEAD, headers={"x-request-id": "r-1", "X-RateLimit-Remaining": "99"})


@pytest.fixture
async def client() -> AsyncIterator[AsyncInstantly]:
    async with (
        LocalServer(answer) as server,
        AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None, max_retries=0) as c,
    ):
        yield c


async def test_a_raw_response_has_status_headers_body_and_the_model(
    client: AsyncInstantly,
) -> None:
    raw = await client.leads.with_raw_response.get("L1")
    assert isinstance(raw, RawResponse)
    assert raw.status == 200
    assert raw.headers["X-RateLimit-Remaining"] == "99"
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.request_id == "r-1"
    assert isinstance(raw.elapsed, datetime.timedelta) and raw.elapsed.total_seconds() >= 0
    assert raw.attempts == 1
    assert (raw.method, raw.path) == ("GET", "/api/v2/leads/L1")
    assert raw.json() == LEAD
    assert json.loads(raw.text()) == LEAD
    lead = raw.parse()
    assert isinstance(lead, models.Lead)
    assert lead == await client.leads.get("L1")
    assert raw.parse() is lead  # decoded once


async def test_an_error_answer_still_raises(client: AsyncInstantly) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.leads.with_raw_response.get("missing")
    assert info.value.status_code == 404


async def test_no_content_and_pages_and_text(client: AsyncInstantly) -> None:
    shared = await client.campaigns.with_raw_response.share("C1")
    assert shared.status == 204 and shared.content == b"" and shared.parse() is None

    csv = await client.block_list_entries.with_raw_response.download(
        extra_headers={"X-Trace": "csv"}
    )
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text() == csv.parse() == "email\nada@example.com\n"
    with pytest.raises(ValueError):
        csv.json()

    raw_page = await client.leads.with_raw_response.list_page(limit=1)
    page = raw_page.parse()
    assert isinstance(page, Page) and page.items[0].id == LEAD["id"]
    assert page.has_next_page()  # and its next page comes through the normal pipeline
    last = await page.get_next_page()
    assert isinstance(last, Page) and not last.has_next_page()


async def test_raw_responses_never_show_the_key(client: AsyncInstantly) -> None:
    raw = await client.leads.with_raw_response.get("echo")
    assert raw.headers["X-Debug"] == "Bearer ***"
    assert KEY not in raw.text()
    assert KEY not in json.dumps(raw.json())
    assert KEY not in repr(raw) and "X-Debug" not in repr(raw)
    assert KEY not in repr(raw.headers)
    assert raw.request_id == "r-2"


async def test_options_and_the_namespace_view(client: AsyncInstantly) -> None:
    raw = await client.leads.with_raw_response.get("L1", extra_headers={"X-Trace": "1"})
    assert raw.status == 200
    assert client.leads.with_raw_response is client.leads.with_raw_response  # made once
    assert not hasattr(client.leads.with_raw_response, "list")  # many requests: no one answer
    assert repr(client.leads.with_raw_response) == "<LeadsResourceWithRawResponse>"


async def test_a_retried_call_counts_its_attempts() -> None:
    calls = 0

    async def flaky(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response({"statusCode": 503, "error": "Unavailable"}, status=503)
        return web.json_response(LEAD)

    async with (
        LocalServer(flaky) as server,
        AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None) as client,
    ):
        raw = await client.leads.with_raw_response.get("L1")
        assert raw.attempts == 2
        with pytest.raises(ServerError):
            calls = 0
            await client.leads.with_raw_response.get("L1", max_retries=0)
