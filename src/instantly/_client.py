"""`AsyncInstantly`: owns the transport (one aiohttp session, one rate gate) and the namespaces."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import aiohttp

from ._bulk import DEFAULT_CONCURRENCY, BulkRun
from ._ratelimit import Limiter, RateLimiter
from ._transport import Transport, TransportStats
from ._version import __version__
from .resources import build_namespaces

if TYPE_CHECKING:
    from ._generated import resources as gen
    from .resources.background_jobs import BackgroundJobs
    from .resources.leads import Leads

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["DEFAULT_BASE_URL", "AsyncInstantly"]

DEFAULT_BASE_URL = "https://api.instantly.ai"
_ENV_KEY = "INSTANTLY_API_KEY"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str, allow_insecure: bool) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {base_url!r} is plain http: the API key would travel in clear. Use https, "
            "a loopback address (127.0.0.1, localhost, ::1), or pass allow_insecure=True"
        )
    return base_url.rstrip("/")


class AsyncInstantly:
    """An asyncio client for the Instantly V2 API.

    Use it as an async context manager (or call `await client.aclose()`); every namespace
    (`client.leads`, `client.campaigns`, ...) sends through one pipeline: rate gate, bearer auth,
    retries with backoff, typed errors.
    """

    if TYPE_CHECKING:  # the namespaces, attached in __init__ from the generated table
        account_campaign_mappings: gen.AccountCampaignMappingsResource
        accounts: gen.AccountsResource
        api_keys: gen.ApiKeysResource
        audit_logs: gen.AuditLogsResource
        background_jobs: BackgroundJobs
        block_list_entries: gen.BlockListEntriesResource
        campaign_subsequences: gen.CampaignSubsequencesResource
        campaigns: gen.CampaignsResource
        crm_actions: gen.CrmActionsResource
        custom_tag_mappings: gen.CustomTagMappingsResource
        custom_tags: gen.CustomTagsResource
        dfy_email_account_orders: gen.DfyEmailAccountOrdersResource
        email_verification: gen.EmailVerificationResource
        emails: gen.EmailsResource
        inbox_placement_analytics: gen.InboxPlacementAnalyticsResource
        inbox_placement_reports: gen.InboxPlacementReportsResource
        inbox_placement_tests: gen.InboxPlacementTestsResource
        lead_labels: gen.LeadLabelsResource
        lead_lists: gen.LeadListsResource
        leads: Leads
        oauth: gen.OauthResource
        supersearch_enrichment: gen.SupersearchEnrichmentResource
        webhook_events: gen.WebhookEventsResource
        webhooks: gen.WebhooksResource
        workspace_billing: gen.WorkspaceBillingResource
        workspace_group_members: gen.WorkspaceGroupMembersResource
        workspace_members: gen.WorkspaceMembersResource
        workspaces: gen.WorkspacesResource

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_retries: int = 5,
        rate_limit: tuple[int | None, int | None] | Limiter | None = (100, 6000),
        session: aiohttp.ClientSession | None = None,
        allow_insecure: bool = False,
    ) -> None:
        """Configure the client; nothing is sent and no session is opened until the first call.

        api_key: the workspace's API key; None reads $INSTANTLY_API_KEY.
        base_url: the API's origin; plain http only for loopback unless allow_insecure=True.
        timeout: seconds one attempt may take before it fails with APITimeoutError.
        max_retries: how many times a retryable failure is repeated (429 always; 5xx and
            connection errors only for operations that are safe to repeat).
        rate_limit: (per second, per minute) for the workspace; a RateLimiter shared with the
            other clients of the workspace in this process, or a RedisRateLimiter shared with
            its other processes; or None to send without a client-side limit.
        session: an aiohttp.ClientSession to use (the client never closes it); None makes one.
        allow_insecure: allow a plain-http base_url that is not loopback.
        """
        key = api_key if api_key is not None else os.environ.get(_ENV_KEY)
        if not key:
            raise ValueError(
                "No API key: pass AsyncInstantly(api_key=...) or set the INSTANTLY_API_KEY "
                "environment variable (Instantly app: Settings > Integrations > API Keys)"
            )
        self.base_url = _check_base_url(base_url, allow_insecure)
        self.limiter: Limiter | None
        if isinstance(rate_limit, tuple):
            per_second, per_minute = rate_limit
            self.limiter = RateLimiter(per_second=per_second, per_minute=per_minute)
        elif rate_limit is None or isinstance(rate_limit, Limiter):
            self.limiter = rate_limit
        else:
            raise TypeError(
                "rate_limit must be (per_second, per_minute), a RateLimiter, a RedisRateLimiter "
                f"or None, got {type(rate_limit).__name__}"
            )
        self._transport = Transport(
            api_key=key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            limiter=self.limiter,
            session=session,
            user_agent=f"instantly-python/{__version__} aiohttp/{aiohttp.__version__}",
        )
        for name, resource in build_namespaces(self).items():
            setattr(self, name, resource)

    @property
    def stats(self) -> TransportStats:
        """Counters of the pipeline: requests sent, retries, 429s seen."""
        return self._transport.stats

    def bulk(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkRun[T, R]:
        """Run `await fn(item)` for every item, at most `concurrency` at a time.

        fn: an async function of one item, typically a bound method such as
            `client.leads.delete` or a small `async def` around one.
        items: any iterable or async iterable; read lazily.
        concurrency: calls in flight at once; the client's rate limit still applies.

        Returns a BulkRun: `async for outcome in run` yields each Outcome as it finishes;
        `await run` gives a BulkResult(succeeded, failed) in input order. A failing item is an
        outcome with its error; it never cancels the others.
        """
        return BulkRun(fn, items, concurrency=concurrency)

    def __repr__(self) -> str:
        return f"AsyncInstantly(base_url={self.base_url!r}, api_key='***')"

    async def aclose(self) -> None:
        """Close the HTTP session if the client made it."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncInstantly:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
