"""A user's program: the arguments the SDK's signatures promise to take.

`tests/test_typed_arguments.py` checks this file with `mypy --strict`, then runs `main` against
the embedded mock and looks at what went over the wire: a call that type-checks must also run.
"""

from __future__ import annotations

import datetime
import uuid

from instantly import AsyncInstantly, Page, models


async def main(client: AsyncInstantly, email_id: uuid.UUID) -> dict[str, object]:
    # A uuid.UUID where the API takes a uuid: path ...
    email: models.Email = await client.emails.get(email_id)
    # ... An optional argument takes a model's `str | None` as it is: None means "not sent".
    lead = await client.leads.create(
        email="ada@example.com",
        campaign=email.campaign_id,
        list_id=None,
        first_name="Ada",
        last_name="Lovelace",
    )
    lead_id = uuid.UUID(lead.id)
    got = await client.leads.get(lead_id)
    # In a PATCH, a nullable field's None clears it; a field left out keeps its value.
    updated = await client.leads.update(lead_id, first_name="Ada L.", last_name=None)
    # ... query ...
    page: Page[models.Email] = await client.emails.list_page(campaign_id=uuid.UUID(int=7), limit=5)
    # ... and body; a timezone-aware datetime where the API takes a date-time.
    reply = await client.emails.reply(
        eaccount="sender@example.com",
        reply_to_uuid=email.id,
        subject="Re: Hello",
        body={"text": "Thanks!"},
        reminder_ts=datetime.datetime(2026, 9, 1, 9, 30, tzinfo=datetime.UTC),
        cc_address_email_list=None,
        assigned_to=None,
    )
    # A datetime.date where it takes a date.
    summary = await client.webhook_events.summary(
        from_=datetime.date(2026, 1, 1), to=datetime.date(2026, 1, 31)
    )
    return {
        "got": got.email,
        "first_name": updated.first_name,
        "last_name": updated.last_name,
        "page": len(page.items),
        "reply_subject": reply.subject,
        "summary": type(summary).__name__,
    }
