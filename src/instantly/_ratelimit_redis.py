"""`RedisRateLimiter`: one workspace limit shared by every process and machine, held in Redis.

The same gate as `RateLimiter` (windows with a margin, pacing within the second, per-endpoint
limits, the 429 pause, the rate learned from 429s; see `_ratelimit`), with its state in Redis so
that any number of processes stay within the workspace's limit together:

- one Lua script per acquire checks every window and logs the start atomically, on Redis's clock
  (`TIME`), never the workers' (whose clocks disagree); a refused start gets the seconds until
  one could go, and the process's head waiter sleeps that long and asks again;
- a 429 is one more script: it sets the pause (the workspace's, or the endpoint's) and, for a
  request started after the last cut, the learned rate, for every process at once;
- within a process, waiters queue as in `RateLimiter` and only the head talks to Redis, so a
  thousand waiting tasks cost one script call per start, not a thousand.

Redis unreachable (refused, timed out, restarting): the process goes on alone on a local
`RateLimiter` at its share of the limit (1 / the processes seen in the last minute, unless
`fallback_share` says otherwise), seeded with its own starts of the last second, and logs one
WARNING. Every PROBE_INTERVAL it tries Redis again; once back it logs INFO, pushes its local
starts of the last second into the shared log, and for GRACE seconds keeps passing its local
gate as well, so that peers still on their local gates (they rejoin within PROBE_INTERVAL) and
the shared log together stay within the limit. A Redis that lost its data (restarted without
persistence, flushed) is told by its `epoch` field: the same grace applies. No error of Redis
ever reaches the caller's request.

Connections: given a URL, the limiter opens one redis-py asyncio client per event loop (a
connection belongs to the loop that opened it), closed when that loop's `asyncio.run` ends, or
by `aclose()`. Given a client, it uses that client (and its loop) and never closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import socket
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

from ._ratelimit import (
    BURST,
    CUT,
    HOLD,
    MARGIN,
    PACING,
    RECOVERY,
    RETIME_AFTER,
    Permit,
    RateLimiter,
    _Held,
    _Queue,
)

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "RedisRateLimiter needs the redis package (redis-py >= 5): "
        "pip install 'instantly-sdk[redis]'"
    ) from exc

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("instantly.ratelimit")

PROBE_INTERVAL: Final = 0.5
"""Seconds between attempts to reach Redis again while it is down."""
GRACE: Final = 2.0
"""Seconds after rejoining during which a process also keeps to its local share."""
_STARTS_TTL = 120  # seconds an idle workspace's logs outlive their last start
_STATE_TTL = 3600  # seconds an idle workspace's pause, learned rate and epoch outlive their use
# Redis down, slow, restarting, out of memory, read-only...: whatever it is, the caller's
# request goes on (on the local gate), and the WARNING names it.
_DOWN = (RedisError, OSError, TimeoutError)

# Times go through Lua as strings with microseconds: a Lua number given to Redis, or returned
# by a script, loses them (and a returned number is truncated to an integer).
_LUA_COMMON = """
local function fmt(x) return string.format('%.6f', x) end
local function now_s()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
-- The learned per-second rate at `now`: the rate set by the last cut, climbing back after HOLD.
local function rate_at(configured, after, cut_at, now, hold, recovery)
  if not cut_at then return configured end
  local climbed = configured * recovery * math.max(0, now - cut_at - hold)
  return math.min(configured, after + climbed)
end
"""

_ACQUIRE = (
    _LUA_COMMON
    + """
-- KEYS: 1 starts (zset, score = start time), 2 state (hash), 3 the endpoint's starts, 4 peers.
-- ARGV: 1 per_second (0: none), 2 per_minute (0: none), 3 margin, 4 pacing, 5 hold,
-- 6 recovery, 7 this start's member, 8 peer id, 9 endpoint key ('' for none), 10 endpoint
-- limits 'n:p,n:p', 11 starts ttl, 12 burst, 13... earlier starts to log first (a rejoining
-- process).
local now = now_s()
local ps, pm = tonumber(ARGV[1]), tonumber(ARGV[2])
local margin, pacing, burst = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[12])
local endpoint = ARGV[9]

redis.call('ZADD', KEYS[4], fmt(now), ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', fmt(now - 60))
redis.call('EXPIRE', KEYS[4], 120)
local peers = redis.call('ZCARD', KEYS[4])

for i = 13, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[7] .. '#' .. i)
end
-- Kept: the minute's starts, or (for a 429 that comes back late) the last two seconds'.
local horizon = 2
if pm > 0 then horizon = 60 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(now - horizon - margin))

-- The time one more start may go under a limit of `limit` per `period` s, from the log `key`.
local function free_at(key, limit, period)
  local since = '(' .. fmt(now - period)
  if redis.call('ZCOUNT', key, since, '+inf') < limit then return nil end
  local kth = redis.call('ZREVRANGEBYSCORE', key, '+inf', since, 'WITHSCORES', 'LIMIT', limit - 1, 1)
  return tonumber(kth[2]) + period
end

local st = redis.call('HMGET', KEYS[2], 'rate', 'cut_at', 'pause', 'epoch', 'pause:' .. endpoint,
  'paced_until')
local spacing = nil
local epoch = st[4]
if not epoch then  -- a new (or emptied) Redis: processes that knew another epoch rejoin
  epoch = fmt(now)
  redis.call('HSET', KEYS[2], 'epoch', epoch)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[11]) * 30)
end
local ready, why = -1, ''
local function later(t, reason)
  if t and t > ready then ready = t; why = reason end
end
later(tonumber(st[3]), 'pause')
local rate = ps
if ps > 0 then
  rate = rate_at(ps, tonumber(st[1]), tonumber(st[2]), now, tonumber(ARGV[5]), tonumber(ARGV[6]))
  local limit = math.max(1, math.floor(rate))
  -- Pacing (the limit spread over the second) is named as the limit itself.
  local name = 'second'
  if limit < ps then name = 'learned' end
  later(free_at(KEYS[1], limit, 1 + margin), name)
  spacing = pacing * (1 + margin) / limit
  if st[6] then later(tonumber(st[6]) - (burst - 1) * spacing, name) end
end
if pm > 0 then later(free_at(KEYS[1], pm, 60 + margin), 'minute') end
local longest = 0
if endpoint ~= '' then
  later(tonumber(st[5]), 'endpoint pause')
  for n, p in string.gmatch(ARGV[10], '(%d+):([%d.]+)') do
    longest = math.max(longest, tonumber(p))
    later(free_at(KEYS[3], tonumber(n), tonumber(p) + margin), 'endpoint ' .. n .. ' ' .. p)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(now - longest - margin))
end
if ready > now then
  return {0, fmt(now), fmt(rate), peers, epoch, fmt(ready - now), why}
end
redis.call('ZADD', KEYS[1], fmt(now), ARGV[7])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[11]))
if spacing then
  -- The pacing schedule (GCRA) moves one spacing per start, not from when it happened.
  local due = math.max(tonumber(st[6]) or now, now) + spacing
  redis.call('HSET', KEYS[2], 'paced_until', fmt(due))
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[11]) * 30)  -- kept while in use
if endpoint ~= '' then
  redis.call('ZADD', KEYS[3], fmt(now), ARGV[7])
  -- An endpoint's log outlives its longest window (an hour, 30 days), not just the idle ttl.
  redis.call('EXPIRE', KEYS[3], math.max(tonumber(ARGV[11]), math.ceil(longest + margin)))
end
return {1, fmt(now), fmt(rate), peers, epoch, '0', ''}
"""
)

_ON_429 = (
    _LUA_COMMON
    + """
-- KEYS: 1 starts, 2 state. ARGV: 1 endpoint key ('' for the workspace), 2 retry after,
-- 3 when the refused request started ('' if not known), 4 per_second (0: none), 5 hold,
-- 6 recovery, 7 cut, 8 adaptive ('1'/'0'), 9 state ttl, 10 margin.
local now = now_s()
local until_ = now + tonumber(ARGV[2])
local ttl = tonumber(ARGV[9])
if ARGV[1] ~= '' then
  local field = 'pause:' .. ARGV[1]
  local current = tonumber(redis.call('HGET', KEYS[2], field))
  if not current or until_ > current then redis.call('HSET', KEYS[2], field, fmt(until_)) end
  redis.call('EXPIRE', KEYS[2], ttl)
  return {'endpoint'}
end
local st = redis.call('HMGET', KEYS[2], 'rate', 'cut_at', 'pause')
if not tonumber(st[3]) or until_ > tonumber(st[3]) then
  redis.call('HSET', KEYS[2], 'pause', fmt(until_))
end
redis.call('EXPIRE', KEYS[2], ttl)
local ps, started = tonumber(ARGV[4]), tonumber(ARGV[3])
local cut_at = tonumber(st[2])
if ps > 0 and ARGV[8] == '1' and started and (not cut_at or started >= cut_at) then
  local before = rate_at(ps, tonumber(st[1]), cut_at, now, tonumber(ARGV[5]), tonumber(ARGV[6]))
  local let = redis.call('ZCOUNT', KEYS[1], fmt(started - 1 - tonumber(ARGV[10])), '(' .. fmt(started))
  local lower = math.min(tonumber(ARGV[7]) * before, before - 1)
  local rate = lower
  if let > 0 then rate = math.min(let, lower) end
  rate = math.max(1, rate)
  redis.call('HSET', KEYS[2], 'rate', fmt(rate), 'cut_at', fmt(now))
  return {'cut', fmt(before), fmt(rate), let}
end
return {'paused'}
"""
)


class _SharedPermit(Permit):
    """A permit from Redis (`started` on Redis's clock) or from the local gate."""

    __slots__ = ("member",)

    def __init__(self, key: str | None, started: float, waited: float, member: str) -> None:
        super().__init__(key, started, waited)
        self.member = member
        """Its start's member in the shared logs: Redis let it through. "" for a start of the
        local gate (while Redis was down)."""


class _Attempt:
    """What one acquire has done so far."""

    __slots__ = ("kept_share",)

    def __init__(self) -> None:
        self.kept_share = False  # passed the local gate during a grace period


class _Connection:
    """The redis client of one event loop, and the scripts registered on it."""

    __slots__ = ("acquire", "client", "closer", "on_429")

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        # For a client the limiter opened: the task that closes it (a strong reference).
        self.closer: asyncio.Task[None] | None = None
        self.acquire = client.register_script(_ACQUIRE)
        self.on_429 = client.register_script(_ON_429)

    async def close(self) -> None:
        if self.closer is not None:
            self.closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.closer


def _describe(url: str) -> str:
    # Never the password: scheme, host, port and database only.
    parts = urlsplit(url)
    host = parts.hostname or parts.path or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path if parts.hostname else ''}"


class RedisRateLimiter:
    """The workspace's rate limit shared through Redis by every process that uses it.

    `AsyncInstantly(rate_limit=RedisRateLimiter("redis://...", workspace="acme"))` in every
    worker: together they start at most `per_second` requests in any second (and
    `per_minute` in any minute), a 429 seen by one pauses them all, and a lower limit learned by
    one applies to all. Needs `pip install 'instantly-sdk[redis]'`.

    Every start is checked and counted by one Lua script, on Redis's clock. If Redis cannot be
    reached, no request fails because of it: the process logs one WARNING and goes on alone at
    its share of the limit, tries Redis again every half second, and logs INFO when it is back.
    Given a URL, it opens one connection per event loop, closed when that loop's
    `asyncio.run` ends (or by `aclose`); given a client, it uses that client and never closes it.
    """

    def __init__(
        self,
        url_or_client: str | aioredis.Redis,
        *,
        workspace: str,
        per_second: int | None = 100,
        per_minute: int | None = 6000,
        adaptive: bool = True,
        fallback_share: float | None = None,
        timeout: float = 1.0,
        key_prefix: str = "instantly:ratelimit",
    ) -> None:
        """Share a limit through the Redis at `url_or_client`; nothing connects until first use.

        Args:
            url_or_client: a Redis URL ("redis://host:6379/0", "rediss://...", "unix://...")
                or a `redis.asyncio.Redis` client to use as it is.
            workspace: names the shared limit: every process of one Instantly workspace passes
                the same name (and the same limits).
            per_second: most requests that may start in any 1-second window; None for no
                limit.
            per_minute: most requests that may start in any 60-second window; None for no
                limit.
            adaptive: lower the shared per-second rate when the server answers 429.
            fallback_share: share of the limits a process keeps to on its own while Redis is
                down; None for 1 / the number of processes seen in the last minute.
            timeout: seconds one Redis call may take before Redis counts as down.
            key_prefix: prefix of the Redis keys ("<prefix>:{<workspace>}:...").

        Raises:
            ValueError: an empty `workspace`, a limit below 1, a `fallback_share` outside
                (0, 1], or a `timeout` that is not positive.
        """
        if not workspace:
            raise ValueError("workspace must name the shared limit, e.g. workspace='acme'")
        for name, value in (("per_second", per_second), ("per_minute", per_minute)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, or None for no limit; got {value}")
        if fallback_share is not None and not 0 < fallback_share <= 1:
            raise ValueError(f"fallback_share must be in (0, 1], got {fallback_share}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if isinstance(url_or_client, str):
            self._url: str | None = url_or_client
            self._given: aioredis.Redis | None = None
            self._where = _describe(url_or_client)
        else:
            self._url = None
            self._given = url_or_client
            self._where = "the given Redis client"
        self.workspace = workspace
        """The name of the shared limit (part of every Redis key)."""
        self.per_second = per_second
        """The configured limit per second (None: no limit)."""
        self.per_minute = per_minute
        """The configured limit per minute (None: no limit)."""
        self._adaptive = adaptive
        self._fallback_share = fallback_share
        self._timeout = timeout
        base = f"{key_prefix}:{{{workspace}}}"  # one hash tag: every key in one cluster slot
        self._starts_key = f"{base}:starts"
        self._state_key = f"{base}:state"
        self._peers_key = f"{base}:peers"
        self._endpoint_prefix = f"{base}:endpoint:"
        self._peer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._members = itertools.count()
        self._lock = threading.Lock()
        self._queue = _Queue(self._lock)
        self._endpoint_queues: dict[str, _Queue] = {}
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection] = (
            weakref.WeakKeyDictionary()
        )
        # This process's own starts (local clock) of the last second: they seed the local gate
        # when Redis goes down and are pushed into the shared log when it comes back.
        self._recent: deque[float] = deque(maxlen=max(per_second or 0, 1000))
        self._offset = 0.0  # Redis's clock minus the loop's, from the last answer
        self._epoch: str | None = None
        self._peers = 1
        self._rate = float(per_second) if per_second is not None else None
        self._local: RateLimiter | None = None  # the gate while Redis is down, or in grace
        self._down = False
        self._retry_at = -math.inf
        self._grace_until = -math.inf
        self._backfill = False  # push our local starts into the shared log on the next call
        self._background: set[asyncio.Task[None]] = set()
        self.fallbacks = 0
        """Times Redis was found down and the process went on alone."""
        self.retimed = 0
        """Starts moved later because the request left late (`sent`)."""

    def __repr__(self) -> str:
        limits = ", ".join(
            f"{n}/{unit}"
            for n, unit in ((self.per_second, "s"), (self.per_minute, "min"))
            if n is not None
        )
        state = "down: local gate" if self._down else "shared"
        return (
            f"RedisRateLimiter({self._where}, workspace={self.workspace!r}, "
            f"{limits or 'unlimited'}, {state})"
        )

    @property
    def rate(self) -> float | None:
        """The shared per-second rate as of the last answer from Redis (lower after 429s)."""
        if self._down and self._local is not None:
            return self._local.rate
        return self._rate

    @property
    def shared(self) -> bool:
        """Whether requests pass through Redis now (False while it is down)."""
        return not self._down

    # -- connections ---------------------------------------------------------------------------

    def _connection(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        connection = self._connections.get(loop)
        if connection is None:
            if self._given is not None:
                connection = _Connection(self._given)
            else:
                assert self._url is not None
                client = aioredis.Redis.from_url(
                    self._url,
                    socket_timeout=self._timeout,
                    socket_connect_timeout=self._timeout,
                    retry=Retry(NoBackoff(), 0),  # we fall back instead of retrying
                )
                connection = _Connection(client)
                # Closed when the loop's tasks are cancelled at its end (asyncio.run does
                # that), before the loop closes: its sockets belong to that loop.
                connection.closer = loop.create_task(
                    self._close_at_end(loop, connection), name="instantly-redis-closer"
                )
            self._connections[loop] = connection
        return connection

    async def _close_at_end(self, loop: asyncio.AbstractEventLoop, connection: _Connection) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            # Forgotten first: the task refers to its loop, which would keep the entry alive.
            if self._connections.get(loop) is connection:
                del self._connections[loop]
            await connection.client.aclose()

    async def aclose(self) -> None:
        """Close the connection this limiter opened for the running loop (if any).

        A connection also closes by itself when its loop's `asyncio.run` ends; a client given
        to the limiter is never closed. The limiter stays usable: the next request connects
        again.
        """
        connection = self._connections.pop(asyncio.get_running_loop(), None)
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(self, loop: asyncio.AbstractEventLoop, script: str, **kw: Any) -> Any:
        connection = self._connection(loop)
        call = connection.acquire if script == "acquire" else connection.on_429
        sent = loop.time()
        async with asyncio.timeout(self._timeout):
            reply = await call(**kw)
        return reply, sent, loop.time()

    # -- the gate ------------------------------------------------------------------------------

    async def acquire(
        self, key: str | None = None, endpoint_limits: Sequence[tuple[int, float]] = ()
    ) -> Permit:
        """Wait until one request may start in the workspace, count it, and return its permit.

        Within a process, waiters queue in arrival order and only the head asks Redis. While
        Redis is down, the process's local gate decides instead (at its share of the limit).

        Args:
            key: names the endpoint whose `endpoint_limits` apply (the operation id).
            endpoint_limits: the endpoint's own (requests, seconds) limits, stricter than the
                workspace's, e.g. `((20, 60.0),)`.

        Returns:
            The request's pass (its start on Redis's clock, or on the local one while Redis
            is down), for `on_rate_limited` if the request is answered 429.

        Raises:
            ValueError: `endpoint_limits` were given without a `key`.
        """
        if endpoint_limits and key is None:
            raise ValueError("acquire(endpoint_limits=...) needs key=... to tell endpoints apart")
        loop = asyncio.get_running_loop()
        held = _Held(key, loop.time())
        attempt = _Attempt()
        if not endpoint_limits:
            async with self._queue.turn() as ahead:
                held.ahead = ahead
                permit = await self._ask(loop, held, None, (), attempt)
            assert isinstance(permit, Permit)
            return permit
        assert key is not None
        queue = self._endpoint_queues.get(key)
        if queue is None:
            with self._lock:
                queue = self._endpoint_queues.setdefault(key, _Queue(self._lock))
        async with queue.turn() as ahead:
            held.ahead = ahead
            while True:
                # The process's queue is held while the gate decides; a wait for the endpoint's
                # own limit is slept outside it, so the endpoint holds back nobody else.
                async with self._queue.turn() as shared_ahead:
                    held.ahead += shared_ahead
                    result = await self._ask(loop, held, key, endpoint_limits, attempt)
                if isinstance(result, Permit):
                    return result
                await asyncio.sleep(result)

    async def _ask(
        self,
        loop: asyncio.AbstractEventLoop,
        held: _Held,
        key: str | None,
        limits: Sequence[tuple[int, float]],
        attempt: _Attempt,
    ) -> _SharedPermit | float:
        """At the head of the process's queue: wait for a start from Redis (or the local gate).

        Returns the permit, or the seconds to wait when only the endpoint's own limit or pause
        holds the request back (with `limits`: the caller sleeps them outside the queue).
        """
        while True:
            now = loop.time()
            verdict: tuple[float, str, bool] | None
            if self._down and now < self._retry_at:
                verdict = self._local_gate(now)._try(now, key, self._local_limits(limits))
                if verdict is None:
                    return self._started(loop, held, key, limits, now, "")
                ready, why, own = verdict
                wait = min(ready, self._retry_at) - now  # and then ask Redis again
                why += " (this process alone: Redis is down)"
            elif (
                now < self._grace_until
                and not attempt.kept_share
                and (verdict := self._local_gate(now)._try(now, key, self._local_limits(limits)))
            ):
                # Just back, or Redis lost its state: peers still on their local gates are not
                # in the shared log yet, so this process keeps to its own share as well.
                ready, why, own = verdict
                wait = ready - now
                why += " (this process's share, while the others rejoin)"
            else:
                attempt.kept_share = attempt.kept_share or now < self._grace_until
                keys = [
                    self._starts_key,
                    self._state_key,
                    self._endpoint_prefix + (key or ""),
                    self._peers_key,
                ]
                args = self._acquire_args(key, limits, now)
                try:
                    reply, sent, received = await self._call(loop, "acquire", keys=keys, args=args)
                except asyncio.CancelledError:
                    self._take_back(loop, keys[0], keys[2], args[6])
                    raise
                except _DOWN as exc:
                    if isinstance(exc, TimeoutError):
                        self._take_back(loop, keys[0], keys[2], args[6])
                    self._went_down(loop, exc)
                    continue
                admitted, redis_now, rate, peers, epoch, seconds, reason = reply
                self._heard(sent, received, float(redis_now), float(rate), int(peers), epoch)
                if int(admitted):
                    member = str(args[6])
                    return self._started(loop, held, key, limits, float(redis_now), member)
                reason = reason.decode() if isinstance(reason, bytes) else str(reason)
                wait, why = float(seconds), self._reason(reason, key)
                own = reason.startswith("endpoint")
            held.why = why
            now = loop.time()
            held.note(now, now + wait)
            if own and limits:
                return wait
            await asyncio.sleep(wait)

    def _take_back(
        self, loop: asyncio.AbstractEventLoop, starts: str, endpoint: str, member: object
    ) -> None:
        """A call given up while in flight may have logged its start: remove it (best effort)."""

        connection = self._connections.get(loop)
        if connection is None:
            return

        async def remove(client: aioredis.Redis) -> None:
            with contextlib.suppress(*_DOWN):
                async with asyncio.timeout(self._timeout):
                    await client.zrem(starts, str(member))
                    await client.zrem(endpoint, str(member))

        self._keep(loop.create_task(remove(connection.client)))

    def _keep(self, task: asyncio.Task[None]) -> None:
        """Hold a background task (a strong reference) until it is done."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _started(
        self,
        loop: asyncio.AbstractEventLoop,
        held: _Held,
        key: str | None,
        limits: Sequence[tuple[int, float]],
        started: float,
        member: str,
    ) -> _SharedPermit:
        """The permit of a start: logged in Redis as `member`, or ("") by the local gate."""
        now = loop.time()
        self._recent.append(now)
        if not held.why:
            held.why = "its turn in this process's queue"
        held.note(now, now)
        return _SharedPermit(key if limits else None, started, now - held.entered, member)

    def _acquire_args(
        self, key: str | None, limits: Sequence[tuple[int, float]], now: float
    ) -> list[str | int]:
        args: list[str | int] = [
            self.per_second or 0,
            self.per_minute or 0,
            f"{MARGIN:.6f}",
            f"{PACING:.6f}",
            f"{HOLD:.6f}",
            f"{RECOVERY:.6f}",
            f"{self._peer}:{next(self._members)}",
            self._peer,
            key or "",
            ",".join(f"{n}:{p:.6f}" for n, p in limits) if limits else "",
            _STARTS_TTL,
            BURST,
        ]
        if self._backfill:  # cleared once Redis has answered (`_heard`)
            horizon = now - 1.0 - MARGIN
            args += [f"{t + self._offset:.6f}" for t in self._recent if t > horizon]
        return args

    def _heard(
        self,
        sent: float,
        received: float,
        redis_now: float,
        rate: float,
        peers: int,
        epoch: bytes | str,
    ) -> None:
        """An answer from Redis: the clocks' offset, the peers, the rate, and whether it is back."""
        self._backfill = False
        self._offset = redis_now - (sent + received) / 2
        self._peers = max(1, peers)
        if self.per_second is not None:
            self._rate = rate
        epoch = epoch.decode() if isinstance(epoch, bytes) else epoch
        if self._epoch is not None and epoch != self._epoch and not self._down:
            # Redis lost the shared state (restarted, flushed): peers may still be on their
            # local gates, and their starts are not in the new log yet.
            self._grace_until = received + GRACE
            self._local = None
            logger.info(
                "rate limit: Redis at %s lost the shared state (restarted?); keeping to this "
                "process's share for %.0f s while the other processes rejoin",
                self._where,
                GRACE,
            )
        self._epoch = epoch
        if self._down:
            self._down = False
            self._grace_until = received + GRACE
            logger.info(
                "rate limit: Redis at %s is back; sharing the workspace limit again", self._where
            )

    def _went_down(self, loop: asyncio.AbstractEventLoop, exc: BaseException) -> None:
        now = loop.time()
        self._retry_at = now + PROBE_INTERVAL
        if self._down:
            return
        self._down = True
        self.fallbacks += 1
        self._local = None
        gate = self._local_gate(now)
        share = self._share()
        # The connection may be broken for good: the next probe opens a new one.
        connection = self._connections.pop(loop, None)
        if connection is not None and connection.closer is not None:
            connection.closer.cancel()  # it closes the client
            self._keep(connection.closer)  # kept alive until it has
        logger.warning(
            "rate limit: Redis at %s is unreachable (%s: %s); this process goes on alone at "
            "%.3g of the workspace limit (%s) until it is back",
            self._where,
            type(exc).__name__,
            exc,
            share,
            gate,
        )
        self._backfill = True

    def _share(self) -> float:
        return self._fallback_share if self._fallback_share is not None else 1.0 / self._peers

    def _local_gate(self, now: float) -> RateLimiter:
        gate = self._local
        if gate is None:
            share = self._share()
            gate = RateLimiter(
                per_second=None if self.per_second is None else _scaled(self.per_second, share),
                per_minute=None if self.per_minute is None else _scaled(self.per_minute, share),
                adaptive=self._adaptive,
            )
            # Our own starts of the last second count against our share at once.
            gate._seed(t for t in self._recent if t > now - 1.0 - MARGIN)
            self._local = gate
        return gate

    def _local_limits(self, limits: Sequence[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
        share = self._share()
        return tuple((_scaled(n, share), p) for n, p in limits)

    def _reason(self, why: str, key: str | None) -> str:
        if why == "pause":
            return "the workspace's pause after a 429"
        if why == "second":
            return f"the workspace limit of {self.per_second} per second (shared)"
        if why == "learned":
            return f"the rate learned from 429s ({self._rate or 0:.1f} per second, shared)"
        if why == "minute":
            return f"the workspace limit of {self.per_minute} per minute (shared)"
        if why == "endpoint pause":
            return f"the pause of {key} after a 429 (shared)"
        if why.startswith("endpoint "):
            _, n, p = why.split()
            return f"{key}'s own limit of {n} per {float(p):g} s (shared)"
        return why

    def sent(self, permit: Permit, at: float) -> None:
        """Tell the gate when the request of `permit` left (its headers written).

        As `RateLimiter.sent`: a request that left more than RETIME_AFTER after its start is
        counted from then, in the shared logs (one ZADD in the background, on Redis's clock as
        this process estimates it) or in the local gate's, for a start it made.

        Args:
            permit: what `acquire` returned for the request.
            at: when it left, on the running loop's clock.
        """
        if not isinstance(permit, _SharedPermit) or not permit.member:
            local = self._local
            if local is not None:
                local.sent(permit, at)
            return
        later = at + self._offset
        if later - permit.started <= RETIME_AFTER:
            return
        permit.started = later
        self.retimed += 1
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is None:
            return
        logs = [self._starts_key]
        if permit.key is not None:
            logs.append(self._endpoint_prefix + permit.key)
        score = {permit.member: later}

        async def retime(client: aioredis.Redis) -> None:
            with contextlib.suppress(*_DOWN):  # best effort: the margin still holds
                async with asyncio.timeout(self._timeout):
                    for log in logs:
                        await client.zadd(log, score, xx=True)  # only if still logged

        self._keep(loop.create_task(retime(connection.client)))

    # -- 429s ----------------------------------------------------------------------------------

    async def _pause_locally(
        self, loop: asyncio.AbstractEventLoop, permit: Permit, shared: bool, retry_after: float
    ) -> None:
        if shared:  # started on Redis's clock: the local gate learns from its own starts
            permit = Permit(permit.key, loop.time(), 0.0)
        await self._local_gate(loop.time()).on_rate_limited(permit, retry_after)

    async def on_rate_limited(self, permit: Permit, retry_after: float) -> str:
        """Pause what the 429 concerns for every process, and learn from it.

        Args:
            permit: what `acquire` returned for the request.
            retry_after: seconds to hold back (the answer's Retry-After, or a backoff).

        Returns:
            What was paused, for the log ("all requests (every process)", or "... (this
            process; Redis is down)").
        """
        loop = asyncio.get_running_loop()
        scope = f"{permit.key} requests" if permit.key is not None else "all requests"
        shared = isinstance(permit, _SharedPermit) and bool(permit.member)
        paused: RateLimiter | None = None  # the local gate this 429 has been told to already
        if self._down or not shared:
            await self._pause_locally(loop, permit, shared, retry_after)
            paused = self._local
        if self._down and loop.time() < self._retry_at:
            return scope + " (this process; Redis is down)"
        try:
            reply, _, _ = await self._call(
                loop,
                "on_429",
                keys=[self._starts_key, self._state_key],
                args=[
                    permit.key or "",
                    f"{retry_after:.6f}",
                    f"{permit.started:.6f}" if shared else "",
                    self.per_second or 0,
                    f"{HOLD:.6f}",
                    f"{RECOVERY:.6f}",
                    f"{CUT:.6f}",
                    "1" if self._adaptive else "0",
                    _STATE_TTL,
                    f"{MARGIN:.6f}",
                ],
            )
        except _DOWN as exc:
            self._went_down(loop, exc)
            if paused is None or self._local is not paused:  # once per gate: one cut per 429
                await self._pause_locally(loop, permit, shared, retry_after)
            return scope + " (this process; Redis is down)"
        if reply and reply[0] == b"cut":
            _, before, rate, let_through = reply
            self._rate = float(rate)
            logger.warning(
                "rate limit: the server answered 429 at %d requests in the last second; "
                "lowering the workspace's shared rate from %.1f to %.1f per second "
                "(configured: %s)",
                int(let_through),
                float(before),
                float(rate),
                self.per_second,
            )
        return scope + " (every process)"


def _scaled(limit: int, share: float) -> int:
    return max(1, math.floor(limit * share))
