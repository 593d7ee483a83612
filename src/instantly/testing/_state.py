"""The mock's memory: the stores, their indexes and the counters tests read.

Records are plain dicts holding what a client sent plus the server's own fields; keys that start
with "_" are bookkeeping and never leave the server. Answers are built from a record when asked
for, so a stored lead costs only the fields it has (the benchmarks keep a million of them): a
lead keeps no null campaign or list, and no update time until it is updated, which keeps its
dict at CPython's smaller size for up to ten keys.

Lists keep insertion order. A cursor is an opaque string standing for a position in the order
the listing walks, so a page costs O(page), not O(store).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ._conversations import Conversations

__all__ = [
    "LeadStore",
    "MockState",
    "Problem",
    "Table",
    "creation_order",
    "decode_cursor",
    "email_key",
    "encode_cursor",
]

Record = dict[str, Any]


class Problem(Exception):
    """An answer other than success: the status, and the message of the API's error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def encode_cursor(position: int) -> str:
    """The cursor handed out for the page that ends at `position`."""
    return f"p{position:x}"


def decode_cursor(cursor: str | None, field: str) -> int:
    """Where the page after `cursor` starts.

    Args:
        cursor: a cursor `encode_cursor` handed out, or None for the first page.
        field: how the request names the cursor, for the error message.

    Returns:
        The position of the page's first record; 0 for no cursor.

    Raises:
        Problem: a 400, for a cursor the mock never handed out.
    """
    if cursor is None:
        return 0
    if cursor[:1] == "p":
        try:
            return int(cursor[1:], 16) + 1
        except ValueError:
            pass
    raise Problem(400, f"{field} is not a cursor this API handed out: {cursor!r}")


def creation_order(record_id: str) -> int:
    """Where an id the mock handed out stands in creation order (the counter it ends with)."""
    return int(record_id.rpartition("-")[2], 16)


def email_key(email: str) -> str:
    """How the indexes know an email: lower-cased (the same object when it already is)."""
    key = email.lower()
    return email if key == email else key


class Table:
    """Records of one kind by id, in the order they were created."""

    def __init__(self) -> None:
        self.rows: dict[str, Record] = {}
        self._order: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self.rows

    def __iter__(self) -> Iterator[Record]:
        return iter(self.rows.values())

    def add(self, record: Record) -> Record:
        """Store a record (it has an "id") at the end of the order."""
        self._order.append(record["id"])
        self.rows[record["id"]] = record
        return record

    def get(self, record_id: str, what: str) -> Record:
        """The record with this id, or a 404 naming `what` it should have been."""
        record = self.rows.get(record_id)
        if record is None:
            raise Problem(404, f"{what} {record_id} not found")
        return record

    def remove(self, record_id: str, what: str) -> Record:
        """Delete a record and return it, or a 404 naming `what` it should have been."""
        record = self.get(record_id, what)
        del self.rows[record_id]
        return record

    def walk(self, start: int) -> Iterator[tuple[int, Record]]:
        """(position, record) of the live records from `start` on, in creation order."""
        rows, order = self.rows, self._order
        for position in range(start, len(order)):
            record = rows.get(order[position])
            if record is not None:
                yield position, record


def page(
    walk: Iterator[tuple[int, Record]],
    keep: Callable[[Record], bool] | None,
    limit: int,
) -> tuple[list[Record], str | None]:
    """One page of what `walk` yields and `keep` accepts, and the cursor after it.

    Like the API, a full page carries a cursor even when nothing follows: clients stop at the
    empty page it leads to.
    """
    items: list[Record] = []
    last = -1
    for position, record in walk:
        if keep is None or keep(record):
            items.append(record)
            last = position
            if len(items) == limit:
                return items, encode_cursor(last)
    return items, None


class LeadStore(Table):
    """The leads, with the indexes that the skip rules and the listings need.

    Indexes count leads by lower-cased email (Counters, which count a whole import in C): in the
    workspace, in any campaign, in any list, and per campaign and per list. A campaign's and a
    list's members are also kept in the order they joined, so that a listing filtered by either
    walks only its members.
    """

    def __init__(self) -> None:
        super().__init__()
        self.in_workspace: Counter[str] = Counter()
        self.in_any_campaign: Counter[str] = Counter()
        self.in_any_list: Counter[str] = Counter()
        self.by_campaign: dict[str, Counter[str]] = {}
        self.by_list: dict[str, Counter[str]] = {}
        self._campaign_order: dict[str, list[str]] = {}
        self._list_order: dict[str, list[str]] = {}
        # Lower-cased email -> id, or a set of ids when several leads share it (another campaign):
        # one str per lead keeps a million leads' index small.
        self._by_key: dict[str, str | set[str]] = {}

    def add(self, record: Record) -> Record:
        """Store one lead and index it (see `extend`)."""
        self.extend([record], record.get("campaign"), record.get("list_id"))
        return record

    def extend(self, records: list[Record], campaign: str | None, list_id: str | None) -> None:
        """Store new leads of one campaign and/or list, and index them.

        Args:
            records: the leads, each with its "id" and its "_key" (lower-cased email, or
                None).
            campaign: the campaign they all belong to (their "campaign", absent for None), or
                None.
            list_id: the list they all belong to (their "list_id", absent for None), or None.
        """
        ids = [r["id"] for r in records]
        self._order.extend(ids)
        self.rows.update(zip(ids, records, strict=True))
        # New members go to the end of their campaign's or list's order.
        for owner, slot, orders in (
            (campaign, "_cpos", self._campaign_order),
            (list_id, "_lpos", self._list_order),
        ):
            if owner is not None:
                members = orders.setdefault(owner, [])
                for position, record in enumerate(records, len(members)):
                    record[slot] = position
                members.extend(ids)
        keys = [r["_key"] for r in records if r["_key"] is not None]
        self._count(keys, campaign, list_id, 1)
        for record in records:
            self._index(record)

    def remove(self, record_id: str, what: str = "Lead") -> Record:
        """Delete a lead and drop it from the indexes."""
        record = super().remove(record_id, what)
        self._forget(record)
        return record

    def update(self, record: Record, changes: Record) -> None:
        """Apply field changes to a stored lead, keeping the indexes true."""
        self._forget(record)
        old_campaign, old_list = record.get("campaign"), record.get("list_id")
        record.update(changes)
        if "email" in changes:
            email = changes["email"]
            record["_key"] = email_key(email) if email else None
        campaign, list_id = record.get("campaign"), record.get("list_id")
        if record["_key"] is not None:
            self._count([record["_key"]], campaign, list_id, 1)
        self._index(record)
        for owner, old, slot, orders in (
            (campaign, old_campaign, "_cpos", self._campaign_order),
            (list_id, old_list, "_lpos", self._list_order),
        ):
            if owner != old:
                record.pop(slot, None)
                if owner is not None:
                    members = orders.setdefault(owner, [])
                    record[slot] = len(members)
                    members.append(record["id"])

    def with_email(self, key: str) -> list[Record]:
        """The leads whose lower-cased email is `key`, in no particular order."""
        ids = self._by_key.get(key)
        if ids is None:
            return []
        if isinstance(ids, str):
            return [self.rows[ids]]
        return [self.rows[i] for i in ids]

    def _index(self, record: Record) -> None:
        key = record["_key"]
        if key is None:
            return
        ids = self._by_key.get(key)
        if ids is None:
            self._by_key[key] = record["id"]
        elif isinstance(ids, str):
            self._by_key[key] = {ids, record["id"]}
        else:
            ids.add(record["id"])

    def _forget(self, record: Record) -> None:
        key = record["_key"]
        if key is None:
            return
        self._count([key], record.get("campaign"), record.get("list_id"), -1)
        ids = self._by_key.get(key)
        if ids == record["id"]:
            del self._by_key[key]
        elif isinstance(ids, set):
            ids.discard(record["id"])
            if len(ids) == 1:
                self._by_key[key] = ids.pop()

    def _count(self, keys: list[str], campaign: str | None, list_id: str | None, by: int) -> None:
        tables = [self.in_workspace]
        if campaign is not None:
            tables += (self.in_any_campaign, self.by_campaign.setdefault(campaign, Counter()))
        if list_id is not None:
            tables += (self.in_any_list, self.by_list.setdefault(list_id, Counter()))
        for table in tables:
            if by > 0:
                table.update(keys)
            else:
                table.subtract(keys)
                for key in keys:
                    if table[key] <= 0:
                        del table[key]  # so that `email in table` means "there is one"

    def members(self, field: str, owner: str, start: int) -> Iterator[tuple[int, Record]]:
        """(position, lead) of the leads of one campaign (field "campaign") or list ("list_id")."""
        orders = self._campaign_order if field == "campaign" else self._list_order
        slot = "_cpos" if field == "campaign" else "_lpos"
        order = orders.get(owner, [])
        rows = self.rows
        for position in range(start, len(order)):
            record = rows.get(order[position])
            # A lead that left (and maybe came back) is listed only where it joined last.
            if record is not None and record.get(slot) == position and record.get(field) == owner:
                yield position, record


class MockState(Conversations):
    """Everything the mock holds, for handlers and for the tests that inspect it.

    Counters: `requests` (every request received), `in_flight` (received, not yet answered: a
    slow or held request may still write), `rate_limited` (429s), `unauthorized` (401s),
    `bad_requests` (400s), `faults` (5xx and drops injected), `by_operation` (requests per
    operationId). Stores: `leads`, `lead_lists`, `lead_labels`, `campaigns`, `emails`,
    `background_jobs` (each `len()`-able and iterable over plain dict records, by id in
    `.rows`), and `blocklist` (emails and domains that `leads/add` counts as `in_blocklist`).
    Seeding without requests: `add_campaign`, `add_lead_list`, `add_lead`, `add_email`.
    Conversations and webhooks (from `Conversations`): `receive_reply`, `send_email`, `bounce`,
    `emit`; stores `webhooks`, `webhook_events` (delivery tries), `events` (every event raised),
    `email_queries` (every `GET /emails` answered).
    """

    def __init__(self, seed: int = 0) -> None:
        """Start empty.

        Args:
            seed: makes ids (and so every answer) the same from run to run.
        """
        rng = random.Random(seed)
        # Ids are a per-mock random prefix and a counter: unique, valid UUIDs, and cheap to make
        # (a million leads need a million ids).
        a, b, c, d = (rng.getrandbits(n) for n in (32, 16, 12, 12))
        self._id_prefix = f"{a:08x}-{b:04x}-4{c:03x}-{0x8000 | d:04x}-"
        self._next_id = 0
        self.workspace_id = self.new_id()
        """The id of the mock's one workspace (a record's `organization`)."""
        self.user_id = self.new_id()
        """The id of the workspace's one user."""
        self.requests = 0
        """Every request received, 401s, 429s and faults included."""
        self.in_flight = 0
        """Requests received and not yet answered (a slow or held one may still write)."""
        self.rate_limited = 0
        """Requests answered 429."""
        self.unauthorized = 0
        """Requests answered 401."""
        self.bad_requests = 0
        """Requests answered 400 (the spec's checks and the operations' own)."""
        self.faults = 0
        """5xx answers and dropped connections injected by `Faults`."""
        self.by_operation: Counter[str] = Counter()
        """Requests per operationId (`bulkAddLeads`, `listEmail`, ...)."""
        self.leads = LeadStore()
        """The leads (each a dict record, as the API shows it; `len()`, iteration, `.rows`)."""
        self.lead_lists = Table()
        """The lead lists."""
        self.lead_labels = Table()
        """The lead labels (custom interest statuses)."""
        self.campaigns = Table()
        """The campaigns."""
        self.emails = Table()
        """The Unibox emails, received and sent."""
        self.background_jobs = Table()
        """The background jobs (leads move)."""
        self.blocklist: set[str] = set()
        """Emails and domains that `leads/add` counts as `in_blocklist`."""
        self._init_conversations()

    def __repr__(self) -> str:
        return (
            f"MockState(requests={self.requests}, rate_limited={self.rate_limited}, "
            f"leads={len(self.leads)}, campaigns={len(self.campaigns)})"
        )

    def new_id(self) -> str:
        """A fresh UUID-shaped id."""
        self._next_id += 1
        return f"{self._id_prefix}{self._next_id:012x}"

    @staticmethod
    def now() -> str:
        """The current time as the API writes it (ISO 8601, UTC, milliseconds)."""
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # -- seeding helpers for tests ------------------------------------------------------------

    def add_campaign(self, name: str = "Campaign", **fields: Any) -> Record:
        """Create a campaign directly (no request), e.g. to import leads into.

        Args:
            name: the campaign's name.
            **fields: other Campaign fields to store as given (they override the defaults: a
                draft, status 0, sending on weekdays from 09:00 to 17:00).

        Returns:
            The stored record (a dict; `record["id"]` is its id). Changing it changes the
            mock's state.
        """
        now = self.now()
        schedule = {
            "schedules": [
                {
                    "name": "Weekdays",
                    "timing": {"from": "09:00", "to": "17:00"},
                    "days": {str(d): d < 5 for d in range(7)},
                    "timezone": "Etc/GMT+12",
                }
            ]
        }
        record = {
            "id": self.new_id(),
            "name": name,
            "status": 0,
            "campaign_schedule": schedule,
            "timestamp_created": now,
            "timestamp_updated": now,
            "organization": self.workspace_id,
            **fields,
        }
        return self.campaigns.add(record)

    def add_lead(
        self,
        email: str | None,
        *,
        campaign: str | None = None,
        list_id: str | None = None,
        **fields: Any,
    ) -> Record:
        """Store a lead directly (no request, no checks).

        Args:
            email: its email address (None: a list lead known by its name only).
            campaign: the id of the campaign it belongs to, if any.
            list_id: the id of the lead list it belongs to, if any.
            **fields: other Lead fields to store as given (first_name, payload for the custom
                variables, lt_interest_status, ...).

        Returns:
            The stored record (a dict; `record["id"]` is its id).
        """
        record = {**fields, "id": self.new_id(), "email": email}
        if campaign is not None:
            record["campaign"] = campaign
        if list_id is not None:
            record["list_id"] = list_id
        record["timestamp_created"] = self.now()
        record["_key"] = email_key(email) if email else None
        return self.leads.add(record)

    def add_lead_list(self, name: str = "List", **fields: Any) -> Record:
        """Create a lead list directly (no request).

        Args:
            name: the list's name.
            **fields: other LeadList fields to store as given.

        Returns:
            The stored record (a dict; `record["id"]` is its id).
        """
        record = {
            "id": self.new_id(),
            "organization_id": self.workspace_id,
            "name": name,
            "timestamp_created": self.now(),
            **fields,
        }
        return self.lead_lists.add(record)

    def add_email(
        self,
        *,
        lead: str = "ada@example.com",
        eaccount: str = "sender@example.com",
        subject: str = "Hello",
        text: str = "Hello!",
        campaign_id: str | None = None,
        thread_id: str | None = None,
        is_unread: bool = True,
        **fields: Any,
    ) -> Record:
        """Put a received email in the Unibox directly (no request, no event).

        `receive_reply` does more: it threads the email with the lead's earlier ones and
        raises the `reply_received` event.

        Args:
            lead: the email address of the lead who sent it.
            eaccount: the workspace's sending account it was received on.
            subject: its subject line.
            text: its plain-text body.
            campaign_id: the campaign it belongs to, if any.
            thread_id: the thread it belongs to; None starts a new thread.
            is_unread: whether it counts as unread.
            **fields: other Email fields to store as given.

        Returns:
            The stored record (a dict; `record["id"]` is its id).
        """
        email_id = self.new_id()
        now = self.now()
        record = {
            "id": email_id,
            "timestamp_created": now,
            "timestamp_email": now,
            "message_id": f"<{email_id}@mock.instantly>",
            "subject": subject,
            "from_address_email": lead,
            "to_address_email_list": eaccount,
            "body": {"text": text, "html": f"<p>{text}</p>"},
            "organization_id": self.workspace_id,
            "campaign_id": campaign_id,
            "lead": lead,
            "eaccount": eaccount,
            "ue_type": 2,
            "is_unread": 1 if is_unread else 0,
            "thread_id": thread_id or self.new_id(),
            "content_preview": text[:100],
            **fields,
        }
        return self.emails.add(record)
