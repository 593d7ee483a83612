"""`WebhookReceiver`: an aiohttp endpoint for Instantly's webhook deliveries.

Instantly signs nothing; a webhook can carry custom headers, so the receiver authenticates a
delivery by a shared secret header. It disables a webhook whose deliveries keep failing, so the
receiver answers at once and runs the handler afterwards, in the background: a slow or failing
handler never fails a delivery. Instantly retries a delivery it thinks failed, so the same
delivery twice calls the handler once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import attrs
import orjson
from aiohttp import web

from .._convert import StructureError
from .._generated.models import BaseEvent
from ._events import WebhookPayloadError, parse_event

__all__ = ["DEFAULT_SECRET_HEADER", "ReceiverStats", "WebhookReceiver"]

logger = logging.getLogger("instantly.webhooks")

DEFAULT_SECRET_HEADER = "X-Instantly-Secret"

EventHandler = Callable[[BaseEvent], Awaitable[Any] | Any]
ErrorHandler = Callable[[BaseException, BaseEvent], Awaitable[Any] | Any]


@attrs.define
class ReceiverStats:
    """What a receiver has seen since it was made."""

    accepted: int = 0
    """Deliveries answered 200 and queued for the handler."""
    duplicates: int = 0
    """Deliveries answered 200 without calling the handler: the same content came before."""
    refused: int = 0
    """Deliveries refused: 401 (secret), 400 (not an event), 413 (too big), 503 (closing, full)."""
    handled: int = 0
    """Handler calls that returned."""
    failed: int = 0
    """Handler calls that raised (each logged and passed to `on_error`)."""


def _json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


class WebhookReceiver:
    """Receives webhook deliveries, answers them at once, and calls `on_event` for each event.

    ```python
    receiver = WebhookReceiver(on_event, secret=os.environ["WEBHOOK_SECRET"])
    web.run_app(receiver.app(path="/instantly/webhook"), port=8080)
    ```

    Give the webhook the same secret as a custom header (`headers={"X-Instantly-Secret": ...}`
    when you create it with `client.webhooks.create`). Answers: 401 for a wrong or missing
    secret, 400 for a body that is not a JSON object, 413 for one over `max_body_size`, 503
    while closing or when `max_pending` events wait already (Instantly retries those), and 200
    otherwise, before the handler runs. The same delivery twice (Instantly retries) calls the
    handler once; handlers run in the background, at most `concurrency` at a time.
    """

    def __init__(
        self,
        on_event: EventHandler,
        *,
        secret: str | None,
        secret_header: str = DEFAULT_SECRET_HEADER,
        concurrency: int = 8,
        on_error: ErrorHandler | None = None,
        dedupe_window: int = 10_000,
        max_pending: int = 1_000,
        max_body_size: int = 1024 * 1024,
    ) -> None:
        """Configure the receiver; nothing runs until a delivery arrives.

        Args:
            on_event: called with each event (a BaseEvent subclass); a plain or a coroutine
                function.
            secret: the value the secret header must carry; None accepts every delivery (only
                for trying things out on a private network).
            secret_header: the header Instantly is told to send the secret in.
            concurrency: how many handler calls may run at once.
            on_error: called as `on_error(exception, event)` when on_event raises; plain or
                async.
            dedupe_window: how many recent deliveries are remembered to drop repeats.
            max_pending: how many accepted events may wait for a free handler slot before new
                deliveries are answered 503.
            max_body_size: the largest body accepted, in bytes.

        Raises:
            ValueError: an empty `secret` or `secret_header`, or a number below 1.
        """
        if secret is not None and not secret:
            raise ValueError("secret must not be empty; pass None to accept any delivery")
        if not secret_header:
            raise ValueError("secret_header must name a header")
        for name, value in (
            ("concurrency", concurrency),
            ("dedupe_window", dedupe_window),
            ("max_pending", max_pending),
            ("max_body_size", max_body_size),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self._on_event = on_event
        self._on_error = on_error
        self._secret = secret.encode() if secret is not None else None
        self.secret_header = secret_header
        self.concurrency = concurrency
        self.max_pending = max_pending
        self.max_body_size = max_body_size
        self._dedupe_window = dedupe_window
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._queue: asyncio.Queue[BaseEvent] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0  # handler calls in progress
        self._closing = False
        self.stats = ReceiverStats()
        """Counters of deliveries and handler calls."""

    def __repr__(self) -> str:
        secret = "***" if self._secret is not None else None
        return (
            f"WebhookReceiver(secret={secret!r}, secret_header={self.secret_header!r}, "
            f"concurrency={self.concurrency})"
        )

    # -- aiohttp -------------------------------------------------------------------------------

    def app(self, path: str = "/") -> web.Application:
        """An aiohttp application that receives deliveries on POST `path`.

        Shutting the application down (web.run_app on SIGINT/SIGTERM, or AppRunner.cleanup)
        closes the receiver, so the handlers in flight finish first.

        Args:
            path: the URL path the deliveries come to.

        Returns:
            A new `aiohttp.web.Application` to run (`web.run_app`) or nest in yours
            (`app.add_subapp`).

        Raises:
            ValueError: `path` does not start with "/".
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        app = web.Application(client_max_size=self.max_body_size)
        app.router.add_post(path, self.handle)

        async def close(_: web.Application) -> None:
            await self.aclose()

        app.on_shutdown.append(close)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler of one delivery, to mount in an app of your own.

        ```python
        app.router.add_post("/instantly/webhook", receiver.handle)
        app.on_shutdown.append(lambda _: receiver.aclose())
        ```

        Args:
            request: the delivery.

        Returns:
            The answer: 200 once the event is queued (or a repeat is dropped), else 401, 400,
            413 or 503 with a JSON `error`.
        """
        if self._secret is not None:
            sent = request.headers.get(self.secret_header, "").encode()
            if not hmac.compare_digest(sent, self._secret):
                self.stats.refused += 1
                logger.warning(
                    "refused a webhook delivery from %s: %s header %s",
                    request.remote,
                    self.secret_header,
                    "wrong" if sent else "missing",
                )
                return _json_response(401, {"error": f"missing or wrong {self.secret_header}"})
        if self._closing:
            self.stats.refused += 1
            return _json_response(503, {"error": "the receiver is shutting down; retry later"})
        if request.content_length is not None and request.content_length > self.max_body_size:
            self.stats.refused += 1
            return _json_response(413, {"error": f"body over {self.max_body_size} bytes"})
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.stats.refused += 1
            return _json_response(413, {"error": f"body over {self.max_body_size} bytes"})
        if len(raw) > self.max_body_size:
            self.stats.refused += 1
            return _json_response(413, {"error": f"body over {self.max_body_size} bytes"})
        try:
            event, key = self._decode(raw)
        except (WebhookPayloadError, StructureError) as exc:
            self.stats.refused += 1
            logger.warning("refused a webhook delivery from %s: %s", request.remote, exc)
            return _json_response(400, {"error": str(exc)})
        if key in self._seen:
            self._seen.move_to_end(key)
            self.stats.duplicates += 1
            return _json_response(200, {"ok": True, "duplicate": True})
        queue = self._start()
        if queue.qsize() >= self.max_pending:
            self.stats.refused += 1
            logger.warning("refused a webhook delivery: %d events wait already", queue.qsize())
            return _json_response(503, {"error": "too many events waiting; retry later"})
        self._remember(key)
        queue.put_nowait(event)
        self.stats.accepted += 1
        return _json_response(200, {"ok": True})

    # -- lifecycle -----------------------------------------------------------------------------

    async def aclose(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Stop accepting deliveries (they get 503) and wait for the handlers in flight.

        Args:
            timeout: seconds to wait for them; None waits until they finish. The handlers
                still running then are cancelled.
        """
        self._closing = True
        queue, workers = self._queue, self._workers
        if queue is None:
            return
        try:
            await asyncio.wait_for(queue.join(), timeout)
        except TimeoutError:
            logger.warning(
                "webhook receiver closed with %d events not handled", queue.qsize() + self._running
            )
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []

    async def __aenter__(self) -> WebhookReceiver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- inside ----------------------------------------------------------------------------------

    @staticmethod
    def _decode(raw: bytes) -> tuple[BaseEvent, bytes]:
        """The event, and the key that identifies the delivery's content (key order aside)."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise WebhookPayloadError("the webhook body is not JSON") from None
        event = parse_event(data)
        key = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).digest()
        return event, key

    def _remember(self, key: bytes) -> None:
        self._seen[key] = None
        if len(self._seen) > self._dedupe_window:
            self._seen.popitem(last=False)

    def _start(self) -> asyncio.Queue[BaseEvent]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._workers = [
                asyncio.create_task(self._work(), name=f"instantly-webhook-handler-{i}")
                for i in range(self.concurrency)
            ]
        return self._queue

    async def _work(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            event = await queue.get()
            self._running += 1
            try:
                await self._call(event)
            finally:
                self._running -= 1
                queue.task_done()

    async def _call(self, event: BaseEvent) -> None:
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats.failed += 1
            logger.exception("webhook handler failed on a %s event", event.event_type)
            if self._on_error is not None:
                try:
                    outcome = self._on_error(exc, event)
                    if inspect.isawaitable(outcome):
                        await outcome
                except Exception:
                    logger.exception("on_error failed too")
        else:
            self.stats.handled += 1
