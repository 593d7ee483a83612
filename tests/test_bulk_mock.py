"""`leads.bulk_add` against MockInstantly over loopback: what the server holds afterwards.

Every fault kind (5xx and dropped connections before and after the write, timeouts, 429s) with
bulk_add's defaults, compared with the mock's state: no lead added twice, none lost, `created`
equal to what the server stored, every ID the stored lead's. Then the caller's meaning (a second
campaign, name-only list leads, leads already there), per-lead refusals, exceptions of the
caller's code, the selector guard, and the journal (a cancelled run and a SIGKILLed process,
resumed).
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from instantly import BulkAddResult
from instantly.errors import BulkCancelledError, BulkImportError, OutcomeUnknownError
from instantly.testing import Faults, MockInstantly
from instantly.testing._call import HANDLERS

KEY = "bulk-mock-key-0123456789"
OLD = "2020-01-01T00:00:00.000Z"  # the creation time of leads that were there before


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds instead of up to seconds (the rules stay the same)."""
    monkeypatch.setattr("instantly._transport.BACKOFF_BASE", 0.002)


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(KEY, rate_limit=None, seed=7) as server:
        yield server


@pytest.fixture
def deliveries(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each email reached the mock's leads/add handler (the write itself)."""
    seen: Counter[str] = Counter()
    handler = HANDLERS["bulkAddLeads"]

    def counting(call: Any) -> Any:
        seen.update(lead.get("email") or lead.get("first_name") for lead in call.body["leads"])
        return handler(call)

    monkeypatch.setitem(HANDLERS, "bulkAddLeads", counting)
    return seen


def people(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [{"email": f"p{i}@example.com", "first_name": f"P{i}", **extra} for i in range(start, n)]


def stored_in(mock: MockInstantly, field: str, target: str) -> list[dict[str, Any]]:
    return [r for r in mock.state.leads if r.get(field) == target]


async def settled(mock: MockInstantly) -> None:
    """Wait for requests the mock still holds (a slow one writes after its client gave up)."""
    async with asyncio.timeout(10):
        while mock.state.in_flight:  # noqa: ASYNC110 - the mock offers no event for this
            await asyncio.sleep(0.01)


def assert_accounted(result: BulkAddResult, total: int) -> None:
    assert result.total == total
    assert (
        result.created + result.skipped_total + result.failed_total + len(result.not_sent) == total
    )
    outcomes = Counter(result.outcome(i) for i in range(total))
    assert outcomes["created"] == result.created == len(result.created_ids)
    assert outcomes["failed"] == result.failed_total
    assert outcomes["skipped"] == result.skipped_total


def assert_matches_server(
    result: BulkAddResult, leads: list[dict[str, Any]], stored: list[dict[str, Any]]
) -> None:
    """The result is what the server holds: created == stored, IDs, nothing twice, none lost."""
    assert_accounted(result, len(leads))
    emails = [r["email"] for r in stored]
    assert len(emails) == len(set(emails)), "a lead was added twice"
    assert result.created == len(stored)
    by_email = {r["email"]: r["id"] for r in stored}
    assert {leads[p]["email"]: i for p, i in result.created_ids.items()} == by_email
    for chunk in result.failed:
        if not chunk.may_exist:  # "surely not added" must be true
            assert not {lead["email"] for lead in chunk.leads} & set(by_email)
    failed = {lead["email"] for chunk in result.failed for lead in chunk.leads}
    assert set(by_email) | failed == {lead["email"] for lead in leads}, "a lead was lost"


FAULTS: dict[str, Faults] = {
    "5xx before the write": Faults(error_rate=0.3, drop_rate=0.0, only={"bulkAddLeads"}),
    "drop before the write": Faults(error_rate=0.0, drop_rate=0.3, only={"bulkAddLeads"}),
    "5xx after the write": Faults(
        error_rate=0.0, drop_rate=0.0, after_commit_rate=0.3, after_commit_drop_share=0.0,
        only={"bulkAddLeads"},
    ),
    "drop after the write": Faults(
        error_rate=0.0, drop_rate=0.0, after_commit_rate=0.3, after_commit_drop_share=1.0,
        only={"bulkAddLeads"},
    ),
    "all of them, lookups too": Faults(
        error_rate=0.1, drop_rate=0.05, after_commit_rate=0.15, after_commit_drop_share=0.5
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(FAULTS))
@pytest.mark.parametrize("field", ["campaign", "list_id"])
async def test_no_duplicate_and_no_loss_under_each_fault_kind_with_defaults(
    mock: MockInstantly, kind: str, field: str
) -> None:
    target = (mock.state.add_campaign() if field == "campaign" else mock.state.add_lead_list())[
        "id"
    ]
    where = {"campaign_id": target} if field == "campaign" else {"list_id": target}
    leads = people(12_000)
    mock.faults = FAULTS[kind]
    async with mock.client(rate_limit=None) as client:
        result = await client.leads.bulk_add(leads, **where)
    mock.faults = None
    assert mock.state.faults > 0
    assert_matches_server(result, leads, stored_in(mock, field, target))
    assert result.lookups > 0
    if "after" in kind:
        assert result.reconciled > 0  # found by the lookup, IDs included


async def test_timeouts_a_request_written_after_its_client_gave_up_is_not_added_twice(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = people(4_000)
    # The mock holds 40% of the adds for 1 s, then writes them; the client gives up at 0.4 s,
    # looks the leads up (not there yet), and sends them again: the late write then finds them
    # there, or the re-send does and the recheck finds they are this import's. (The timeout
    # leaves a loaded machine time for the lookups, which are not held.)
    mock.faults = Faults(
        error_rate=0.0, drop_rate=0.0, slow_rate=0.4, slow_seconds=1.0, only={"bulkAddLeads"}
    )
    async with mock.client(rate_limit=None, timeout=0.4) as client:
        result = await client.leads.bulk_add(leads, campaign_id=campaign, batch_size=250)
    await settled(mock)
    mock.faults = None
    assert_matches_server(result, leads, stored_in(mock, "campaign", campaign))
    assert result.created == 4_000


async def test_429s_are_waited_out_and_every_lead_is_added_once() -> None:
    async with MockInstantly(KEY, rate_limit=(10, 600)) as mock:
        campaign = mock.state.add_campaign()["id"]
        leads = people(5_000)
        async with mock.client(max_retries=8) as client:  # the default 100/s: above the mock's
            result = await client.leads.bulk_add(leads, campaign_id=campaign, batch_size=250)
        assert result.rate_limited > 0
        assert_matches_server(result, leads, stored_in(mock, "campaign", campaign))
        assert result.created == 5_000


async def test_a_second_campaign_gets_the_leads_too(mock: MockInstantly) -> None:
    first, second = mock.state.add_campaign("A")["id"], mock.state.add_campaign("B")["id"]
    leads = people(2_500)
    async with mock.client(rate_limit=None) as client:
        one = await client.leads.bulk_add(leads, campaign_id=first)
        two = await client.leads.bulk_add(leads, campaign_id=second)
        again = await client.leads.bulk_add(leads, campaign_id=second)
    assert one.created == two.created == 2_500
    assert len(stored_in(mock, "campaign", second)) == 2_500
    # The same leads into the same campaign: the API's own rule, not a flag of ours.
    assert again.created == 0 and again.skipped == {"already_present": 2_500}


async def test_leads_already_in_the_target_count_as_present_even_when_found_by_a_lookup(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = people(1_000)
    for lead in leads[::20]:  # 50 of them were imported long ago
        mock.state.add_lead(lead["email"], campaign=campaign)["timestamp_created"] = OLD
    mock.faults = Faults(error_rate=0.0, drop_rate=0.0, after_commit_rate=1.0, times=1)
    async with mock.client(rate_limit=None) as client:
        result = await client.leads.bulk_add(leads, campaign_id=campaign)
    assert result.reconciled == 950
    assert result.created == 950 and result.skipped == {"already_present": 50}
    assert len(stored_in(mock, "campaign", campaign)) == 1_000


async def test_name_only_list_leads_are_never_added_twice(
    mock: MockInstantly, deliveries: Counter[str]
) -> None:
    target = mock.state.add_lead_list()["id"]
    leads = [{"first_name": f"Only{i}", "last_name": "Name"} for i in range(10_000)]
    mock.faults = Faults(
        error_rate=0.1, drop_rate=0.1, after_commit_rate=0.2, only={"bulkAddLeads"}
    )
    async with mock.client(rate_limit=None) as client:
        result = await client.leads.bulk_add(leads, list_id=target)
    mock.faults = None
    stored = Counter(r["first_name"] for r in stored_in(mock, "list_id", target))
    assert max(stored.values()) == 1
    assert max(deliveries.values()) == 1  # none is ever sent again: none can be looked up
    assert_accounted(result, 10_000)
    may_exist = sum(len(c.positions) for c in result.failed if c.may_exist)
    assert may_exist > 0 and all(isinstance(c.error, OutcomeUnknownError) for c in result.failed)
    assert "may exist" in str(result.failed[0].error)
    assert result.created <= sum(stored.values()) <= result.created + may_exist


async def test_max_retries_1_leads_stored_before_a_failure_are_created_not_failed(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = people(3_000)
    mock.faults = Faults(
        error_rate=0.0, drop_rate=0.0, after_commit_rate=1.0, only={"bulkAddLeads"}
    )
    async with mock.client(rate_limit=None, max_retries=1) as client:
        result = await client.leads.bulk_add(leads, campaign_id=campaign)
    assert result.failed == []
    assert result.created == result.reconciled == 3_000
    assert_matches_server(result, leads, stored_in(mock, "campaign", campaign))


# -- per-lead checks ----------------------------------------------------------------------------


async def test_one_bad_lead_never_fails_its_request(mock: MockInstantly) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = people(3_000)
    bad: dict[int, tuple[dict[str, Any], str]] = {
        5: ({"custom_variables": {"tags": ["vip"]}}, "custom_variables['tags'] must be a string"),
        6: ({"custom_variables": {"deep": {"a": 1}}}, "not an object"),
        7: ({"custom_variables": {"score": math.nan}}, "custom_variables['score'] is nan"),
        8: ({"custom_variables": {"score": math.inf}}, "is inf"),
        9: ({"custom_variables": {"score": -math.inf}}, "is -inf"),
        10: (
            {"first_name": "Ada\udc80"},
            "first_name is not valid text: it holds a lone surrogate",
        ),
        11: (
            {"custom_variables": {"note": "\ud800"}},
            "custom_variables['note'] is not valid text",
        ),
        12: ({"custom_variables": {1: "x"}}, "custom_variables has a key that is not a string"),
        13: ({"custom_variables": {"n": 2**70}}, "an integer beyond 64 bits"),
        14: ({"last_name": math.nan}, "last_name is nan"),
        1500: ({"custom_variables": {"tags": ("a",)}}, "must be a string, number, boolean or null"),
    }
    for i, (fields, _) in bad.items():
        leads[i] = {**leads[i], **fields}
    leads[20]["custom_variables"] = {"ok": True, "n": 1, "x": 1.5, "s": "v", "none": None}
    async with mock.client(rate_limit=None) as client:
        result = await client.leads.bulk_add(leads, campaign_id=campaign)
    assert_accounted(result, 3_000)
    assert result.failed == []
    assert result.created == 3_000 - len(bad) == len(stored_in(mock, "campaign", campaign))
    refused = {r.position: r for r in result.invalid}
    assert set(refused) == set(bad)
    for i, (_, words) in bad.items():
        assert refused[i].reason == "invalid_lead"
        assert words.replace("not an object", "an object") in refused[i].detail or words in (
            refused[i].detail
        ), refused[i].detail
    assert "nan_as_null=True" in refused[7].detail
    assert [r.position for r in result.invalid] == sorted(bad)  # in input order
    good = next(r for r in mock.state.leads if r["email"] == "p20@example.com")
    assert good["payload"] == {"ok": True, "n": 1, "x": 1.5, "s": "v", "none": None}


async def test_nan_as_null_sends_blank_cells_as_null(mock: MockInstantly) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = [
        {"email": "a@example.com", "last_name": math.nan, "custom_variables": {"s": math.nan}},
        {"email": "b@example.com", "custom_variables": {"s": -math.inf, "t": 3}},
    ]
    async with mock.client(rate_limit=None) as client:
        result = await client.leads.bulk_add(leads, campaign_id=campaign, nan_as_null=True)
    assert result.created == 2
    a, b = sorted(stored_in(mock, "campaign", campaign), key=lambda r: r["email"])
    assert a["last_name"] is None and a["payload"] == {"s": None}
    assert b["payload"] == {"s": None, "t": 3}
    assert math.isnan(leads[0]["last_name"])  # the caller's dicts are left as they were


# -- exceptions of the caller's code --------------------------------------------------------------


async def test_an_exception_in_on_progress_stops_the_import_and_carries_the_result(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    calls = 0

    def on_progress(done: int, total: int | None, so_far: BulkAddResult) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the dashboard is down")

    async with mock.client(rate_limit=None) as client:
        with pytest.raises(BulkImportError) as caught:
            await client.leads.bulk_add(
                people(20_000), campaign_id=campaign, concurrency=2, on_progress=on_progress
            )
    error = caught.value
    assert isinstance(error.__cause__, RuntimeError)
    assert "RuntimeError from on_progress: the dashboard is down" in str(error)
    result = error.result
    assert isinstance(result, BulkAddResult) and result.stopped_in == "on_progress"
    assert_accounted(result, result.total)
    assert result.failed == []  # the requests in flight were let finish
    assert result.created == len(stored_in(mock, "campaign", campaign)) >= 3_000
    assert result.total < 20_000
    assert calls == 3  # not called again once it raised


async def test_an_exception_from_the_input_stops_the_import_and_carries_the_result(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]

    def rows() -> Iterator[dict[str, Any]]:
        yield from people(2_500)
        raise OSError("the file went away")

    async with mock.client(rate_limit=None) as client:
        with pytest.raises(BulkImportError) as caught:
            await client.leads.bulk_add(rows(), campaign_id=campaign)
    result = caught.value.result
    assert isinstance(caught.value.__cause__, OSError)
    assert result.stopped_in == "the input"
    assert_accounted(result, 2_500)
    assert result.created == 2_000 == len(stored_in(mock, "campaign", campaign))
    assert result.not_sent == list(range(2_000, 2_500))
    assert "500 not sent (stopped by an error in the input)" in str(result)


async def test_a_run_that_sends_nothing_says_why(
    mock: MockInstantly, caplog: pytest.LogCaptureFixture
) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = [{"email": f"x{i}@example.com", "frist_name": "Typo"} for i in range(50)]
    async with mock.client(rate_limit=None) as client:
        with caplog.at_level(logging.WARNING, logger="instantly"):
            result = await client.leads.bulk_add(leads, campaign_id=campaign)
            await client.leads.bulk_add([], campaign_id=campaign)
    assert result.skipped == {"invalid_lead": 50}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "nothing was sent: all 50 leads were refused" in w and "frist_name" in w for w in warnings
    )
    assert any("nothing was sent: the input held no leads" in w for w in warnings)
    assert mock.state.by_operation["bulkAddLeads"] == 0


async def test_repr_shows_failed_and_invalid_leads_bounded(mock: MockInstantly) -> None:
    campaign = mock.state.add_campaign()["id"]
    leads = people(10) + [{"email": f"bad{i}"} for i in range(5)]
    async with mock.client(rate_limit=None, max_retries=0) as client:
        mock.faults = Faults(error_rate=1.0, drop_rate=0.0, only={"bulkAddLeads", "listLeads"})
        result = await client.leads.bulk_add(leads, campaign_id=campaign, batch_size=5)
    text = repr(result)
    assert "failed=10 [" in text and "OutcomeUnknownError" in text
    assert "invalid=5 [(10, 'invalid_email', \"'bad0' is not an email address\")" in text
    assert "... 2 more" in text
    assert len(text) < 2_000


# -- the selector guard --------------------------------------------------------------------------


async def test_bulk_operations_by_filter_refuse_no_selector_unless_all_leads(
    mock: MockInstantly,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    other = mock.state.add_campaign()["id"]
    for i in range(5):
        mock.state.add_lead(f"g{i}@example.com", campaign=campaign)
    async with mock.client(rate_limit=None) as client:
        before = mock.state.requests
        calls: list[tuple[Callable[..., Any], dict[str, Any]]] = [
            (client.leads.move, {"to_campaign_id": other}),
            (client.leads.bulk_delete, {}),
            (client.leads.bulk_assign, {"organization_user_ids": ["u-1"]}),
        ]
        for method, args in calls:
            with pytest.raises(ValueError, match="every lead of the workspace"):
                await method(**args)
            with pytest.raises(ValueError, match="ids is empty"):
                await method(**args, ids=[])
            with pytest.raises(ValueError, match="pass one or the other"):
                await method(**args, ids=["x"], all_leads=True)
        assert mock.state.requests == before  # refused before any request
        mock.job_seconds = 0.01
        job = await client.leads.move(to_campaign_id=other, all_leads=True)
        await client.background_jobs.wait(job, timeout=10)
        assert len(stored_in(mock, "campaign", other)) == 5
        deleted = await client.leads.bulk_delete(campaign_id=other)
    assert deleted.count == 5
    assert len(mock.state.leads) == 0


# -- the journal -------------------------------------------------------------------------------


async def test_a_cancelled_import_resumed_from_its_journal_sends_only_what_was_not_done(
    tmp_path: Path, deliveries: Counter[str]
) -> None:
    async with MockInstantly(KEY, rate_limit=None, latency=0.05) as mock:
        campaign = mock.state.add_campaign()["id"]
        journal = tmp_path / "import.journal"
        leads = people(20_000)
        leads[7] = {"email": "not-an-address"}
        async with mock.client(rate_limit=None) as client:
            task = asyncio.create_task(
                client.leads.bulk_add(
                    leads, campaign_id=campaign, journal=journal, batch_size=500, concurrency=3
                )
            )
            async with asyncio.timeout(30):
                while len(mock.state.leads) < 4_000:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(BulkCancelledError) as caught:
                await task
            first = caught.value.result
            await settled(mock)
            assert 0 < first.created < 19_999
            result = await client.leads.bulk_add(
                leads, campaign_id=campaign, journal=journal, batch_size=500, concurrency=3
            )
            assert result.resumed >= first.created
            assert_accounted(result, 20_000)
            assert result.created == 19_999 and result.skipped == {"invalid_email": 1}
            stored = stored_in(mock, "campaign", campaign)
            assert len(stored) == 19_999 == len({r["email"] for r in stored})
            assert max(deliveries.values()) == 1  # nothing sent again that had reached the server
            ids = {r["email"]: r["id"] for r in stored}
            assert all(ids[leads[p]["email"]] == i for p, i in result.created_ids.items())

            # Once done, running it again sends nothing and gives the same account.
            before = mock.state.by_operation["bulkAddLeads"]
            again = await client.leads.bulk_add(
                leads, campaign_id=campaign, journal=journal, batch_size=500, concurrency=3
            )
            assert mock.state.by_operation["bulkAddLeads"] == before
            assert again.created == 19_999 and again.resumed == 19_999
            assert dict(again.created_ids) == dict(result.created_ids)

            # The journal belongs to this import: another target or another input is refused.
            with pytest.raises(ValueError, match="the record of another import"):
                await client.leads.bulk_add(leads, list_id="x" * 36, journal=journal)
            changed = [dict(lead) for lead in leads]
            changed[0]["email"] = "someone.else@example.com"
            with pytest.raises(ValueError, match="not the lead the journal"):
                await client.leads.bulk_add(changed, campaign_id=campaign, journal=journal)


async def test_an_import_killed_with_sigkill_resumes_and_creates_every_lead_once(
    tmp_path: Path, deliveries: Counter[str]
) -> None:
    count = 50_000
    async with MockInstantly(KEY, rate_limit=None, latency=0.02) as mock:
        campaign = mock.state.add_campaign()["id"]
        journal = tmp_path / "import.journal"
        child = Path(__file__).parent / "bulk_child.py"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(child), mock.url, KEY, campaign, str(journal), str(count),
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(120):
            while len(mock.state.leads) < 15_000 and proc.returncode is None:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        assert proc.returncode is None, (await proc.communicate())[1].decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        await settled(mock)  # requests the child had sent are written (or not) for good
        before_resume = len(stored_in(mock, "campaign", campaign))
        assert 15_000 <= before_resume < count
        with sqlite3.connect(journal) as db:  # the journal knew of requests in flight
            in_flight = db.execute("SELECT COUNT(*) FROM requests WHERE codes IS NULL").fetchone()
        assert in_flight[0] >= 1

        sys.path.insert(0, str(child.parent))
        try:
            from bulk_child import leads
        finally:
            sys.path.remove(str(child.parent))
        async with mock.client(rate_limit=None) as client:
            result = await client.leads.bulk_add(
                leads(count), campaign_id=campaign, journal=journal, batch_size=500, concurrency=4
            )
        assert_accounted(result, count)
        assert result.created == count and result.failed == [] and result.skipped_total == 0
        assert result.resumed > 0 and result.lookups >= 1
        stored = stored_in(mock, "campaign", campaign)
        assert len(stored) == count == len({r["email"] for r in stored})
        assert max(deliveries.values()) == 1  # every lead reached the server exactly once
        assert sum(deliveries.values()) == count
        ids = {r["email"]: r["id"] for r in stored}
        assert all(ids[f"kill{p}@example.com"] == i for p, i in result.created_ids.items())
