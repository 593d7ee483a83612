"""Per-call options and `with_options`: what reaches the wire, for which calls, and what is shared.

Against a real server on 127.0.0.1 that records every request, on the fake clock (looptime), so
that timeouts, backoff and the rate gate take no real time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from local_server import LocalServer

from instantly import AsyncInstantly, RateLimiter, RequestOptions, models
from instantly.errors import APITimeoutError, ClientClosedError, ServerError

pytestmark = pytest.mark.looptime

KEY = "sk-options-test-KEY-424242"
LEAD = {
    **json.loads(
        (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
    )["items"][0],
    "email": "ada@example.com",
}


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """A lead for any lead path; a server error for /fail; no answer at all for /hang."""
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/fail"):
            return web.json_response({"statusCode": 503, "error": "Unavailable"}, status=503)
        if request.path.endswith("/hang"):
            await release.wait()
        return web.json_response(LEAD)

    async with LocalServer(answer) as server:
        yield server
        release.set()  # lets the server stop without waiting for hung handlers


def client_for(server: LocalServer, **options: object) -> AsyncInstantly:
    options.setdefault("rate_limit", None)
    return AsyncInstantly(api_key=KEY, base_url=server.url, **options)  # type: ignore[arg-type]


def path_and_query(seen: str) -> tuple[str, str]:
    path, _, query = seen.partition("?")
    return path, query


async def test_options_reach_the_wire_for_that_call_only(server: LocalServer) -> None:
    async with client_for(server) as client:
        lead = await client.leads.get(
            "L1",
            extra_headers={"X-Trace": "t-1", "Accept": "application/vnd.test+json"},
            extra_query={"debug": "yes", "ids": ["a", "b"]},
        )
        assert isinstance(lead, models.Lead)
        await client.leads.get("L1")
    first, second = server.seen
    assert first.headers["X-Trace"] == "t-1"
    assert first.headers["Accept"] == "application/vnd.test+json"  # replaces the SDK's own
    assert first.headers["Authorization"] == f"Bearer {KEY}"
    assert path_and_query(first.raw_path) == ("/api/v2/leads/L1", "debug=yes&ids=a&ids=b")
    # The next call is as if nothing had been passed before.
    assert "X-Trace" not in second.headers
    assert second.headers["Accept"] == "application/json"
    assert second.raw_path == "/api/v2/leads/L1"


async def test_extra_body_merges_into_the_json_body(server: LocalServer) -> None:
    async with client_for(server) as client:
        await client.leads.create(
            email="ada@example.com", extra_body={"new_field": [1, 2], "first_name": "Over"}
        )
        await client.leads.create(email="bob@example.com")
    first, second = (json.loads(seen.body) for seen in server.seen)
    assert first == {"email": "ada@example.com", "new_field": [1, 2], "first_name": "Over"}
    assert second == {"email": "bob@example.com"}


async def test_bad_options_are_refused_before_any_request(server: LocalServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(ValueError, match="extra_headers must not set authorization"):
            await client.leads.get("L1", extra_headers={"authorization": "Bearer other"})
        with pytest.raises(ValueError, match="line break"):
            await client.leads.get("L1", extra_headers={"X-A": "1\r\nX-B: 2"})
        with pytest.raises(ValueError, match=r"extra_body: leads.get sends no request body"):
            await client.leads.get("L1", extra_body={"x": 1})
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            await client.leads.get("L1", timeout=0)
        with pytest.raises(ValueError, match="max_retries must be an int of 0 or more"):
            await client.leads.get("L1", max_retries=-1)
        # A list's options are checked where it is made, not at its first step.
        with pytest.raises(ValueError, match="timeout"):
            client.leads.list(timeout=-1)
    assert server.seen == []


async def test_timeout_and_max_retries_hold_for_that_call_only(server: LocalServer) -> None:
    async with client_for(server, max_retries=3, timeout=60) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(APITimeoutError, match="timeout 2 s for the whole call"):
            await client.leads.get("hang", timeout=2)
        assert loop.time() - start == pytest.approx(2, abs=0.01)

        with pytest.raises(ServerError) as info:
            await client.leads.get("fail", max_retries=0)
        assert info.value.attempts == 1
        with pytest.raises(ServerError) as info:
            await client.leads.get("fail")  # the client's own 3 retries
        assert info.value.attempts == 4


async def test_options_can_be_kept_in_a_typed_dict(server: LocalServer) -> None:
    options: RequestOptions = {"extra_headers": {"X-Workspace": "acme"}, "max_retries": 0}
    async with client_for(server) as client:
        await client.leads.get("L1", **options)
        await client.leads.delete("L1", **options)
    assert [seen.headers["X-Workspace"] for seen in server.seen] == ["acme", "acme"]


async def test_list_sends_its_options_with_every_page() -> None:
    pages = {None: ("c1", [LEAD]), "c1": ("c2", [LEAD]), "c2": (None, [LEAD])}

    async def paged(request: web.Request) -> web.StreamResponse:
        cursor = json.loads(await request.read()).get("starting_after")
        after, items = pages[cursor]
        return web.json_response({"items": items, "next_starting_after": after})

    async with (
        LocalServer(paged) as server,
        client_for(server) as client,
    ):
        leads = [
            lead
            async for lead in client.leads.list(
                extra_headers={"X-Trace": "walk"}, extra_body={"extra": True}
            )
        ]
    assert len(leads) == 3
    assert [seen.headers.get("X-Trace") for seen in server.seen] == ["walk"] * 3
    assert [json.loads(seen.body) for seen in server.seen] == [
        {"extra": True},
        {"extra": True, "starting_after": "c1"},
        {"extra": True, "starting_after": "c2"},
    ]


# --- with_options ---------------------------------------------------------------------------


async def test_with_options_changes_defaults_and_shares_the_rest(server: LocalServer) -> None:
    async with client_for(server, rate_limit=(50, None), max_retries=4) as client:
        fast = client.with_options(timeout=1, max_retries=0, headers={"X-Workspace": "acme"})
        assert fast.limiter is client.limiter
        assert fast.stats is client.stats
        assert fast._transport._link is client._transport._link  # one session
        with pytest.raises(APITimeoutError):
            await fast.leads.get("hang")
        with pytest.raises(ServerError) as info:
            await fast.leads.get("fail")
        assert info.value.attempts == 1
        await fast.leads.get("L1")
        await client.leads.get("L1")
        # A child of a child keeps what it does not change.
        traced = fast.with_options(headers={"X-Trace": "1"})
        await traced.leads.get("L1")
    sent = server.seen[-3:]
    assert sent[0].headers["X-Workspace"] == "acme"
    assert "X-Workspace" not in sent[1].headers
    assert sent[2].headers["X-Workspace"] == "acme" and sent[2].headers["X-Trace"] == "1"
    assert client.stats.requests_sent == len(server.seen)


async def test_closing_a_child_leaves_the_parent_working(server: LocalServer) -> None:
    async with client_for(server) as client:
        async with client.with_options(timeout=5) as child:
            await child.leads.get("L1")
        assert child.closed and not client.closed
        with pytest.raises(ClientClosedError):
            await child.leads.get("L1")
        session = client._transport._link.session
        assert session is not None and not session.closed
        assert (await client.leads.get("L1")).email == "ada@example.com"
        other = client.with_options(max_retries=1)
    # Closing the parent closes the session they share: the child cannot go on either.
    assert client.closed and other.closed
    with pytest.raises(ClientClosedError):
        await other.leads.get("L1")


async def test_with_options_shares_one_limiter_at_the_server() -> None:
    arrivals: list[float] = []

    async def record(request: web.Request) -> web.StreamResponse:
        arrivals.append(asyncio.get_running_loop().time())
        return web.json_response(LEAD)

    async with (
        LocalServer(record) as server,
        client_for(server, rate_limit=RateLimiter(per_second=20, per_minute=None)) as client,
    ):
        child = client.with_options(timeout=60, headers={"X-Child": "1"})
        calls = [(child if i % 2 else client).leads.get("L1") for i in range(200)]
        await asyncio.gather(*calls)
    assert len(arrivals) == 200
    arrivals.sort()
    # In any one-second window the server sees at most the limit (22 allows for jitter).
    busiest = max(
        sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals)
    )
    assert busiest <= 22
    assert arrivals[-1] - arrivals[0] >= 9.0  # 200 at 20/s: paced, not sent at once


def test_with_options_refuses_bad_values() -> None:
    client = AsyncInstantly(api_key=KEY)
    with pytest.raises(ValueError, match="timeout"):
        client.with_options(timeout=-1)
    with pytest.raises(ValueError, match="attempt_timeout"):
        client.with_options(attempt_timeout=0)
    with pytest.raises(ValueError, match="max_retries"):
        client.with_options(max_retries=-2)
    with pytest.raises(ValueError, match="headers must not set Authorization"):
        client.with_options(headers={"Authorization": "Bearer x"})
    assert "***" in repr(client.with_options(timeout=3))
