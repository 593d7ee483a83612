"""`client.leads.bulk_add` and `client.bulk`: concurrency, accounting, retries, laziness, cancel."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses
from conftest import API_KEY, BASE_URL
from hypothesis import given, settings
from hypothesis import strategies as st

from instantly import AsyncInstantly, BulkAddResult, BulkResult, Outcome
from instantly._bulk import CreatedIds, LeadScreen, _email_ok, _IdStore, _KeySet, _plain_batch
from instantly.errors import (
    BulkCancelledError,
    ChunkCancelledError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
)
from instantly.models import BulkAddLeadsRequestLead

pytestmark = pytest.mark.looptime

ADD = f"{BASE_URL}/api/v2/leads/add"
LIST = f"{BASE_URL}/api/v2/leads/list"
CAMPAIGN = "0199b1c2-0000-7000-8000-00000000c0de"
LEAD_LIST = "0199b1c2-0000-7000-8000-000000001157"


LEAD = json.loads((Path(__file__).parent / "fixtures/seeds/lead_get_lead.json").read_text())


def lead(i: int) -> dict[str, Any]:
    return {"email": f"lead{i}@example.com", "first_name": f"Lead {i}"}


class FakeAddLeads:
    """`POST /leads/add` as the API does it: dedupe per campaign, a blocklist, injected faults.

    `faults` maps a request number (1-based, retries included) to what happens to it:
    "429", "503" (nothing applied), "drop-before" (connection dropped, nothing applied) or
    "drop-after" (the leads are added, then the connection drops).
    """

    def __init__(self, faults: dict[int, str] | None = None, latency: float = 0.0) -> None:
        self.faults = faults or {}
        self.lookups: list[dict[str, Any]] = []  # bodies of POST /leads/list
        self.latency = latency
        self.requests = 0
        self.stored: dict[str, str] = {}  # email -> lead id
        self.sent: Counter[str] = Counter()  # chunk key (first email) -> times it was sent
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.ids = itertools.count(1)
        self.gate: asyncio.Event | None = None  # when set up, requests wait for it

    async def handle(self, url: Any, **kwargs: Any) -> CallbackResult:
        self.requests += 1
        number = self.requests
        body = json.loads(kwargs["data"])
        self.bodies.append(body)
        self.sent[body["leads"][0].get("email") or repr(body["leads"][0])] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.latency:
                await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        fault = self.faults.get(number)
        if fault == "429":
            return CallbackResult(
                status=429,
                payload={"statusCode": 429, "error": "Too Many Requests", "message": "slow down"},
                headers={"Retry-After": "2"},
            )
        if fault == "503":
            return CallbackResult(
                status=503,
                payload={"statusCode": 503, "error": "Service Unavailable", "message": "busy"},
            )
        if fault == "drop-before":
            raise aiohttp.ServerDisconnectedError()
        answer = self.apply(body)
        if fault == "drop-after":
            raise aiohttp.ServerDisconnectedError()
        return CallbackResult(status=200, payload=answer)

    def lookup(self, url: Any, **kwargs: Any) -> CallbackResult:
        """`POST /leads/list` by `contacts`: the stored leads with these emails, 100 a page."""
        body = json.loads(kwargs["data"])
        self.lookups.append(body)
        now = datetime.datetime.now(datetime.UTC).isoformat()
        items = [
            {"id": self.stored[c], "email": c, "campaign": body.get("campaign"),
             "list_id": body.get("list_id"), "timestamp_created": now}
            for c in body["contacts"] if c in self.stored
        ]  # fmt: skip
        start = int(body.get("starting_after") or 0)
        page = items[start : start + body["limit"]]
        answer: dict[str, Any] = {"items": page}
        if len(page) == body["limit"]:
            answer["next_starting_after"] = str(start + len(page))
        return CallbackResult(status=200, payload=answer)

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        created, blocked, present = [], 0, 0
        for index, item in enumerate(body["leads"]):
            email = item["email"]
            if email.startswith("blocked"):
                blocked += 1
            elif email in self.stored:
                present += 1
            else:
                self.stored[email] = f"lead-{next(self.ids)}"
                created.append({"index": index, "id": self.stored[email], "email": email})
        return {
            "status": "success",
            "total_sent": len(body["leads"]),
            "leads_uploaded": len(created),
            "in_blocklist": blocked,
            "blocklist_used": None,
            "duplicated_leads": present,
            "skipped_count": 0,
            "invalid_email_count": 0,
            "incomplete_count": 0,
            "duplicate_email_count": 0,
            "remaining_in_plan": None,
            "created_leads": created,
        }


@pytest.fixture
def api() -> Iterator[aioresponses]:
    with aioresponses() as mocked:
        yield mocked


@pytest.fixture
async def client() -> AsyncIterator[AsyncInstantly]:
    async with AsyncInstantly(api_key=API_KEY, base_url=BASE_URL, max_retries=5) as c:
        yield c


def serve(api: aioresponses, fake: FakeAddLeads) -> FakeAddLeads:
    api.post(ADD, callback=fake.handle, repeat=True)
    api.post(LIST, callback=fake.lookup, repeat=True)
    return fake


def assert_accounted(result: BulkAddResult, total: int) -> None:
    """Every input is in exactly one bucket, and per-position outcomes agree with the counts."""
    assert result.total == total
    assert (
        result.created + result.skipped_total + result.failed_total + len(result.not_sent) == total
    )
    outcomes = Counter(result.outcome(i) for i in range(total))
    assert outcomes == Counter(
        {
            k: v
            for k, v in {
                "created": result.created,
                "skipped": result.skipped_total,
                "failed": result.failed_total,
                "not_sent": len(result.not_sent),
            }.items()
            if v
        }
    )
    failed_positions = [p for chunk in result.failed for p in chunk.positions]
    assert len(failed_positions) == len(set(failed_positions))
    assert not set(failed_positions) & set(result.created_ids)


async def test_ambiguous_failures_are_looked_up_and_only_the_missing_leads_sent_again(
    api: aioresponses, client: AsyncInstantly
) -> None:
    # Requests: 1 leads 0-999; 2 1000-1999, a 503 before anything is stored (3: sent again);
    # 4 2000-2999, a 429 (5: retried); 6 3000-3999, stored, then the connection drops;
    # 7 4000-4999, the connection drops before anything is stored (8: sent again).
    fake = serve(api, FakeAddLeads({2: "503", 4: "429", 6: "drop-after", 7: "drop-before"}))
    leads = [lead(i) for i in range(5_000)]

    result = await client.leads.bulk_add(leads, campaign_id=CAMPAIGN, concurrency=1)

    assert_accounted(result, 5_000)
    assert result.created == 5_000 and result.failed == [] and result.skipped_total == 0
    assert len(fake.stored) == 5_000  # nothing added twice
    # Every ID is the stored lead's, those the lookup found included.
    assert all(fake.stored[leads[p]["email"]] == i for p, i in result.created_ids.items())
    assert len(result.created_ids) == 5_000
    # Leads 3000-3999 were found (10 pages of 100), so they were never sent again; the 503'd
    # and the dropped chunks were looked up (nothing found) and sent again, once.
    assert fake.sent["lead1000@example.com"] == 2
    assert fake.sent["lead3000@example.com"] == 1
    assert fake.sent["lead4000@example.com"] == 2
    assert result.reconciled == 1_000
    assert result.lookups == len(fake.lookups) == 1 + 10 + 1
    assert all(b["campaign"] == CAMPAIGN and b["limit"] == 100 for b in fake.lookups)
    assert sorted(fake.lookups[0]["contacts"]) == sorted(
        f"lead{i}@example.com" for i in range(1000, 2000)
    )
    assert all(
        "skip_if_in_campaign" not in b for b in fake.bodies
    )  # no flag the caller did not set


async def test_a_request_that_surely_did_nothing_is_failed_without_a_lookup(
    api: aioresponses, client: AsyncInstantly
) -> None:
    api.post(
        ADD,
        status=402,
        payload={"statusCode": 402, "error": "Payment Required", "message": "plan limit"},
        repeat=True,
    )
    api.post(LIST, callback=lambda *_, **__: pytest.fail("no lookup for a 4xx"), repeat=True)

    result = await client.leads.bulk_add([lead(i) for i in range(10)], campaign_id=CAMPAIGN)

    assert_accounted(result, 10)
    assert result.failed_total == 10 and not result.failed[0].may_exist
    assert result.failed_leads() == [lead(i) for i in range(10)]


async def test_with_max_retries_0_found_leads_are_created_and_the_rest_failed_not_resent(
    api: aioresponses,
) -> None:
    fake = serve(api, FakeAddLeads({1: "drop-after", 2: "503"}))
    async with AsyncInstantly(api_key=API_KEY, base_url=BASE_URL, max_retries=0) as client:
        result = await client.leads.bulk_add(
            [lead(i) for i in range(2_000)], campaign_id=CAMPAIGN, concurrency=1
        )
    assert_accounted(result, 2_000)
    assert result.created == 1_000 and result.reconciled == 1_000  # stored, then the drop
    assert [c.positions[0] for c in result.failed] == [1000]
    assert isinstance(result.failed[0].error, ServerError) and not result.failed[0].may_exist
    assert fake.requests == 2  # nothing sent twice


async def test_client_side_checks_refuse_without_a_request(
    api: aioresponses, client: AsyncInstantly
) -> None:
    fake = serve(api, FakeAddLeads())
    leads: list[Any] = [
        lead(0),
        {"first_name": "No Email"},  # a campaign import needs an email
        {"email": "not-an-address"},
        {"email": "LEAD0@Example.com"},  # the same address as lead 0
        {"email": "ok@example.com", "frist_name": "Typo"},  # unknown field
        {"email": "x@example.com", "first_name": 5},  # wrong type
        BulkAddLeadsRequestLead(email="model@example.com", first_name="Model"),
        "not a lead",
    ]

    result = await client.leads.bulk_add(leads, campaign_id=CAMPAIGN)

    assert_accounted(result, 8)
    assert [(r.position, r.reason) for r in result.invalid] == [
        (1, "invalid_email"),
        (2, "invalid_email"),
        (3, "duplicate_in_input"),
        (4, "invalid_lead"),
        (5, "invalid_lead"),
        (7, "invalid_lead"),
    ]
    assert "frist_name" in result.invalid[3].detail
    assert "first_name" in result.invalid[4].detail
    assert fake.requests == 1
    assert [item["email"] for item in fake.bodies[0]["leads"]] == [
        "lead0@example.com",
        "model@example.com",
    ]
    assert result.created_ids == {0: "lead-1", 6: "lead-2"}


async def test_list_import_accepts_a_name_without_email(
    api: aioresponses, client: AsyncInstantly
) -> None:
    sent: list[dict[str, Any]] = []

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        body = json.loads(kwargs["data"])
        sent.append(body)
        created = [{"index": i, "id": f"id-{i}"} for i in range(len(body["leads"]))]
        return CallbackResult(
            payload={**FakeAddLeads().apply({"leads": []}), "created_leads": created}
        )

    api.post(ADD, callback=answer, repeat=True)
    leads = [{"first_name": "Only a name"}, {"company_name": "nobody"}, lead(1)]

    result = await client.leads.bulk_add(leads, list_id=LEAD_LIST)

    assert [(r.position, r.reason) for r in result.invalid] == [(1, "incomplete")]
    assert result.created == 2
    assert sent[0]["list_id"] == LEAD_LIST and "skip_if_in_list" not in sent[0]
    assert "campaign_id" not in sent[0]


@pytest.mark.parametrize(
    ("kwargs", "word"), [({}, "neither"), ({"campaign_id": CAMPAIGN, "list_id": LEAD_LIST}, "both")]
)
async def test_campaign_or_list_exactly_one(
    api: aioresponses, client: AsyncInstantly, kwargs: dict[str, Any], word: str
) -> None:
    with pytest.raises(ValueError, match=f"exactly one of campaign_id .* got {word}"):
        await client.leads.bulk_add([lead(1)], **kwargs)
    assert client.stats.requests_sent == 0


async def test_bad_arguments_fail_before_any_request(client: AsyncInstantly) -> None:
    with pytest.raises(ValueError, match=r"batch_size must be 1\.\.1000"):
        await client.leads.bulk_add([lead(1)], campaign_id=CAMPAIGN, batch_size=1001)
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        await client.leads.bulk_add([lead(1)], campaign_id=CAMPAIGN, concurrency=0)
    with pytest.raises(TypeError, match="campaign_id must be a str"):
        await client.leads.bulk_add([lead(1)], campaign_id=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="leads must be an iterable"):
        await client.leads.bulk_add(lead(1), campaign_id=CAMPAIGN)  # type: ignore[arg-type]


async def test_a_million_lead_generator_is_read_lazily_and_cancel_accounts_for_it(
    api: aioresponses, client: AsyncInstantly
) -> None:
    fake = serve(api, FakeAddLeads())
    fake.gate = asyncio.Event()  # every request hangs until the test lets it go
    pulled = 0

    def generate() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield lead(i)

    task = asyncio.create_task(
        client.leads.bulk_add(generate(), campaign_id=CAMPAIGN, concurrency=4, batch_size=500)
    )
    await asyncio.sleep(5)  # time for the importer to read ahead, if it were going to
    assert fake.in_flight == 4
    assert pulled == 4 * 500  # only the chunks in flight are held

    task.cancel()
    with pytest.raises(BulkCancelledError) as caught:
        await task
    result = caught.value.result
    assert isinstance(result, BulkAddResult)
    assert result.cancelled
    assert_accounted(result, 2_000)
    assert result.created == 0 and result.failed_total == 2_000
    assert all(isinstance(c.error, ChunkCancelledError) for c in result.failed)
    assert "may or may not" in str(result.failed[0].error)


async def test_cancel_midway_says_what_was_sent_and_what_was_not(
    api: aioresponses, client: AsyncInstantly
) -> None:
    serve(api, FakeAddLeads(latency=0.1))
    reached = asyncio.Event()
    stall = asyncio.Event()

    async def source() -> AsyncIterator[dict[str, Any]]:
        for i in range(10_000):
            if i == 3_500:
                reached.set()
                await stall.wait()  # the cancel lands while the fourth chunk is being read
            yield lead(i)

    progress: list[tuple[int, int | None]] = []
    task = asyncio.create_task(
        client.leads.bulk_add(
            source(),
            campaign_id=CAMPAIGN,
            concurrency=8,
            on_progress=lambda done, total, _: progress.append((done, total)),
        )
    )
    await reached.wait()
    await asyncio.sleep(1)  # the first three chunks are answered
    task.cancel()
    with pytest.raises(BulkCancelledError) as caught:
        await task
    result = caught.value.result
    assert isinstance(result, BulkAddResult)
    assert_accounted(result, 3_500)
    assert result.created == 3_000
    assert result.not_sent == list(range(3_000, 3_500))
    assert result.failed_leads() == [lead(i) for i in range(3_000, 3_500)]
    assert progress == [(1000, None), (2000, None), (3000, None)]
    assert "500 not sent (cancelled)" in str(result)


async def test_progress_reports_totals_of_a_sized_input(
    api: aioresponses, client: AsyncInstantly
) -> None:
    serve(api, FakeAddLeads())
    calls: list[tuple[int, int | None, int]] = []

    async def on_progress(done: int, total: int | None, so_far: BulkAddResult) -> None:
        calls.append((done, total, so_far.created))

    result = await client.leads.bulk_add(
        [lead(i) for i in range(2_500)],
        campaign_id=CAMPAIGN,
        concurrency=1,
        on_progress=on_progress,
    )
    assert calls == [(1000, 2500, 1000), (2000, 2500, 2000), (2500, 2500, 2500)]
    assert result.created == 2_500
    assert result.rate > 0 and result.elapsed > 0


async def test_an_answer_that_does_not_add_up_fails_its_chunk(
    api: aioresponses, client: AsyncInstantly
) -> None:
    answer = {**FakeAddLeads().apply({"leads": []}), "created_leads": [{"index": 7, "id": "x"}]}
    api.post(ADD, payload=answer, repeat=True)

    result = await client.leads.bulk_add([lead(1), lead(2)], campaign_id=CAMPAIGN)

    assert_accounted(result, 2)
    assert result.failed_total == 2
    assert "index 7 for 2 leads sent" in str(result.failed[0].error)


async def test_skip_reasons_come_from_the_api_counts(
    api: aioresponses, client: AsyncInstantly
) -> None:
    answer = {
        **FakeAddLeads().apply({"leads": []}),
        "created_leads": [{"index": 0, "id": "a"}],
        "in_blocklist": 1,
        "skipped_count": 1,
        "invalid_email_count": 1,
    }
    api.post(ADD, payload=answer, repeat=True)

    result = await client.leads.bulk_add([lead(i) for i in range(5)], campaign_id=CAMPAIGN)

    assert_accounted(result, 5)
    assert dict(result.skipped) == {
        "blocklisted": 1,
        "already_present": 1,
        "invalid_email": 1,
        "skipped_by_api": 1,  # the API's counts explain three of the four
    }


# -- client.bulk ------------------------------------------------------------------------------


async def test_bulk_runner_1000_items_5_percent_failures_bounded(client: AsyncInstantly) -> None:
    in_flight = 0
    peak = 0

    async def work(n: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.05 + (n % 7) / 100)
            if n % 20 == 0:
                raise NotFoundError(404, None, method="PATCH", path=f"/leads/{n}")
            return n * 2
        finally:
            in_flight -= 1

    result = await client.bulk(work, range(1000), concurrency=16)

    assert isinstance(result, BulkResult)
    assert peak == 16
    assert len(result.succeeded) == 950 and len(result.failed) == 50
    assert [o.index for o in result.failed] == list(range(0, 1000, 20))
    assert all(isinstance(o.error, NotFoundError) and not o.ok for o in result.failed)
    assert all(o.value == o.item * 2 and o.ok for o in result.succeeded)
    assert result.total == 1000


async def test_bulk_runner_yields_as_they_finish_and_stops_on_break(
    client: AsyncInstantly,
) -> None:
    started: list[int] = []

    async def work(n: int) -> int:
        started.append(n)
        await asyncio.sleep(10 - n)  # later items finish first
        return n

    seen: list[Outcome[int, int]] = []
    async for outcome in client.bulk(work, iter(range(100)), concurrency=5):
        seen.append(outcome)
        if len(seen) == 3:
            break
    assert [o.value for o in seen] == [4, 3, 2]
    assert started == [0, 1, 2, 3, 4, 5, 6, 7]  # read lazily: 5 running + 3 refills
    await asyncio.sleep(20)
    assert len(started) == 8  # the rest were cancelled, not started


async def test_bulk_runner_through_the_pipeline(api: aioresponses, client: AsyncInstantly) -> None:
    pattern = re.compile(re.escape(f"{BASE_URL}/api/v2/leads/") + r"lead-\d+$")
    hits: list[str] = []

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        hits.append(str(url))
        if str(url).endswith("lead-13"):
            return CallbackResult(status=404, payload={"statusCode": 404, "error": "Not Found"})
        return CallbackResult(status=200, payload={**LEAD, "id": str(url).rsplit("/", 1)[1]})

    api.delete(pattern, callback=answer, repeat=True)
    ids = [f"lead-{i}" for i in range(40)]

    result = await client.bulk(client.leads.delete, ids, concurrency=8)

    assert len(hits) == 40
    assert [o.item for o in result.failed] == ["lead-13"]
    assert {o.item for o in result.succeeded} == set(ids) - {"lead-13"}


async def test_bulk_runner_refuses_bad_arguments_and_reuse(client: AsyncInstantly) -> None:
    async def work(n: int) -> int:
        return n

    with pytest.raises(ValueError, match="concurrency"):
        client.bulk(work, [1], concurrency=0)
    with pytest.raises(TypeError, match="items must be an iterable"):
        client.bulk(work, 5)  # type: ignore[arg-type]
    run = client.bulk(work, [1, 2])
    assert len((await run).succeeded) == 2
    with pytest.raises(RuntimeError, match="already consumed"):
        await run


# -- the building blocks of the screen -------------------------------------------------------


_REFERENCE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EMAILISH = st.text(alphabet="ab.@ -\t\n\u00a0\u200b\u00e9\x00", max_size=12)


@given(_EMAILISH)
@settings(max_examples=3000)
def test_the_email_check_is_the_reference_regex_without_control_characters(text: str) -> None:
    expected = bool(_REFERENCE.fullmatch(text)) and text.isprintable()
    assert _email_ok(text) == expected


@given(st.lists(_EMAILISH, min_size=1, max_size=8))
@settings(max_examples=1500)
def test_a_batch_passes_the_whole_batch_checks_exactly_when_each_lead_would(
    emails: list[str],
) -> None:
    leads = [{"email": e, "first_name": "A"} for e in emails]
    passed = _plain_batch(leads) is not None
    assert passed == all(e and _email_ok(e) for e in emails)
    if passed:  # and then the batch screen agrees with the lead-by-lead one
        one, many = LeadScreen(True), LeadScreen(True)
        singly = [i for i, lead in enumerate(leads) if one.quick(lead) is not None]
        assert [i for i, _, _ in many.many(leads)] == singly


def test_batch_screen_finds_each_kind_of_bad_lead_like_the_single_one() -> None:
    good = {"email": "a@example.com", "custom_variables": {"n": 1, "x": 1.5, "b": True}}
    bad: list[Any] = [
        {"email": "b@example.com", "frist_name": "typo"},
        {"email": "c@example.com", "first_name": 5},
        {"email": "d@example.com", "custom_variables": {"t": ["x"]}},
        {"email": "e@example.com", "custom_variables": {"t": float("nan")}},
        {"email": "f@example.com", "custom_variables": "not a dict"},
        {"email": "g@example.com", "first_name": {"a": 1}, "custom_variables": {}},
        {"email": "A@EXAMPLE.COM"},  # a repeat of the first, by case
        "not a lead",
        {"email": "h@example"},
    ]
    for lead in bad:
        screen = LeadScreen(True)
        verdicts = screen.many([good, lead])
        assert [i for i, _, why in verdicts if why is not None] == [1], lead
    assert LeadScreen(True).many([good, dict(good, email="z@example.com")]) == []


@given(st.lists(st.text(min_size=1, max_size=6), max_size=400))
def test_the_key_set_finds_exactly_the_repeats(keys: list[str]) -> None:
    table = _KeySet(capacity=8)  # small, so that it grows several times
    seen: set[str] = set()
    for key in keys:
        assert table.add(key) == (key not in seen)
        seen.add(key)
    assert table.count == len(seen)


def test_created_ids_are_kept_compact_and_read_back_exactly() -> None:
    result = BulkAddResult()
    result.total = 6
    result._outcomes.extend(bytes([1, 1, 2, 1, 1, 1]))
    result.created = 5
    ids = _IdStore()
    ids.reserve(6)
    ids.put(
        [0, 1], ["0199b1c2-0000-7000-8000-00000000c0de", "0199b1c2-0000-7000-8000-0000000000ff"]
    )
    ids.put([3, 4, 5], ["Not-A-UUID", "0199B1C2-0000-7000-8000-00000000C0DE", "x"])
    result._ids = ids
    created = result.created_ids
    assert isinstance(created, CreatedIds) and len(created) == 5
    assert dict(created) == {
        0: "0199b1c2-0000-7000-8000-00000000c0de",
        1: "0199b1c2-0000-7000-8000-0000000000ff",
        3: "Not-A-UUID",
        4: "0199B1C2-0000-7000-8000-00000000C0DE",  # upper case is kept as it came
        5: "x",
    }
    assert 2 not in created and created.get(2) is None
    assert len(ids.blob) == 6 * 16 and set(ids.odd) == {3, 4, 5}


async def test_a_lead_the_api_refuses_by_index_is_refused_alone(
    api: aioresponses, client: AsyncInstantly
) -> None:
    fake = FakeAddLeads()
    calls = 0

    async def handle(url: Any, **kwargs: Any) -> CallbackResult:
        nonlocal calls
        calls += 1
        body = json.loads(kwargs["data"])
        bad = [i for i, lead in enumerate(body["leads"]) if lead["email"].startswith("x")]
        if bad:
            message = f"body/leads/{bad[0]}/email must match format email"
            return CallbackResult(
                status=400, payload={"statusCode": 400, "error": "Bad Request", "message": message}
            )
        return CallbackResult(status=200, payload=fake.apply(body))

    api.post(ADD, callback=handle, repeat=True)
    leads = [lead(i) for i in range(10)]
    leads[3] = {"email": "x3@example.com"}
    leads[7] = {"email": "x7@example.com"}

    result = await client.leads.bulk_add(leads, campaign_id=CAMPAIGN)

    assert_accounted(result, 10)
    assert result.created == 8 and calls == 3
    assert [(r.position, r.reason) for r in result.invalid] == [
        (3, "invalid_lead"),
        (7, "invalid_lead"),
    ]
    assert "the API refused it: 400 Bad Request: body/leads/3/email" in result.invalid[0].detail


async def test_leads_not_found_after_a_timeout_may_still_be_written_so_they_may_exist(
    api: aioresponses,
) -> None:
    async def timeout(url: Any, **kwargs: Any) -> CallbackResult:
        raise TimeoutError

    api.post(ADD, callback=timeout, repeat=True)
    api.post(LIST, payload={"items": []}, repeat=True)
    async with AsyncInstantly(api_key=API_KEY, base_url=BASE_URL, max_retries=0) as client:
        result = await client.leads.bulk_add([lead(i) for i in range(5)], campaign_id=CAMPAIGN)
    assert_accounted(result, 5)
    (chunk,) = result.failed
    assert chunk.may_exist and isinstance(chunk.error, OutcomeUnknownError)
    assert "timed out" in str(chunk.error) and "may still add them" in str(chunk.error)
