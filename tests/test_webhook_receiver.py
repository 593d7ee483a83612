"""`instantly.webhooks.WebhookReceiver`: the secret, 400s, dedupe, fast answers with the handler in
the background, bounded concurrency, failing handlers, and draining on close."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from instantly.webhooks import BaseEvent, ReplyReceivedEvent, WebhookReceiver

pytestmark = pytest.mark.looptime(end=300)  # a hang fails instead of waiting for ever

SECRET = "whsec-Very-Secret-42"
HEADERS = {"X-Instantly-Secret": SECRET}


def body(n: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "timestamp": f"2026-08-21T09:15:{n:02d}.000Z",
        "event_type": "reply_received",
        "workspace": "0199b1c2-0000-7000-8000-00000000aaaa",
        "campaign_id": None,
        "campaign_name": None,
        "lead_email": f"lead{n}@example.com",
        "reply_text": "Sounds good",
        **fields,
    }


class Recorder:
    """An on_event that records events, optionally slow or failing."""

    def __init__(self, seconds: float = 0.0, fail_on: set[str] | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on or set()
        self.started: list[BaseEvent] = []
        self.done: list[BaseEvent] = []
        self.running = 0
        self.most = 0

    async def __call__(self, event: BaseEvent) -> None:
        self.started.append(event)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if self.seconds:
                await asyncio.sleep(self.seconds)
            if event.lead_email in self.fail_on:
                raise RuntimeError(f"handler broke on {event.lead_email}")
            self.done.append(event)
        finally:
            self.running -= 1


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def settle(receiver: WebhookReceiver) -> None:
    """Let the background handlers run (fake clock: instant)."""
    for _ in range(50):
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)


async def test_a_wrong_or_missing_secret_is_401_and_the_handler_never_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET)
    caplog.set_level(logging.DEBUG)
    async with serve(receiver.app()) as http:
        for headers in ({}, {"X-Instantly-Secret": "guess"}, {"X-Other": SECRET}):
            answer = await http.post("/", json=body(), headers=headers)
            assert answer.status == 401
            text = await answer.text()
            assert SECRET not in text
            assert "X-Instantly-Secret" in text  # says which header to send
        await settle(receiver)
        assert on_event.started == []
        answer = await http.post("/", json=body(), headers=HEADERS)
        assert answer.status == 200
        await receiver.aclose()
    assert [e.lead_email for e in on_event.done] == ["lead1@example.com"]
    assert receiver.stats.refused == 3
    assert SECRET not in caplog.text and "guess" not in caplog.text
    assert "wrong" in caplog.text and "missing" in caplog.text
    assert SECRET not in repr(receiver)


async def test_a_custom_secret_header() -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET, secret_header="Authorization")
    async with serve(receiver.app(path="/hook")) as http:
        assert (await http.post("/hook", json=body(), headers=HEADERS)).status == 401
        ok = await http.post("/hook", json=body(), headers={"Authorization": SECRET})
        assert ok.status == 200
        await receiver.aclose()
    assert len(on_event.done) == 1


@pytest.mark.parametrize(
    "raw", [b"not json", b"", b"[1,2,3]", b'"reply_received"', b"42", b"<html></html>"]
)
async def test_a_body_that_is_not_a_json_object_is_400(raw: bytes) -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET)
    async with serve(receiver.app()) as http:
        answer = await http.post(
            "/", data=raw, headers={**HEADERS, "Content-Type": "application/json"}
        )
        assert answer.status == 400
        assert "error" in await answer.json()
        await receiver.aclose()
    assert on_event.started == []


async def test_the_same_delivery_twice_calls_the_handler_once() -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET)
    async with serve(receiver.app()) as http:
        first = await http.post("/", json=body(1), headers=HEADERS)
        again = await http.post("/", json=body(1), headers=HEADERS)
        # The same content with its keys in another order is the same delivery.
        reordered = json.dumps(dict(reversed(list(body(1).items()))))
        third = await http.post(
            "/", data=reordered, headers={**HEADERS, "Content-Type": "application/json"}
        )
        assert [first.status, again.status, third.status] == [200, 200, 200]
        assert (await again.json())["duplicate"] is True
        # Any field that differs makes it another event.
        await http.post("/", json=body(1, reply_text="Sounds good!"), headers=HEADERS)
        await http.post("/", json=body(1, timestamp="2026-08-21T09:15:01.001Z"), headers=HEADERS)
        await receiver.aclose()
    assert len(on_event.done) == 3
    assert receiver.stats.duplicates == 2


async def test_a_refused_delivery_is_not_remembered() -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET)
    async with serve(receiver.app()) as http:
        assert (
            await http.post("/", json=body(1), headers={"X-Instantly-Secret": "x"})
        ).status == 401
        assert (await http.post("/", json=body(1), headers=HEADERS)).status == 200
        await receiver.aclose()
    assert len(on_event.done) == 1


async def test_the_dedupe_window_is_bounded() -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET, dedupe_window=2)
    async with serve(receiver.app()) as http:
        for n in (1, 2, 3, 1):  # 1 has left the window when it comes back
            await http.post("/", json=body(n), headers=HEADERS)
        await receiver.aclose()
    assert [e.lead_email for e in on_event.done].count("lead1@example.com") == 2


async def test_the_answer_comes_at_once_and_the_slow_handler_runs_after() -> None:
    on_event = Recorder(seconds=2.0)
    receiver = WebhookReceiver(on_event, secret=SECRET)
    loop = asyncio.get_running_loop()
    async with serve(receiver.app()) as http:
        start = loop.time()
        answer = await http.post("/", json=body(), headers=HEADERS)
        took = loop.time() - start
        assert answer.status == 200
        assert took < 0.5
        assert on_event.done == []  # still running in the background
        await asyncio.sleep(2.5)
        assert len(on_event.done) == 1
        await receiver.aclose()


async def test_concurrency_is_bounded() -> None:
    on_event = Recorder(seconds=1.0)
    receiver = WebhookReceiver(on_event, secret=SECRET, concurrency=2)
    async with serve(receiver.app()) as http:
        answers = await asyncio.gather(
            *(http.post("/", json=body(n), headers=HEADERS) for n in range(6))
        )
        assert {a.status for a in answers} == {200}
        await receiver.aclose()
    assert len(on_event.done) == 6
    assert on_event.most == 2


async def test_a_failing_handler_is_logged_and_reported_and_the_next_is_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    on_event = Recorder(fail_on={"lead1@example.com"})
    errors: list[tuple[BaseException, BaseEvent]] = []

    async def on_error(exc: BaseException, event: BaseEvent) -> None:
        errors.append((exc, event))

    receiver = WebhookReceiver(on_event, secret=SECRET, on_error=on_error, concurrency=1)
    async with serve(receiver.app()) as http:
        assert (await http.post("/", json=body(1), headers=HEADERS)).status == 200
        assert (await http.post("/", json=body(2), headers=HEADERS)).status == 200
        await receiver.aclose()
    assert [e.lead_email for e in on_event.done] == ["lead2@example.com"]
    ((exc, event),) = errors
    assert isinstance(exc, RuntimeError) and isinstance(event, ReplyReceivedEvent)
    assert event.lead_email == "lead1@example.com"
    assert "handler failed" in caplog.text and "handler broke" in caplog.text
    assert (receiver.stats.handled, receiver.stats.failed) == (1, 1)


async def test_a_sync_handler_and_a_failing_on_error_do_not_stop_the_receiver() -> None:
    seen: list[str | None] = []

    def on_event(event: BaseEvent) -> None:
        seen.append(event.lead_email)
        if event.lead_email == "lead1@example.com":
            raise ValueError("bad")

    def on_error(exc: BaseException, event: BaseEvent) -> None:
        raise RuntimeError("and the error handler too")

    receiver = WebhookReceiver(on_event, secret=SECRET, on_error=on_error)
    async with serve(receiver.app()) as http:
        await http.post("/", json=body(1), headers=HEADERS)
        await http.post("/", json=body(2), headers=HEADERS)
        await receiver.aclose()
    assert seen == ["lead1@example.com", "lead2@example.com"]


async def test_aclose_waits_for_the_handlers_in_flight_and_refuses_new_deliveries() -> None:
    on_event = Recorder(seconds=3.0)
    receiver = WebhookReceiver(on_event, secret=SECRET, concurrency=2)
    loop = asyncio.get_running_loop()
    async with serve(receiver.app()) as http:
        for n in range(3):  # two run at once, the third waits for a slot
            await http.post("/", json=body(n), headers=HEADERS)
        start = loop.time()
        closing = asyncio.create_task(receiver.aclose())
        await asyncio.sleep(0.1)
        late = await http.post("/", json=body(9), headers=HEADERS)
        assert late.status == 503  # Instantly retries it later
        await closing
        assert loop.time() - start >= 5.9  # 3 s, then the third one's 3 s
        assert len(on_event.done) == 3
    assert all(e.lead_email != "lead9@example.com" for e in on_event.started)


async def test_aclose_with_a_timeout_cancels_what_is_left(caplog: pytest.LogCaptureFixture) -> None:
    on_event = Recorder(seconds=60.0)
    receiver = WebhookReceiver(on_event, secret=SECRET)
    async with serve(receiver.app()) as http:
        await http.post("/", json=body(), headers=HEADERS)
        await settle(receiver)
        await receiver.aclose(timeout=1.0)
    assert on_event.done == [] and on_event.running == 0
    assert "1 events not handled" in caplog.text


async def test_the_handler_mounts_in_an_existing_app_and_app_shutdown_drains() -> None:
    on_event = Recorder(seconds=1.0)
    receiver = WebhookReceiver(on_event, secret=SECRET)
    app = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/health", health)
    app.router.add_post("/hooks/instantly", receiver.handle)
    async with serve(app) as http:
        assert (await http.get("/health")).status == 200
        assert (await http.post("/hooks/instantly", json=body(), headers=HEADERS)).status == 200
    await receiver.aclose()
    assert len(on_event.done) == 1

    # With receiver.app(), shutting the app down is enough.
    on_event = Recorder(seconds=1.0)
    receiver = WebhookReceiver(on_event, secret=SECRET)
    async with serve(receiver.app(path="/in")) as http:
        assert (await http.post("/in", json=body(), headers=HEADERS)).status == 200
    assert len(on_event.done) == 1


async def test_too_many_waiting_events_are_refused_with_503() -> None:
    on_event = Recorder(seconds=10.0)
    receiver = WebhookReceiver(on_event, secret=SECRET, concurrency=1, max_pending=2)
    async with serve(receiver.app()) as http:
        statuses = []
        for n in range(5):
            statuses.append((await http.post("/", json=body(n), headers=HEADERS)).status)
            await settle(receiver)
        # One runs, two wait, the rest are refused (and not remembered: a retry gets in later).
        assert statuses == [200, 200, 200, 503, 503]
        await receiver.aclose()
    assert len(on_event.done) == 3


async def test_a_body_over_the_limit_is_413() -> None:
    on_event = Recorder()
    receiver = WebhookReceiver(on_event, secret=SECRET, max_body_size=1000)
    async with serve(receiver.app()) as http:
        answer = await http.post("/", json=body(reply_text="x" * 2000), headers=HEADERS)
        assert answer.status == 413
        await receiver.aclose()
    assert on_event.started == []


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"secret": ""}, "secret must not be empty"),
        ({"secret": "s", "concurrency": 0}, "concurrency"),
        ({"secret": "s", "secret_header": ""}, "secret_header"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], says: str) -> None:
    on_event: Callable[[BaseEvent], None] = lambda _: None  # noqa: E731
    with pytest.raises(ValueError, match=says):
        WebhookReceiver(on_event, **kwargs)
