"""The Unibox side of the mock's state: conversations with leads, and the events they raise.

`MockState` takes these methods in (`Conversations` is one of its bases): seeding helpers that put
emails in a lead's thread as the API would show them (`receive_reply`, `send_email`, `bounce`),
and `emit`, which records an event in `state.events` and hands it to the running mock, which
POSTs it to every webhook subscribed to it (see `_webhooks.py`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._generated.models import LeadInterestStatus
from .._generated.webhooks import INTEREST_EVENTS

if TYPE_CHECKING:
    from ._state import LeadStore, Table

__all__ = ["Conversations", "moment", "stamp"]

Record = dict[str, Any]

# ue_type of an email: 1 sent by a campaign, 2 received, 3 sent by hand (a reply), 4 scheduled.
CAMPAIGN_SENT, RECEIVED, SENT_BY_HAND = 1, 2, 3
_STANDARD_INTEREST = frozenset(int(m.value) for m in LeadInterestStatus)
_EPOCH = datetime.min.replace(tzinfo=UTC)
KEPT = 100_000


def moment(value: Any) -> datetime:
    """A stored timestamp as a datetime in UTC; the oldest one possible if it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return _EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stamp(value: str | datetime) -> str:
    """A timestamp as the API writes it: ISO 8601, UTC, milliseconds, a `Z`."""
    when = moment(value).astimezone(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _snippet(text: str) -> str:
    """The reply's own words: up to the quoted thread, at most 200 characters."""
    lines = []
    for line in text.splitlines():
        if line.startswith(">") or (line.startswith("On ") and line.rstrip().endswith("wrote:")):
            break
        lines.append(line)
    return " ".join(" ".join(lines).split())[:200]


class Conversations:
    """Conversations with leads, and the webhook events that happen in the mock's state."""

    if TYPE_CHECKING:  # provided by MockState
        emails: Table
        leads: LeadStore
        campaigns: Table
        workspace_id: str

        def new_id(self) -> str: ...

        def now(self) -> str: ...

        def add_email(self, **fields: Any) -> Record: ...

    def _init_conversations(self) -> None:
        from ._state import Table

        self.webhooks = Table()
        """The registered webhooks (Webhook records)."""
        self.webhook_events = Table()
        """Every delivery attempt the mock made (WebhookEvent records, `GET /webhook-events`)."""
        # Bounded, so that a mock serving for days (`instantly mock`) does not grow for ever.
        self.events: deque[Record] = deque(maxlen=KEPT)
        """The events that happened (the last 100,000), as the body a webhook receives,
        delivered or not."""
        self.email_queries: deque[tuple[float, dict[str, Any]]] = deque(maxlen=KEPT)
        """The `GET /api/v2/emails` answered (the last 100,000): (event loop time, query)."""
        self.listeners: list[Callable[[Record], None]] = []
        """Called with each event as it happens (the running mock delivers it to webhooks)."""

    # -- seeding --------------------------------------------------------------------------------

    def receive_reply(
        self,
        lead: Record | str,
        text: str = "Thanks, tell me more.",
        *,
        subject: str | None = None,
        html: str | None = None,
        auto_reply: bool = False,
        campaign_id: str | None = None,
        eaccount: str | None = None,
        timestamp: str | datetime | None = None,
        is_unread: bool = True,
        **fields: Any,
    ) -> Record:
        """A lead's reply arrives: a received email in the lead's thread, and its event.

        The email is what `GET /emails` then lists: `ue_type` 2 (received), the thread's
        `thread_id` (a new thread if the lead has none), `i_status` the lead's interest status,
        `reply_to` the message it answers. The event (`reply_received`, with `email_id` the new
        email's id) is delivered to the subscribed webhooks.

        Args:
            lead: the lead (a record from `add_lead` or `leads`), its id, or its email address.
            text: the reply's plain text.
            subject: its subject; None answers the thread's last subject ("Re: ...").
            html: its HTML body; None wraps the text in a paragraph.
            auto_reply: an automatic reply (`is_auto_reply` 1, event `auto_reply_received`).
            campaign_id: the campaign; None takes the lead's, else the thread's.
            eaccount: the workspace account it arrives on; None takes the thread's.
            timestamp: when it arrived (timestamp_created and timestamp_email); None for now.
            is_unread: whether it counts as unread.
            **fields: other Email fields to store as given.

        Returns:
            The stored email (a dict record).
        """
        record, address = self._find_lead(lead)
        campaign = campaign_id or (record or {}).get("campaign")
        before = self._last_email(address, campaign)
        if campaign is None and before is not None:
            campaign = before.get("campaign_id")
        if subject is None:
            last = before["subject"] if before is not None else "Hello"
            subject = last if last.lower().startswith("re:") else f"Re: {last}"
        account = eaccount or (before or {}).get("eaccount") or "sender@example.com"
        first = not any(
            r.get("ue_type") == RECEIVED
            and r.get("lead") == address
            and r.get("campaign_id") == campaign
            for r in self.emails
        )
        when = stamp(timestamp) if timestamp is not None else self.now()
        extra: Record = {
            "timestamp_created": when,
            "timestamp_email": when,
            "lead_id": (record or {}).get("id"),
            "list_id": (record or {}).get("list_id"),
            "i_status": (record or {}).get("lt_interest_status"),
            "is_auto_reply": 1 if auto_reply else 0,
            "reply_to": before["message_id"] if before is not None else None,
        }
        if before is not None:
            extra["_step"], extra["_variant"] = before.get("_step"), before.get("_variant")
        email = self.add_email(
            lead=address,
            eaccount=account,
            subject=subject,
            text=text,
            campaign_id=campaign,
            thread_id=(before or {}).get("thread_id"),
            is_unread=is_unread,
            **{**extra, **fields},
        )
        if html is not None:
            email["body"] = {"text": text, "html": html}
        sent = before if before is not None and before.get("ue_type") != RECEIVED else None
        self.emit(
            "auto_reply_received" if auto_reply else "reply_received",
            lead=record if record is not None else address,
            campaign_id=campaign,
            email_account=account,
            unibox_url=f"https://app.instantly.ai/app/unibox?thread={email['thread_id']}",
            step=email.get("_step"),
            variant=email.get("_variant"),
            is_first=first,
            email_id=email["id"],
            email_subject=sent["subject"] if sent else None,
            email_text=sent["body"].get("text") if sent else None,
            email_html=sent["body"].get("html") if sent else None,
            reply_subject=subject,
            reply_text=text,
            reply_html=email["body"].get("html"),
            reply_text_snippet=_snippet(text),
        )
        return email

    def send_email(
        self,
        lead: Record | str,
        subject: str = "Hello",
        text: str = "Hi! Do you have a minute this week?",
        *,
        step: int = 1,
        variant: int = 1,
        campaign_id: str | None = None,
        eaccount: str = "sender@example.com",
        timestamp: str | datetime | None = None,
        **fields: Any,
    ) -> Record:
        """A campaign sends a lead an email: a sent email in the lead's thread, and its event.

        Stores an email with `ue_type` 1 and raises `email_sent`; a later `receive_reply`
        answers it (its subject, step and variant).

        Args:
            lead: the lead (a record, its id, or its email address).
            subject: the email's subject.
            text: the email's plain text.
            step: the campaign step that sent it, counting from 1.
            variant: the step's variant that sent it, counting from 1.
            campaign_id: the campaign; None takes the lead's.
            eaccount: the workspace account that sends it.
            timestamp: when it was sent; None for now.
            **fields: other Email fields to store as given.

        Returns:
            The stored email (a dict record).
        """
        record, address = self._find_lead(lead)
        campaign = campaign_id or (record or {}).get("campaign")
        before = self._last_email(address, campaign)
        when = stamp(timestamp) if timestamp is not None else self.now()
        email = self.add_email(
            lead=address,
            eaccount=eaccount,
            subject=subject,
            text=text,
            campaign_id=campaign,
            thread_id=(before or {}).get("thread_id"),
            is_unread=False,
            **{
                "ue_type": CAMPAIGN_SENT,
                "from_address_email": eaccount,
                "to_address_email_list": address,
                "timestamp_created": when,
                "timestamp_email": when,
                "lead_id": (record or {}).get("id"),
                "_step": step,
                "_variant": variant,
                **fields,
            },
        )
        self.emit(
            "email_sent",
            lead=record if record is not None else address,
            campaign_id=campaign,
            email_account=eaccount,
            step=step,
            variant=variant,
            email_id=email["id"],
            email_subject=subject,
            email_text=text,
            email_html=email["body"]["html"],
        )
        return email

    def bounce(self, lead: Record | str, *, campaign_id: str | None = None) -> Record:
        """The last email sent to a lead bounces: its status becomes -1, `email_bounced` is raised.

        Args:
            lead: the lead (a record, its id, or its email address).
            campaign_id: the campaign; None takes the lead's.

        Returns:
            The event, as the body a webhook receives.
        """
        record, address = self._find_lead(lead)
        campaign = campaign_id or (record or {}).get("campaign")
        if record is not None:
            record["status"] = -1
        sent = self._last_email(address, campaign, received=False)
        return self.emit(
            "email_bounced",
            lead=record if record is not None else address,
            campaign_id=campaign,
            email_account=(sent or {}).get("eaccount"),
            step=(sent or {}).get("_step"),
            variant=(sent or {}).get("_variant"),
            email_id=(sent or {}).get("id"),
            email_subject=(sent or {}).get("subject"),
        )

    # -- events ---------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str | None,
        *,
        lead: Record | str | None = None,
        campaign_id: str | None = None,
        **fields: Any,
    ) -> Record:
        """Make an event happen: record it in `events` and deliver it to the subscribed webhooks.

        Args:
            event_type: the delivery's event_type (any string, or None for a custom label).
            lead: the lead it is about (a record, its id, or its email address), if any; its
                custom variables (`payload`) become top-level keys of the delivery.
            campaign_id: the campaign it belongs to; None takes the lead's.
            **fields: the other keys of the delivery (email_id, reply_text, ...); None values
                are left out, except `unibox_url`, which the API sends as null on other events.

        Returns:
            The delivery's body.
        """
        record, address = self._find_lead(lead) if lead is not None else (None, None)
        campaign = campaign_id or (record or {}).get("campaign")
        name = None
        if campaign is not None and campaign in self.campaigns:
            name = self.campaigns.rows[campaign].get("name")
        custom = (record or {}).get("payload") or {}
        event: Record = {
            **custom,
            "timestamp": self.now(),
            "event_type": event_type,
            "workspace": self.workspace_id,
            "campaign_id": campaign,
            "campaign_name": name,
            "unibox_url": fields.pop("unibox_url", None),
        }
        if address is not None:
            event["lead_email"] = address
        event.update((k, v) for k, v in fields.items() if v is not None)
        self.events.append(event)
        for listener in list(self.listeners):
            listener(event)
        return event

    def emit_interest(self, lead: Record, value: float | None) -> Record | None:
        """Raise the event of a lead's interest status set to `value`.

        A listed status raises its own event (1: lead_interested, ...; `x-interest-value` in the
        spec's `webhooks`); a value the API does not list is a custom label (event_type null
        and `custom_interest_value`); clearing the status (None) raises nothing. The mock's
        `update_interest_status` calls this; the lead's status itself is not changed here.

        Args:
            lead: the lead's record.
            value: the new interest status (a listed value or a custom label's), or None.

        Returns:
            The event raised, or None if there is none for this value.
        """
        if value is None:
            return None
        number = int(value) if value == int(value) else value
        if number in _STANDARD_INTEREST:
            event_type = INTEREST_EVENTS.get(int(number))
            return None if event_type is None else self.emit(event_type, lead=lead)
        return self.emit(None, lead=lead, custom_interest_value=number)

    # -- inside ---------------------------------------------------------------------------------

    def _find_lead(self, lead: Record | str) -> tuple[Record | None, str]:
        """The stored lead (None if there is none) and its email address."""
        if isinstance(lead, dict):
            return lead, str(lead.get("email") or "")
        found = self.leads.rows.get(lead)
        if found is not None:
            return found, str(found.get("email") or "")
        from ._state import email_key

        matches = self.leads.with_email(email_key(lead))
        return (matches[-1] if matches else None), lead

    def _last_email(
        self, address: str, campaign: str | None, *, received: bool | None = None
    ) -> Record | None:
        """The latest email with this lead (in this campaign, when one is given)."""
        key = address.lower()
        found = None
        for record in self.emails:
            if str(record.get("lead") or "").lower() != key:
                continue
            if campaign is not None and record.get("campaign_id") != campaign:
                continue
            if received is not None and (record.get("ue_type") == RECEIVED) != received:
                continue
            found = record
        return found
