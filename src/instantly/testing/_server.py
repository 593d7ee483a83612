"""`MockInstantly`: the embedded, stateful mock of the Instantly V2 API on aiohttp.web.

Every request takes the same path, in the order the real service applies its checks:
route (404) -> bearer key (401) -> rate limit (429 + Retry-After) -> parameters and body against
the spec (400) -> injected fault before the write (5xx or drop) -> the operation (stateful
handler, or the spec example) -> injected fault after the write -> answer (checked against the
spec when `validate_responses` is on).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import math
import weakref
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from . import _agents, _emails, _leads, _resources, _webhooks
from ._arrivals import ArrivalLimits, PeakCounter
from ._call import HANDLERS, Call
from ._faults import Fault, FaultDice, Faults
from ._spec import (
    Route,
    SpecViolation,
    check_response,
    example,
    match_route,
    operation_schemas,
    request_validator,
)
from ._state import MockState, Problem

if TYPE_CHECKING:
    from .._client import AsyncInstantly

__all__ = ["MockInstantly"]

logger = logging.getLogger("instantly.testing")

_ = (_agents, _emails, _leads, _resources)  # imported for their handlers
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_MAX_BODY = 64 * 1024 * 1024


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    return web.Response(
        body=_dumps(body).encode(), status=status, content_type="application/json", headers=headers
    )


@functools.cache
def _example_answer(operation_id: str, content_type: str | None) -> bytes:
    """The body an operation without a stateful handler answers: its schema's example, cached."""
    _, _, schema = operation_schemas(operation_id)
    if schema is not None:
        return _dumps(example(schema)).encode()
    if content_type == "text/csv":
        return b"value\nexample.com\n"
    return b""


class MockInstantly:
    """A local, stateful stand-in for the Instantly V2 API, for tests, demos and benchmarks.

    Use as `async with MockInstantly() as mock:`; then `mock.url` is its origin,
    `mock.client()` an `AsyncInstantly` pointed at it, and `mock.state` what it holds.

    ```python
    async with MockInstantly() as mock, mock.client() as client:
        campaign = mock.state.add_campaign(name="Spring")
        await client.leads.create(email="ada@example.com", campaign=campaign["id"])
        assert len(mock.state.leads) == 1
    ```

    Every request is checked as the API checks it, in its order: the route (404), the bearer
    key (401), the rate limits (429 with Retry-After), the parameters and body against the spec
    (400); then an injected fault, if any; then the operation, on real state or with an example
    answer from the spec.
    """

    def __init__(
        self,
        api_key: str = "test",
        *,
        rate_limit: tuple[int | None, int | None] | None = (100, 6000),
        latency: float = 0.0,
        faults: Faults | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        validate_responses: bool = False,
        job_seconds: float = 1.0,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 1.0,
        webhook_timeout: float = 10.0,
        rate_limit_leeway: bool = False,
        record_arrivals: bool = False,
    ) -> None:
        """Configure the mock; it listens once started (`async with` or `await start()`).

        Args:
            api_key: the only key accepted (`Authorization: Bearer <api_key>`); others get a
                401.
            rate_limit: the workspace limit as (per second, per minute), either may be None;
                the stricter per-endpoint limits of the spec (x-rate-limit) apply on top. None
                turns every limit off. Requests are counted when they arrive, strictly, as the
                API does: no sliding window ever admits more than its limit.
            latency: seconds added before each answer (requests overlap; they are not queued).
            faults: server errors, drops and slow answers to inject; None for none. Settable
                later.
            seed: makes ids and injected faults repeatable.
            host: the address to listen on.
            port: the port to listen on; 0 picks a free one.
            validate_responses: check every success answer against the spec (slower; a broken
                answer becomes a 500 naming the field).
            job_seconds: how long a background job (leads move) takes, on the event loop's
                clock.
            webhook_retries: how many times a failed webhook delivery is tried again before
                the webhook is disabled (status -1), as the API does.
            webhook_retry_delay: seconds before the first retry; doubled before each next one.
            webhook_timeout: seconds a webhook's receiver has to answer one delivery.
            rate_limit_leeway: forgive arrival jitter instead (a new connection's first
                request counts from 0.5 s earlier, 0.1 s of queueing is let through), for
                clients that keep a limit at their end without pacing for the server's.
            record_arrivals: keep the loop time of every request's arrival in `arrivals`.

        Raises:
            ValueError: an empty `api_key`, or a negative `latency` or `job_seconds`.
        """
        if not api_key:
            raise ValueError("api_key must not be empty")
        if latency < 0:
            raise ValueError(f"latency must be 0 or more, got {latency}")
        if job_seconds < 0:
            raise ValueError(f"job_seconds must be 0 or more, got {job_seconds}")
        self._auth = f"Bearer {api_key}".encode()
        self._api_key = api_key
        self.rate_limit = rate_limit
        self.latency = latency
        self.faults = faults
        """The faults to inject now; assign a new `Faults` (or None) at any time."""
        self.validate_responses = validate_responses
        self.job_seconds = job_seconds
        self.state = MockState(seed)
        """What the mock holds and has seen: stores and counters (see MockState)."""
        self._webhooks = _webhooks.WebhookDelivery(
            self.state,
            retries=webhook_retries,
            retry_delay=webhook_retry_delay,
            timeout=webhook_timeout,
        )
        self._dice = FaultDice(seed)
        self._limits: ArrivalLimits | None = None
        if rate_limit is not None:
            per_second, per_minute = rate_limit
            self._limits = ArrivalLimits(per_second, per_minute, leeway=rate_limit_leeway)
        self._peak = PeakCounter(1.0)
        self.arrivals: list[float] = []
        """Loop times at which requests arrived, in order (kept when record_arrivals=True)."""
        self._record_arrivals = record_arrivals
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._connections: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._clients: list[AsyncInstantly] = []
        self.url = ""
        """The mock's origin, e.g. http://127.0.0.1:8123 (empty until started)."""

    def __repr__(self) -> str:
        return f"MockInstantly(url={self.url!r}, api_key='***', rate_limit={self.rate_limit!r})"

    @property
    def peak_per_second(self) -> int:
        """The most requests that arrived within any 1-second window so far (429s included)."""
        return self._peak.peak

    @property
    def api_key(self) -> str:
        """The key the mock accepts."""
        return self._api_key

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> str:
        """Start listening (`async with` calls this).

        Returns:
            The mock's origin, also in `url` (e.g. `http://127.0.0.1:8123`).

        Raises:
            RuntimeError: the mock is started already.
            OSError: the address cannot be listened on (e.g. the port is taken).
        """
        if self._runner is not None:
            raise RuntimeError("this mock is already started")
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.state.listeners.append(self._webhooks.accept)
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Close the clients made by `client()`, end webhook deliveries, stop listening.

        `async with` calls this on the way out.
        """
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()
        runner, self._runner = self._runner, None
        if self._webhooks.accept in self.state.listeners:
            self.state.listeners.remove(self._webhooks.accept)
        await self._webhooks.aclose()
        if runner is not None:
            await runner.cleanup()

    async def drain_webhooks(self) -> None:
        """Wait until every webhook delivery under way, retries included, has ended.

        Call it after seeding an event (`state.receive_reply`, `state.emit`, ...) to know
        that the receivers got it (or that it failed for good) before checking their work.
        """
        await self._webhooks.drain()

    async def __aenter__(self) -> MockInstantly:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def client(self, **kwargs: Any) -> AsyncInstantly:
        """An `AsyncInstantly` for this mock (closed when the mock stops).

        Args:
            **kwargs: passed to AsyncInstantly (rate_limit, max_retries, timeout, ...; api_key
                too, to try a wrong one).

        Returns:
            A client on `url` with the mock's key; use it as `async with` or leave it to
            `stop`.

        Raises:
            RuntimeError: the mock is not started.
        """
        from .._client import AsyncInstantly

        if not self.url:
            raise RuntimeError("start the mock first (async with MockInstantly() as mock: ...)")
        kwargs.setdefault("api_key", self._api_key)
        client = AsyncInstantly(base_url=self.url, **kwargs)
        self._clients.append(client)
        return client

    # -- the request path ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.state.in_flight += 1
        try:
            return await self._answer(request)
        finally:
            self.state.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        state.requests += 1
        arrived = asyncio.get_running_loop().time()
        self._peak.add(arrived)
        if self._record_arrivals:
            self.arrivals.append(arrived)
        if self.latency:
            await asyncio.sleep(self.latency)
        segments = [unquote(s) for s in request.raw_path.partition("?")[0].strip("/").split("/")]
        found = match_route(request.method, segments)
        if found is None:
            return _error(404, f"Route {request.method}:{request.path} not found")
        route, path_params = found
        operation_id = route.operation_id
        state.by_operation[operation_id] += 1

        header = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(header, self._auth):
            state.unauthorized += 1
            # The status phrase is the error's own ("401 Unauthorized"): the message says only
            # what is wrong, so a client does not print "Unauthorized" twice.
            reason = "A valid API key is required" if header else "No API key was sent"
            return _error(401, f"{reason} (Authorization: Bearer <key>)")

        limits = self._limits
        if limits is not None:
            fresh = False
            if limits.leeway:
                transport = request.transport
                if transport is not None and transport not in self._connections:
                    self._connections.add(transport)
                    fresh = True
            wait = limits.admit(arrived, operation_id, route.rate_limits, new_connection=fresh)
            if wait is not None:
                state.rate_limited += 1
                seconds = max(1, math.ceil(wait))
                return _error(
                    429,
                    f"Too many requests; retry in {seconds} s",
                    headers={"Retry-After": str(seconds)},
                )

        try:
            params, body = await self._read(request, route, path_params)
        except SpecViolation as exc:
            state.bad_requests += 1
            return _error(400, str(exc))

        faults = self.faults
        if faults is not None:
            fault, hold = self._dice.before(faults, operation_id)
            if hold:
                await asyncio.sleep(hold)
            if fault is not Fault.NONE:
                return self._fail(request, fault, faults)

        handler = HANDLERS.get(operation_id)
        result: Any
        if handler is None:
            answer = _example_answer(operation_id, route.content_type)
        else:
            try:
                result = handler(Call(state, params, body, self.job_seconds))
            except Problem as problem:
                if problem.status == 400:
                    state.bad_requests += 1
                return _error(problem.status, problem.message)
            if self.validate_responses:
                try:
                    check_response(operation_id, result)
                except SpecViolation as exc:
                    logger.error("mock answer to %s breaks the spec: %s", operation_id, exc)
                    return _error(500, f"the mock's answer breaks the spec: {exc}")
            answer = _dumps(result).encode()

        if faults is not None:
            fault = self._dice.after(faults, operation_id)
            if fault is not Fault.NONE:
                return self._fail(request, fault, faults)
        if route.content_type is None:
            return web.Response(status=route.success_status)
        return web.Response(
            body=answer, status=route.success_status, content_type=route.content_type
        )

    async def _read(
        self, request: web.Request, route: Route, path_params: dict[str, str]
    ) -> tuple[dict[str, Any], Any]:
        checker = request_validator(route.operation_id)
        params = checker.parameters(path_params, request.query)
        body = None
        if route.has_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise SpecViolation("body is not valid JSON") from None
                checker.body(body)
            elif route.body_required:
                raise SpecViolation("body must be object")
            else:
                checker.body_absent()
        return params, body

    def _fail(self, request: web.Request, fault: Fault, faults: Faults) -> web.Response:
        self.state.faults += 1
        if fault is Fault.ERROR:
            status = self._dice.status(faults)
            return _error(status, "Injected fault (MockInstantly faults)")
        # A drop: close the connection with no answer at all.
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPServiceUnavailable()  # never sent: the connection is gone
