"""Injected faults against the SDK's retry rules: what is retried, what is raised, and what the
server holds afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from instantly import APIConnectionError, APITimeoutError, AsyncInstantly, ServerError
from instantly.testing import Faults, MockInstantly


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds instead of up to seconds (the rules stay the same)."""
    monkeypatch.setattr("instantly._transport.BACKOFF_BASE", 0.002)


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=3)


async def test_a_5xx_on_a_safe_get_is_retried_and_succeeds(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    lead = mock.state.add_lead("ada@example.com")
    mock.faults = Faults(error_rate=1.0, drop_rate=0.0, times=2)
    got = await client.leads.get(lead["id"])
    assert got.email == "ada@example.com"
    assert mock.state.faults == 2
    assert mock.state.by_operation["getLead"] == 3
    stats = client.stats
    assert getattr(stats, "retries") == 2  # noqa: B009 - stats is typed as object


async def test_a_dropped_connection_on_a_safe_get_is_retried(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    lead = mock.state.add_lead("ada@example.com")
    mock.faults = Faults(error_rate=0.0, drop_rate=1.0, times=1)
    assert (await client.leads.get(lead["id"])).id == lead["id"]
    assert mock.state.faults == 1


async def test_a_5xx_on_a_create_is_raised_and_nothing_was_written(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    mock.faults = Faults(error_rate=1.0, drop_rate=0.0, statuses=(503,))
    with pytest.raises(ServerError) as caught:
        await client.leads.create(email="ada@example.com")
    assert caught.value.status_code == 503
    assert mock.state.by_operation["createLead"] == 1  # not retried: it is not safe to repeat
    assert len(mock.state.leads) == 0


async def test_a_drop_on_a_create_is_raised_and_nothing_was_written(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    mock.faults = Faults(error_rate=0.0, drop_rate=1.0)
    with pytest.raises(APIConnectionError):
        await client.leads.create(email="ada@example.com")
    assert mock.state.by_operation["createLead"] == 1
    assert len(mock.state.leads) == 0


async def test_after_commit_shows_why_a_create_is_not_retried(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    # The server wrote the lead, then failed to answer: the client cannot know it was written.
    mock.faults = Faults(
        error_rate=0.0, drop_rate=0.0, after_commit_rate=1.0, after_commit_drop_share=0.0, times=1
    )
    with pytest.raises(ServerError):
        await client.leads.create(email="ada@example.com")
    assert [r["email"] for r in mock.state.leads] == ["ada@example.com"]
    # Had the client repeated it, the workspace would now hold the lead twice.


async def test_after_commit_a_bulk_add_with_a_skip_flag_is_retried_without_duplicates(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign()
    leads = [{"email": f"p{i}@example.com"} for i in range(5)]
    mock.faults = Faults(
        error_rate=0.0, drop_rate=0.0, after_commit_rate=1.0, after_commit_drop_share=1.0, times=1
    )
    result = await client.leads.add(
        campaign_id=campaign["id"], leads=leads, skip_if_in_workspace=True
    )
    assert mock.state.by_operation["bulkAddLeads"] == 2  # dropped after the write, then repeated
    assert len(mock.state.leads) == 5
    # The answer the client got is the repeat's: every lead was already there.
    assert (result.leads_uploaded, result.skipped_count) == (0, 5)


async def test_a_slow_answer_times_out_and_a_safe_get_is_retried(mock: MockInstantly) -> None:
    lead = mock.state.add_lead("ada@example.com")
    mock.faults = Faults(error_rate=0.0, drop_rate=0.0, slow_rate=1.0, slow_seconds=0.5, times=1)
    async with mock.client(
        rate_limit=None, max_retries=2, timeout=5.0, attempt_timeout=0.2
    ) as client:
        assert (await client.leads.get(lead["id"])).id == lead["id"]
        mock.faults = Faults(error_rate=0.0, drop_rate=0.0, slow_rate=1.0, slow_seconds=0.5)
        with pytest.raises(APITimeoutError):
            await client.leads.create(email="bob@example.com")


async def test_faults_are_repeatable_with_the_seed() -> None:
    async def statuses(seed: int) -> list[int]:
        faults = Faults(error_rate=0.3, drop_rate=0.0)
        async with (
            MockInstantly("k", rate_limit=None, faults=faults, seed=seed) as mock,
            aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session,
        ):
            out = []
            for _ in range(30):
                async with session.get(mock.url + "/api/v2/lead-lists") as r:
                    out.append(r.status)
            return out

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again
    assert first != other
    assert 200 in first and any(s >= 500 for s in first)


def test_faults_refuse_impossible_settings() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError, match="5xx"):
        Faults(statuses=(404,))
    with pytest.raises(ValueError, match="exceed"):
        Faults(error_rate=0.7, drop_rate=0.5)
