"""Unibox emails of the mock: the listing with every filter of `GET /api/v2/emails`, replies,
unread counts. Conversations are seeded with `state.receive_reply` (see `_conversations.py`).

What the listing does where the API's documentation is silent, and why:
- `email_type`: `received` is ue_type 2; `sent` is 1 (sent by a campaign) and 3 (sent by hand,
  a reply); `manual` is 3. So a bot that lists `received` never gets its own replies back.
- `min_timestamp_created` is inclusive and `max_timestamp_created` exclusive, so consecutive
  windows neither overlap nor leave a gap. (The API does not say; a client should not rely on
  either: see `client.emails.watch`, which asks with a margin.)
- Order: `timestamp_created`, then the order the emails were stored; `sort_order` defaults to
  `desc` (newest first) as the API's does. The cursor is the last item's id, so a page stays
  right when emails arrive between two requests.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._call import Call, handles, visible
from ._conversations import CAMPAIGN_SENT, RECEIVED, SENT_BY_HAND, moment
from ._leads import DEFAULT_LIMIT
from ._resources import _equals
from ._state import Problem, Record

__all__ = ["EMAIL_TYPES"]

EMAIL_TYPES: dict[str, frozenset[int]] = {
    "received": frozenset({RECEIVED}),
    "sent": frozenset({CAMPAIGN_SENT, SENT_BY_HAND}),
    "manual": frozenset({SENT_BY_HAND}),
}
"""The ue_type values each `email_type` selects."""
SCHEDULED = 4

# Query filters that compare one stored field with the value as it came.
_EQUALS = ("campaign_id", "list_id", "i_status")


def _when(params: dict[str, Any], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Problem(
            400, f"querystring/{name} must be an ISO 8601 date-time, got {value!r}"
        ) from None


def _flag(field: str, wanted: bool) -> Callable[[Record], bool]:
    return lambda record: bool(record.get(field)) == wanted


def _tests(params: dict[str, Any]) -> list[Callable[[Record], bool]]:
    """One predicate per filter given."""
    tests: list[Callable[[Record], bool]] = []
    for name in _EQUALS:
        if params.get(name) is not None:
            tests.append(_equals(name, params[name]))
    if params.get("email_type") is not None:
        kinds = EMAIL_TYPES[params["email_type"]]
        tests.append(lambda r: r.get("ue_type") in kinds)
    if params.get("scheduled_only"):
        tests.append(lambda r: r.get("ue_type") == SCHEDULED)
    if params.get("eaccount"):
        accounts = {a.strip().lower() for a in str(params["eaccount"]).split(",")}
        tests.append(lambda r: str(r.get("eaccount") or "").lower() in accounts)
    if params.get("lead"):
        lead = params["lead"].lower()
        tests.append(lambda r: str(r.get("lead") or "").lower() == lead)
    if params.get("company_domain"):
        domain = params["company_domain"].lower().lstrip("@")
        tests.append(lambda r: str(r.get("lead") or "").lower().rpartition("@")[2] == domain)
    for name, field in (
        ("is_unread", "is_unread"),
        ("has_reminder", "reminder_ts"),
        ("marked_as_done", "_marked_as_done"),
    ):
        if params.get(name) is not None:
            tests.append(_flag(field, params[name]))
    if params.get("assigned_to"):
        user = params["assigned_to"]
        tests.append(lambda r: r.get("_assigned_to") == user)
    mode = params.get("mode")
    if mode in ("emode_focused", "emode_others"):
        focused = mode == "emode_focused"
        tests.append(lambda r: bool(r.get("is_focused")) == focused)
    low, high = _when(params, "min_timestamp_created"), _when(params, "max_timestamp_created")
    if low is not None:
        low = moment(low)
        tests.append(lambda r: moment(r.get("timestamp_created")) >= low)
    if high is not None:
        high = moment(high)
        tests.append(lambda r: moment(r.get("timestamp_created")) < high)
    needle = (params.get("search") or "").strip().lower()
    if needle.startswith("thread:"):
        thread = needle.removeprefix("thread:").strip()
        tests.append(lambda r: str(r.get("thread_id") or "").lower() == thread)
    elif needle:
        fields = ("lead", "from_address_email", "to_address_email_list", "subject")
        tests.append(
            lambda r: (
                any(needle in str(r.get(f) or "").lower() for f in fields)
                or needle in str((r.get("body") or {}).get("text") or "").lower()
            )
        )
    return tests


@handles("listEmail")
def list_emails(call: Call) -> Any:
    state, params = call.state, call.params
    state.email_queries.append((asyncio.get_running_loop().time(), dict(params)))
    tests = _tests(params)
    # (timestamp, storage position): the order of the listing, oldest first.
    keyed = [
        ((moment(r.get("timestamp_created")), i), r)
        for i, r in enumerate(state.emails)
        if all(test(r) for test in tests)
    ]
    if params.get("latest_of_thread"):
        latest: dict[Any, tuple[Any, Record]] = {}
        for key, record in keyed:
            thread = record.get("thread_id") or record["id"]
            if thread not in latest or latest[thread][0] < key:
                latest[thread] = (key, record)
        keyed = list(latest.values())
    keyed.sort(key=lambda kr: kr[0])
    descending = params.get("sort_order", "desc") == "desc"
    if descending:
        keyed.reverse()
    start = 0
    cursor = params.get("starting_after")
    if cursor is not None:
        after = state.emails.rows.get(cursor)
        if after is None:
            raise Problem(
                400, f"querystring/starting_after is not an email this API listed: {cursor!r}"
            )
        position = next(i for i, r in enumerate(state.emails) if r is after)
        mark = (moment(after.get("timestamp_created")), position)
        keys = [k for k, _ in keyed]
        if descending:  # keys fall: find where they drop below the mark
            start = len(keys) - bisect.bisect_left(keys[::-1], mark)
        else:
            start = bisect.bisect_right(keys, mark)
    limit = params.get("limit", DEFAULT_LIMIT)
    chosen = [r for _, r in keyed[start : start + limit]]
    items = [visible(r) for r in chosen]
    if params.get("preview_only"):
        for item in items:
            item["body"] = {}
    out: dict[str, Any] = {"items": items}
    # Like the API, a full page carries a cursor even when nothing follows.
    if len(chosen) == limit:
        out["next_starting_after"] = chosen[-1]["id"]
    return out


@handles("replyToEmail")
def reply_to_email(call: Call) -> Any:
    # No webhook event: `email_sent` is a campaign's send (with its step and variant), and a
    # bot that answered a reply should not hear about its own answer.
    state, body = call.state, call.data
    original = state.emails.get(body["reply_to_uuid"], "Email")
    text = body["body"].get("text") or ""
    fields = {
        # The account it is sent from is an address; anything else is not one to show.
        "from_address_email": body["eaccount"] if "@" in body["eaccount"] else None,
        "ue_type": SENT_BY_HAND,
        "campaign_id": original.get("campaign_id"),
        "list_id": original.get("list_id"),
        "lead_id": original.get("lead_id"),
        "reply_to": original["message_id"],
    }
    for name in ("cc_address_email_list", "bcc_address_email_list", "reminder_ts"):
        if name in body:
            fields[name] = body[name]
    if "assigned_to" in body:
        fields["_assigned_to"] = body["assigned_to"]
    reply = state.add_email(
        lead=original.get("lead") or original["to_address_email_list"],
        eaccount=body["eaccount"],
        subject=body["subject"],
        text=text,
        thread_id=original.get("thread_id"),
        is_unread=False,
        **fields,
    )
    # A reply goes to the lead: the address it came from is now the one it is sent to.
    reply["to_address_email_list"] = original.get("from_address_email") or original["lead"]
    if "html" in body["body"]:
        reply["body"] = {"text": text, "html": body["body"]["html"]}
    return visible(reply)


@handles("countUnreadEmails")
def count_unread(call: Call) -> Any:
    return {"count": sum(1 for r in call.state.emails if r.get("is_unread"))}


@handles("markThreadAsRead")
def mark_thread_read(call: Call) -> Any:
    thread = call.params["thread_id"]
    found = False
    for record in call.state.emails:
        if record.get("thread_id") == thread:
            record["is_unread"] = 0
            found = True
    if not found:
        raise Problem(404, f"Thread {thread} not found")
    return {"success": True}
