"""`client.leads`, plus `bulk_add` (import any number of leads, every one accounted for) and the
guard that keeps a filter-selected bulk operation from reaching every lead of the workspace."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from os import PathLike
from typing import Any, Final

from .._bulk import DEFAULT_CONCURRENCY, MAX_BATCH, BulkAddResult, bulk_add_leads
from .._generated import models
from .._generated.operations import OPEN_ENUMS, OPERATIONS
from .._generated.resources import LeadsResource
from .._types import Unset
from .._validate import check_param

__all__ = ["Leads"]

LeadInput = models.BulkAddLeadsRequestLead | Mapping[str, Any]

# The body fields that choose which leads a bulk operation touches. Called with none of them,
# the API applies the operation to every lead of the workspace.
_SELECTORS: Final = {
    "moveLeads": (
        "search", "filter", "campaign", "list_id", "in_campaign", "in_list", "ids", "queries",
        "contacts", "esp_code", "esg_code",
    ),
    "bulkDeleteLeads": ("campaign_id", "list_id", "status", "ids"),
    "bulkAssignLeads": (
        "search", "filter", "campaign", "list_id", "in_campaign", "in_list", "smart_view_id",
        "ids", "queries", "assigned_to", "has_clause",
    ),
}  # fmt: skip


def _check_selection(operation_id: str, given: Mapping[str, Any], all_leads: bool) -> None:
    """Refuse, before any request, a call that selects every lead without saying so."""
    op = OPERATIONS[operation_id]
    wire = {p.name: p.wire for p in op.body_fields}
    chosen = [
        name
        for name in _SELECTORS[operation_id]
        if name in wire
        and not isinstance(given.get(name, Unset.UNSET), Unset)
        and given.get(name) is not None
    ]
    for name in chosen:
        value = given[name]
        if isinstance(value, str | list | tuple) and not value:
            raise ValueError(
                f"{name} is empty: it selects no lead here, while the API may read it as no "
                "filter at all and select every lead of the workspace; leave it out, or pass "
                "all_leads=True to mean every lead"
            )
    if all_leads and chosen:
        raise ValueError(
            f"all_leads=True selects every lead of the workspace, but {', '.join(chosen)} "
            "select some of them: pass one or the other"
        )
    if not all_leads and not chosen:
        raise ValueError(
            f"leads.{op.name}() with no selector would apply to every lead of the workspace; "
            f"select the leads with one of {', '.join(_SELECTORS[operation_id])}, or pass "
            "all_leads=True if every lead is what you mean"
        )


class Leads(LeadsResource):
    """`client.leads`: every generated lead operation, `bulk_add`, and guarded bulk operations.

    `move`, `bulk_delete` and `bulk_assign` select leads by filter; with no filter at all the
    API applies them to every lead of the workspace. Here such a call is refused (ValueError,
    before any request) unless it passes `all_leads=True`.
    """

    async def move(self, *, all_leads: bool = False, **selection: Any) -> models.BackgroundJob:
        """Move (or copy) the leads a filter selects to a campaign or a list; a background job.

        ```python
        job = await client.leads.move(to_campaign_id=campaign_id, ids=lead_ids)
        job = await client.background_jobs.wait(job)
        ```

        Args:
            all_leads: True to move every lead of the workspace (and no selector with it).
            **selection: the fields of the generated `move` (to_campaign_id or to_list_id, the
                selectors search, filter, campaign, list_id, in_campaign, in_list, ids,
                queries, contacts, esp_code, esg_code, and copy_leads, check_duplicates, ...).

        Returns:
            The background job doing the move; `client.background_jobs.wait(job)` waits for it.

        Raises:
            ValueError: before any request, for a call with no selector and no
                `all_leads=True` (the API would take it as every lead), an empty ids, contacts
                or queries list or search string, or `all_leads=True` with a selector.
        """
        _check_selection("moveLeads", selection, all_leads)
        return await super().move(**selection)

    async def bulk_delete(
        self, *, all_leads: bool = False, **selection: Any
    ) -> models.BulkDeleteLeadsResult:
        """Delete the leads a filter selects.

        Args:
            all_leads: True to delete every lead of the workspace (and no selector with it).
            **selection: the fields of the generated `bulk_delete` (the selectors campaign_id,
                list_id, status and ids, and limit).

        Returns:
            How many leads the API deleted (`count`).

        Raises:
            ValueError: before any request, for a call with none of campaign_id, list_id,
                status or ids and no `all_leads=True`, an empty ids list, or
                `all_leads=True` with a selector.
        """
        _check_selection("bulkDeleteLeads", selection, all_leads)
        return await super().bulk_delete(**selection)

    async def bulk_assign(
        self, *, all_leads: bool = False, **selection: Any
    ) -> models.BulkAssignLeadsResult:
        """Assign the leads a filter selects to users of the organization.

        Args:
            all_leads: True to assign every lead of the workspace (and no selector with it).
            **selection: the fields of the generated `bulk_assign` (organization_user_ids and
                the selectors search, filter, campaign, list_id, in_campaign, in_list,
                smart_view_id, ids, queries, assigned_to, has_clause).

        Returns:
            The API's acknowledgement: the assignment runs in the background.

        Raises:
            ValueError: before any request, for a call with no selector and no
                `all_leads=True`, an empty ids list or search string, or `all_leads=True`
                with a selector.
        """
        _check_selection("bulkAssignLeads", selection, all_leads)
        return await super().bulk_assign(**selection)

    async def bulk_add(
        self,
        leads: Iterable[LeadInput] | AsyncIterable[LeadInput],
        *,
        campaign_id: str | None = None,
        list_id: str | None = None,
        batch_size: int = MAX_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
        skip_if_in_workspace: bool = False,
        skip_if_in_campaign: bool = False,
        skip_if_in_list: bool = False,
        verify_leads_on_import: bool = False,
        blocklist_id: str | None = None,
        assigned_to: str | None = None,
        nan_as_null: bool = False,
        journal: str | PathLike[str] | None = None,
        on_progress: Callable[[int, int | None, BulkAddResult], Any] | None = None,
    ) -> BulkAddResult:
        """Add any number of leads to a campaign or a list, in concurrent requests of up to 1,000.

        ```python
        result = await client.leads.bulk_add(rows, campaign_id=campaign_id, journal="import.db")
        print(result)    # 2500 read: 2498 created, 2 skipped (...), 0 failed; 3 requests, ...
        ```

        The API's own rule holds: a lead already in this campaign (or list) is not added twice
        and counts as skipped `already_present`. No skip flag is set unless you set it.

        Refused per lead, without a request (counted as skipped, listed in `result.invalid`):
        no email for a campaign, nothing to identify a list lead, an email that is not an
        address, a field that does not exist or a value of the wrong type, a custom variable that
        is not a string, number, boolean or null, NaN or infinity, text that is not valid UTF-8
        (a lone surrogate), a repeat of an earlier email. A lead the API refuses alone (a 400
        naming its index) is skipped the same way and the rest of its request sent again.

        A request whose fate is unknown (a 5xx, a dropped connection, a timeout) is not sent
        again blindly: its leads are looked up in the target (`POST /leads/list` by their
        emails, through the same rate limit), those found count as created with their IDs, and
        only the rest are sent again, up to the client's max_retries times. A lead with no
        email cannot be looked up: it ends in `result.failed` with an OutcomeUnknownError (it
        may exist). A request that fails for good is recorded in `result.failed` and the import
        goes on. A run that sends nothing logs a WARNING saying why.

        Args:
            leads: lead dicts (wire field names) or BulkAddLeadsRequestLead models, from any
                iterable or async iterable; read lazily, so at most concurrency x batch_size
                are held at once.
            campaign_id: the campaign to add them to (give this or list_id, not both).
            list_id: the lead list to add them to.
            batch_size: leads per request, 1..1000.
            concurrency: requests in flight at once; the client's rate limit still applies.
            skip_if_in_workspace: skip a lead whose email exists anywhere in the workspace.
            skip_if_in_campaign: skip a lead present in any campaign (not only this one).
            skip_if_in_list: skip a lead present in any list (not only this one).
            verify_leads_on_import: have the API verify the emails in a background job.
            blocklist_id: the blocklist to check against; None uses the workspace's default.
            assigned_to: the user ID to assign the leads to.
            nan_as_null: send NaN and ±infinity (pandas' blank cells) as null instead of
                refusing the lead.
            journal: a file (SQLite) recording each request's leads and outcomes as they
                happen. Run the same call again with the same input and journal after a crash:
                what was settled is counted as it was, what was in flight is looked up, only
                the rest is sent, and the result covers the runs together.
            on_progress: called as `on_progress(done, total_or_None, result_so_far)` after
                each request is settled; it may be a coroutine function.

        Returns:
            The account of every input read: created (with `created_ids`), skipped by
            reason, failed by request, or not sent.

        Raises:
            ValueError: before any request, unless exactly one of campaign_id and list_id is
                given, for a bad batch_size, concurrency or flag, or if `journal` is the record
                of another import.
            TypeError: `leads` is not an iterable of leads.
            BulkImportError: the input or on_progress raised; the requests in flight were
                settled first, `.result` is the result so far and `__cause__` the exception.
            BulkCancelledError: the task was cancelled; `.result` is the result so far.
        """
        if (campaign_id is None) == (list_id is None):
            raise ValueError(
                "pass exactly one of campaign_id (add to a campaign) or list_id (add to a lead "
                f"list); got {'both' if campaign_id is not None else 'neither'}"
            )
        fields: dict[str, Any] = {
            "campaign_id": campaign_id,
            "list_id": list_id,
            "blocklist_id": blocklist_id,
            "assigned_to": assigned_to,
            "skip_if_in_workspace": skip_if_in_workspace or None,
            "skip_if_in_campaign": skip_if_in_campaign or None,
            "skip_if_in_list": skip_if_in_list or None,
            "verify_leads_on_import": verify_leads_on_import or None,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        for param in OPERATIONS["bulkAddLeads"].body_fields:
            if param.wire in body:
                check_param(param, body[param.wire], OPEN_ENUMS)
                if body[param.wire] == "":
                    raise ValueError(f"{param.name} must not be empty")
        return await bulk_add_leads(
            self,
            leads,
            body=body,
            batch_size=batch_size,
            concurrency=concurrency,
            on_progress=on_progress,
            nan_as_null=nan_as_null,
            journal=journal,
        )
