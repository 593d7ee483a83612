"""Asyncio-first SDK for the Instantly V2 REST API.

from instantly import AsyncInstantly

async with AsyncInstantly() as client:          # key from $INSTANTLY_API_KEY
    async for lead in client.leads.list(campaign="..."):
        print(lead.email)

from instantly import Instantly                 # the same, blocking: scripts and notebooks

with Instantly() as client:
    for lead in client.leads.list(campaign="..."):
        print(lead.email)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import errors, models
    from ._blocking_client import Instantly
    from ._bulk import BulkAddResult, BulkResult, BulkRun, FailedChunk, Outcome, Rejection
    from ._client import DEFAULT_BASE_URL, AsyncInstantly
    from ._convert import Mismatch, StructureError, mismatches, raw_value
    from ._options import RequestOptions
    from ._pagination import Page, SyncPage
    from ._ratelimit import Limiter, Permit, RateLimiter
    from ._ratelimit_redis import RedisRateLimiter
    from ._response import RawResponse
    from ._types import UNSET, Unset
    from ._version import __version__
    from .errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BackgroundJobError,
        BackgroundJobTimeout,
        BadRequestError,
        BulkCancelledError,
        BulkImportError,
        ChunkCancelledError,
        ClientClosedError,
        ConflictError,
        EventLoopError,
        InstantlyError,
        NotFoundError,
        OutcomeUnknownError,
        PaginationError,
        PaymentRequiredError,
        PermissionDeniedError,
        RateLimitError,
        RedirectError,
        ResponseTooDeepError,
        ResponseTooLargeError,
        ServerError,
        UnprocessableEntityError,
    )

# Where each public name lives. They are imported on first use (PEP 562), so that importing a
# light submodule, such as the pytest plugin every pytest run of an installing project loads,
# does not pay for the generated models.
_LAZY: dict[str, str] = {
    "errors": ".errors",
    "models": ".models",
    "BulkAddResult": "._bulk",
    "BulkResult": "._bulk",
    "BulkRun": "._bulk",
    "FailedChunk": "._bulk",
    "Outcome": "._bulk",
    "Rejection": "._bulk",
    "DEFAULT_BASE_URL": "._client",
    "AsyncInstantly": "._client",
    "Instantly": "._blocking_client",
    "Mismatch": "._convert",
    "StructureError": "._convert",
    "mismatches": "._convert",
    "raw_value": "._convert",
    "RequestOptions": "._options",
    "Page": "._pagination",
    "SyncPage": "._pagination",
    "Limiter": "._ratelimit",
    "Permit": "._ratelimit",
    "RateLimiter": "._ratelimit",
    "RedisRateLimiter": "._ratelimit_redis",  # imports redis: only when asked for
    "RawResponse": "._response",
    "UNSET": "._types",
    "Unset": "._types",
    **dict.fromkeys(
        (
            "APIConnectionError",
            "APIError",
            "APITimeoutError",
            "AuthenticationError",
            "BackgroundJobError",
            "BackgroundJobTimeout",
            "BadRequestError",
            "BulkCancelledError",
            "BulkImportError",
            "ChunkCancelledError",
            "ClientClosedError",
            "ConflictError",
            "EventLoopError",
            "InstantlyError",
            "NotFoundError",
            "OutcomeUnknownError",
            "PaginationError",
            "PaymentRequiredError",
            "PermissionDeniedError",
            "RateLimitError",
            "RedirectError",
            "ResponseTooDeepError",
            "ResponseTooLargeError",
            "ServerError",
            "UnprocessableEntityError",
        ),
        ".errors",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'instantly' has no attribute {name!r}")
    import importlib

    loaded = importlib.import_module(module, __name__)
    value = loaded if name in ("errors", "models") else getattr(loaded, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_BASE_URL",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncInstantly",
    "AuthenticationError",
    "BackgroundJobError",
    "BackgroundJobTimeout",
    "BadRequestError",
    "BulkAddResult",
    "BulkCancelledError",
    "BulkImportError",
    "BulkResult",
    "BulkRun",
    "ChunkCancelledError",
    "ClientClosedError",
    "ConflictError",
    "EventLoopError",
    "FailedChunk",
    "Instantly",
    "InstantlyError",
    "Limiter",
    "Mismatch",
    "NotFoundError",
    "Outcome",
    "OutcomeUnknownError",
    "Page",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Permit",
    "RateLimitError",
    "RateLimiter",
    "RawResponse",
    "RedirectError",
    "RedisRateLimiter",
    "Rejection",
    "RequestOptions",
    "ResponseTooDeepError",
    "ResponseTooLargeError",
    "ServerError",
    "StructureError",
    "SyncPage",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "errors",
    "mismatches",
    "models",
    "raw_value",
]
