from __future__ import annotations

import asyncio
import random

import pytest

from instantly._ratelimit import RateLimiter

# Every test runs on a fast-forwarded event loop clock: sleeps take no real time.
pytestmark = pytest.mark.looptime

US = 1_000_000  # loop times are compared in whole microseconds, free of float noise


def now() -> float:
    return asyncio.get_running_loop().time()


def micros(t: float) -> int:
    return round(t * US)


def max_in_any_window(starts: list[float], period: float) -> int:
    """The most starts inside any half-open window [t, t + period)."""
    ticks = sorted(micros(t) for t in starts)
    span = micros(period)
    most = 0
    j = 0
    for i, first in enumerate(ticks):
        # Windows that start at a start are the worst ones; count the starts before first+span.
        j = max(j, i)
        while j < len(ticks) and ticks[j] < first + span:
            j += 1
        most = max(most, j - i)
    return most


async def acquire_all(limiter: RateLimiter, count: int) -> list[float]:
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        starts.append(now())

    await asyncio.gather(*(one() for _ in range(count)))
    return starts


async def test_never_more_than_n_starts_in_any_second() -> None:
    limiter = RateLimiter(per_second=100, per_minute=None)
    t0 = now()
    starts = await acquire_all(limiter, 350)
    assert len(starts) == 350
    assert max_in_any_window(starts, 1.0) == 100
    # Full throughput all the same: 100 at once, then 100 more each second.
    offsets = sorted(micros(t - t0) for t in starts)
    assert offsets[99] == 0
    assert offsets[100] == offsets[199] == US
    assert offsets[349] == 3 * US


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
    assert max_in_any_window(starts, 1.0) <= 50


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
    assert limiter.delayed == 900


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
    assert offsets[:10] == [0] * 10
    assert offsets[10:20] == [60 * US] * 10
    assert offsets[20:] == [120 * US] * 5
    assert max_in_any_window(starts, 60.0) == 10


async def test_both_limits_apply() -> None:
    limiter = RateLimiter(per_second=5, per_minute=12)
    t0 = now()
    starts = await acquire_all(limiter, 13)
    offsets = sorted(micros(t - t0) for t in starts)
    assert offsets == [0] * 5 + [US] * 5 + [2 * US] * 2 + [60 * US]


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


async def test_unthrottled_acquire_does_not_suspend() -> None:
    limiter = RateLimiter(per_second=3, per_minute=None)
    for _ in range(3):
        with pytest.raises(StopIteration):
            limiter.acquire().send(None)
    coro = limiter.acquire()
    coro.send(None)  # the fourth has to wait: it suspends
    coro.close()
    assert limiter.waiting == 0


async def test_endpoint_limits_are_kept_per_key() -> None:
    limiter = RateLimiter()
    emails = ((20, 60.0),)
    t0 = now()
    starts: dict[str, list[float]] = {"listEmail": [], "testEmail": [], "other": []}

    async def one(key: str, extra: tuple[tuple[int, float], ...]) -> None:
        await limiter.acquire(key=key, extra=extra)
        starts[key].append(now() - t0)

    await asyncio.gather(
        *(one("listEmail", emails) for _ in range(25)),
        *(one("testEmail", ((10, 60.0),)) for _ in range(12)),
        *(limiter.acquire() for _ in range(30)),
    )
    assert sorted(micros(t) for t in starts["listEmail"]) == [0] * 20 + [60 * US] * 5
    assert sorted(micros(t) for t in starts["testEmail"]) == [0] * 10 + [60 * US] * 2
    assert limiter.acquired == 25 + 12 + 30


async def test_a_held_back_endpoint_does_not_block_others() -> None:
    limiter = RateLimiter()
    await limiter.acquire(key="listEmail", extra=((1, 60.0),))
    waiting = asyncio.create_task(limiter.acquire(key="listEmail", extra=((1, 60.0),)))
    await asyncio.sleep(0)
    t0 = now()
    await limiter.acquire()
    await limiter.acquire(key="other", extra=((1, 60.0),))
    assert now() == t0
    assert not waiting.done()
    await waiting
    assert micros(now()) == micros(t0 + 60)


async def test_extra_limits_need_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        await RateLimiter().acquire(extra=((1, 1.0),))


async def test_pause_holds_back_everyone_until_the_deadline() -> None:
    limiter = RateLimiter()
    t0 = now()
    limiter.pause(2.0)
    limiter.pause(0.5)  # never shortens
    starts = await acquire_all(limiter, 10)
    assert [micros(t - t0) for t in starts] == [2 * US] * 10
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


async def test_cancelled_waiter_leaves_the_queue_without_using_a_slot() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    await limiter.acquire()
    t0 = now()
    doomed = asyncio.create_task(limiter.acquire())
    survivor = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.1)
    assert limiter.waiting == 2
    doomed.cancel()
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    await survivor
    assert micros(now() - t0) == US  # one second after the first start
    assert doomed.cancelled()
    assert limiter.acquired == 2


def test_rejects_impossible_limits() -> None:
    with pytest.raises(ValueError, match="None to disable"):
        RateLimiter(per_second=0)
    assert "100/1s" in repr(RateLimiter())


async def test_try_acquire_admits_up_to_the_limit_then_names_the_wait() -> None:
    limiter = RateLimiter(per_second=3, per_minute=5)
    t0 = now()
    assert [limiter.try_acquire() for _ in range(3)] == [None, None, None]
    assert micros(limiter.try_acquire() or 0.0) == US  # the per-second window is full
    await asyncio.sleep(1.0)
    assert [limiter.try_acquire() for _ in range(2)] == [None, None]
    # Five starts in the last minute: the next one may start 60 s after the first.
    assert micros(limiter.try_acquire() or 0.0) == micros(t0 + 60 - now())
    assert limiter.acquired == 5  # refusals are not counted as starts


async def test_try_acquire_keeps_endpoint_limits_per_key() -> None:
    limiter = RateLimiter()
    emails = ((2, 60.0),)
    assert limiter.try_acquire("listEmail", emails) is None
    assert limiter.try_acquire("listEmail", emails) is None
    assert micros(limiter.try_acquire("listEmail", emails) or 0.0) == 60 * US
    assert limiter.try_acquire("other", emails) is None
    assert limiter.try_acquire() is None
    await asyncio.sleep(60.0)
    assert limiter.try_acquire("listEmail", emails) is None


async def test_try_acquire_can_log_a_start_from_before_now() -> None:
    limiter = RateLimiter(per_second=2, per_minute=None)
    await asyncio.sleep(5.0)
    # t0: now
    assert limiter.try_acquire(since=0.4) is None  # logged at t0 - 0.4
    assert limiter.try_acquire(since=0.1) is None  # t0 - 0.1
    # The window frees 1 s after the oldest start: at t0 + 0.6, not t0 + 1.
    assert micros(limiter.try_acquire() or 0.0) == micros(0.6)
    await asyncio.sleep(1.0)
    assert limiter.try_acquire() is None  # logged at t0 + 1.0
    assert limiter.try_acquire(since=0.5) is None  # t0 + 0.5: kept in order, before it
    # The two latest starts are t0 + 0.5 and t0 + 1.0: the window is free again at t0 + 1.5.
    assert micros(limiter.try_acquire() or 0.0) == micros(0.5)


async def test_try_acquire_slack_admits_a_request_that_is_early_by_less_than_it() -> None:
    limiter = RateLimiter(per_second=1, per_minute=None)
    assert limiter.try_acquire() is None
    await asyncio.sleep(0.7)
    assert micros(limiter.try_acquire(slack=0.2) or 0.0) == micros(0.1)  # 0.3 s early
    assert limiter.try_acquire(slack=0.5) is None
    assert limiter.acquired == 2
