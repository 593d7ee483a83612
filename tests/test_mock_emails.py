"""The mock's Unibox: every filter of `GET /api/v2/emails`, its order and cursor, and
`state.receive_reply` / `send_email` seeding a lead's thread as the API shows it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from instantly import AsyncInstantly, BadRequestError, models
from instantly.testing import MockInstantly


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=0)


def at(second: int) -> str:
    return f"2026-08-21T10:00:{second:02d}.000Z"


@pytest.fixture
def unibox(mock: MockInstantly) -> dict[str, Any]:
    """Two campaigns, three leads, and their threads: sends, replies, one bot answer."""
    state = mock.state
    launch, other = state.add_campaign("Launch"), state.add_campaign("Other")
    ada = state.add_lead("ada@analytical.test", campaign=launch["id"], first_name="Ada")
    bob = state.add_lead("bob@builders.test", campaign=launch["id"])
    cy = state.add_lead("cy@analytical.test", campaign=other["id"])
    emails = {
        "ada_sent": state.send_email(ada, "Launch", "Hi Ada", timestamp=at(1)),
        "bob_sent": state.send_email(bob, "Launch", "Hi Bob", timestamp=at(2)),
        "ada_reply": state.receive_reply(ada, "Tell me more", timestamp=at(3)),
        "cy_sent": state.send_email(cy, "Other", "Hi Cy", eaccount="b@acme.test", timestamp=at(4)),
        "bob_reply": state.receive_reply(bob, "Not now", timestamp=at(5), is_unread=False),
        "cy_reply": state.receive_reply(cy, "Out until Monday", auto_reply=True, timestamp=at(6)),
    }
    return {"launch": launch, "other": other, "ada": ada, "bob": bob, "cy": cy, **emails}


async def ids(client: AsyncInstantly, **filters: Any) -> list[str]:
    return [e.id async for e in client.emails.list(**filters)]


def names(unibox: dict[str, Any], *keys: str) -> list[str]:
    return [unibox[k]["id"] for k in keys]


async def test_a_reply_lands_in_the_leads_thread_as_the_api_shows_it(
    client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    reply = await client.emails.get(unibox["ada_reply"]["id"])
    sent = await client.emails.get(unibox["ada_sent"]["id"])
    assert reply.ue_type is models.EmailUeType.RECEIVED
    assert sent.ue_type is models.EmailUeType.SENT_FROM_CAMPAIGN
    assert reply.thread_id == sent.thread_id
    assert reply.subject == "Re: Launch"
    assert reply.from_address_email == "ada@analytical.test"
    assert reply.to_address_email_list == sent.eaccount == "sender@example.com"
    assert reply.reply_to == sent.message_id
    assert reply.campaign_id == unibox["launch"]["id"]
    assert reply.lead_id == unibox["ada"]["id"]
    assert reply.timestamp_created == datetime(2026, 8, 21, 10, 0, 3, tzinfo=UTC)
    assert reply.is_unread == 1 and reply.is_auto_reply == 0
    assert reply.body.text == "Tell me more"
    # Cy's was automatic, on the account Cy was written from.
    auto = await client.emails.get(unibox["cy_reply"]["id"])
    assert auto.is_auto_reply == 1 and auto.eaccount == "b@acme.test"


async def test_i_status_is_the_leads_interest_status(mock: MockInstantly) -> None:
    lead = mock.state.add_lead("dee@example.com", lt_interest_status=1)
    assert mock.state.receive_reply(lead, "Yes!")["i_status"] == 1
    assert mock.state.receive_reply("nobody@example.com", "Who?")["i_status"] is None


async def test_email_type_received_never_lists_what_we_sent(
    client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    bot = await client.emails.reply(
        reply_to_uuid=unibox["ada_reply"]["id"],
        eaccount="sender@example.com",
        subject="Re: Launch",
        body={"text": "Here is more"},
    )
    received = await ids(client, email_type="received", sort_order="asc")
    assert received == names(unibox, "ada_reply", "bob_reply", "cy_reply")
    sent = await ids(client, email_type="sent", sort_order="asc")
    assert sent == [*names(unibox, "ada_sent", "bob_sent", "cy_sent"), bot.id]
    assert await ids(client, email_type="manual") == [bot.id]


async def test_the_order_is_by_creation_newest_first_unless_asked(
    client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    order = ["ada_sent", "bob_sent", "ada_reply", "cy_sent", "bob_reply", "cy_reply"]
    assert await ids(client) == names(unibox, *reversed(order))
    assert await ids(client, sort_order="desc") == names(unibox, *reversed(order))
    assert await ids(client, sort_order="asc") == names(unibox, *order)


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
async def test_pages_follow_the_order_and_new_emails_do_not_shift_them(
    mock: MockInstantly, client: AsyncInstantly, unibox: dict[str, Any], sort_order: str
) -> None:
    everything = await ids(client, sort_order=sort_order)
    first = await client.emails.list_page(sort_order=sort_order, limit=4)
    mock.state.receive_reply(unibox["bob"], "One more thing", timestamp=at(59))
    rest = await client.emails.list_page(
        sort_order=sort_order, limit=4, starting_after=first.next_starting_after
    )
    newest = mock.state.emails.rows[next(reversed(mock.state.emails.rows))]["id"]
    expected = [*everything[4:], newest] if sort_order == "asc" else everything[4:]
    assert [e.id for e in first.items] + [e.id for e in rest.items] == everything[:4] + expected
    with pytest.raises(BadRequestError, match="starting_after"):
        await client.emails.list_page(starting_after="not-a-cursor")


async def test_the_timestamp_window(client: AsyncInstantly, unibox: dict[str, Any]) -> None:
    window = await ids(
        client, sort_order="asc", min_timestamp_created=at(3), max_timestamp_created=at(5)
    )
    assert window == names(unibox, "ada_reply", "cy_sent")  # from inclusive, to exclusive
    later = await ids(client, sort_order="asc", min_timestamp_created="2026-08-21T12:00:05+02:00")
    assert later == names(unibox, "bob_reply", "cy_reply")  # any offset means the same instant
    with pytest.raises(BadRequestError, match="min_timestamp_created"):
        await ids(client, min_timestamp_created="yesterday")


async def test_latest_of_thread(client: AsyncInstantly, unibox: dict[str, Any]) -> None:
    latest = await ids(client, latest_of_thread=True, sort_order="asc")
    assert latest == names(unibox, "ada_reply", "bob_reply", "cy_reply")
    sent_latest = await ids(client, latest_of_thread=True, email_type="sent", sort_order="asc")
    assert sent_latest == names(unibox, "ada_sent", "bob_sent", "cy_sent")


async def test_campaign_lead_account_and_status_filters(
    mock: MockInstantly, client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    asc = {"sort_order": "asc"}
    launch, other = unibox["launch"]["id"], unibox["other"]["id"]
    assert await ids(client, campaign_id=other, **asc) == names(unibox, "cy_sent", "cy_reply")
    assert len(await ids(client, campaign_id=launch)) == 4
    assert await ids(client, lead="ADA@analytical.test", **asc) == names(
        unibox, "ada_sent", "ada_reply"
    )
    assert await ids(client, company_domain="analytical.test", email_type="received", **asc) == (
        names(unibox, "ada_reply", "cy_reply")
    )
    assert await ids(client, eaccount="b@acme.test", **asc) == names(unibox, "cy_sent", "cy_reply")
    assert len(await ids(client, eaccount="b@acme.test,sender@example.com")) == 6
    assert await ids(client, is_unread=True, **asc) == names(unibox, "ada_reply", "cy_reply")
    mock.state.emails.rows[unibox["bob_reply"]["id"]].update(
        reminder_ts=at(30), is_focused=1, i_status=-1
    )
    assert await ids(client, has_reminder=True) == names(unibox, "bob_reply")
    assert await ids(client, mode="emode_focused") == names(unibox, "bob_reply")
    assert len(await ids(client, mode="emode_others")) == 5
    assert len(await ids(client, mode="emode_all")) == 6
    assert await ids(client, i_status=-1) == names(unibox, "bob_reply")
    scheduled = mock.state.add_email(lead="ada@analytical.test", ue_type=4)
    assert await ids(client, scheduled_only=True) == [scheduled["id"]]


async def test_search_by_text_address_or_thread(
    client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    assert await ids(client, search="monday") == names(unibox, "cy_reply")
    assert await ids(client, search="bob@builders.test", sort_order="asc") == names(
        unibox, "bob_sent", "bob_reply"
    )
    thread = unibox["ada_reply"]["thread_id"]
    assert await ids(client, search=f"thread:{thread}", sort_order="asc") == names(
        unibox, "ada_sent", "ada_reply"
    )


async def test_preview_only_leaves_the_bodies_out(
    client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    page = await client.emails.list_page(preview_only=True, limit=1)
    (email,) = page.items
    assert email.content_preview and email.body.text is None


async def test_every_listing_is_logged_with_its_query(
    mock: MockInstantly, client: AsyncInstantly, unibox: dict[str, Any]
) -> None:
    await client.emails.list_page(email_type="received", limit=5)
    ((when, query),) = mock.state.email_queries
    assert query == {"email_type": "received", "limit": 5}
    assert isinstance(when, float)
