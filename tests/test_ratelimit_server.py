"""The gate as the server sees it: the strict mock over loopback, in real time.

Each test takes a few seconds of real time, because what is measured is when requests *arrive*
(the mock records it), which a fake clock cannot show. The bounds are loose enough for a loaded
2-core machine and still fail the gate this replaced (a log of exactly one second, no
smoothing: 200 requests in the server's busiest second for a limit of 100, 429s for a third of
the calls against a server at a fifth of the configured rate); the tight goals are in
`bench/ratelimit.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slow_connections import slow_connections, via_localhost

from instantly import AsyncInstantly, RateLimiter
from instantly.errors import ClientClosedError, RateLimitError
from instantly.models import Lead
from instantly.testing import MockInstantly
from instantly.testing._arrivals import busiest

KEY = "test"


def busiest_second(arrivals: list[float], since: float = -1.0, until: float = 1e18) -> int:
    """The most arrivals in one second, counting those in [since, until)."""
    return busiest(t for t in arrivals if since <= t < until)


async def concurrent_gets(client: AsyncInstantly, lead_id: str, count: int) -> float:
    """`count` concurrent `leads.get`, all succeeding; returns the wall time they took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    leads = await asyncio.gather(*(client.leads.get(lead_id) for _ in range(count)))
    assert all(lead.id == lead_id for lead in leads)
    return loop.time() - started


async def seeded(mock: MockInstantly) -> str:
    async with mock.client(rate_limit=None) as seeder:
        lead_id = (await seeder.leads.create(email="ada@example.com")).id
    await asyncio.sleep(1.05)  # out of the server's window before anything is measured
    return lead_id


@pytest.mark.parametrize(("limit", "calls"), [(100, 300), (20, 60)])
async def test_the_limit_holds_where_the_server_counts(limit: int, calls: int) -> None:
    # The burst: everything at once. The server's busiest second stays at the limit.
    async with MockInstantly(KEY, rate_limit=(limit, 6000), record_arrivals=True) as mock:
        lead_id = await seeded(mock)
        t0 = asyncio.get_running_loop().time()
        client = mock.client(rate_limit=(limit, 6000), max_retries=10)
        took = await concurrent_gets(client, lead_id, calls)
        assert busiest_second(mock.arrivals, since=t0) <= limit + 2
        # Every arrival (the seeding's too) goes to both counts. `busiest` compares whole
        # microseconds and the server's counter raw floats, so two arrivals within a microsecond
        # of a second apart can be in one window of the server's and not in one of `busiest`'s.
        arrivals = mock.arrivals
        assert busiest(arrivals) <= mock.peak_per_second <= busiest(arrivals, period=1.000001)
        assert client.stats.rate_limited <= calls // 100 + 1
        assert took <= 1.5 * calls / limit
        assert client.stats.gate_waits > 0 and client.stats.gate_wait_s > 0


async def test_a_client_configured_too_fast_learns_the_servers_limit() -> None:
    # Server at 20/s, client configured for 100/s (the bench runs the full 400 calls).
    async with MockInstantly(KEY, rate_limit=(20, 1200)) as mock:
        lead_id = await seeded(mock)
        client = mock.client(rate_limit=(100, 6000), max_retries=20)
        calls = 100
        took = await concurrent_gets(client, lead_id, calls)
        stats = client.stats
        assert stats.rate_limited <= 0.2 * stats.requests_sent  # the old gate: two in three
        assert took <= 1.6 * calls / 20
        limiter: Any = client.limiter
        assert limiter.rate < 21


async def test_a_429_on_an_endpoint_with_its_own_limit_freezes_only_that_endpoint() -> None:
    async with MockInstantly(KEY, rate_limit=(100, 6000)) as mock:
        lead_id = await seeded(mock)
        # Another client of the workspace has used GET /emails' 20 a minute.
        async with mock.client(rate_limit=None, max_retries=0) as other:
            for _ in range(20):
                await other.emails.list_page()
            with pytest.raises(RateLimitError):
                await other.emails.list_page()
        client = mock.client(max_retries=3)
        # A deadline past the Retry-After, so the call waits it out (the default 30 s would not).
        emails = asyncio.create_task(client.emails.list_page(timeout=120))
        for _ in range(500):  # until our first try is answered 429 (Retry-After ~60)
            if mock.state.rate_limited >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert mock.state.rate_limited == 2
        took = await concurrent_gets(client, lead_id, 20)
        assert took < 1.0  # leads.get goes on; before, all of them waited out the minute
        assert not emails.done()
        limiter: Any = client.limiter
        assert limiter.rate == 100  # an endpoint's 429 says nothing of the workspace's rate
        emails.cancel()
        with pytest.raises(asyncio.CancelledError):
            await emails


def test_one_limiter_across_two_asyncio_runs() -> None:
    # The README's advice, one limiter per workspace, with a script that runs twice.
    limiter = RateLimiter(per_second=5, per_minute=None)

    async def job() -> int:
        async with MockInstantly(KEY, rate_limit=(5, None)) as mock:
            lead_id = await seeded(mock)
            client = mock.client(rate_limit=limiter, max_retries=5)
            # The run ends with calls still queued at the gate: they are cancelled.
            pending = [asyncio.create_task(client.leads.get(lead_id)) for _ in range(9)]
            await asyncio.gather(*pending[:6])
            rate_limited = client.stats.rate_limited
            await client.aclose()
            ends = await asyncio.gather(*pending[6:], return_exceptions=True)
            # Each call still queued either got through or ended with ClientClosedError.
            assert all(isinstance(end, (Lead, ClientClosedError)) for end in ends), ends
            return rate_limited

    first = asyncio.run(asyncio.wait_for(job(), 30))
    second = asyncio.run(asyncio.wait_for(job(), 30))  # used to hang here forever
    assert first <= 1 and second <= 1  # (a 429 would be retried; it is jitter, not a hang)
    assert limiter.waiting == 0


async def test_requests_on_slow_new_connections_are_counted_from_when_they_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A distant server: a new connection takes 150 ms (DNS, TLS), a warm one nothing. The
    # first burst leaves late, the next second's calls at once: counted from the gate's start,
    # the server saw 23 in a second at a limit of 20, and answered three of them 429.
    async with MockInstantly(KEY, rate_limit=(20, 6000), record_arrivals=True) as mock:
        lead_id = await seeded(mock)
        slow_connections(monkeypatch, 0.15)
        t0 = asyncio.get_running_loop().time()
        async with AsyncInstantly(
            api_key=KEY,
            base_url=via_localhost(mock.url),
            allow_insecure=True,
            rate_limit=(20, 6000),
            max_retries=10,
        ) as client:
            await concurrent_gets(client, lead_id, 80)
            limiter: Any = client.limiter
            assert limiter.retimed > 0  # the first burst's starts were moved to when they left
            # (One request over, or one 429, is loop jitter on a loaded machine; it was 3 and 3.)
            assert busiest_second(mock.arrivals, since=t0) <= 21
            assert client.stats.rate_limited <= 1
