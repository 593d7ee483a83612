"""`Instantly`, the blocking client: the async client's namespaces without the awaits.

The mock runs in a thread of its own (`ThreadedMock`), so that the blocking client can be
called from the test's own thread, from worker threads, and from inside a running event loop.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import threading
from collections.abc import Iterator

import pytest
from threaded_mock import ThreadedMock

from instantly import Instantly, RawResponse, SyncPage, models
from instantly.errors import ClientClosedError, EventLoopError, NotFoundError, PaginationError


@pytest.fixture
def served() -> Iterator[ThreadedMock]:
    with ThreadedMock(job_seconds=0.05) as served:
        yield served


def client_for(served: ThreadedMock, **options: object) -> Instantly:
    return Instantly(api_key=served.api_key, base_url=served.url, **options)  # type: ignore[arg-type]


def portal_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "instantly-blocking")


def requests_of(served: ThreadedMock, operation_id: str) -> int:
    return served.mock.state.by_operation[operation_id]


def test_the_blocking_client_has_the_async_ones_methods(served: ThreadedMock) -> None:
    with client_for(served) as client:
        lead = client.leads.create(email="ada@example.com", first_name="Ada")
        assert isinstance(lead, models.Lead)
        assert client.leads.get(lead.id).first_name == "Ada"
        assert client.leads.update(lead.id, first_name="Ada L.").first_name == "Ada L."
        with pytest.raises(NotFoundError):
            client.leads.get("00000000-0000-0000-0000-000000000000")
        # Checks happen where the call is made, before anything is sent.
        with pytest.raises(ValueError, match="timeout"):
            client.leads.get(lead.id, timeout=-1)
        raw = client.leads.with_raw_response.get(lead.id, extra_headers={"X-Trace": "1"})
        assert isinstance(raw, RawResponse)
        assert raw.status == 200 and raw.parse().id == lead.id
        assert client.stats.requests_sent >= 5


def test_list_is_a_plain_iterator_that_fetches_pages_lazily(served: ThreadedMock) -> None:
    for i in range(5):
        served.add_lead(f"lead{i}@example.com")
    with client_for(served) as client:
        assert sorted(lead.email or "" for lead in client.leads.list(limit=2)) == [
            f"lead{i}@example.com" for i in range(5)
        ]
        assert requests_of(served, "listLeads") == 3
        for lead in client.leads.list(limit=2):
            assert lead.email
            break  # the first page only: nothing more is asked for
        assert requests_of(served, "listLeads") == 4
        assert len(list(client.leads.list(limit=2, max_items=3))) == 3

        page = client.leads.list_page(limit=2)
        assert isinstance(page, SyncPage)
        seen = list(page.items)
        while page.has_next_page():
            page = page.get_next_page()
            seen += page.items
        assert len(seen) == 5
        with pytest.raises(PaginationError, match="last page"):
            page.get_next_page()


def test_the_hand_written_additions_block_too(served: ThreadedMock) -> None:
    with client_for(served) as client:
        result = client.leads.bulk_add(
            [{"email": f"b{i}@example.com"} for i in range(30)],
            list_id=served.add_lead_list()["id"],
            batch_size=10,
        )
        assert result.created == 30
        lead_ids = list(result.created_ids.values())
        target = served.add_lead_list("Target")["id"]
        job = client.leads.move(to_list_id=target, ids=lead_ids[:5])
        done = client.background_jobs.wait(job, poll_interval=0.02)
        assert done.status is models.BackgroundJobStatus.SUCCESS

        served.add_email(subject="Re: hello")
        since = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        watch = client.emails.watch(since=since, poll_interval=0.05)
        assert next(watch).subject == "Re: hello"
        watch.close()  # a plain generator: closing it stops the async one


def test_after_close_calls_raise_and_the_thread_is_gone(served: ThreadedMock) -> None:
    before = portal_threads()
    client = client_for(served)
    client.leads.list_page(limit=1)
    assert portal_threads() == before + 1
    child = client.with_options(max_retries=0)
    child.close()
    assert child.closed and not client.closed
    with pytest.raises(ClientClosedError):
        child.leads.list_page(limit=1)
    client.leads.list_page(limit=1)  # the parent keeps working
    client.close()
    client.close()  # harmless
    assert client.closed and portal_threads() == before
    with pytest.raises(ClientClosedError, match="Instantly client is closed"):
        client.leads.list_page(limit=1)


def test_a_client_dropped_unclosed_stops_its_thread(served: ThreadedMock) -> None:
    before = portal_threads()
    client = client_for(served)
    client.leads.list_page(limit=1)
    assert portal_threads() == before + 1
    del client
    gc.collect()
    assert portal_threads() == before


async def test_it_works_inside_a_running_event_loop(served: ThreadedMock) -> None:
    # As in Jupyter: a loop runs in this very thread, and the client blocks it for each call.
    lead = served.add_lead("ada@example.com")
    with client_for(served) as client:
        assert client.leads.get(lead["id"]).email == "ada@example.com"


async def test_worker_threads_share_it_while_a_loop_runs_in_the_main_thread(
    served: ThreadedMock,
) -> None:
    lead = served.add_lead("ada@example.com")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    ticker = asyncio.create_task(tick())
    with client_for(served) as client:

        def work() -> list[str | None]:
            return [client.leads.get(lead["id"]).email for _ in range(10)]

        results = await asyncio.gather(*(asyncio.to_thread(work) for _ in range(6)))
    ticker.cancel()
    assert results == [["ada@example.com"] * 10] * 6
    assert ticks > 0  # the main loop went on while the threads waited


def test_a_callback_that_calls_the_blocking_client_is_refused(served: ThreadedMock) -> None:
    with client_for(served) as client:
        lead = client.leads.create(email="ada@example.com")
        job = client.leads.move(to_list_id=served.add_lead_list()["id"], ids=[lead.id])

        def progress(job: models.BackgroundJob) -> None:
            client.leads.get(lead.id)  # would wait for the very loop that runs it

        with pytest.raises(EventLoopError, match="from its own event loop"):
            client.background_jobs.wait(job, on_progress=progress)
        # The client is still usable from its caller's thread.
        assert client.leads.get(lead.id).id == lead.id
