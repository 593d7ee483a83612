"""The SDK client against the mock for the stateful resources beyond leads' basics: bulk delete,
move as a background job, interest status, lead lists, lead labels, campaigns, Unibox emails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from instantly import AsyncInstantly, NotFoundError, models
from instantly.testing import MockInstantly


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None, job_seconds=0.3) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=0)


def leads(*numbers: int) -> list[dict[str, Any]]:
    return [{"email": f"p{i}@example.com"} for i in numbers]


async def test_bulk_delete_removes_what_the_filter_selects(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    a, b = mock.state.add_campaign("A"), mock.state.add_campaign("B")
    added = await client.leads.add(campaign_id=a["id"], leads=leads(1, 2, 3, 4))
    await client.leads.add(campaign_id=b["id"], leads=leads(5))
    some = [added.created_leads[0].id, added.created_leads[1].id]
    result = await client.leads.bulk_delete(campaign_id=a["id"], ids=some)
    assert result.count == 2
    assert {r["email"] for r in mock.state.leads} == {
        "p3@example.com",
        "p4@example.com",
        "p5@example.com",
    }
    assert (await client.leads.bulk_delete(campaign_id=a["id"], limit=1)).count == 1
    assert (await client.leads.bulk_delete(campaign_id=a["id"])).count == 1
    assert [r["email"] for r in mock.state.leads] == ["p5@example.com"]
    # The skip indexes forget deleted leads: the same emails can come back.
    again = await client.leads.add(campaign_id=a["id"], leads=leads(1), skip_if_in_workspace=True)
    assert again.leads_uploaded == 1


async def test_move_is_a_background_job_that_finishes_over_time(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    source, target = mock.state.add_campaign("From"), mock.state.add_campaign("To")
    await client.leads.add(campaign_id=source["id"], leads=leads(1, 2, 3))
    job = await client.leads.move(campaign=source["id"], to_campaign_id=target["id"])
    assert job.status is models.BackgroundJobStatus.PENDING
    assert job.type is models.BackgroundJobType.MOVE_LEADS
    assert job.entity_id == target["id"]
    # Nothing moved yet: the job runs on the event loop's clock.
    assert [x.email async for x in client.leads.list(campaign=target["id"])] == []

    seen: list[float] = []
    done = await client.background_jobs.wait(
        job.id, poll_interval=0.05, on_progress=lambda j: seen.append(j.progress)
    )
    assert done.status is models.BackgroundJobStatus.SUCCESS and done.progress == 100
    assert seen == sorted(seen) and len(seen) >= 2  # progress only grows
    moved = [x.email async for x in client.leads.list(campaign=target["id"])]
    assert moved == ["p1@example.com", "p2@example.com", "p3@example.com"]
    assert [x async for x in client.leads.list(campaign=source["id"])] == []
    jobs = [j.id async for j in client.background_jobs.list()]
    assert jobs == [job.id]


async def test_move_to_a_list_with_copy_keeps_the_originals(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign, target = mock.state.add_campaign(), mock.state.add_lead_list()
    added = await client.leads.add(campaign_id=campaign["id"], leads=leads(1, 2))
    job = await client.leads.move(
        ids=[added.created_leads[0].id], to_list_id=target["id"], copy_leads=True
    )
    await client.background_jobs.wait(job.id, poll_interval=0.05)
    assert [x.email async for x in client.leads.list(list_id=target["id"])] == ["p1@example.com"]
    assert len(mock.state.leads) == 3


async def test_update_interest_status_is_accepted_then_applied(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign()
    added = await client.leads.add(campaign_id=campaign["id"], leads=leads(1, 2))
    answer = await client.leads.update_interest_status(
        lead_email="P1@example.com", interest_value=2, campaign_id=campaign["id"]
    )
    assert answer.message
    assert mock.state.by_operation["updateLeadInterestStatus"] == 1
    first = await client.leads.get(added.created_leads[0].id)
    assert first.lt_interest_status is models.LeadInterestStatus.MEETING_BOOKED
    assert (await client.leads.get(added.created_leads[1].id)).lt_interest_status is None
    # The same person in another campaign is another lead, left alone by a campaign's update.
    other = mock.state.add_campaign()
    elsewhere = await client.leads.add(campaign_id=other["id"], leads=leads(1))
    await client.leads.update_interest_status(
        lead_email="p1@example.com", interest_value=-1, campaign_id=other["id"]
    )
    moved = await client.leads.get(elsewhere.created_leads[0].id)
    assert moved.lt_interest_status is models.LeadInterestStatus.NOT_INTERESTED
    first = await client.leads.get(added.created_leads[0].id)
    assert first.lt_interest_status is models.LeadInterestStatus.MEETING_BOOKED
    await client.leads.delete(first.id)  # the index forgets a deleted lead
    await client.leads.update_interest_status(lead_email="p1@example.com", interest_value=1)
    assert (
        await client.leads.get(moved.id)
    ).lt_interest_status is models.LeadInterestStatus.INTERESTED


async def test_lead_lists(mock: MockInstantly, client: AsyncInstantly) -> None:
    made = await client.lead_lists.create(name="Prospects")
    assert made.organization_id == mock.state.workspace_id
    await client.lead_lists.create(name="Partners", has_enrichment_task=True)
    assert (await client.lead_lists.get(made.id)).name == "Prospects"
    renamed = await client.lead_lists.update(made.id, name="Prospects 2026")
    assert renamed.name == "Prospects 2026"
    assert [x.name async for x in client.lead_lists.list(search="2026")] == ["Prospects 2026"]
    assert [x.name async for x in client.lead_lists.list(has_enrichment_task=True)] == ["Partners"]
    await client.lead_lists.delete(made.id)
    with pytest.raises(NotFoundError):
        await client.lead_lists.get(made.id)
    assert len(mock.state.lead_lists) == 1


async def test_lead_labels(mock: MockInstantly, client: AsyncInstantly) -> None:
    hot = await client.lead_labels.create(label="Hot", interest_status_label="positive")
    cold = await client.lead_labels.create(
        label="Cold", interest_status_label="negative", description="not now"
    )
    assert hot.interest_status == 1 and cold.interest_status == -1
    assert hot.created_by == mock.state.user_id
    page = await client.lead_labels.list_page(limit=1)
    assert [x.label for x in page.items] == ["Hot"] and page.next_starting_after
    rest = await client.lead_labels.list_page(limit=1, starting_after=page.next_starting_after)
    assert [x.label for x in rest.items] == ["Cold"]
    assert [x.label async for x in client.lead_labels.list(interest_status="negative")] == ["Cold"]
    changed = await client.lead_labels.update(cold.id, interest_status_label="neutral")
    assert changed.interest_status == 0
    assert (await client.lead_labels.get(cold.id)).interest_status_label is (
        models.InterestStatusLabel.NEUTRAL
    )
    await client.lead_labels.delete(hot.id)
    assert [x.label async for x in client.lead_labels.list()] == ["Cold"]


async def test_campaigns(mock: MockInstantly, client: AsyncInstantly) -> None:
    schedule = {
        "schedules": [
            {
                "name": "Office hours",
                "timing": {"from": "09:00", "to": "17:00"},
                "days": {"1": True, "2": True},
                "timezone": "Etc/GMT+12",
            }
        ]
    }
    made = await client.campaigns.create(name="Launch", campaign_schedule=schedule, daily_limit=50)
    assert made.status is models.CampaignStatus.DRAFT
    assert made.daily_limit == 50
    other = await client.campaigns.create(name="Follow-up", campaign_schedule=schedule)
    assert (await client.campaigns.activate(made.id)).status is models.CampaignStatus.ACTIVE
    assert (await client.campaigns.pause(other.id)).status is models.CampaignStatus.PAUSED
    assert (await client.campaigns.update(made.id, name="Launch v2")).name == "Launch v2"
    assert (await client.campaigns.get(made.id)).name == "Launch v2"
    active = [c.name async for c in client.campaigns.list(status=models.CampaignStatus.ACTIVE)]
    assert active == ["Launch v2"]
    assert [c.name async for c in client.campaigns.list(search="follow")] == ["Follow-up"]
    await client.campaigns.delete(other.id)
    assert [c.id async for c in client.campaigns.list()] == [made.id]
    with pytest.raises(NotFoundError, match="Campaign"):
        await client.campaigns.activate(other.id)


async def test_emails(mock: MockInstantly, client: AsyncInstantly) -> None:
    campaign = mock.state.add_campaign()
    first = mock.state.add_email(
        lead="ada@example.com", subject="Re: hello", campaign_id=campaign["id"]
    )
    mock.state.add_email(lead="bob@example.com", subject="Question", is_unread=False)
    assert (await client.emails.unread_count()).count == 1
    assert [e.subject async for e in client.emails.list(campaign_id=campaign["id"])] == [
        "Re: hello"
    ]
    assert [e.lead async for e in client.emails.list(is_unread=False)] == ["bob@example.com"]
    assert (await client.emails.get(first["id"])).subject == "Re: hello"

    reply = await client.emails.reply(
        reply_to_uuid=first["id"],
        eaccount="sender@example.com",
        subject="Re: hello",
        body={"text": "Thanks!"},
    )
    assert reply.thread_id == first["thread_id"]
    assert reply.to_address_email_list == "ada@example.com"
    assert reply.from_address_email == "sender@example.com"
    thread = [e.id async for e in client.emails.list(search="thanks")]
    assert thread == [reply.id]
    assert len(mock.state.emails) == 3

    assert (await client.emails.mark_thread_read(first["thread_id"])).success is True
    assert (await client.emails.unread_count()).count == 0
    with pytest.raises(NotFoundError):
        await client.emails.reply(
            reply_to_uuid=mock.state.new_id(),
            eaccount="s@example.com",
            subject="x",
            body={"text": "x"},
        )
