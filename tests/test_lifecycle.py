"""A client's life: successive event loops, other threads, and closing with calls in flight."""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from local_server import LocalServer
from threaded_mock import ThreadedMock

from instantly import AsyncInstantly, RateLimiter
from instantly.errors import ClientClosedError, EventLoopError, InstantlyError

KEY = "sk-lifecycle-test-KEY-31337"
LEAD = json.loads(
    (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
)["items"][0]


@pytest.fixture
def served() -> Iterator[ThreadedMock]:
    with ThreadedMock(rate_limit=None) as served:
        yield served


def resource_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_one_client_serves_successive_asyncio_runs(served: ThreadedMock) -> None:
    lead = served.add_lead("ada@example.com")
    client = AsyncInstantly(api_key=served.api_key, base_url=served.url, rate_limit=(10, None))
    sessions: list[aiohttp.ClientSession | None] = []

    async def use() -> str | None:
        got = await client.leads.get(lead["id"])
        sessions.append(client._transport._link.session)
        return got.email

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(use()) == "ada@example.com"
        # The loop's end closed the session it opened, before the loop closed.
        assert sessions[0] is not None and sessions[0].closed
        assert client._transport._link.session is None
        assert asyncio.run(use()) == "ada@example.com"
        with asyncio.Runner() as runner:
            assert runner.run(use()) == "ada@example.com"
            runner.run(client.aclose())
        assert len({id(s) for s in sessions}) == 3
        sessions.clear()
        gc.collect()
    assert resource_warnings(caught) == []
    with pytest.raises(ClientClosedError, match="closed"):
        asyncio.run(use())


def test_a_loop_closed_by_hand_is_left_behind(served: ThreadedMock) -> None:
    lead = served.add_lead("ada@example.com")
    client = AsyncInstantly(api_key=served.api_key, base_url=served.url)
    with warnings.catch_warnings(record=True):  # the dead loop's sockets are freed by the GC
        warnings.simplefilter("always")
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.leads.get(lead["id"]))
        loop.close()  # without shutdown_asyncgens: the session was not closed with it

        async def again() -> str | None:
            try:
                return (await client.leads.get(lead["id"])).email
            finally:
                await client.aclose()

        assert asyncio.run(again()) == "ada@example.com"
        gc.collect()


async def test_use_from_another_thread_while_its_loop_runs_is_refused(
    served: ThreadedMock,
) -> None:
    lead = served.add_lead("ada@example.com")
    async with AsyncInstantly(api_key=served.api_key, base_url=served.url) as client:
        await client.leads.get(lead["id"])

        def from_a_thread() -> object:
            return asyncio.run(client.leads.get(lead["id"]))

        with pytest.raises(EventLoopError, match="one event loop at a time") as info:
            await asyncio.to_thread(from_a_thread)
        assert isinstance(info.value, InstantlyError)
        assert "Instantly, the blocking client" in str(info.value)
        # The client goes on in its own loop.
        assert (await client.leads.get(lead["id"])).email == "ada@example.com"


def test_a_session_passed_in_stays_with_its_loop(served: ThreadedMock) -> None:
    async def first() -> tuple[AsyncInstantly, aiohttp.ClientSession]:
        session = aiohttp.ClientSession()
        client = AsyncInstantly(api_key=served.api_key, base_url=served.url, session=session)
        await client.leads.list_page(limit=1)
        return client, session

    async def second(client: AsyncInstantly) -> None:
        await client.leads.list_page(limit=1)

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        loop = asyncio.new_event_loop()
        client, session = loop.run_until_complete(first())
        with pytest.raises(EventLoopError, match="session passed to this client"):
            asyncio.run(second(client))
        loop.run_until_complete(session.close())
        loop.close()


# --- closing with calls in flight -----------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """Hangs on /hang, fails with a long Retry-After on /fail, answers a lead otherwise."""
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/hang"):
            await release.wait()
        if request.path.endswith("/fail"):
            return web.json_response(
                {"statusCode": 503, "error": "Unavailable"},
                status=503,
                headers={"Retry-After": "5"},
            )
        return web.json_response(LEAD)

    async with LocalServer(answer) as server:
        yield server
        release.set()


async def outcome(call: object) -> str:
    """What a call ended with; the task must be free to go on (not left cancelling)."""
    try:
        await call  # type: ignore[misc]
    except ClientClosedError as exc:
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        return f"closed: {exc}"
    return "done"


@pytest.mark.looptime
async def test_closing_ends_calls_in_flight_with_an_sdk_error(server: LocalServer) -> None:
    client = AsyncInstantly(
        api_key=KEY,
        base_url=server.url,
        rate_limit=RateLimiter(per_second=2, per_minute=None),
        max_retries=5,
    )
    loop = asyncio.get_running_loop()
    tasks = [
        asyncio.create_task(outcome(client.leads.get("hang"))),  # on the wire
        asyncio.create_task(outcome(client.leads.get("fail"))),  # backing off for 5 s
        asyncio.create_task(outcome(client.leads.get("L1"))),  # queued at the gate
        asyncio.create_task(outcome(client.leads.get("L2"))),  # queued at the gate
    ]
    await asyncio.sleep(0.5)
    start = loop.time()
    await client.aclose()
    results = await asyncio.gather(*tasks)
    assert loop.time() - start < 0.01  # nobody waited for their sleep or their turn
    assert all(r.startswith("closed: the client was closed while GET") for r in results)
    assert not any(task.cancelled() for task in tasks)
    with pytest.raises(ClientClosedError, match="this client is closed"):
        await client.leads.get("L1")


@pytest.mark.looptime
async def test_closing_a_child_ends_only_its_own_calls(server: LocalServer) -> None:
    async with AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None) as client:
        child = client.with_options(max_retries=0)
        mine = asyncio.create_task(outcome(child.leads.get("hang")))
        theirs = asyncio.create_task(outcome(client.leads.get("L1", timeout=60)))
        await asyncio.sleep(0.1)
        await child.aclose()
        assert (await mine).startswith("closed:")
        assert await theirs == "done"
        assert (await client.leads.get("L1")).id == LEAD["id"]


@pytest.mark.looptime
async def test_a_cancelled_call_stays_a_cancellation(server: LocalServer) -> None:
    async with AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None) as client:
        task = asyncio.create_task(client.leads.get("hang"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client._transport._link.inflight == {}
