"""How the mock counts requests against its rate limits, the way a server does: by arrival.

A plain sliding-window log per limit (the time each admitted request arrived, the last N of
them), kept apart from the client's `RateLimiter` on purpose: the client paces and learns, the
server only counts, and a test of the one against the other must not share code between them.

Strict (the default): a request arriving at `t` is admitted when every window of N requests per
P seconds holds fewer than N admitted arrivals in `(t - P, t]`; a refused request is not
counted (it did nothing). Lenient (`leeway=True`) forgives a client that keeps the limit at its
own end but is seen here with jitter: the first request of a new connection is counted from
NEW_CONNECTION_LEEWAY before it arrived, and one within QUEUE_JITTER of its turn is admitted.
That is how the mock behaved before it had a strict mode; it suits clients that do not pace.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence

__all__ = ["NEW_CONNECTION_LEEWAY", "QUEUE_JITTER", "ArrivalLimits", "PeakCounter", "busiest"]

# The first request on a new connection arrives only once the connection is open, which under a
# burst of new connections takes up to hundreds of milliseconds, while later requests on warm
# connections arrive at once: in lenient mode it is counted from this long (s) before it arrived.
NEW_CONNECTION_LEEWAY = 0.5
# Requests queue for the server's event loop, so one arriving behind others looks later than it
# was: in lenient mode a request this close (s) to its turn is admitted.
QUEUE_JITTER = 0.1


class _Log:
    """The arrival times of the last `limit` admitted requests, for `limit` per `period` s."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or not period > 0:
            raise ValueError(
                f"a rate limit needs at least 1 request per a positive period, got {limit} per {period}"
            )
        self.limit = limit
        self.period = period
        self.times: deque[float] = deque(maxlen=limit)

    def free_at(self) -> float:
        times = self.times
        return times[0] + self.period if len(times) == self.limit else float("-inf")

    def add(self, at: float) -> None:
        times = self.times
        if not times or at >= times[-1]:
            times.append(at)
            return
        # Backdated (lenient mode): keep the log in order.
        if len(times) == self.limit:
            if at <= times[0]:
                return
            times.popleft()
        bisect.insort(times, at)


class ArrivalLimits:
    """The workspace's windows and each rate-limited operation's own, counted by arrival."""

    def __init__(
        self,
        per_second: int | None,
        per_minute: int | None,
        *,
        leeway: bool = False,
    ) -> None:
        """Count arrivals against these limits.

        Args:
            per_second: admitted requests per 1-second window; None for no such limit.
            per_minute: admitted requests per 60-second window; None for no such limit.
            leeway: forgive connection set-up and queueing jitter (see the module docstring).
        """
        self._workspace = tuple(
            _Log(limit, period)
            for limit, period in ((per_second, 1.0), (per_minute, 60.0))
            if limit is not None
        )
        self._operations: dict[str, tuple[_Log, ...]] = {}
        self.leeway = leeway

    def admit(
        self,
        now: float,
        operation: str | None = None,
        limits: Sequence[tuple[int, float]] = (),
        *,
        new_connection: bool = False,
    ) -> float | None:
        """Count a request arriving at `now` if every window allows it.

        Args:
            now: the arrival time (seconds, on the mock's loop clock).
            operation: the operation's id, naming the log of its own `limits`.
            limits: the operation's own (requests, seconds) limits, on top of the workspace's.
            new_connection: the request is the first on its connection (lenient mode
                backdates it).

        Returns:
            None when admitted, else the seconds until it would be.
        """
        logs = self._workspace
        if limits and operation is not None:
            own = self._operations.get(operation)
            if own is None:
                own = self._operations[operation] = tuple(_Log(n, p) for n, p in limits)
            logs += own
        slack = QUEUE_JITTER if self.leeway else 0.0
        ready = max((log.free_at() for log in logs), default=float("-inf")) - slack
        if now < ready:
            return ready - now
        at = now - NEW_CONNECTION_LEEWAY if self.leeway and new_connection else now
        for log in logs:
            log.add(at)
        return None


class PeakCounter:
    """The most requests that arrived within any window of `period` seconds so far."""

    __slots__ = ("_recent", "peak", "period")

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self._recent: deque[float] = deque()
        self.peak = 0
        """The highest count seen in a half-open window `[t, t + period)`."""

    def add(self, now: float) -> None:
        recent = self._recent
        recent.append(now)
        horizon = now - self.period
        while recent[0] <= horizon:
            recent.popleft()
        if len(recent) > self.peak:
            self.peak = len(recent)


def busiest(times: Iterable[float], period: float = 1.0) -> int:
    """The most of `times` inside any half-open window [t, t + period) (e.g. `mock.arrivals`).

    Compared in whole microseconds, so that float noise never moves a time across an edge.
    """
    ticks = sorted(round(t * 1_000_000) for t in times)
    span = round(period * 1_000_000)
    most = j = 0
    for i, first in enumerate(ticks):
        j = max(j, i)
        while j < len(ticks) and ticks[j] < first + span:
            j += 1
        most = max(most, j - i)
    return most
