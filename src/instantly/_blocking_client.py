"""`Instantly`: the blocking client, for scripts and notebooks.

    from instantly import Instantly

    with Instantly() as client:                     # key from $INSTANTLY_API_KEY
        lead = client.leads.get(lead_id)
        for lead in client.leads.list(campaign=campaign_id):   # pages fetched as you go
            print(lead.email)

It is an `AsyncInstantly` run on a private event loop in a worker thread (see `_blocking.py`):
the same namespaces, methods, arguments, per-call options, errors and rate limit; results
instead of awaitables, plain iterators instead of async ones, `SyncPage` instead of `Page`.
It works where an event loop already runs in the calling thread (Jupyter), and any number of
threads may share one client.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from ._blocking import BlockingResource, Portal, blocking, blocking_items
from ._client import DEFAULT_BASE_URL, AsyncInstantly
from ._generated.blocking import (
    BLOCKING_NAMESPACES,
    BackgroundJobsBlocking,
    BlockingNamespaces,
    EmailsBlocking,
    LeadsBlocking,
)
from ._ratelimit import Limiter
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, TransportStats
from ._types import UNSET, Unset
from .resources.background_jobs import BackgroundJobs
from .resources.emails import Emails
from .resources.leads import Leads

if TYPE_CHECKING:
    from typing import Self

__all__ = ["Instantly"]


class BlockingLeads(LeadsBlocking):
    """`client.leads` of the blocking client: every lead operation, and `bulk_add`."""

    bulk_add = blocking(Leads.bulk_add)


class BlockingBackgroundJobs(BackgroundJobsBlocking):
    """`client.background_jobs` of the blocking client, with `wait`."""

    wait = blocking(BackgroundJobs.wait)


class BlockingEmails(EmailsBlocking):
    """`client.emails` of the blocking client, with `watch` (a plain generator, for ever)."""

    watch = blocking_items(Emails.watch)


# Namespaces with hand-written additions, as `resources._EXTENDED` has them for the async client.
_EXTENDED: dict[str, type[BlockingResource]] = {
    "background_jobs": BlockingBackgroundJobs,
    "emails": BlockingEmails,
    "leads": BlockingLeads,
}


class Instantly(BlockingNamespaces):
    """A blocking client for the Instantly V2 API: `AsyncInstantly` without the awaits.

    Use it as a context manager (or call `client.close()`). Callbacks it runs (`on_progress`
    of `bulk_add` and `wait`) run on its worker thread; from there, call the async client's
    methods, not the blocking ones.
    """

    if TYPE_CHECKING:
        background_jobs: BlockingBackgroundJobs
        emails: BlockingEmails
        leads: BlockingLeads

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = 30.0,
        attempt_timeout: float | None = None,
        max_retries: int = 5,
        rate_limit: tuple[int | None, int | None] | Limiter | None = (100, 6000),
        allow_insecure: bool = False,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        """Configure the client; no thread starts and nothing is sent until the first call.

        Args:
            api_key: The workspace's API key; None reads $INSTANTLY_API_KEY.
            base_url: The API's origin; plain http only for loopback unless allow_insecure=True.
            timeout: Seconds one call may take in all, retries included; None for no deadline
                (see `AsyncInstantly`).
            attempt_timeout: Seconds one attempt may take; None for what is left of the
                deadline.
            max_retries: How many times a retryable failure is repeated.
            rate_limit: (per second, per minute), a RateLimiter (bound to no event loop, so it
                can be shared with other clients of the workspace, blocking or async), a
                RedisRateLimiter shared with other processes, or None for no client-side limit.
            allow_insecure: Allow a plain-http base_url that is not loopback.
            max_response_size: Most bytes an answer may have, decompressed.

        Raises:
            ValueError: no usable API key, or a setting out of range (the message says which).
        """
        client = AsyncInstantly(
            api_key,
            base_url=base_url,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            allow_insecure=allow_insecure,
            max_response_size=max_response_size,
        )
        del api_key
        portal = Portal()
        self._setup(client, portal, root=True)
        # Closes the loop's session and stops its thread if the client is dropped unclosed (or
        # at interpreter exit), so that nothing is left half-open.
        self._finalizer = weakref.finalize(self, _shutdown, client, portal)

    def _setup(self, client: AsyncInstantly, portal: Portal, *, root: bool) -> None:
        self._async = client
        self._portal = portal
        self._root = root
        self._closed = False
        for name, cls in BLOCKING_NAMESPACES.items():
            setattr(self, name, _EXTENDED.get(name, cls)(getattr(client, name), portal))

    @property
    def base_url(self) -> str:
        """The API's origin."""
        return self._async.base_url

    @property
    def limiter(self) -> Limiter | None:
        """The client's rate limiter (None: no client-side limit)."""
        return self._async.limiter

    @property
    def stats(self) -> TransportStats:
        """Counters of the pipeline: requests sent, retries, 429s seen."""
        return self._async.stats

    @property
    def closed(self) -> bool:
        """Whether the client is closed."""
        return self._closed or self._portal.closed or self._async.closed

    def with_options(
        self,
        *,
        timeout: float | Unset | None = UNSET,
        attempt_timeout: float | Unset | None = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Instantly:
        """A client with other defaults, sharing this one's thread, session, limiter and stats.

        Args:
            timeout: Seconds a call may take in all (None: no deadline); left out, this
                client's.
            attempt_timeout: Seconds one attempt may take; left out, this client's.
            max_retries: How many times a retryable failure is repeated; None keeps this
                client's.
            headers: Headers sent with every request of the new client, over this client's.

        Returns:
            The new client; closing it leaves this one working (see
            `AsyncInstantly.with_options`).
        """
        child = Instantly.__new__(Instantly)
        child._setup(
            self._async.with_options(
                timeout=timeout,
                attempt_timeout=attempt_timeout,
                max_retries=max_retries,
                headers=headers,
            ),
            self._portal,
            root=False,
        )
        return child

    def close(self) -> None:
        """Close: the session closes and the worker thread stops; later calls raise
        ClientClosedError. A client made by `with_options` closes only itself. Closing twice
        is harmless."""
        if self._closed:
            return
        self._closed = True
        if self._root:
            self._finalizer()
        elif not self._portal.closed and not self._portal.in_own_thread():
            self._portal.run(self._async.aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        base_url = getattr(getattr(self, "_async", None), "base_url", None)
        return f"Instantly(base_url={base_url!r}, api_key='***')"


def _shutdown(client: AsyncInstantly, portal: Portal) -> None:
    """Close the async client on its loop, then stop the loop's thread."""
    if not portal.closed and not portal.in_own_thread() and portal.started:
        # Closing must not fail a program's exit; the loop goes down anyway.
        with contextlib.suppress(Exception):
            portal.run(client.aclose())
    portal.close()
