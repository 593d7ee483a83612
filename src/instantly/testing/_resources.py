"""Lead lists, lead labels, campaigns and background jobs of the mock (emails: `_emails.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ._call import Call, handles, visible
from ._leads import DEFAULT_LIMIT
from ._state import MockState, Record, Table, decode_cursor, page

__all__ = ["refresh_job"]

_INTEREST = {"positive": 1, "neutral": 0, "negative": -1}


def _list(call: Call, table: Table, tests: list[Callable[[Record], bool]]) -> dict[str, Any]:
    """One page of a GET listing (cursor and limit in the query)."""
    params = call.params
    start = decode_cursor(params.get("starting_after"), "querystring/starting_after")

    def keep(record: Record) -> bool:
        return all(test(record) for test in tests)

    items, cursor = page(
        table.walk(start), keep if tests else None, params.get("limit", DEFAULT_LIMIT)
    )
    out: dict[str, Any] = {"items": [visible(r) for r in items]}
    if cursor is not None:
        out["next_starting_after"] = cursor
    return out


def _equals(field: str, value: Any) -> Callable[[Record], bool]:
    return lambda record: record.get(field) == value


def _search(call: Call, field: str) -> list[Callable[[Record], bool]]:
    needle = call.params.get("search")
    if not needle:
        return []
    needle = needle.lower()
    return [lambda r: needle in str(r.get(field) or "").lower()]


def _patch(call: Call, table: Table, what: str, stamp: str | None = None) -> dict[str, Any]:
    record = table.get(call.params["id"], what)
    record.update(call.data)
    if stamp is not None:
        record[stamp] = call.state.now()
    return visible(record)


def _by_id(
    table: Callable[[MockState], Table],
    what: str,
    *,
    get: str,
    delete: str,
    patch: str | None = None,
    stamp: str | None = None,
) -> None:
    """Register the get, delete (and patch) handlers of one kind of record, by `id` in the path.

    table: picks the kind's table from the state.
    what: the kind's name in a 404's message.
    get, delete, patch: the operationIds.
    stamp: the field a patch sets to the current time.
    """
    handles(get)(lambda call: visible(table(call.state).get(call.params["id"], what)))
    handles(delete)(lambda call: visible(table(call.state).remove(call.params["id"], what)))
    if patch is not None:
        handles(patch)(lambda call: _patch(call, table(call.state), what, stamp))


_by_id(
    lambda s: s.lead_lists,
    "Lead list",
    get="getLeadList",
    delete="deleteLeadList",
    patch="patchLeadList",
)
_by_id(lambda s: s.lead_labels, "Lead label", get="getLeadLabel", delete="deleteLeadLabel")
_by_id(
    lambda s: s.campaigns,
    "Campaign",
    get="getCampaign",
    delete="deleteCampaign",
    patch="patchCampaign",
    stamp="timestamp_updated",
)
_by_id(lambda s: s.emails, "Email", get="getEmail", delete="deleteEmail", patch="patchEmail")


# --- lead lists ------------------------------------------------------------------------------


@handles("createLeadList")
def create_lead_list(call: Call) -> Any:
    return visible(call.state.add_lead_list(**call.data))


@handles("listLeadList")
def list_lead_lists(call: Call) -> Any:
    tests = _search(call, "name")
    enrichment = call.params.get("has_enrichment_task")
    if enrichment is not None:
        tests.append(lambda r: bool(r.get("has_enrichment_task")) == enrichment)
    return _list(call, call.state.lead_lists, tests)


# --- lead labels -----------------------------------------------------------------------------


@handles("createLeadLabel")
def create_lead_label(call: Call) -> Any:
    state, body = call.state, call.data
    record = {
        "id": state.new_id(),
        "timestamp_created": state.now(),
        "created_by": state.user_id,
        "organization_id": state.workspace_id,
        **body,
        "interest_status": _INTEREST[body["interest_status_label"]],
    }
    return visible(state.lead_labels.add(record))


@handles("patchLeadLabel")
def patch_lead_label(call: Call) -> Any:
    out = _patch(call, call.state.lead_labels, "Lead label")
    if "interest_status_label" in call.data:
        record = call.state.lead_labels.get(call.params["id"], "Lead label")
        record["interest_status"] = out["interest_status"] = _INTEREST[out["interest_status_label"]]
    return out


@handles("listLeadLabel")
def list_lead_labels(call: Call) -> Any:
    tests = _search(call, "label")
    wanted = call.params.get("interest_status")
    if wanted is not None:
        tests.append(lambda r: r.get("interest_status_label") == wanted)
    return _list(call, call.state.lead_labels, tests)


# --- campaigns -------------------------------------------------------------------------------


@handles("createCampaign")
def create_campaign(call: Call) -> Any:
    return visible(call.state.add_campaign(**call.data))


def _set_status(call: Call, status: int) -> Any:
    record = call.state.campaigns.get(call.params["id"], "Campaign")
    record["status"] = status
    record["timestamp_updated"] = call.state.now()
    return visible(record)


@handles("activateCampaign")
def activate_campaign(call: Call) -> Any:
    return _set_status(call, 1)


@handles("pauseCampaign")
def pause_campaign(call: Call) -> Any:
    return _set_status(call, 2)


@handles("listCampaign")
def list_campaigns(call: Call) -> Any:
    tests = _search(call, "name")
    status, excluded = call.params.get("status"), call.params.get("exclude_status")
    if status is not None:
        tests.append(lambda r: r.get("status") == status)
    if excluded is not None:
        tests.append(lambda r: r.get("status") != excluded)
    return _list(call, call.state.campaigns, tests)


# --- background jobs -------------------------------------------------------------------------


def refresh_job(job: Record) -> Record:
    """Bring a running job's progress up to the event loop's clock; returns the job."""
    if job["status"] in ("pending", "in-progress") and "_started" in job:
        elapsed = asyncio.get_running_loop().time() - job["_started"]
        fraction = elapsed / job["_seconds"] if job["_seconds"] > 0 else 1.0
        # It reaches 100 only when the work is done (the job's own timer does that).
        job["progress"] = min(99, int(fraction * 100))
        job["status"] = "in-progress" if job["progress"] > 0 else "pending"
    return job


@handles("getBackgroundJob")
def get_background_job(call: Call) -> Any:
    return visible(refresh_job(call.state.background_jobs.get(call.params["id"], "Background job")))


@handles("listBackgroundJob")
def list_background_jobs(call: Call) -> Any:
    params = call.params
    tests: list[Callable[[Record], bool]] = []
    for name in ("type", "status", "entity_id", "entity_type"):
        if params.get(name) is not None:
            tests.append(_equals(name, params[name]))
    if params.get("ids"):
        ids = set(params["ids"].split(","))
        tests.append(lambda r: r["id"] in ids)
    for job in call.state.background_jobs:
        refresh_job(job)
    return _list(call, call.state.background_jobs, tests)
