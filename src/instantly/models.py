"""The API's models, generated from the spec (see `instantly._generated.models` for all).

Response models default missing optional fields to None; request models default them to
`UNSET` (left out of the request), so `None` can be sent to clear a value.
"""

from __future__ import annotations

from ._generated.models import *  # noqa: F403
from ._generated.models import (
    BackgroundJob,
    BackgroundJobStatus,
    BulkAddLeadsResult,
    Campaign,
    CampaignStatus,
    Email,
    Lead,
    LeadInterestStatus,
    LeadLabel,
    LeadList,
    LeadStatus,
)
from ._types import UNSET, Unset

__all__ = [
    "UNSET",
    "BackgroundJob",
    "BackgroundJobStatus",
    "BulkAddLeadsResult",
    "Campaign",
    "CampaignStatus",
    "Email",
    "Lead",
    "LeadInterestStatus",
    "LeadLabel",
    "LeadList",
    "LeadStatus",
    "Unset",
]
