"""Client-side rate limiting: a fair gate that every request of a workspace passes before it starts.

The API counts requests when they *arrive*, in sliding windows (100 per second and 6,000 per
minute per workspace; some operations also their own, e.g. `GET /emails` 20 per minute). The
gate's job: no window at the server holds more than its limit, while the limit stays busy.

Windows. Each limit of N requests per P seconds is a sliding-window log of start times. One
more request may start at `now` only if fewer than N started in the last P + MARGIN seconds. A
token bucket (or GCRA with a burst of N) was rejected: it starts full, lets N go at once and
refills while they run, so up to 2N-1 start inside one second.

Margin. The server sees a request some time after the gate lets it go (the event loop, a new
connection, the network, the server's own queue), and that delay varies. A log of exactly P
fails at the server: N requests let go at t=0 arrive at 0.015, the next N, let go at 1.000,
arrive at 1.010 on warm connections, and the server's window (0.013, 1.013] holds 2N. If the
delays of any two requests differ by at most `m`, a log of P + m at the client keeps every
window of P at the server within N. MARGIN = 0.04 s: arrival delays measured on a loaded
2-core machine (a strict server in its own process, 600 requests) spread over 25 ms (99th
percentile) to 33 ms (the most); with 0.03 s a strict server answered 429 to some in a run
of 1,000, and every 429 pauses the workspace for its Retry-After. It costs 1 - 1/1.04 = 3.8%
of the rate.

Pacing. The spread itself grows with bursts: N requests let go at once leave the loop one
after the other, each behind the others' work, open N connections at once, and a server reads
them one after the other too (the strict mock counts a request when its handler runs, behind
the CPU work of those before it); the last of a burst of 100 is tens of milliseconds behind the
first, more than a margin worth paying for. So starts are paced PACING * (P + MARGIN) / N apart
(9.4 ms at 100/s), with up to BURST at once, on a schedule (GCRA) that moves by one spacing per
start rather than from when a start happened: a start that wakes a millisecond late does not
push back every later one, and the window, not the pacing, sets the rate (pacing alone, from
the last start, cost 3% of the rate here, 6% through Redis). The per-second window stays the
hard cap; the pacing is 10% faster than it, so it never binds in a steady stream.

Measured by `python -m bench --only ratelimit` (see bench/README.md), 1,000 `leads.get`
gathered at once against a strict server at 100/s: the busiest second at the server went from
200 requests (the log of exactly P, no pacing; 17% of requests answered 429; 0.80 of the limit)
to 100, with no 429, at 0.95-0.97 of the limit. Bursts of 10 per tenth of a second instead of
pacing held too, at 0.95-0.97 on a quiet machine, but a loaded one (the mock's handler queue)
now and then put 103-110 requests into a second, and each such 429 pauses the workspace.

Learning a lower limit. A 429 means the server's limit, or the share of it that others leave
us, is lower than ours. A 429 of a request started after the last cut lowers the per-second
rate to what the server let through before that request (our own starts in the window before
it, which the server had counted), and always by at least 5%: against a server at 20/s a client
at 100/s drops to 20/s at its first 429; a 429 from jitter at the right rate costs 5%. 429s of
requests started before the cut were sent at the old rate: they change nothing. After HOLD
seconds without a cut the rate climbs back by RECOVERY of the configured rate per second, so a
limit that was shared for a while comes back; overshooting costs a 429 and a cut. `rate` is the
rate now. The per-minute window is not learned: a minute's 429 comes with a Retry-After that
the pause honours.

Scopes of a 429. A 429 of an operation with its own stricter limit (`x-rate-limit` in the spec,
passed as `endpoint_limits`) pauses that operation only, for its Retry-After; any other 429
pauses the whole workspace, because its limit is everyone's.

Fairness and loops. Requests that cannot start at once wait in one FIFO queue, where only the
head is awake: it sleeps until the windows open, starts, and wakes the next. A caller that finds
the queue empty and the windows open passes without awaiting anything. A request limited per
endpoint first queues for its endpoint (so a held-back endpoint never blocks the others), then
for the shared gate. The gate keeps no timer and no future beyond the waiters' own, so one
limiter serves successive event loops (`asyncio.run` twice) and loops in several threads (its
state is behind a lock): a waiter that is cancelled in any state, or whose loop has closed,
hands its turn on to the next and takes no start. Time is the running loop's clock
(`loop.time()`, the monotonic clock for asyncio's own loops; tests fast-forward it).

Re-timing. A request may leave well after the gate let it through: a new connection opens
first (DNS, TCP, TLS: 100-300 ms to a distant server, against a warm connection's nothing), or
the loop is busy. Its start, logged at the gate, is then too early, and so is the moment its
slot frees. Measured with every new connection taking 150 ms to open (tests/slow_connections.py),
100 calls at 20/s against the strict mock: 23 arrivals in the server's busiest second and three
429s (each pausing the workspace for a second; 6.7 s for a 5 s job), because the second
second's calls went out at once on warm connections; at 100/s, 400 calls: 103, three 429s.
So the transport tells the gate when each request's headers were written (`sent`, from
aiohttp's trace of the request, on a session the client opened), and a start that left more
than RETIME_AFTER late is moved to then in every window that logged it (through Redis too):
the margin only has to cover the network's spread, not a connection's set-up. The same runs:
20 and 100 in the busiest second, no 429, 5.1 s and 4.2 s.

A request held more than a second logs one INFO line on the `instantly.ratelimit` logger: what
held it and how long (before a long sleep, or once it passes after a long queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Final, Protocol, runtime_checkable

__all__ = ["Limiter", "Permit", "RateLimiter"]

logger = logging.getLogger("instantly.ratelimit")

MARGIN: Final = 0.04
"""Seconds added to every window's length: the spread of arrival delays the gate absorbs."""
PACING: Final = 0.9
"""Under a per-second limit of N, starts are paced PACING * (1 + MARGIN) / N seconds apart..."""
BURST: Final = 3
"""...with up to BURST at once (after a lull, or to catch up with a start that woke late)."""
HOLD: Final = 10.0
"""Seconds after a cut before the learned rate starts to climb back."""
RECOVERY: Final = 0.02
"""How fast the learned rate climbs back: this share of the configured rate per second."""
CUT: Final = 0.95
"""A cut lowers the rate to at most this share of what it was (and at least by one request)."""
LONG_WAIT: Final = 1.0
"""A request held longer than this (seconds) is logged at INFO."""
RETIME_AFTER: Final = MARGIN / 4
"""A request whose headers left this long (seconds) after its start is re-timed to then."""

_NEVER = -math.inf
_WHY_PAUSED = "the pause after a 429"


class Permit:
    """A request's pass through the gate: hand it back to `on_rate_limited` on a 429.

    A limiter makes these (`acquire`); a limiter of your own makes them the same way.
    """

    __slots__ = ("key", "started", "waited")

    def __init__(self, key: str | None, started: float, waited: float) -> None:
        """Describe one request let through.

        Args:
            key: the endpoint whose own limits applied, or None.
            started: when it was let through, on the limiter's clock.
            waited: seconds it was held at the gate.
        """
        self.key = key
        """The endpoint whose own limits applied, or None for the workspace's only."""
        self.started = started
        """When the request started, on the limiter's clock: when it was let through, or when
        it left if that was later (see the limiter's `sent`)."""
        self.waited = waited
        """Seconds the request was held at the gate (0.0 when it passed at once)."""

    def __repr__(self) -> str:
        return f"Permit(key={self.key!r}, started={self.started:.3f}, waited={self.waited:.3f})"


@runtime_checkable
class Limiter(Protocol):
    """What the transport needs of a rate limiter (`RateLimiter`, `RedisRateLimiter`, yours).

    Any object with these two methods can be passed as `AsyncInstantly(rate_limit=...)`; the
    transport calls `acquire` before every attempt of every request, and `on_rate_limited`
    when an attempt is answered 429. A limiter that also has `sent(permit, at)` (as
    `RateLimiter` and `RedisRateLimiter` do) is told when each attempt's headers were written,
    on the running loop's clock (on a session the client opened itself).
    """

    async def acquire(
        self, key: str | None = None, endpoint_limits: Sequence[tuple[int, float]] = ()
    ) -> Permit:
        """Wait until one request may start, count it as started, and return its permit.

        Args:
            key: names the endpoint whose `endpoint_limits` apply (the operation id).
            endpoint_limits: the endpoint's own (requests, seconds) limits, stricter than the
                workspace's, e.g. `((20, 60.0),)`.

        Returns:
            The request's pass, to hand back to `on_rate_limited` if it is answered 429.
        """
        ...

    async def on_rate_limited(self, permit: Permit, retry_after: float) -> str:
        """Tell the limiter that the request of `permit` was answered 429.

        Args:
            permit: what `acquire` returned for the request.
            retry_after: seconds to hold back (the answer's Retry-After, or a backoff).

        Returns:
            What was paused, for the log ("all requests", "listEmail requests").
        """
        ...


class _Window:
    """The start times of the last `limit` requests, for a limit of `limit` per `period` s."""

    __slots__ = ("limit", "period", "starts")

    def __init__(self, limit: int, period: float, history: int = 1) -> None:
        """A log of `history` times `limit` starts (more than the limit: see `count`)."""
        if limit < 1 or not period > 0:
            raise ValueError(
                f"a rate limit needs at least 1 request per a positive period, got "
                f"{limit} per {period} s; pass None to disable a limit instead"
            )
        self.limit = limit
        self.period = period
        # maxlen drops the oldest start by itself: only the `limit`-th latest matters.
        self.starts: deque[float] = deque(maxlen=limit * history)

    def free_at(self, margin: float, limit: int | None = None) -> float:
        """The earliest time one more start keeps the window (of period + margin) in bounds.

        limit: a lower limit to apply instead of the window's own (the learned rate).
        """
        k = self.limit if limit is None else limit
        starts = self.starts
        return starts[-k] + self.period + margin if len(starts) >= k else _NEVER

    def log(self, start: float) -> None:
        starts = self.starts
        if not starts or start >= starts[-1]:
            starts.append(start)
            return
        # Earlier than the last one: only when loops with different clocks share the limiter.
        starts.append(start)
        ordered = sorted(starts)
        starts.clear()
        starts.extend(ordered)

    def retime(self, start: float, later: float) -> None:
        """Move one start logged at `start` to `later` (a request that left late)."""
        starts = self.starts
        # The start is recent: look for it, and for its new place, from the newest end.
        i = len(starts) - 1
        while i >= 0 and starts[i] > start:
            i -= 1
        if i < 0 or starts[i] != start:
            return  # no longer kept: the window moved past it (or it was never logged here)
        del starts[i]
        j = len(starts)
        while j > 0 and starts[j - 1] > later:
            j -= 1
        starts.insert(j, later)

    def count(self, since: float, until: float) -> int:
        """How many starts lie in [since, until) (within a microsecond), as far as kept."""
        since -= 1e-6
        n = 0
        for start in reversed(self.starts):
            if start < since:
                break
            if start < until:
                n += 1
        return n


class _Queue:
    """A FIFO of waiting callers in which only the head is awake.

    `turn()` returns once the caller is at the head; leaving (done, cancelled, or failed) wakes
    the next. The futures belong to their callers' loops; one of a loop that has closed is
    dropped, so nobody waits on a loop that will never run again.
    """

    __slots__ = ("_lock", "_waiters")

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self._waiters)

    def busy(self) -> bool:
        """Whether anyone is queued (call with the lock held)."""
        waiters = self._waiters
        while waiters and waiters[0].get_loop().is_closed():
            waiters.popleft()
            self._wake_head()
        return bool(waiters)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[int]:
        """Queue up; the body runs at the head. Yields how many were queued ahead on arrival."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self.busy()  # drops a dead head first
            ahead = len(self._waiters)
            self._waiters.append(fut)
        try:
            if ahead:
                await fut
            yield ahead
        finally:
            with self._lock:
                waiters = self._waiters
                was_head = bool(waiters) and waiters[0] is fut
                if was_head:
                    waiters.popleft()
                    self._wake_head()
                else:
                    with contextlib.suppress(ValueError):
                        waiters.remove(fut)

    def _wake_head(self) -> None:
        waiters = self._waiters
        while waiters:
            head = waiters[0]
            if head.done():  # already woken (or cancelled): it will leave by itself
                return
            loop = head.get_loop()
            if loop.is_closed():
                waiters.popleft()
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if loop is running:
                head.set_result(None)
            else:
                loop.call_soon_threadsafe(_resolve, head)
            return


def _cut(rate: float, let_through: int) -> float:
    """The rate after a 429: what the server let through, and always lower than before."""
    lower = min(CUT * rate, rate - 1.0)
    return max(1.0, min(float(let_through), lower) if let_through else lower)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Endpoint:
    """An endpoint's own limits, its 429 pause and the queue of its callers."""

    __slots__ = ("key", "paused_until", "queue", "why_paused", "windows")

    def __init__(self, key: str, limits: Sequence[tuple[int, float]], lock: threading.Lock) -> None:
        self.key = key
        self.windows = tuple(
            (_Window(limit, period), f"{key}'s own limit of {limit} per {period:g} s")
            for limit, period in limits
        )
        self.queue = _Queue(lock)
        self.paused_until = _NEVER
        self.why_paused = f"the pause of {key} after a 429"

    def ready_at(self) -> tuple[float, str]:
        ready, why = self.paused_until, self.why_paused
        for window, window_why in self.windows:
            free = window.free_at(MARGIN)
            if free > ready:
                ready, why = free, window_why
        return ready, why

    def log(self, start: float) -> None:
        for window, _ in self.windows:
            window.log(start)

    def retime(self, start: float, later: float) -> None:
        for window, _ in self.windows:
            window.retime(start, later)


class _Held:
    """A request that could not pass at once: when it came, and whether its wait was logged."""

    __slots__ = ("ahead", "entered", "key", "logged", "why")

    def __init__(self, key: str | None, entered: float) -> None:
        self.key = key
        self.entered = entered
        self.ahead = 0
        self.logged = False
        self.why = ""

    def note(self, now: float, until: float) -> None:
        """Log once: before a sleep that alone is long, or when let through after a long wait."""
        if self.logged:
            return
        if until > now:
            if until - now <= LONG_WAIT:
                return  # short: said (if at all) when the request is let through
        elif now - self.entered <= LONG_WAIT:
            return
        self.logged = True
        if not logger.isEnabledFor(logging.INFO):
            return
        to = f" to {self.key}" if self.key else ""
        if until > now:
            logger.info(
                "rate limit: holding a request%s for %.1f s more (%.1f s so far): %s",
                to,
                until - now,
                now - self.entered,
                self.why,
            )
        else:
            queued = f", behind {self.ahead} queued requests" if self.ahead else ""
            logger.info(
                "rate limit: held a request%s for %.1f s%s: %s",
                to,
                now - self.entered,
                queued,
                self.why,
            )


class RateLimiter:
    """A fair gate limiting how many requests start per second and per minute.

    Share one instance between all clients of a workspace in a process (the API counts requests
    per workspace, across all its keys); across processes, use `RedisRateLimiter`. It keeps
    each window 40 ms longer than the API's and paces starts within the second, so that the
    limit holds where the API counts, and one instance serves successive event loops and
    loops in several threads.

    ```python
    limiter = RateLimiter(per_second=100, per_minute=6000)
    async with AsyncInstantly(rate_limit=limiter) as a, AsyncInstantly(rate_limit=limiter) as b:
        ...
    ```
    """

    def __init__(
        self,
        per_second: int | None = 100,
        per_minute: int | None = 6000,
        *,
        adaptive: bool = True,
    ) -> None:
        """Create a gate; the defaults are the API's published workspace limits.

        Args:
            per_second: most requests that may start in any 1-second window; None for no
                limit.
            per_minute: most requests that may start in any 60-second window; None for no
                limit.
            adaptive: lower the per-second rate when the server answers 429 (see `rate`), and
                let it climb back after a quiet spell.

        Raises:
            ValueError: a limit below 1.
        """
        self._lock = threading.Lock()
        # A 429 arrives a round trip after its request started: the starts of the second
        # before it must still be there to be counted (`_learn`), behind the later ones.
        self._second = _Window(per_second, 1.0, history=3) if per_second is not None else None
        self._minute = _Window(per_minute, 60.0) if per_minute is not None else None
        self._paced_until = _NEVER  # when the pacing schedule (GCRA) has the next start due
        self._adaptive = adaptive and per_second is not None
        self._configured = float(per_second) if per_second is not None else math.inf
        self._rate_after_cut = self._configured
        self._cut_at = _NEVER
        self._paused_until = _NEVER
        self._queue = _Queue(self._lock)
        self._endpoints: dict[str, _Endpoint] = {}
        self._why = "the workspace limit"  # what the gate last held a request for, for the log
        self._why_second = f"the workspace limit of {per_second} per second"
        self._why_minute = f"the workspace limit of {per_minute} per minute"
        self._why_learned = self._why_second
        self.acquired = 0
        """Requests let through so far."""
        self.delayed = 0
        """Requests that had to wait (for a window, a pause or the queue)."""
        self.pauses = 0
        """Pauses that pushed the workspace's pause further out (a 429, or `pause`)."""
        self.cuts = 0
        """Times a 429 lowered the learned rate."""
        self.retimed = 0
        """Starts moved later because the request left late (`sent`)."""

    def __repr__(self) -> str:
        limits = [f"{w.limit}/{w.period:g}s" for w in (self._second, self._minute) if w]
        return f"RateLimiter({', '.join(limits) or 'unlimited'}, waiting={len(self._queue)})"

    @property
    def waiting(self) -> int:
        """How many requests are queued at the shared gate right now."""
        return len(self._queue)

    @property
    def paused_until(self) -> float | None:
        """The loop time the workspace is paused until, or None if it was never paused."""
        return None if self._paused_until == _NEVER else self._paused_until

    @property
    def rate(self) -> float | None:
        """The per-second rate the gate admits now (lower than configured after 429s)."""
        if self._second is None:
            return None
        try:
            now = asyncio.get_running_loop().time()
        except RuntimeError:
            now = self._cut_at  # outside a loop: the rate as of the last cut
        return self._rate(now)

    # -- the gate ------------------------------------------------------------------------------

    async def acquire(
        self, key: str | None = None, endpoint_limits: Sequence[tuple[int, float]] = ()
    ) -> Permit:
        """Wait until one request may start, count it as started, and return its permit.

        Requests that cannot start at once queue in arrival order (per endpoint first, when
        the endpoint has limits of its own); a cancelled waiter hands its turn on.

        Args:
            key: names the endpoint whose `endpoint_limits` apply (the operation id).
            endpoint_limits: the endpoint's own (requests, seconds) limits, stricter than the
                workspace's, e.g. `((20, 60.0),)`.

        Returns:
            The request's pass (`waited` says how long it was held), to hand back to
            `on_rate_limited` if the request is answered 429.

        Raises:
            ValueError: `endpoint_limits` were given without a `key`.
        """
        loop = asyncio.get_running_loop()
        endpoint = self._endpoint(key, endpoint_limits) if endpoint_limits else None
        with self._lock:
            now = loop.time()
            # Fast path: nobody queued and every window open, so go without awaiting anything.
            if self._open(now, endpoint):
                self._take(now, endpoint)
                return Permit(endpoint.key if endpoint else None, now, 0.0)
            self.delayed += 1
        held = _Held(key, now)
        if endpoint is None:
            return await self._pass(loop, held, None)
        async with endpoint.queue.turn() as ahead:
            held.ahead = ahead
            await self._hold(loop, held, lambda _: endpoint.ready_at(), take=False)
            return await self._pass(loop, held, endpoint)

    async def _pass(
        self, loop: asyncio.AbstractEventLoop, held: _Held, endpoint: _Endpoint | None
    ) -> Permit:
        async with self._queue.turn() as ahead:
            held.ahead += ahead
            now = await self._hold(loop, held, self._ready_at, endpoint=endpoint)
        return Permit(endpoint.key if endpoint else None, now, now - held.entered)

    async def _hold(
        self,
        loop: asyncio.AbstractEventLoop,
        held: _Held,
        ready_at: Callable[[float], tuple[float, str]],
        *,
        take: bool = True,
        endpoint: _Endpoint | None = None,
    ) -> float:
        """Sleep until `ready_at` allows a start, then count it (if `take`). Returns the time."""
        due = _NEVER
        while True:
            with self._lock:
                # A timer may fire a clock tick early: once due, its time has come.
                now = max(loop.time(), due)
                ready, why = ready_at(now)
                if ready <= now:
                    if take:
                        self._take(now, endpoint)
                    break
            held.why = self._why = why
            held.note(now, ready)
            due = ready
            await asyncio.sleep(ready - now)
        if not held.why:  # it only queued: behind others held by the gate's last reason
            held.why = self._why
        held.note(now, now)
        return now

    def _open(self, now: float, endpoint: _Endpoint | None) -> bool:
        if self._queue.busy() or self._ready_at(now)[0] > now:
            return False
        return endpoint is None or (not endpoint.queue.busy() and endpoint.ready_at()[0] <= now)

    def _ready_at(self, now: float) -> tuple[float, str]:
        # On every request: float comparisons only, and reasons made beforehand.
        ready, why = self._paused_until, _WHY_PAUSED
        second = self._second
        if second is not None:
            limit = second.limit
            if self._cut_at != _NEVER:
                limit = min(max(1, math.floor(self._rate(now))), limit)
            free = second.free_at(MARGIN, limit)
            # Pacing is the same limit, spread over the second: it is named as that limit.
            paced = self._paced_until - (BURST - 1) * PACING * (1.0 + MARGIN) / limit
            if paced > free:
                free = paced
            if free > ready:
                ready = free
                why = self._why_second if limit >= second.limit else self._why_learned
        minute = self._minute
        if minute is not None:
            free = minute.free_at(MARGIN)
            if free > ready:
                ready, why = free, self._why_minute
        return ready, why

    def _try(
        self, now: float, key: str | None, endpoint_limits: Sequence[tuple[int, float]]
    ) -> tuple[float, str, bool] | None:
        """Start a request now if every window allows it, without queueing (for a caller that
        keeps its own queue: `RedisRateLimiter` while Redis is down).

        Returns None when started, else (when it could start, why not now, whether only the
        endpoint's own limits or pause hold it back).
        """
        endpoint = self._endpoint(key, endpoint_limits) if endpoint_limits else None
        with self._lock:
            ready, why = self._ready_at(now)
            own = False
            if endpoint is not None:
                endpoint_ready, endpoint_why = endpoint.ready_at()
                if endpoint_ready > ready:
                    ready, why, own = endpoint_ready, endpoint_why, True
            if ready <= now:
                self._take(now, endpoint)
                return None
        return ready, why, own

    def _seed(self, starts: Iterable[float]) -> None:
        """Count starts made elsewhere (by a `RedisRateLimiter` before Redis went down)."""
        with self._lock:
            for start in starts:
                for window in (self._second, self._minute):
                    if window is not None:
                        window.log(start)
                self._pace(start)

    def _take(self, now: float, endpoint: _Endpoint | None) -> None:
        for window in (self._second, self._minute):
            if window is not None:
                window.log(now)
        self._pace(now)
        if endpoint is not None:
            endpoint.log(now)
        self.acquired += 1

    def _pace(self, start: float) -> None:
        second = self._second
        if second is not None:
            # The schedule moves by one spacing per start, not from when the start happened:
            # a start that woke a little late does not push back every later one.
            limit = min(max(1, math.floor(self._rate(start))), second.limit)
            self._paced_until = max(self._paced_until, start) + PACING * (1.0 + MARGIN) / limit

    def _rate(self, now: float) -> float:
        if self._cut_at == _NEVER:
            return self._configured
        climbed = self._configured * RECOVERY * max(0.0, now - self._cut_at - HOLD)
        return min(self._configured, self._rate_after_cut + climbed)

    def _endpoint(self, key: str | None, limits: Sequence[tuple[int, float]]) -> _Endpoint:
        if key is None:
            raise ValueError("acquire(endpoint_limits=...) needs key=... to tell endpoints apart")
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            with self._lock:
                endpoint = self._endpoints.setdefault(key, _Endpoint(key, limits, self._lock))
        return endpoint

    def sent(self, permit: Permit, at: float) -> None:
        """Tell the gate when the request of `permit` left (its headers written).

        A request that left more than RETIME_AFTER after it was let through (a new connection,
        a busy loop) is counted from then in every window, so that its slot frees when the
        server's window moves past its arrival, not past the gate's earlier start.

        Args:
            permit: what `acquire` returned for the request.
            at: when it left, on the running loop's clock.
        """
        start = permit.started
        if at - start <= RETIME_AFTER:
            return
        with self._lock:
            for window in (self._second, self._minute):
                if window is not None:
                    window.retime(start, at)
            if permit.key is not None:
                endpoint = self._endpoints.get(permit.key)
                if endpoint is not None:
                    endpoint.retime(start, at)
            permit.started = at
            self.retimed += 1

    # -- 429s ----------------------------------------------------------------------------------

    async def on_rate_limited(self, permit: Permit, retry_after: float) -> str:
        """Hold back what the 429 of `permit`'s request concerns, and learn from it.

        A 429 of an endpoint with limits of its own pauses that endpoint only; any other
        pauses every request and, if `adaptive`, lowers the per-second rate to what the server
        let through.

        Args:
            permit: what `acquire` returned for the request.
            retry_after: seconds to hold back (the answer's Retry-After, or a backoff).

        Returns:
            What was paused, for the log ("all requests", "listEmail requests").
        """
        now = asyncio.get_running_loop().time()
        if permit.key is not None:
            endpoint = self._endpoints.get(permit.key)
            if endpoint is not None:
                with self._lock:
                    endpoint.paused_until = max(endpoint.paused_until, now + retry_after)
                return f"{permit.key} requests"
        self.pause_until(now + retry_after)
        self._learn(permit.started, now)
        return "all requests"

    def _learn(self, started: float, now: float) -> None:
        second = self._second
        if not self._adaptive or second is None:
            return
        with self._lock:
            if started < self._cut_at:
                return  # sent before the last cut: it says nothing about the new rate
            before = self._rate(now)
            # Our starts in the window we keep: what the server had let through (at most).
            let_through = second.count(started - 1.0 - MARGIN, started)
            rate = _cut(before, let_through)
            self._rate_after_cut = rate
            self._cut_at = now
            self.cuts += 1
            self._why_learned = f"the rate learned from 429s ({rate:.1f} per second at the cut)"
        logger.warning(
            "rate limit: the server answered 429 at %d requests in the last second; "
            "lowering the rate from %.1f to %.1f per second (configured: %d)",
            let_through,
            before,
            rate,
            second.limit,
        )

    def pause(self, seconds: float) -> None:
        """Let no request start for `seconds` from now (a pause never shortens an earlier one).

        Args:
            seconds: how long to keep the gate closed.
        """
        self.pause_until(asyncio.get_running_loop().time() + seconds)

    def pause_until(self, deadline: float) -> None:
        """Let no request start before `deadline` (never shortens an earlier pause).

        Args:
            deadline: a time on the running event loop's clock (`loop.time()`).
        """
        with self._lock:
            if deadline > self._paused_until:
                self._paused_until = deadline
                self.pauses += 1
        # A head asleep until earlier wakes, sees the pause, and sleeps on.
