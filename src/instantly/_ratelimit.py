"""Client-side rate limiting: a fair gate that every request of a workspace passes before it starts.

Algorithm: a sliding-window log per limit. For a limit of N requests per P seconds the gate keeps
the start times of the last N requests (a ring buffer); one more may start at `now` only if fewer
than N have started, or if the oldest of those N started at least P seconds ago. So no half-open
window of P seconds ever holds more than N starts. A token bucket (or GCRA with a burst of N) was
rejected: it starts full, lets N go at once and refills while they run, so up to 2N-1 can start
inside one second across a refill, and the server, which counts requests per window, answers
429. The log costs N floats per limit (6,000 for the per-minute one) and O(1) per check.

Fairness: when a request cannot start at once it joins one FIFO queue of futures. One timer,
armed for the moment the head may start, admits as many waiters from the head as the windows
allow and re-arms itself; nobody else wakes up. A caller that finds the queue empty and the
windows open passes without awaiting anything, so an unthrottled gate costs a few comparisons.

Stricter per-endpoint limits (`acquire(key=..., extra=...)`) get their own logs, keyed by
`key`. Callers of one key go one at a time (FIFO, an `asyncio.Lock`) through a first stage that
waits for the endpoint's windows, then through the shared gate; the endpoint's start is logged
only once the shared gate lets it through, so both logs hold true start times and a request held
back by its endpoint never blocks requests to other endpoints.

`pause_until` closes the whole gate, for everyone, until a deadline: that is what a 429 with
`Retry-After` calls for, because the limit it reports is the workspace's, not one task's.

`try_acquire` is the same check without waiting, for a server that answers 429 instead of
queueing (the embedded mock, `instantly.testing`): it admits and logs a start, or says how long
until one could start.

Time is the running event loop's clock (`loop.time()`), so tests can fast-forward it. A limiter
belongs to one event loop; it is not thread-safe.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
from collections import deque
from collections.abc import Sequence

__all__ = ["RateLimiter"]

_NEVER = -math.inf


class _Window:
    """The start times of the last `limit` requests, for a limit of `limit` per `period` s."""

    __slots__ = ("_starts", "limit", "period")

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or not period > 0:
            raise ValueError(
                f"a rate limit needs at least 1 request per a positive period, got "
                f"{limit} per {period} s; pass None to disable a limit instead"
            )
        self.limit = limit
        self.period = period
        # maxlen drops the oldest start by itself: only the Nth-latest matters.
        self._starts: deque[float] = deque(maxlen=limit)

    def log(self, start: float) -> None:
        """Record a start, kept in order even when it is earlier than the last one logged."""
        starts = self._starts
        if not starts or start >= starts[-1]:
            starts.append(start)
            return
        if len(starts) == self.limit:
            if start <= starts[0]:
                return  # older than the last `limit` starts: it no longer matters
            starts.popleft()
        bisect.insort(starts, start)

    def free_at(self) -> float:
        """The earliest loop time at which one more start keeps the window within its limit."""
        starts = self._starts
        return starts[0] + self.period if len(starts) == self.limit else _NEVER


class _Endpoint:
    """The stricter limits of one endpoint, and the turn its callers queue for."""

    __slots__ = ("lock", "windows")

    def __init__(self, limits: Sequence[tuple[int, float]]) -> None:
        self.windows = tuple(_Window(limit, period) for limit, period in limits)
        self.lock = asyncio.Lock()


class RateLimiter:
    """A fair gate limiting how many requests start per second and per minute.

    Share one instance between all clients of a workspace: the API counts requests per workspace,
    across all its keys.
    """

    def __init__(self, per_second: int | None = 100, per_minute: int | None = 6000) -> None:
        """Create a gate; the defaults are the API's published workspace limits.

        per_second: most requests that may start in any 1-second window; None for no limit.
        per_minute: most requests that may start in any 60-second window; None for no limit.
        """
        windows = []
        if per_second is not None:
            windows.append(_Window(per_second, 1.0))
        if per_minute is not None:
            windows.append(_Window(per_minute, 60.0))
        self._windows = tuple(windows)
        self._paused_until = _NEVER
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = _NEVER
        self._endpoints: dict[str, _Endpoint] = {}
        self.acquired = 0
        """Requests let through so far."""
        self.delayed = 0
        """Requests that had to wait in the queue (for a window or a pause)."""
        self.pauses = 0
        """Calls to `pause`/`pause_until` that pushed the pause further out."""

    def __repr__(self) -> str:
        limits = ", ".join(f"{w.limit}/{w.period:g}s" for w in self._windows) or "unlimited"
        return f"RateLimiter({limits}, waiting={len(self._waiters)})"

    @property
    def waiting(self) -> int:
        """How many requests are queued at the shared gate right now."""
        return len(self._waiters)

    @property
    def paused_until(self) -> float | None:
        """The loop time the gate is paused until, or None if it was never paused."""
        return None if self._paused_until == _NEVER else self._paused_until

    async def acquire(
        self, key: str | None = None, extra: Sequence[tuple[int, float]] = ()
    ) -> None:
        """Wait until one request may start, and count it as started.

        key: names the endpoint whose `extra` limits apply (e.g. an operation id).
        extra: stricter limits of that endpoint, as (requests, seconds) pairs, e.g. ((20, 60.0),).
        """
        if extra:
            await self._acquire_endpoint(key, extra)
            return
        # Fast path: nobody queued and every window open, so go without awaiting anything.
        if not self._waiters:
            now = asyncio.get_running_loop().time()
            if now >= self._ready_at():
                self._take(now)
                return
        await self._wait()

    def try_acquire(
        self,
        key: str | None = None,
        extra: Sequence[tuple[int, float]] = (),
        *,
        since: float = 0.0,
        slack: float = 0.0,
    ) -> float | None:
        """Count one request as started if every window allows it now; never waits.

        key: names the endpoint whose `extra` limits apply (e.g. an operation id).
        extra: stricter limits of that endpoint, as (requests, seconds) pairs, e.g. ((20, 60.0),).
        since: how long before now the request really started, when a server knows it came late
            (on a new connection, the connection was opened first): its start is logged that
            much earlier.
        slack: seconds of leeway: a request that would be admitted `slack` seconds from now is
            admitted now (a server sees requests with the jitter of the network and of its own
            queue, so a client that keeps the limit at its end can look a little early).

        Returns None when the request was admitted, else the seconds until one more could start
        (0.0 when the windows are open but callers of `acquire` are queued ahead).
        """
        now = asyncio.get_running_loop().time()
        ready = self._ready_at() - slack
        windows = self._windows
        if extra:
            endpoint = self._endpoint(key, extra)
            for window in endpoint.windows:
                ready = max(ready, window.free_at() - slack)
            windows += endpoint.windows
        if now < ready or self._waiters:
            return max(ready - now, 0.0)
        for window in windows:
            window.log(now - since)
        self.acquired += 1
        return None

    def pause(self, seconds: float) -> None:
        """Let no request start for `seconds` from now (a pause never shortens an earlier one).

        seconds: how long to keep the gate closed.
        """
        self.pause_until(asyncio.get_running_loop().time() + seconds)

    def pause_until(self, deadline: float) -> None:
        """Let no request start before `deadline` (never shortens an earlier pause).

        deadline: a time on the running event loop's clock (`loop.time()`).
        """
        if deadline > self._paused_until:
            self._paused_until = deadline
            self.pauses += 1
        # An armed timer that now fires too early just re-arms itself; nothing else to do.

    def _ready_at(self) -> float:
        ready = self._paused_until
        for window in self._windows:
            free = window.free_at()
            if free > ready:
                ready = free
        return ready

    def _take(self, now: float) -> None:
        for window in self._windows:
            window._starts.append(now)
        self.acquired += 1

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiters.append(fut)
        self.delayed += 1
        if self._timer is None:
            self._arm(loop, loop.time())
        try:
            await fut
        except BaseException:  # cancelled, or the coroutine closed
            if fut.cancelled() or not fut.done():
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            # Else the slot was granted just as we gave up: it stays used, which only errs on
            # the safe side.
            raise

    def _arm(self, loop: asyncio.AbstractEventLoop, now: float) -> None:
        when = max(self._ready_at(), now)
        self._timer_when = when
        self._timer = loop.call_at(when, self._wake, loop)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        # asyncio runs a timer up to one clock tick early; it is due, so its time has come.
        # Without this the check below could fail by a hair and re-arm forever.
        now = max(loop.time(), self._timer_when)
        waiters = self._waiters
        while waiters:
            if now < self._ready_at():
                self._arm(loop, now)
                return
            fut = waiters.popleft()
            if fut.done():  # cancelled while queued
                continue
            self._take(now)
            fut.set_result(None)

    async def _acquire_endpoint(self, key: str | None, extra: Sequence[tuple[int, float]]) -> None:
        endpoint = self._endpoint(key, extra)
        loop = asyncio.get_running_loop()
        # Held until the shared gate lets us through, so the endpoint's log is exact.
        async with endpoint.lock:
            ready = _NEVER
            for window in endpoint.windows:
                ready = max(ready, window.free_at())
            now = loop.time()
            if now < ready:
                await asyncio.sleep(ready - now)
            await self.acquire()
            # The sleep may end a clock tick early; the start is never logged before it is due.
            started = max(loop.time(), ready)
            for window in endpoint.windows:
                window._starts.append(started)

    def _endpoint(self, key: str | None, extra: Sequence[tuple[int, float]]) -> _Endpoint:
        if key is None:
            raise ValueError("acquire(extra=...) needs key=... to tell endpoints apart")
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            endpoint = self._endpoints[key] = _Endpoint(extra)
        return endpoint
