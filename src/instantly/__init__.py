"""Asyncio-first SDK for the Instantly V2 REST API.

from instantly import AsyncInstantly

async with AsyncInstantly() as client:          # key from $INSTANTLY_API_KEY
    async for lead in client.leads.list(campaign="..."):
        print(lead.email)
"""

from __future__ import annotations

from . import errors, models
from ._bulk import BulkAddResult, BulkResult, BulkRun, FailedChunk, Outcome, Rejection
from ._client import DEFAULT_BASE_URL, AsyncInstantly
from ._convert import StructureError
from ._pagination import Page
from ._ratelimit import RateLimiter
from ._types import UNSET, Unset
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkCancelledError,
    ConflictError,
    InstantlyError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncInstantly",
    "AuthenticationError",
    "BadRequestError",
    "BulkAddResult",
    "BulkCancelledError",
    "BulkResult",
    "BulkRun",
    "ConflictError",
    "FailedChunk",
    "InstantlyError",
    "NotFoundError",
    "Outcome",
    "Page",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "Rejection",
    "ServerError",
    "StructureError",
    "Unset",
    "__version__",
    "errors",
    "models",
]
