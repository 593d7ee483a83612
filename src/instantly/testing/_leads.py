"""The leads of the mock: create, get, patch, delete, list, bulk add, bulk delete, move, interest.

`POST /api/v2/leads/add` does the accounting of the real endpoint: every lead of the request ends
in exactly one count (created, in the block list, skipped by a skip flag, already in the target,
invalid email, no email, or a repeat of an earlier lead of the same request), so the counts add
up to `total_sent`, and `created_leads[].index` points into the request's `leads`.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._call import Call, handles, visible
from ._spec import load_spec
from ._state import (
    LeadStore,
    MockState,
    Problem,
    Record,
    creation_order,
    decode_cursor,
    email_key,
    page,
)

__all__ = ["lead_out"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")
DEFAULT_LIMIT = 100


@functools.cache
def _fields(schema_name: str) -> frozenset[str]:
    """The fields of a request schema that a stored lead keeps (those a Lead has)."""
    schemas = load_spec()["components"]["schemas"]
    lead = set(schemas["Lead"]["properties"]) | {"custom_variables"}
    return frozenset(set(schemas[schema_name]["properties"]) & lead)


def _keep(lead: Record, fields: frozenset[str]) -> Record:
    """The fields of a lead as stored. The lead's own dict is reused when it holds only known
    fields (the usual case): a bulk import then copies nothing."""
    record = lead if fields.issuperset(lead) else {k: v for k, v in lead.items() if k in fields}
    if "custom_variables" in record:  # the API answers custom variables as `payload`
        record["payload"] = record.pop("custom_variables")
    return record


def lead_out(state: MockState, record: Record) -> dict[str, Any]:
    """A stored lead as the API answers it (a Lead)."""
    email = record.get("email")
    out: dict[str, Any] = {
        "campaign": None,
        "list_id": None,
        "timestamp_updated": record["timestamp_created"],
        "organization": state.workspace_id,
        "status": 1,
        "email_open_count": 0,
        "email_reply_count": 0,
        "email_click_count": 0,
        "company_domain": email.rpartition("@")[2] if email else "",
        "status_summary": {},
    }
    for key, value in record.items():
        if key[0] != "_":
            out[key] = value
    return out


def _target(state: MockState, campaign_id: Any, list_id: Any) -> None:
    if campaign_id is not None:
        state.campaigns.get(campaign_id, "Campaign")
    if list_id is not None:
        state.lead_lists.get(list_id, "Lead list")


def _store(state: MockState, fields: Record) -> Record:
    """Store a new lead made of these fields (email, campaign, list_id and the rest)."""
    return state.add_lead(
        fields.pop("email", None),
        campaign=fields.pop("campaign", None),
        list_id=fields.pop("list_id", None),
        **fields,
    )


@handles("createLead")
def create_lead(call: Call) -> Any:
    state, body = call.state, call.data
    _target(state, body.get("campaign"), body.get("list_id"))
    email = body.get("email")
    key = email_key(email) if email else None
    store = state.leads
    if key is not None and (
        (body.get("skip_if_in_workspace") and key in store.in_workspace)
        or (body.get("skip_if_in_campaign") and key in store.in_any_campaign)
        or (body.get("skip_if_in_list") and key in store.in_any_list)
    ):
        # Skipped: the answer is the lead that is already there.
        existing = next(r for r in store if r["_key"] == key)
        return lead_out(state, existing)
    record = _keep(body, _fields("CreateLeadRequest"))
    return lead_out(state, _store(state, record))


@handles("getLead")
def get_lead(call: Call) -> Any:
    return lead_out(call.state, call.state.leads.get(call.params["id"], "Lead"))


@handles("patchLead")
def patch_lead(call: Call) -> Any:
    state = call.state
    record = state.leads.get(call.params["id"], "Lead")
    changes = _keep(call.data, _fields("UpdateLeadRequest"))
    changes["timestamp_updated"] = state.now()
    state.leads.update(record, changes)
    return lead_out(state, record)


@handles("deleteLead")
def delete_lead(call: Call) -> Any:
    return lead_out(call.state, call.state.leads.remove(call.params["id"]))


@handles("bulkAddLeads")
def bulk_add_leads(call: Call) -> Any:
    state, body = call.state, call.data
    campaign_id, list_id = body.get("campaign_id"), body.get("list_id")
    if campaign_id is not None and list_id is not None:
        raise Problem(400, "body must have campaign_id or list_id, not both")
    if campaign_id is None and list_id is None:
        raise Problem(400, "body must have campaign_id or list_id")
    _target(state, campaign_id, list_id)
    store = state.leads
    # Leads are stored after the loop, so a repeat within the request is caught by `seen`.
    already: Mapping[str, int] = (
        store.by_campaign.get(campaign_id, {})
        if campaign_id is not None
        else store.by_list.get(list_id or "", {})
    )
    skip_workspace = store.in_workspace if body.get("skip_if_in_workspace") else {}
    skip_campaign = store.in_any_campaign if body.get("skip_if_in_campaign") else {}
    skip_list = store.in_any_list if body.get("skip_if_in_list") else {}
    blocklist = state.blocklist
    fields = _fields("BulkAddLeadsRequestLead")
    owner_field, owner = (
        ("campaign", campaign_id) if campaign_id is not None else ("list_id", list_id)
    )
    now = state.now()
    new_id = state.new_id
    seen: set[str] = set()
    records: list[Record] = []
    created: list[dict[str, Any]] = []
    blocked = skipped = duplicated = invalid = incomplete = repeated = 0
    for index, lead in enumerate(body["leads"]):
        email = lead.get("email")
        if not email:
            # The API's rule: a campaign lead needs an email (counted as an invalid email); a
            # list lead needs an email or a name (counted as incomplete).
            if campaign_id is not None:
                invalid += 1
                continue
            if not lead.get("first_name") and not lead.get("last_name"):
                incomplete += 1
                continue
            key = None
        elif _EMAIL.match(email) is None:
            invalid += 1
            continue
        else:
            key = email_key(email)
        if key is not None:
            if key in seen:
                repeated += 1
                continue
            seen.add(key)
            if blocklist and (key in blocklist or key.rpartition("@")[2] in blocklist):
                blocked += 1
                continue
            if key in skip_workspace or key in skip_campaign or key in skip_list:
                skipped += 1
                continue
            if key in already:
                duplicated += 1
                continue
        record = _keep(lead, fields)
        lead_id = record["id"] = new_id()
        record[owner_field] = owner
        record["timestamp_created"] = now
        record["_key"] = key
        records.append(record)
        created.append({"id": lead_id, "index": index, "email": email})
    store.extend(records, campaign_id, list_id)
    return {
        "status": "success",
        "total_sent": len(body["leads"]),
        "leads_uploaded": len(created),
        "in_blocklist": blocked,
        "blocklist_used": body.get("blocklist_id"),
        "duplicated_leads": duplicated,
        "skipped_count": skipped,
        "invalid_email_count": invalid,
        "incomplete_count": incomplete,
        "duplicate_email_count": repeated,
        "remaining_in_plan": None,
        "created_leads": created,
    }


# --- selecting leads: listing, bulk delete and move share one filter ---------------------------


def select(
    store: LeadStore, filters: Mapping[str, Any], start: int = 0
) -> tuple[Iterator[tuple[int, Record]], Callable[[Record], bool] | None]:
    """The leads that a filter body (`ListLeadsRequest` and its kin) selects.

    Returns what to walk (from position `start` on) and the test each lead walked must pass;
    the walk is the smallest source the filters allow (the given ids, one campaign, one list).
    """
    campaign, list_id, ids = filters.get("campaign"), filters.get("list_id"), filters.get("ids")
    contacts = filters.get("contacts")
    tests: list[Callable[[Record], bool]] = []
    walk: Iterator[tuple[int, Record]]
    if contacts and ids is None:
        # By the email index, in creation order (an id's counter): what a bulk import's lookup
        # of its leads costs is then O(its emails), not O(the campaign).
        found = {r["id"]: r for c in set(map(email_key, contacts)) for r in store.with_email(c)}
        ordered = sorted((creation_order(lead_id), r) for lead_id, r in found.items())
        walk = ((p, r) for p, r in ordered if p >= start)
        if campaign is not None:
            tests.append(lambda r: r.get("campaign") == campaign)
        if list_id is not None:
            tests.append(lambda r: r.get("list_id") == list_id)
    elif ids is not None:
        rows = store.rows
        walk = ((i, rows[x]) for i, x in enumerate(ids[start:], start) if x in rows)
        if campaign is not None:
            tests.append(lambda r: r.get("campaign") == campaign)
        if list_id is not None:
            tests.append(lambda r: r.get("list_id") == list_id)
    elif campaign is not None:
        walk = store.members("campaign", campaign, start)
        if list_id is not None:
            tests.append(lambda r: r.get("list_id") == list_id)
    elif list_id is not None:
        walk = store.members("list_id", list_id, start)
    else:
        walk = store.walk(start)
    if filters.get("in_campaign") is not None:
        flag = bool(filters["in_campaign"])
        tests.append(lambda r: (r.get("campaign") is not None) == flag)
    if filters.get("in_list") is not None:
        flag_list = bool(filters["in_list"])
        tests.append(lambda r: (r.get("list_id") is not None) == flag_list)
    if contacts and ids is not None:
        keys = {email_key(c) for c in contacts}
        tests.append(lambda r: r["_key"] in keys)
    if filters.get("excluded_ids"):
        excluded = set(filters["excluded_ids"])
        tests.append(lambda r: r["id"] not in excluded)
    if filters.get("status") is not None:
        status = filters["status"]
        tests.append(lambda r: r.get("status", 1) == status)
    if filters.get("search"):
        needle = filters["search"].lower()
        tests.append(lambda r: any(needle in str(r.get(f) or "").lower() for f in _SEARCHED))
    if not tests:
        return walk, None
    if len(tests) == 1:
        return walk, tests[0]
    return walk, lambda r: all(test(r) for test in tests)


_SEARCHED = ("email", "first_name", "last_name", "company_name")


@handles("listLeads")
def list_leads(call: Call) -> Any:
    state, body = call.state, call.data
    start = decode_cursor(body.get("starting_after"), "body/starting_after")
    walk, keep = select(state.leads, body, start)
    items, cursor = page(walk, keep, body.get("limit", DEFAULT_LIMIT))
    out: dict[str, Any] = {"items": [lead_out(state, r) for r in items]}
    if cursor is not None:
        out["next_starting_after"] = cursor
    return out


@handles("bulkDeleteLeads")
def bulk_delete_leads(call: Call) -> Any:
    state, body = call.state, call.data
    # This body names the campaign `campaign_id`, where the listing's says `campaign`.
    walk, keep = select(state.leads, {**body, "campaign": body.get("campaign_id")})
    limit = body.get("limit")
    doomed = [r["id"] for _, r in walk if keep is None or keep(r)]
    if limit is not None:
        doomed = doomed[:limit]
    for lead_id in doomed:
        state.leads.remove(lead_id)
    return {"count": len(doomed)}


@handles("updateLeadInterestStatus")
def update_interest_status(call: Call) -> Any:
    state, body = call.state, call.data
    value = body["interest_value"]
    campaign, list_id = body.get("campaign_id"), body.get("list_id")
    now = state.now()
    for record in state.leads.with_email(email_key(body["lead_email"])):
        if campaign is not None and record.get("campaign") != campaign:
            continue
        if list_id is not None and record.get("list_id") != list_id:
            continue
        if value is None:
            record.pop("lt_interest_status", None)
        else:
            record["lt_interest_status"] = int(value) if value == int(value) else value
        record["timestamp_updated"] = now
        state.emit_interest(record, value)  # the lead_interested, ... webhook event
    # The API applies it in the background, so it answers 202 at once.
    return {"message": "Interest status update accepted"}


@handles("moveLeads")
def move_leads(call: Call) -> Any:
    state, body = call.state, call.data
    to_campaign, to_list = body.get("to_campaign_id"), body.get("to_list_id")
    if (to_campaign is None) == (to_list is None):
        raise Problem(400, "body must have to_campaign_id or to_list_id (one of them)")
    _target(state, to_campaign, to_list)
    walk, keep = select(state.leads, body)
    ids = [r["id"] for _, r in walk if keep is None or keep(r)]
    now = state.now()
    job = state.background_jobs.add(
        {
            "id": state.new_id(),
            "workspace_id": state.workspace_id,
            "user_id": state.user_id,
            "type": "move-leads",
            "entity_id": to_campaign or to_list,
            "entity_type": "campaign" if to_campaign else "list",
            "data": {},
            "progress": 0,
            "status": "pending",
            "created_at": now,
            "updated_at": now,
        }
    )
    loop = asyncio.get_running_loop()
    job["_started"] = loop.time()
    job["_seconds"] = call.job_seconds
    copy, check = bool(body.get("copy_leads")), bool(body.get("check_duplicates"))
    # The move happens when the job ends, on the event loop's clock, as a whole.
    loop.call_later(
        call.job_seconds, _finish_move, state, job, ids, to_campaign, to_list, copy, check
    )
    return visible(job)


def _finish_move(
    state: MockState,
    job: Record,
    ids: list[str],
    to_campaign: str | None,
    to_list: str | None,
    copy: bool,
    check_duplicates: bool,
) -> None:
    store = state.leads
    target: Mapping[str, int] = (
        store.by_campaign.get(to_campaign, {})
        if to_campaign
        else store.by_list.get(to_list or "", {})
    )
    now = state.now()
    for lead_id in ids:
        record = store.rows.get(lead_id)
        if record is None or (check_duplicates and record["_key"] in target):
            continue
        where = {"campaign": to_campaign, "list_id": to_list, "timestamp_updated": now}
        if copy:
            fields = {k: v for k, v in record.items() if k[0] != "_" and k != "id"}
            fields.update(where)
            _store(state, fields)
        else:
            store.update(record, where)
    job.update(status="success", progress=100, updated_at=now)
