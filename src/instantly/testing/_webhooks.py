"""Webhooks of the mock: the webhook and webhook-event operations, and delivery.

When an event happens in the state (`state.emit`: a reply received, an email sent, an interest
status set, a bounce), `WebhookDelivery` POSTs it to every webhook subscribed to it, with the
webhook's custom headers, as Instantly does: a 2xx is a success; another status, a dropped
connection or no answer within the timeout is a failure, retried a few times with growing
pauses; when the last try fails too, the webhook is disabled (`status` -1, `timestamp_error`
set) and receives nothing more until `POST /webhooks/{id}/resume`. Each try is recorded as a
WebhookEvent (`GET /api/v2/webhook-events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .. import _json
from .._generated.webhooks import SUBSCRIPTIONS
from ._call import Call, handles, visible
from ._resources import _by_id, _list
from ._state import MockState, Record

__all__ = ["WebhookDelivery", "subscribed"]

logger = logging.getLogger("instantly.testing")

ACTIVE, DISABLED = 1, -1
USER_AGENT = "instantly-mock-webhooks/1"


def subscribed(webhook: Record, event: Record) -> bool:
    """Whether this webhook receives this event: it is active, of the event's campaign (or of
    every campaign), and subscribed to the event's type, to `all_events`, or (event_type null)
    to the custom label with the event's `custom_interest_value`."""
    if webhook.get("status") == DISABLED:
        return False
    if webhook.get("campaign") not in (None, event.get("campaign_id")):
        return False
    wanted = webhook.get("event_type")
    if wanted == "all_events":
        return True
    event_type = event.get("event_type")
    if event_type is None:
        return wanted is None and webhook.get("custom_interest_value") == event.get(
            "custom_interest_value"
        )
    return wanted is not None and wanted == SUBSCRIPTIONS.get(event_type, event_type)


class WebhookDelivery:
    """Delivers the state's events to its webhooks, in background tasks of the running loop."""

    def __init__(
        self, state: MockState, *, retries: int, retry_delay: float, timeout: float
    ) -> None:
        """Deliver nothing yet: `accept` hands it events.

        Args:
            state: whose events and webhooks.
            retries: tries after the first before a webhook is disabled.
            retry_delay: seconds before the first retry (doubling after each).
            timeout: seconds a receiver has to answer one try.
        """
        self.state = state
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def accept(self, event: Record) -> None:
        """Start delivering `event` to every webhook subscribed to it (a state listener)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # seeded outside a running loop: recorded in state.events only
            return
        for webhook in list(self.state.webhooks):
            if subscribed(webhook, event):
                task = loop.create_task(self._deliver(webhook["id"], event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every delivery under way (retries included) has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop the deliveries under way and close the HTTP session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _deliver(self, webhook_id: str, event: Record) -> None:
        state = self.state
        group = state.new_id()
        for attempt in range(self.retries + 1):
            webhook = state.webhooks.rows.get(webhook_id)
            if webhook is None or webhook.get("status") == DISABLED:
                return  # deleted, or disabled by another delivery meanwhile
            status, error, millis = await self._post(webhook, event)
            ok = status is not None and 200 <= status < 300
            retry = not ok and attempt < self.retries
            delay = self.retry_delay * 2**attempt
            now = state.now()
            state.webhook_events.add(
                {
                    "id": state.new_id(),
                    "timestamp_created": now,
                    "timestamp_created_date": now[:10],
                    "organization_id": state.workspace_id,
                    "payload": event,
                    "success": ok,
                    "retry_count": attempt,
                    "will_retry": retry,
                    "webhook_url": webhook["target_hook_url"],
                    "status_code": status,
                    "error_message": error,
                    "timestamp_next_retry": None,
                    "retry_group_id": group,
                    "retry_successful": (ok if attempt else None),
                    "lead_email": event.get("lead_email"),
                    "response_time_ms": millis,
                    "_webhook": webhook_id,
                }
            )
            if ok:
                return
            if retry:
                await asyncio.sleep(delay)
        webhook = state.webhooks.rows.get(webhook_id)
        if webhook is not None:
            webhook["status"] = DISABLED
            webhook["timestamp_error"] = state.now()
            logger.warning(
                "mock webhook %s disabled after %d failed tries of a %s event",
                webhook_id,
                self.retries + 1,
                event.get("event_type"),
            )

    async def _post(self, webhook: Record, event: Record) -> tuple[int | None, str | None, int]:
        """One try: (status or None, error or None, milliseconds it took)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **(webhook.get("headers") or {}),
        }
        started = time.perf_counter()
        try:
            async with self._session.post(
                webhook["target_hook_url"],
                data=_json.dumps(event),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as answer:
                await answer.read()
                status = answer.status
            error = None if 200 <= status < 300 else f"the receiver answered {status}"
            return status, error, int((time.perf_counter() - started) * 1000)
        except TimeoutError:
            reason = f"no answer within {self.timeout:g} s"
        except (aiohttp.ClientError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
        return None, reason, int((time.perf_counter() - started) * 1000)


# --- webhooks --------------------------------------------------------------------------------

_DEFAULTS = {"campaign": None, "name": None, "event_type": None, "custom_interest_value": None}


@handles("createWebhook")
def create_webhook(call: Call) -> Any:
    state = call.state
    record = {
        "id": state.new_id(),
        "organization": state.workspace_id,
        **_DEFAULTS,
        "headers": None,
        **call.data,
        "timestamp_created": state.now(),
        "status": ACTIVE,
        "timestamp_error": None,
    }
    return visible(state.webhooks.add(record))


_by_id(
    lambda s: s.webhooks,
    "Webhook",
    get="getWebhook",
    delete="deleteWebhook",
    patch="patchWebhook",
)


@handles("resumeWebhook")
def resume_webhook(call: Call) -> Any:
    record = call.state.webhooks.get(call.params["id"], "Webhook")
    record["status"] = ACTIVE
    record["timestamp_error"] = None
    return visible(record)


@handles("listWebhook")
def list_webhooks(call: Call) -> Any:
    params = call.params
    tests: list[Callable[[Record], bool]] = []
    if params.get("campaign") is not None:
        campaign = params["campaign"]
        tests.append(lambda r: r.get("campaign") == campaign)
    if params.get("event_type") is not None:
        wanted = params["event_type"]
        tests.append(lambda r: r.get("event_type") == wanted)
    return _list(call, call.state.webhooks, tests)


# --- webhook events (the delivery log) --------------------------------------------------------


@handles("getWebhookEvent")
def get_webhook_event(call: Call) -> Any:
    return visible(call.state.webhook_events.get(call.params["id"], "Webhook event"))


@handles("listWebhookEvent")
def list_webhook_events(call: Call) -> Any:
    params = call.params
    tests: list[Callable[[Record], bool]] = []
    if params.get("success") is not None:
        success = params["success"]
        tests.append(lambda r: r["success"] == success)
    if params.get("from") is not None:
        first = str(params["from"])
        tests.append(lambda r: r["timestamp_created_date"] >= first)
    if params.get("to") is not None:
        last = str(params["to"])
        tests.append(lambda r: r["timestamp_created_date"] <= last)
    needle = (params.get("search") or "").lower()
    if needle:
        tests.append(
            lambda r: (
                needle in str(r.get("lead_email") or "").lower()
                or needle in r["webhook_url"].lower()
            )
        )
    return _list(call, call.state.webhook_events, tests)
