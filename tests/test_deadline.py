"""The deadline of a call: `timeout` bounds the whole call, retries and their waits included.

On the fake clock (looptime) against real servers on 127.0.0.1: a hung server, a slow one, one
that fails with a long Retry-After. The clock readings are the loop's, so they are exact.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from local_server import LocalServer

from instantly import AsyncInstantly, RateLimiter
from instantly._ratelimit import MARGIN
from instantly.errors import APITimeoutError, RateLimitError, ServerError

pytestmark = pytest.mark.looptime

KEY = "sk-deadline-test-KEY-777"
LEAD = json.loads(
    (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
)["items"][0]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def hung() -> AsyncIterator[LocalServer]:
    """A server that never answers (until the test ends, so that it can stop)."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    async with LocalServer(hang) as server:
        yield server
        release.set()


def clock() -> float:
    return asyncio.get_running_loop().time()


async def test_a_hung_server_ends_the_call_within_its_deadline(hung: LocalServer) -> None:
    server = hung
    async with AsyncInstantly(
        api_key=KEY, base_url=server.url, rate_limit=None, timeout=1, max_retries=5
    ) as client:
        start = clock()
        with pytest.raises(APITimeoutError) as info:
            await client.leads.get("L1")
        # It used to be 6 attempts of 1 s each plus backoff (14.5 s): now 1 s, all told.
        assert clock() - start == pytest.approx(1.0, abs=0.01)
        assert "timeout 1 s for the whole call" in str(info.value)
        assert len(server.seen) == 1

        # The default deadline (30 s) holds as well.
        slow = client.with_options(timeout=30.0)
        start = clock()
        with pytest.raises(APITimeoutError):
            await slow.leads.get("L1")
        assert clock() - start == pytest.approx(30.0, abs=0.01)


async def test_attempts_bounded_on_their_own_still_end_by_the_deadline(
    hung: LocalServer,
) -> None:
    server = hung
    async with AsyncInstantly(
        api_key=KEY,
        base_url=server.url,
        rate_limit=None,
        timeout=2.0,
        attempt_timeout=0.5,
        max_retries=10,
    ) as client:
        start = clock()
        with pytest.raises(APITimeoutError) as info:
            await client.leads.get("L1")
        assert clock() - start <= 2.0 + 1e-6
        assert len(server.seen) >= 2  # timed-out attempts of a GET are retried
        assert info.value.attempts == len(server.seen)


async def test_a_slow_answer_within_the_deadline_is_read() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(20)
        return web.json_response(LEAD)

    async with (
        LocalServer(slow) as server,
        AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None, timeout=None) as client,
    ):
        assert (await client.leads.get("L1")).id == LEAD["id"]
        assert (await client.leads.get("L1", timeout=25)).id == LEAD["id"]
        with pytest.raises(APITimeoutError):
            await client.leads.get("L1", timeout=19, max_retries=0)


async def test_a_retry_that_would_start_after_the_deadline_is_not_made() -> None:
    async def unavailable(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"statusCode": 503, "error": "Unavailable"}, status=503, headers={"Retry-After": "10"}
        )

    async with (
        LocalServer(unavailable) as server,
        AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None, max_retries=5) as client,
    ):
        start = clock()
        with pytest.raises(ServerError) as info:
            await client.leads.get("L1", timeout=5)
        # The server's own error, at once: waiting 10 s would pass the 5 s deadline anyway.
        assert clock() - start < 0.1
        assert info.value.attempts == 1
        # With room for it, the wait is made.
        with pytest.raises(ServerError) as info:
            await client.leads.get("L1", timeout=25, max_retries=5)
        assert info.value.attempts == 3  # 0 s, 10 s, 20 s; a fourth at 30 s would be too late


@pytest.mark.parametrize("with_limiter", [True, False])
async def test_a_429_pause_longer_than_the_time_left_raises_at_once(with_limiter: bool) -> None:
    async def limited(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"statusCode": 429, "error": "Too Many Requests"},
            status=429,
            headers={"Retry-After": "8"},
        )

    limiter = RateLimiter() if with_limiter else None
    async with (
        LocalServer(limited) as server,
        AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=limiter) as client,
    ):
        start = clock()
        with pytest.raises(RateLimitError) as info:
            await client.leads.get("L1", timeout=5)
        assert clock() - start < 0.1
        assert info.value.retry_after == 8
        start = clock()
        with pytest.raises(RateLimitError) as info:
            await client.leads.get("L1", timeout=20)
        # Pauses of 8 s count against the deadline (the limiter's included): attempts at 0, 8
        # and 16 s; the pause before a fourth would end past 20 s. With a limiter, the first
        # call's 429 paused the gate for 8 s too (the workspace is limited, not one call): that
        # wait is queueing, which does not count.
        assert info.value.attempts == 3
        queued = 8.0 if with_limiter else 0.0
        assert clock() - start == pytest.approx(queued + 16.0, abs=0.1)


async def test_time_queued_at_the_rate_gate_does_not_count() -> None:
    async def slowish(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.3)
        return web.json_response(LEAD)

    async with (
        LocalServer(slowish) as server,
        AsyncInstantly(
            api_key=KEY,
            base_url=server.url,
            rate_limit=RateLimiter(per_second=1, per_minute=None),
            timeout=0.5,
        ) as client,
    ):
        start = clock()
        leads = await asyncio.gather(*(client.leads.get("L1") for _ in range(5)))
        # The last one waited 4 windows at the gate (each a second and the gate's margin), far
        # over its 0.5 s, and still succeeded: the gate is the client's own queue, the deadline
        # is for the request.
        assert clock() - start == pytest.approx(4 * (1 + MARGIN) + 0.3, abs=0.05)
        assert len(leads) == 5
