"""`client.emails.watch` against the mock (its real limits, on the fake clock): every received email
once and in order, within GET /emails' 20 a minute, resumable, through 429s and 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from instantly import AsyncInstantly, models
from instantly.resources.emails import DEFAULT_POLL_INTERVAL
from instantly.testing import Faults, MockInstantly

# The end of (fake) time turns a watcher that never yields what a test waits for into a failure.
pytestmark = pytest.mark.looptime(end=1800)

T0 = datetime(2026, 8, 21, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k") as server:  # the API's limits: GET /emails 20 a minute
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client()


def reply(mock: MockInstantly, n: int, at: datetime | None = None, **fields: Any) -> str:
    """A received email from lead n (at a given time, or now); returns its id."""
    record = mock.state.receive_reply(f"lead{n}@example.com", f"reply {n}", timestamp=at, **fields)
    return str(record["id"])


async def take(watch: AsyncGenerator[models.Email, None], count: int) -> list[models.Email]:
    got: list[models.Email] = []
    async with aclosing(watch):
        async for email in watch:
            got.append(email)
            if len(got) == count:
                break
    return got


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


async def test_every_received_email_once_in_order_across_pages(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    # A backlog of 250 replies (three pages), our own sent emails among them.
    expected = []
    for n in range(250):
        expected.append(reply(mock, n, T0 + timedelta(seconds=n)))
        if n % 10 == 0:
            mock.state.send_email(f"lead{n}@example.com", timestamp=T0 + timedelta(seconds=n))

    async def arrivals() -> None:  # then more replies while the watcher runs
        for n in range(250, 260):
            await asyncio.sleep(7)
            expected.append(reply(mock, n))

    feeder = asyncio.create_task(arrivals())
    got = await take(client.emails.watch(since=T0), 260)
    await feeder
    assert [e.id for e in got] == expected
    assert {e.ue_type for e in got} == {models.EmailUeType.RECEIVED}
    assert mock.state.rate_limited == 0


async def test_never_more_than_20_requests_in_any_minute(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    for n in range(450):  # five pages of backlog, then a trickle for ten minutes
        reply(mock, n, T0 + timedelta(seconds=n))

    async def trickle() -> None:
        for n in range(450, 490):
            await asyncio.sleep(15)
            reply(mock, n)

    feeder = asyncio.create_task(trickle())
    loop = asyncio.get_running_loop()
    start = loop.time()
    got = await take(client.emails.watch(since=T0), 490)
    await feeder
    assert len(got) == len({e.id for e in got}) == 490
    times = [t for t, query in mock.state.email_queries]
    assert loop.time() - start > 550  # it ran for about ten minutes
    # Measured where the limit is counted, at the server: every request it received.
    assert mock.state.by_operation["listEmail"] == len(times)
    assert mock.state.rate_limited == 0
    assert most_in_a_minute(times) <= 60 / DEFAULT_POLL_INTERVAL <= 20
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= DEFAULT_POLL_INTERVAL - 0.01


async def test_without_since_only_new_emails(mock: MockInstantly, client: AsyncInstantly) -> None:
    for n in range(3):
        reply(mock, n)
    watch = client.emails.watch(poll_interval=2)
    first = asyncio.create_task(take(watch, 2))
    await asyncio.sleep(1)  # the watcher has looked at what is there
    new = [reply(mock, 10), reply(mock, 11)]
    assert [e.id for e in await first] == new


async def test_resume_from_the_last_email_neither_repeats_nor_misses(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    # Unibox timestamps are often whole seconds: six replies share one.
    same = T0 + timedelta(seconds=30)
    ids = [reply(mock, 0, T0), *(reply(mock, n, same) for n in range(1, 7))]
    ids.append(reply(mock, 7, same + timedelta(seconds=1)))
    first = await take(client.emails.watch(since=T0), 3)  # stops inside the shared second
    last = first[-1]
    second = await take(client.emails.watch(since=last), 5)
    assert [e.id for e in first + second] == ids
    # The same with only the (timestamp, id) a bot would persist, from another point.
    third = await take(client.emails.watch(since=(second[1].timestamp_created, second[1].id)), 3)
    assert [e.id for e in third] == ids[5:]


async def test_resume_then_new_emails_continue_in_order(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    same = T0 + timedelta(seconds=5)
    ids = [reply(mock, n, same) for n in range(4)]
    first = await take(client.emails.watch(since=T0), 2)
    resumed = client.emails.watch(since=(first[-1].timestamp_created.isoformat(), first[-1].id))
    rest = asyncio.create_task(take(resumed, 4))
    await asyncio.sleep(12)
    ids += [reply(mock, 10), reply(mock, 11)]
    assert [e.id for e in first + await rest] == ids


async def test_an_email_that_shows_up_late_is_yielded_once(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    watch = client.emails.watch(since=T0, poll_interval=5)
    got = asyncio.create_task(take(watch, 3))
    first = reply(mock, 1, T0 + timedelta(seconds=10))
    await asyncio.sleep(6)
    second = reply(mock, 2, T0 + timedelta(seconds=20))
    await asyncio.sleep(6)
    # Stored now, with a timestamp before the newest one already yielded (within the margin).
    late = reply(mock, 3, T0 + timedelta(seconds=18))
    assert [e.id for e in await got] == [first, second, late]


async def test_it_survives_a_429(mock: MockInstantly) -> None:
    # Another part of the program used up GET /emails' minute; this client does not retry.
    greedy = mock.client(rate_limit=None, max_retries=0)
    for _ in range(20):
        await greedy.emails.list_page(limit=1)
    client = mock.client(max_retries=0)
    expected = reply(mock, 1, T0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    (email,) = await take(client.emails.watch(since=T0), 1)
    assert email.id == expected
    assert mock.state.rate_limited >= 1
    assert loop.time() - start >= 9  # it waited for the server's Retry-After


async def test_it_survives_server_errors(mock: MockInstantly, client: AsyncInstantly) -> None:
    client = mock.client(max_retries=0)
    mock.faults = Faults(error_rate=1.0, drop_rate=0.0, only={"listEmail"}, times=3)
    expected = reply(mock, 1, T0)
    (email,) = await take(client.emails.watch(since=T0), 1)
    assert email.id == expected
    assert mock.state.faults == 3


async def test_breaking_out_stops_polling_and_cancelling_is_clean(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    reply(mock, 1, T0)
    async for _ in client.emails.watch(since=T0):
        break
    asked = len(mock.state.email_queries)
    await asyncio.sleep(120)
    assert len(mock.state.email_queries) == asked

    async def forever() -> None:
        async for _ in client.emails.watch(since=T0 + timedelta(days=1)):
            pass

    task = asyncio.create_task(forever())
    await asyncio.sleep(30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    asked = len(mock.state.email_queries)
    await asyncio.sleep(120)
    assert len(mock.state.email_queries) == asked


async def test_filters_are_sent_and_bad_arguments_fail_before_any_request(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign()
    mock.state.add_lead("ada@example.com", campaign=campaign["id"])
    mine = mock.state.receive_reply("ada@example.com", "in the campaign", timestamp=T0)["id"]
    reply(mock, 2, T0)
    (email,) = await take(client.emails.watch(campaign_id=campaign["id"], since=T0), 1)
    assert email.id == mine
    _, query = mock.state.email_queries[-1]
    assert (query["campaign_id"], query["email_type"], query["sort_order"]) == (
        campaign["id"],
        "received",
        "asc",
    )
    asked = len(mock.state.email_queries)
    with pytest.raises(ValueError, match="poll_interval"):
        client.emails.watch(poll_interval=0)
    with pytest.raises(ValueError, match="email_type"):
        client.emails.watch(email_type="bogus")
    with pytest.raises(TypeError, match="since"):
        client.emails.watch(since="yesterday")  # type: ignore[arg-type]
    assert len(mock.state.email_queries) == asked
