"""`client.leads`, plus `bulk_add`: import any number of leads, every one accounted for."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from .._bulk import DEFAULT_CONCURRENCY, MAX_BATCH, BulkAddResult, bulk_add_leads
from .._generated import models
from .._generated.operations import OPEN_ENUMS, OPERATIONS
from .._generated.resources import LeadsResource
from .._validate import check_param

__all__ = ["Leads"]

LeadInput = models.BulkAddLeadsRequestLead | Mapping[str, Any]


class Leads(LeadsResource):
    """`client.leads`: every generated lead operation, and `bulk_add`."""

    async def bulk_add(
        self,
        leads: Iterable[LeadInput] | AsyncIterable[LeadInput],
        *,
        campaign_id: str | None = None,
        list_id: str | None = None,
        batch_size: int = MAX_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
        skip_if_in_workspace: bool = False,
        skip_if_in_campaign: bool | None = None,
        skip_if_in_list: bool | None = None,
        verify_leads_on_import: bool = False,
        blocklist_id: str | None = None,
        assigned_to: str | None = None,
        on_progress: Callable[[int, int | None, BulkAddResult], Any] | None = None,
    ) -> BulkAddResult:
        """Add any number of leads to a campaign or a list, in concurrent requests of up to 1,000.

        leads: lead dicts (wire field names) or BulkAddLeadsRequestLead models, from any iterable
            or async iterable; read lazily, so at most concurrency x batch_size are held at once.
        campaign_id: the campaign to add them to (give this or list_id, not both).
        list_id: the lead list to add them to.
        batch_size: leads per request, 1..1000.
        concurrency: requests in flight at once; the client's rate limit still applies.
        skip_if_in_workspace: skip a lead whose email exists anywhere in the workspace.
        skip_if_in_campaign: skip a lead present in any campaign; None means True for a campaign
            import, which also makes a failed request safe to retry.
        skip_if_in_list: skip a lead present in any list; None means True for a list import.
        verify_leads_on_import: have the API verify the emails in a background job.
        blocklist_id: the blocklist to check against; None uses the workspace's default.
        assigned_to: the user ID to assign the leads to.
        on_progress: called as on_progress(done, total_or_None, result_so_far) after each
            request; it may be a coroutine function.

        Leads the API would refuse (no email for a campaign, nothing to identify a list lead, an
        email that is not an address, a field that does not exist) and repeats of an earlier
        email are not sent: they are counted as skipped and listed in `result.invalid`. A
        request that still fails after its retries is recorded in `result.failed` and the
        import goes on. With the skip flags off, a 5xx or a dropped connection is not retried,
        since sending the same leads twice could then add them twice.

        Raises ValueError before any request unless exactly one of campaign_id and list_id is
        given; BulkCancelledError (carrying the result so far) if the task is cancelled.
        """
        if (campaign_id is None) == (list_id is None):
            raise ValueError(
                "pass exactly one of campaign_id (add to a campaign) or list_id (add to a lead "
                f"list); got {'both' if campaign_id is not None else 'neither'}"
            )
        to_campaign = campaign_id is not None
        if skip_if_in_campaign is None:
            skip_if_in_campaign = to_campaign
        if skip_if_in_list is None:
            skip_if_in_list = not to_campaign
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
        )
