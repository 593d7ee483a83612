"""`RedisRateLimiter` against a real redis-server and the strict mock, in real time.

The fixture starts the Debian package's `redis-server` on a free 127.0.0.1 port in a temporary
directory (no persistence) and kills it afterwards. Without redis-server on PATH these tests
fail in CI (CI=true) and are skipped elsewhere, saying how to install it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slow_connections import slow_connections, via_localhost

from instantly import AsyncInstantly, Permit, RedisRateLimiter
from instantly._ratelimit import MARGIN
from instantly._ratelimit_redis import PROBE_INTERVAL
from instantly.testing import MockInstantly
from instantly.testing._arrivals import busiest
from instantly.testing._redis import INSTALL_HINT, RedisServer, redis_server

KEY = "test"
WORKER = Path(__file__).with_name("_redis_worker.py")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A fresh redis-server for one test."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    with redis_server() as server:
        yield server


def release(barrier: Path, workers: int) -> float:
    """Once every worker is ready, write `go`: the start time (monotonic, 0.2 s from now)."""
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < workers and time.monotonic() < deadline:
        time.sleep(0.01)
    start_at = time.monotonic() + 0.2
    (barrier / "go.tmp").write_text(repr(start_at))
    (barrier / "go.tmp").rename(barrier / "go")
    return start_at


def busiest_second(arrivals: list[float], since: float = -1.0, until: float = 1e18) -> int:
    """The most arrivals in one second, counting those in [since, until)."""
    return busiest(t for t in arrivals if since <= t < until)


async def seeded(mock: MockInstantly) -> str:
    async with mock.client(rate_limit=None) as seeder:
        lead_id = (await seeder.leads.create(email="ada@example.com")).id
    await asyncio.sleep(1.05)  # out of the server's window before anything is measured
    return lead_id


def limiter(redis: RedisServer, per_second: int = 20, **options: Any) -> RedisRateLimiter:
    return RedisRateLimiter(
        redis.url, workspace="tests", per_second=per_second, per_minute=6000, **options
    )


async def test_four_processes_share_one_limit_at_the_server(redis: RedisServer) -> None:
    workers, each, per_second = 4, 20, 20
    async with MockInstantly(KEY, rate_limit=(per_second, 1200), record_arrivals=True) as mock:
        lead_id = await seeded(mock)
        with tempfile.TemporaryDirectory() as barrier:
            processes = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(WORKER),
                    json.dumps(
                        {
                            "url": mock.url,
                            "redis": redis.url,
                            "lead_id": lead_id,
                            "count": each,
                            "per_second": per_second,
                            "barrier": barrier,
                            "index": i,
                        }
                    ),
                    stdout=subprocess.PIPE,
                )
                for i in range(workers)
            ]
            # Imports take their time on a loaded machine: the clock starts when all are ready.
            start_at = await asyncio.to_thread(release, Path(barrier), workers)
            outputs = [await process.communicate() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    results = [json.loads(stdout) for stdout, _ in outputs]
    calls = workers * each
    assert sum(r["succeeded"] for r in results) == calls
    assert busiest_second(mock.arrivals, since=start_at) <= per_second + 2
    requests = sum(r["requests"] for r in results)
    assert sum(r["rate_limited"] for r in results) <= 0.02 * requests
    elapsed = max(r["end"] for r in results) - start_at
    assert elapsed <= 1.25 * calls / per_second
    assert all(r["fallbacks"] == 0 for r in results)


async def test_a_429_seen_by_one_process_pauses_the_others(redis: RedisServer) -> None:
    one, other = limiter(redis), limiter(redis)  # two connections: as two processes
    loop = asyncio.get_running_loop()
    try:
        permit = await one.acquire()
        t0 = loop.time()
        assert "every process" in await one.on_rate_limited(permit, 0.5)
        await other.acquire()
        assert loop.time() - t0 >= 0.45
        # An endpoint's 429 pauses that endpoint everywhere, and nothing else.
        permit = await one.acquire("listEmail", ((20, 60.0),))
        t0 = loop.time()
        await one.on_rate_limited(permit, 0.5)
        await other.acquire()
        assert loop.time() - t0 < 0.3
        await other.acquire("listEmail", ((20, 60.0),))
        assert loop.time() - t0 >= 0.45
    finally:
        await one.aclose()
        await other.aclose()


async def test_a_rate_learned_by_one_process_applies_to_all(redis: RedisServer) -> None:
    one, other = limiter(redis, per_second=100), limiter(redis, per_second=100)
    try:
        for _ in range(20):  # the server let 20 through in a second...
            await one.acquire()
        refused = await one.acquire()  # ...and refused the 21st
        await one.on_rate_limited(refused, 0.1)
        assert one.rate == 20
        await other.acquire()
        assert other.rate == 20
    finally:
        await one.aclose()
        await other.aclose()


async def test_redis_killed_and_restarted_mid_run(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="instantly.ratelimit")
    per_second = 20
    limiters = [limiter(redis, per_second=per_second) for _ in range(2)]
    loop = asyncio.get_running_loop()
    async with MockInstantly(KEY, rate_limit=(per_second, 1200), record_arrivals=True) as mock:
        lead_id = await seeded(mock)
        clients = [mock.client(rate_limit=lim, max_retries=20) for lim in limiters]
        for client in clients:  # both have met Redis: each knows there are two processes
            await client.leads.get(lead_id)
        await asyncio.sleep(1.05)
        t0 = loop.time()

        async def blink() -> tuple[float, float]:
            await asyncio.sleep(1.5)
            down = loop.time()
            redis.stop()
            await asyncio.sleep(1.5)
            redis.start()
            return down, loop.time()

        outage = asyncio.create_task(blink())
        calls = 50
        results = await asyncio.gather(
            *(client.leads.get(lead_id) for client in clients for _ in range(calls))
        )
        down, up = await outage
        end = loop.time()
    assert len(results) == 2 * calls and all(lead.id == lead_id for lead in results)
    assert all(lim.fallbacks == 1 for lim in limiters)
    assert all(lim.shared for lim in limiters)  # back on Redis by the end
    arrivals = mock.arrivals
    # The shared limit held while Redis was up, before and after the outage; during it, each
    # process kept to half.
    assert busiest_second(arrivals, since=t0, until=down) <= per_second
    assert busiest_second(arrivals, since=up, until=end) <= per_second + 1
    assert busiest_second(arrivals, since=t0) <= per_second + 2
    unreachable = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 2  # one WARNING per process, not one per call
    assert "0.5 of the workspace limit" in unreachable[0]
    assert sum("is back;" in r.getMessage() for r in caplog.records) == 2
    assert sum(c.stats.rate_limited for c in clients) <= 2
    for lim in limiters:
        await lim.aclose()


async def test_redis_unreachable_from_the_start_never_fails_a_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="instantly.ratelimit")
    nowhere = RedisRateLimiter(
        "redis://:secret@127.0.0.1:1/0", workspace="tests", per_second=10, timeout=0.2
    )
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    permits = await asyncio.gather(*(nowhere.acquire() for _ in range(15)))
    assert all(isinstance(p, Permit) for p in permits)
    assert loop.time() - t0 >= 1.0  # still limited: on the local gate, at 10 per second
    assert not nowhere.shared and nowhere.fallbacks == 1
    assert len(caplog.records) == 1  # one WARNING, not one per call
    message = caplog.records[0].getMessage()
    assert "unreachable" in message and "secret" not in message
    assert "redis://127.0.0.1:1/0" in message
    assert "Redis is down" in await nowhere.on_rate_limited(permits[-1], 0.1)
    await nowhere.aclose()


def test_one_redis_limiter_across_two_asyncio_runs(redis: RedisServer) -> None:
    shared = limiter(redis, per_second=10)

    async def job() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.gather(*(shared.acquire() for _ in range(12)))
        return loop.time() - t0

    first = asyncio.run(asyncio.wait_for(job(), 30))
    second = asyncio.run(asyncio.wait_for(job(), 30))  # the first loop's connection is closed
    assert first >= 1.0 and second >= 0.9
    assert shared.fallbacks == 0


async def test_a_cancelled_waiter_gives_its_place_back(redis: RedisServer) -> None:
    gate = limiter(redis, per_second=1)
    loop = asyncio.get_running_loop()
    try:
        await gate.acquire()
        t0 = loop.time()
        doomed = asyncio.create_task(gate.acquire())  # the head, asleep until the window opens
        survivor = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0.2)
        doomed.cancel()
        await survivor
        assert doomed.cancelled()
        assert 0.8 <= loop.time() - t0 <= 1.0 + MARGIN + 0.3  # the first free start, not the second
    finally:
        await gate.aclose()


async def test_a_held_back_endpoint_does_not_hold_back_the_process(redis: RedisServer) -> None:
    gate = limiter(redis, per_second=100)
    loop = asyncio.get_running_loop()
    try:
        await gate.acquire("listEmail", ((1, 60.0),))
        waiting = asyncio.create_task(gate.acquire("listEmail", ((1, 60.0),)))
        await asyncio.sleep(0.1)
        t0 = loop.time()
        await asyncio.gather(*(gate.acquire() for _ in range(10)))
        assert loop.time() - t0 < 0.5
        assert not waiting.done()
        waiting.cancel()
    finally:
        await gate.aclose()


def test_importing_instantly_does_not_import_redis() -> None:
    code = (
        "import sys, instantly; instantly.AsyncInstantly(api_key='k'); "
        "assert 'redis' not in sys.modules; instantly.RedisRateLimiter; "
        "assert 'redis' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_the_client_accepts_a_redis_limiter(redis: RedisServer) -> None:
    shared = limiter(redis)
    async with AsyncInstantly(api_key=KEY, rate_limit=shared) as client:
        assert client.limiter is shared
    assert "workspace='tests'" in repr(shared) and "20/s" in repr(shared)
    with pytest.raises(ValueError, match="workspace"):
        RedisRateLimiter(redis.url, workspace="")


async def test_a_waiter_cancelled_while_redis_decides_takes_its_start_back(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis as redis_py

    gate = limiter(redis, per_second=2)
    loop = asyncio.get_running_loop()
    real_call = gate._call

    async def answered_but_cancelled(*args: Any, **kwargs: Any) -> Any:
        await real_call(*args, **kwargs)  # Redis has logged the start...
        raise asyncio.CancelledError  # ...and the waiter is cancelled before it hears so

    try:
        monkeypatch.setattr(gate, "_call", answered_but_cancelled)
        with pytest.raises(asyncio.CancelledError):
            await gate.acquire()
        monkeypatch.setattr(gate, "_call", real_call)
        await asyncio.sleep(0.2)
        with redis_py.Redis.from_url(redis.url) as client:
            assert client.zcard("instantly:ratelimit:{tests}:starts") == 0
        t0 = loop.time()
        await gate.acquire()
        await gate.acquire()  # both starts of the second are still free
        assert loop.time() - t0 < 0.5
        assert gate.fallbacks == 0
    finally:
        await gate.aclose()


async def test_an_endpoint_log_outlives_its_longest_window(redis: RedisServer) -> None:
    """An hour's or 30 days' starts are kept that long, not just the idle lifetime of the
    workspace's logs: a process that comes back after minutes still sees them."""
    import redis as redis_py

    gate = limiter(redis, per_second=100)
    month = ((500, 30 * 86400.0),)
    try:
        await gate.acquire("testAiReplyLabelLeadLabels", month)
        await gate.acquire("updateDomainForwarding", ((10, 60.0), (60, 3600.0)))
        with redis_py.Redis.from_url(redis.url) as client:
            prefix = "instantly:ratelimit:{tests}:endpoint:"
            assert client.ttl(prefix + "testAiReplyLabelLeadLabels") >= 30 * 86400
            assert client.ttl(prefix + "updateDomainForwarding") >= 3600
            assert client.zcard(prefix + "testAiReplyLabelLeadLabels") == 1
    finally:
        await gate.aclose()


async def test_requests_on_slow_new_connections_are_counted_from_when_they_left(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with the in-process gate (test_ratelimit_server): the first burst's starts, which
    # left 150 ms late on new connections, are moved in the shared log to when they left.
    async with MockInstantly(KEY, rate_limit=(20, 6000), record_arrivals=True) as mock:
        lead_id = await seeded(mock)
        slow_connections(monkeypatch, 0.15)
        shared = limiter(redis)
        t0 = asyncio.get_running_loop().time()
        async with AsyncInstantly(
            api_key=KEY,
            base_url=via_localhost(mock.url),
            allow_insecure=True,
            rate_limit=shared,
            max_retries=10,
        ) as client:
            await asyncio.gather(*(client.leads.get(lead_id) for _ in range(80)))
            assert shared.retimed > 0
            assert busiest_second(mock.arrivals, since=t0) <= 21  # it was 23, with three 429s
            assert client.stats.rate_limited <= 1
        await shared.aclose()


async def test_a_429_while_redis_stays_down_cuts_the_local_rate_once(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A request let through by Redis, then Redis gone, and still gone when the 429 probes it
    # again: the local gate learns from that one 429 once.
    caplog.set_level(logging.WARNING, logger="instantly.ratelimit")
    shared = limiter(redis, per_second=100, timeout=0.2)
    permit = await shared.acquire()
    redis.stop()
    await shared.acquire()  # finds Redis down: on the local gate from here
    assert not shared.shared
    await asyncio.sleep(PROBE_INTERVAL + 0.1)  # past the time to ask Redis again (real time)
    assert "Redis is down" in await shared.on_rate_limited(permit, 1.0)
    assert shared._local is not None and shared._local.cuts == 1
    assert sum("lowering the rate" in r.getMessage() for r in caplog.records) == 1
    await shared.aclose()
