"""The in-process gate's logic, on a fast-forwarded event loop clock (looptime): no real waits."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time

import looptime
import pytest
from aioresponses import aioresponses

from instantly import Limiter, Permit
from instantly._ratelimit import (
    BURST,
    HOLD,
    MARGIN,
    PACING,
    RECOVERY,
    RETIME_AFTER,
    RateLimiter,
)
from instantly.testing._arrivals import ArrivalLimits, busiest

pytestmark = pytest.mark.looptime

US = 1_000_000  # loop times are compared in whole microseconds, free of float noise
SECOND = 1.0 + MARGIN  # the window the gate keeps at its end


def spacing(per_second: float) -> float:
    """How far apart the gate paces starts under a per-second limit."""
    return PACING * SECOND / per_second


def now() -> float:
    return asyncio.get_running_loop().time()


def micros(t: float) -> int:
    return round(t * US)


async def acquire_all(limiter: RateLimiter, count: int) -> list[float]:
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        starts.append(now())

    await asyncio.gather(*(one() for _ in range(count)))
    return starts


# --- windows, margin, smoothing ----------------------------------------------------------------


async def test_no_window_of_a_second_and_the_margin_holds_more_than_the_limit() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    t0 = now()
    starts = await acquire_all(limiter, 350)
    assert len(starts) == 350
    assert busiest(starts, SECOND) == 100
    # The rate is the limit over the longer window: 300 starts take three of them.
    offsets = sorted(micros(t - t0) for t in starts)
    assert offsets[299] < micros(3 * SECOND) <= offsets[300]
    assert offsets[349] <= micros(3.5 * SECOND)


async def test_the_limit_is_spread_over_the_second() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    t0 = now()
    starts = await acquire_all(limiter, 200)
    offsets = sorted(micros(t - t0) for t in starts)
    gap = spacing(100)
    assert offsets[:BURST] == [0] * BURST  # a few pass at once...
    assert offsets[BURST : BURST + 5] == [micros(i * gap) for i in range(1, 6)]  # ...then paced
    assert busiest(starts, 10 * gap) <= 10 + BURST
    assert busiest(starts, 0.5) <= 0.5 / gap + BURST  # never a second's worth at once


async def test_window_holds_for_staggered_arrivals() -> None:
    # Arrivals spread unevenly, with bursts: a bucket that refills would let 2N through here.
    limiter = RateLimiter(per_second=50, per_minute=None)
    rng = random.Random(7)
    starts: list[float] = []

    async def one(delay: float) -> None:
        await asyncio.sleep(delay)
        await limiter.acquire()
        starts.append(now())

    # On a 10 ms grid: fewer distinct timers keep the test quick.
    delays = [
        rng.choice([0.0, 0.5, 0.99, 1.0, 1.01]) + rng.randrange(300) / 100 for _ in range(400)
    ]
    await asyncio.gather(*(one(d) for d in delays))
    assert len(starts) == 400
    assert busiest(starts, SECOND) <= 50
    assert busiest(starts, 10 * spacing(50)) <= 10 + BURST


async def test_fifo_under_a_thousand_waiters() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    granted: list[int] = []

    async def one(i: int) -> None:
        await limiter.acquire()
        granted.append(i)

    # Tasks start in creation order, so they queue in that order.
    await asyncio.gather(*(one(i) for i in range(1000)))
    assert granted == list(range(1000))
    assert limiter.acquired == 1000
    assert limiter.delayed == 1000 - BURST  # the first few passed at once


async def test_latecomer_does_not_jump_the_queue() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    order: list[str] = []
    await limiter.acquire()

    async def one(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await limiter.acquire()
        order.append(name)

    await asyncio.gather(one("early", 0.1), one("late", 0.9), one("later", 0.95))
    assert order == ["early", "late", "later"]


async def test_per_minute_limit() -> None:
    limiter = RateLimiter(per_second=None, per_minute=10)
    t0 = now()
    starts = await acquire_all(limiter, 25)
    offsets = sorted(micros(t - t0) for t in starts)
    minute = 60 + MARGIN
    assert offsets == [0] * 10 + [micros(minute)] * 10 + [micros(2 * minute)] * 5


async def test_both_limits_apply() -> None:
    limiter = RateLimiter(per_second=5, per_minute=12)
    t0 = now()
    starts = await acquire_all(limiter, 13)
    offsets = sorted(t - t0 for t in starts)
    assert busiest(starts, SECOND) == 5
    assert busiest(starts, 60 + MARGIN) == 12
    assert offsets[11] < 3.0  # a dozen within the minute's limit, five a second...
    assert micros(offsets[12]) == micros(60 + MARGIN)  # ...the 13th once the minute allows


async def test_a_start_that_left_late_is_counted_from_when_it_left() -> None:
    # A new connection (DNS, TLS) can hold a request longer than the margin: its slot must
    # free when the server's window moves past its arrival, not past the gate's start.
    limiter = RateLimiter(per_second=1, per_minute=2)
    t0 = now()
    first = await limiter.acquire()
    limiter.sent(first, t0 + 0.3)  # it left 300 ms after the gate let it through
    assert micros(first.started) == micros(t0 + 0.3)  # (a 429 of it is learned from then)
    await limiter.acquire()
    assert micros(now() - t0) == micros(0.3 + SECOND)  # not at SECOND: counted from 0.3
    # The minute's window re-timed it too: the third waits for the first's minute from 0.3.
    await limiter.acquire()
    assert micros(now() - t0) == micros(0.3 + 60 + MARGIN)
    assert limiter.retimed == 1


async def test_a_start_that_left_on_time_is_left_alone() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    t0 = now()
    permit = await limiter.acquire()
    limiter.sent(permit, t0 + RETIME_AFTER / 2)  # within what the margin absorbs
    await limiter.acquire()
    assert micros(now() - t0) == micros(SECOND)
    assert limiter.retimed == 0 and micros(permit.started) == micros(t0)


async def test_an_endpoints_own_window_is_re_timed_too() -> None:
    limiter = RateLimiter(per_second=None, per_minute=None)
    t0 = now()
    permit = await limiter.acquire("listEmail", ((1, 60.0),))
    limiter.sent(permit, t0 + 0.5)
    await limiter.acquire("listEmail", ((1, 60.0),))
    assert micros(now() - t0) == micros(0.5 + 60 + MARGIN)


async def test_none_disables_limits_and_the_fast_path_never_suspends() -> None:
    limiter = RateLimiter(per_second=None, per_minute=None)
    t0 = now()
    for _ in range(10_000):
        # Completes on the first step: no future, no task, no trip through the event loop.
        with pytest.raises(StopIteration):
            limiter.acquire().send(None)
    assert now() == t0
    assert limiter.acquired == 10_000
    assert limiter.delayed == 0
    assert limiter.rate is None


async def test_unthrottled_acquire_does_not_suspend() -> None:
    limiter = RateLimiter(per_second=30, per_minute=None)
    for _ in range(BURST):
        with pytest.raises(StopIteration):
            limiter.acquire().send(None)
    coro = limiter.acquire()
    coro.send(None)  # the next has to wait for its pace: it suspends
    coro.close()
    assert limiter.waiting == 0


def test_rejects_impossible_limits() -> None:
    with pytest.raises(ValueError, match="None to disable"):
        RateLimiter(per_second=0)
    assert "100/1s" in repr(RateLimiter())


def test_both_limiters_are_limiters() -> None:
    assert isinstance(RateLimiter(), Limiter)
    assert not isinstance(object(), Limiter)


# --- endpoints -------------------------------------------------------------------------------


async def test_endpoint_limits_are_kept_per_key() -> None:
    limiter = RateLimiter()
    t0 = now()
    starts: dict[str, list[float]] = {"listEmail": [], "testEmail": [], "other": []}

    async def one(key: str, limits: tuple[tuple[int, float], ...]) -> None:
        await limiter.acquire(key, limits)
        starts[key].append(now() - t0)

    await asyncio.gather(
        *(one("listEmail", ((20, 60.0),)) for _ in range(25)),
        *(one("testEmail", ((10, 60.0),)) for _ in range(12)),
        *(one("other", ()) for _ in range(30)),
    )
    emails = sorted(starts["listEmail"])
    assert emails[19] < 1.0 and micros(emails[20]) >= micros(emails[0] + 60 + MARGIN)
    assert busiest(emails, 60 + MARGIN) == 20
    tests = sorted(starts["testEmail"])
    assert tests[9] < 1.0 and micros(tests[10]) >= micros(tests[0] + 60 + MARGIN)
    assert max(starts["other"]) < 1.0  # never held back by the endpoints' minute
    assert limiter.acquired == 25 + 12 + 30


async def test_a_held_back_endpoint_does_not_block_others() -> None:
    limiter = RateLimiter()
    await limiter.acquire("listEmail", ((1, 60.0),))
    waiting = asyncio.create_task(limiter.acquire("listEmail", ((1, 60.0),)))
    await asyncio.sleep(0)
    t0 = now()
    await limiter.acquire()
    await limiter.acquire("other", ((1, 60.0),))
    assert now() == t0
    assert not waiting.done()
    permit = await waiting
    assert micros(now()) == micros(t0 + 60 + MARGIN)
    assert permit.key == "listEmail"
    assert permit.waited == pytest.approx(60 + MARGIN)


async def test_endpoint_limits_need_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        await RateLimiter().acquire(endpoint_limits=((1, 1.0),))


# --- pauses and 429s -------------------------------------------------------------------------


async def test_pause_holds_back_everyone_until_the_deadline() -> None:
    limiter = RateLimiter()
    t0 = now()
    limiter.pause(2.0)
    limiter.pause(0.5)  # never shortens
    starts = await acquire_all(limiter, 10)
    assert min(micros(t - t0) for t in starts) == 2 * US  # the first right at the deadline
    assert limiter.pauses == 1
    assert limiter.paused_until == t0 + 2.0


async def test_pause_extended_while_waiting() -> None:
    limiter = RateLimiter()
    t0 = now()
    limiter.pause(1.0)
    task = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.5)
    limiter.pause_until(t0 + 3.0)
    await task
    assert micros(now() - t0) == 3 * US


async def test_a_429_elsewhere_pauses_the_workspace() -> None:
    limiter = RateLimiter()
    permit = await limiter.acquire()
    t0 = now()
    assert await limiter.on_rate_limited(permit, 2.0) == "all requests"
    await limiter.acquire("listEmail", ((20, 60.0),))
    assert micros(now() - t0) == 2 * US


async def test_a_429_on_an_endpoint_with_its_own_limit_pauses_that_endpoint_only() -> None:
    limiter = RateLimiter()
    permit = await limiter.acquire("listEmail", ((20, 60.0),))
    t0 = now()
    assert await limiter.on_rate_limited(permit, 30.0) == "listEmail requests"
    await limiter.acquire()
    await limiter.acquire("getLead", ())
    assert now() == t0  # the rest of the workspace goes on
    await limiter.acquire("listEmail", ((20, 60.0),))
    assert micros(now() - t0) == 30 * US
    assert limiter.cuts == 0 and limiter.rate == 100  # an endpoint's limit is not the workspace's


async def test_a_429_lowers_the_rate_to_what_the_server_let_through() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    permits = [await limiter.acquire() for _ in range(20)]  # 20 in the server's second...
    await asyncio.sleep(0.3)
    refused = await limiter.acquire()  # ...and the 21st is refused
    await limiter.on_rate_limited(refused, 1.0)
    assert limiter.rate == 20 and limiter.cuts == 1
    # A 429 of a request sent before the cut says nothing new.
    await limiter.on_rate_limited(permits[-1], 1.0)
    assert limiter.rate == 20 and limiter.cuts == 1
    # Once through the pause, at most 20 start in any second (and its margin).
    t0 = now()
    starts = await acquire_all(limiter, 60)
    assert min(starts) >= t0 + 1.0
    assert busiest(starts, SECOND) <= 20
    assert busiest(starts, 10 * spacing(20)) <= 10 + BURST


async def test_a_429_at_the_configured_rate_cuts_a_little() -> None:
    # One 429 from jitter at a server whose limit is ours: a small step down, not a halving.
    limiter = RateLimiter(per_second=100, per_minute=None)
    permits = await asyncio.gather(*(limiter.acquire() for _ in range(101)))
    await limiter.on_rate_limited(permits[-1], 1.0)
    assert limiter.rate == pytest.approx(95.0)


async def test_the_learned_rate_climbs_back_after_a_quiet_spell() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    for _ in range(20):
        await limiter.acquire()
    refused = await limiter.acquire()
    await limiter.on_rate_limited(refused, 1.0)
    assert limiter.rate == 20
    await asyncio.sleep(HOLD)
    assert limiter.rate == 20
    await asyncio.sleep(10)
    assert limiter.rate == pytest.approx(20 + 100 * RECOVERY * 10)
    await asyncio.sleep(1000)
    assert limiter.rate == 100


async def test_not_adaptive_keeps_the_rate() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None, adaptive=False)
    permit = await limiter.acquire()
    await limiter.on_rate_limited(permit, 1.0)
    assert limiter.rate == 100 and limiter.cuts == 0


async def test_against_a_strict_server_at_a_fifth_of_the_configured_rate() -> None:
    # The case: 400 calls, a server at 20/s, a client configured for 100/s.
    server = ArrivalLimits(20, None)
    limiter = RateLimiter(per_second=100, per_minute=6000)
    refused = 0

    async def call() -> None:
        nonlocal refused
        while True:
            permit = await limiter.acquire()
            wait = server.admit(now())
            if wait is None:
                return
            refused += 1
            await limiter.on_rate_limited(permit, max(1, math.ceil(wait)))

    t0 = now()
    await asyncio.gather(*(call() for _ in range(400)))
    elapsed = now() - t0
    assert refused <= 0.10 * (400 + refused)
    assert elapsed <= 1.3 * 400 / 20
    assert 15 <= (limiter.rate or 0) <= 21


# --- cancellation and loops --------------------------------------------------------------------


async def test_a_cancelled_head_hands_its_turn_on() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    await limiter.acquire()
    t0 = now()
    doomed = asyncio.create_task(limiter.acquire())  # the head, asleep until the window opens
    survivor = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.1)
    assert limiter.waiting == 2
    doomed.cancel()
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    await survivor
    assert micros(now() - t0) == micros(SECOND)  # one window after the first start
    assert doomed.cancelled()
    assert limiter.acquired == 2


async def test_a_cancelled_waiter_in_the_middle_leaves_the_order_intact() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    await limiter.acquire()
    order: list[int] = []

    async def one(i: int) -> None:
        await limiter.acquire()
        order.append(i)

    tasks = [asyncio.create_task(one(i)) for i in range(4)]
    await asyncio.sleep(0.1)
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == [0, 2, 3]
    assert limiter.acquired == 4 and limiter.waiting == 0


async def test_a_waiter_cancelled_just_as_its_turn_came_hands_it_on() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    await limiter.acquire()
    t0 = now()
    first = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.1)
    await first  # it leaves the queue and wakes `second`, which has not run yet...
    second.cancel()  # ...and is cancelled before it does
    await third
    assert second.cancelled()
    assert micros(now() - t0) == micros(2 * SECOND)  # `second` took no start
    assert limiter.acquired == 3


async def test_cancelled_while_its_endpoint_holds_it_back() -> None:
    limiter = RateLimiter()
    limits = ((1, 60.0),)
    await limiter.acquire("listEmail", limits)
    t0 = now()
    doomed = asyncio.create_task(limiter.acquire("listEmail", limits))
    later = asyncio.create_task(limiter.acquire("listEmail", limits))
    await asyncio.sleep(1)
    doomed.cancel()
    await later
    assert micros(now() - t0) == micros(60 + MARGIN)  # the cancelled one took no start
    assert limiter.acquired == 2


async def test_cancelled_at_the_shared_gate_while_holding_its_endpoints_turn() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    limits = ((2, 60.0),)
    await limiter.acquire()  # the second's window is full
    doomed = asyncio.create_task(limiter.acquire("listEmail", limits))
    later = asyncio.create_task(limiter.acquire("listEmail", limits))
    await asyncio.sleep(0.5)
    doomed.cancel()
    await later
    await limiter.acquire("listEmail", limits)  # the endpoint's second start is still free
    assert limiter.acquired == 3


def test_one_limiter_across_successive_event_loops() -> None:
    # `asyncio.run` twice (each with a fake clock): the first run ends with waiters queued,
    # which the run cancels; the second must not inherit anything that hangs.
    limiter = RateLimiter(per_second=2, per_minute=None)
    clock = 1000.0

    async def first_run() -> None:
        tasks = [asyncio.create_task(limiter.acquire()) for _ in range(6)]
        await asyncio.gather(*tasks[:3])  # the rest are still queued when the run ends

    async def second_run() -> float:
        t0 = now()
        await asyncio.gather(*(limiter.acquire() for _ in range(3)))
        return now() - t0

    with asyncio.Runner(loop_factory=lambda: looptime.new_event_loop(start=clock)) as runner:
        runner.run(first_run())
    assert limiter.waiting == 0
    with asyncio.Runner(loop_factory=lambda: looptime.new_event_loop(start=clock + 10)) as runner:
        took = runner.run(asyncio.wait_for(second_run(), 60))
    assert micros(took) == micros(SECOND)  # two at once, the third a window later


def test_a_loop_closed_with_a_waiter_left_in_the_queue_does_not_block_the_next() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    dead = looptime.new_event_loop(start=0.0)
    stranded = [dead.create_task(limiter.acquire()) for _ in range(2)]
    dead.run_until_complete(asyncio.sleep(0.5))  # one started, one queued for its window
    dead.close()  # no cancellation: the queued one is stranded for good
    assert not stranded[1].done()

    async def later() -> Permit:
        return await limiter.acquire()

    with asyncio.Runner(loop_factory=lambda: looptime.new_event_loop(start=10.0)) as runner:
        permit = runner.run(asyncio.wait_for(later(), 60))
    assert permit.started >= 10.0
    stranded[1]._log_destroy_pending = False  # type: ignore[attr-defined]  # closed on purpose


@pytest.mark.looptime(False)
def test_threads_with_loops_of_their_own_share_one_limiter() -> None:
    # Real time (a second): two threads, each with its own loop, take turns at one gate.
    limiter = RateLimiter(per_second=20, per_minute=None)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        async def main() -> None:
            for _ in range(15):
                await limiter.acquire()
                with lock:
                    starts.append(time.monotonic())

        asyncio.run(main())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(starts) == 30 and limiter.acquired == 30
    assert busiest(starts, 1.0) <= 20


# --- what the caller sees ------------------------------------------------------------------


async def test_a_request_held_more_than_a_second_logs_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="instantly.ratelimit")
    limiter = RateLimiter()
    limits = ((20, 60.0),)
    for _ in range(20):
        await limiter.acquire("listEmail", limits)
    assert caplog.records == []  # nothing was held back
    await limiter.acquire("listEmail", limits)  # the 21st within the minute
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "to listEmail" in message and "59." in message
    assert "listEmail's own limit of 20 per 60 s" in message


async def test_a_short_hold_logs_nothing_and_a_long_queue_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="instantly.ratelimit")
    limiter = RateLimiter(per_second=10, per_minute=None)
    await acquire_all(limiter, 10)  # within the first second
    assert caplog.records == []
    await acquire_all(limiter, 25)  # the last ones queue for more than a second
    held = [r.getMessage() for r in caplog.records]
    assert held and all("held a request for" in m for m in held)
    assert "queued requests: the workspace limit of 10 per second" in held[-1]
    assert len(held) <= 25  # one line per request at most


async def test_the_transport_counts_gate_waits(
    mock_api: aioresponses, make_transport: object
) -> None:
    mock_api.get("https://api.instantly.test/api/v2/leads", payload={}, repeat=True)
    limiter = RateLimiter(per_second=1, per_minute=None)
    transport = make_transport(limiter=limiter)  # type: ignore[operator]
    for _ in range(3):
        await transport.request("GET", "/api/v2/leads", retry_safe=True)
    assert transport.stats.gate_waits == 2
    assert transport.stats.gate_wait_s == pytest.approx(2 * SECOND)
