"""`AsyncInstantly`: owns the transport (one aiohttp session, one rate gate) and the namespaces."""

from __future__ import annotations

import copy
import ipaddress
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import aiohttp

from ._bulk import DEFAULT_CONCURRENCY, BulkRun
from ._generated.resources import Namespaces
from ._ratelimit import Limiter, RateLimiter
from ._transport import (
    DEFAULT_MAX_RESPONSE_SIZE,
    Secret,
    Transport,
    TransportStats,
    api_key_problem,
)
from ._types import UNSET, Unset
from ._version import __version__
from .resources import build_namespaces

if TYPE_CHECKING:
    from typing import Self

    from .resources.background_jobs import BackgroundJobs
    from .resources.emails import Emails
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
    """base_url without its trailing slash, or ValueError saying what is wrong with it.

    Only an origin (and an optional path prefix) is taken: user info would make
    `https://api.instantly.ai@evil.example` a request to evil.example, and a query or a
    fragment would be glued to every path. Whitespace, control characters and backslashes
    are refused because URL parsers disagree about them.
    """
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in base_url):
        raise ValueError(
            f"base_url {base_url!r} contains whitespace, a control character or a backslash"
        )
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    if "@" in parts.netloc:
        raise ValueError(
            f"base_url {base_url!r} has user info before '@', so requests would go to "
            f"{parts.hostname!r}; pass the API's origin only, such as {DEFAULT_BASE_URL!r}"
        )
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise ValueError(
            f"base_url {base_url!r} has a query or a fragment; pass the API's origin only, "
            f"such as {DEFAULT_BASE_URL!r}"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError(f"base_url {base_url!r} has an invalid port") from None
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {base_url!r} is plain http: the API key would travel in clear. Use https, "
            "a loopback address (127.0.0.1, localhost, ::1), or pass allow_insecure=True"
        )
    return base_url.rstrip("/")


def _read_key(api_key: str | None) -> Secret | str:
    """The key (given, or from the environment) as a Secret, or what is wrong with it."""
    if api_key is None:
        from_env = os.environ.get(_ENV_KEY)
        if not from_env:
            return (
                "No API key: pass AsyncInstantly(api_key=...) or set the INSTANTLY_API_KEY "
                "environment variable (Instantly app: Settings > Integrations > API Keys)"
            )
        return api_key_problem(from_env, f"${_ENV_KEY}") or Secret(from_env)
    if not isinstance(api_key, str):
        return f"api_key must be a str, got {type(api_key).__name__}"
    if not api_key:
        return "api_key is empty; pass the workspace's API key, or None to read $INSTANTLY_API_KEY"
    return api_key_problem(api_key) or Secret(api_key)


class AsyncInstantly(Namespaces):
    """An asyncio client for the Instantly V2 API.

    Use it as an async context manager (or call `await client.aclose()`); every namespace
    (`client.leads`, `client.campaigns`, ...) sends through one pipeline: rate gate, bearer auth,
    retries with backoff, typed errors.

    Event loops and threads: the client opens its session in the loop of its first call, and
    closes it when that loop ends (as `asyncio.run` ends); a later loop gets a new session, so
    one client serves successive `asyncio.run` calls. It serves one running loop at a time: a
    call from another thread while its loop runs raises `EventLoopError` (give each thread a
    client, or use the blocking `Instantly`, which any thread may call).
    """

    if TYPE_CHECKING:
        # The namespaces, attached in __init__ from the generated table; their annotations come
        # from the generated `Namespaces`, but for the ones with hand-written additions.
        background_jobs: BackgroundJobs
        emails: Emails
        leads: Leads

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | None = 30.0,
        attempt_timeout: float | None = None,
        max_retries: int = 5,
        rate_limit: tuple[int | None, int | None] | Limiter | None = (100, 6000),
        session: aiohttp.ClientSession | None = None,
        allow_insecure: bool = False,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        """Configure the client; nothing is sent and no session is opened until the first call.

        Args:
            api_key: The workspace's API key; None reads $INSTANTLY_API_KEY.
            base_url: The API's origin; plain http only for loopback unless allow_insecure=True.
            timeout: Seconds one call may take in all, its retries and their waits included,
                before it fails with APITimeoutError; None for no deadline. Time queued at the
                client's rate gate does not count (see `RequestOptions`). Per call:
                `timeout=...` on any method.
            attempt_timeout: Seconds one attempt may take; None (the default) lets an attempt
                use whatever is left of the call's deadline.
            max_retries: How many times a retryable failure is repeated (429 always; 5xx and
                connection errors only for operations that are safe to repeat).
            rate_limit: (per second, per minute) for the workspace; a RateLimiter shared with
                the other clients of the workspace in this process, or a RedisRateLimiter
                shared with its other processes; or None to send without a client-side limit.
            session: An aiohttp.ClientSession to use (the client never closes it); None makes
                one, in the event loop of the first call. On a session of yours the rate gate
                counts a request from when it let it through, not from when it left (a new
                connection's set-up is not seen: see `Limiter`).
            allow_insecure: Allow a plain-http base_url that is not loopback.
            max_response_size: Most bytes an answer may have, decompressed (default 64 MiB); a
                larger one raises ResponseTooLargeError after reading no more than that.

        Raises:
            ValueError: no usable API key, or a setting out of range (the message says which).
        """
        key = _read_key(api_key)
        # From here on the key lives only in objects whose repr is '***': a traceback reporter
        # that records the locals of this frame finds nothing to leak.
        del api_key
        if isinstance(key, str):
            raise ValueError(key)
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
            attempt_timeout=attempt_timeout,
            max_retries=max_retries,
            limiter=self.limiter,
            session=session,
            user_agent=f"instantly-python/{__version__} aiohttp/{aiohttp.__version__}",
            max_response_size=max_response_size,
        )
        self._attach_namespaces()

    def _attach_namespaces(self) -> None:
        for name, resource in build_namespaces(self).items():
            setattr(self, name, resource)

    def with_options(
        self,
        *,
        timeout: float | Unset | None = UNSET,
        attempt_timeout: float | Unset | None = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A client with other defaults, sharing this one's session, rate limiter and stats.

            fast = client.with_options(timeout=5.0, max_retries=0)
            lead = await fast.leads.get(lead_id)

        The new client owns nothing it shares: closing it ends its own calls in flight and
        leaves this client working; closing this client closes the session they share, which
        ends the new client too. Making one is cheap: no connection is opened.

        Args:
            timeout: Seconds a call may take in all (None: no deadline); left out, this
                client's.
            attempt_timeout: Seconds one attempt may take (None: what is left of the deadline);
                left out, this client's.
            max_retries: How many times a retryable failure is repeated; None keeps this
                client's.
            headers: Headers sent with every request of the new client, over this client's own
                (a workspace or tracing header); `Authorization` is refused.

        Returns:
            The new client.

        Raises:
            ValueError: an option is out of range, or a header is refused.
        """
        child = copy.copy(self)
        child._transport = self._transport.derive(
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            max_retries=max_retries,
            headers=headers,
        )
        child._attach_namespaces()
        return child

    @property
    def stats(self) -> TransportStats:
        """Counters of the pipeline: requests sent, retries, 429s seen (shared by
        `with_options` clients)."""
        return self._transport.stats

    @property
    def closed(self) -> bool:
        """Whether the client is closed (or the client it was made from, by `with_options`)."""
        return self._transport.closed

    def bulk(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkRun[T, R]:
        """Run `await fn(item)` for every item, at most `concurrency` at a time.

        Args:
            fn: An async function of one item, typically a bound method such as
                `client.leads.delete` or a small `async def` around one.
            items: Any iterable or async iterable; read lazily.
            concurrency: Calls in flight at once; the client's rate limit still applies.

        Returns:
            A BulkRun: `async for outcome in run` yields each Outcome as it finishes;
            `await run` gives a BulkResult(succeeded, failed) in input order. A failing item is
            an outcome with its error; it never cancels the others.
        """
        return BulkRun(fn, items, concurrency=concurrency)

    def __repr__(self) -> str:
        # getattr: a traceback reporter may repr a client whose __init__ raised half-way.
        return f"AsyncInstantly(base_url={getattr(self, 'base_url', None)!r}, api_key='***')"

    async def aclose(self) -> None:
        """Close: calls in flight end with ClientClosedError, then the session closes.

        The session is closed only if the client made it (one passed in stays open). A client
        made by `with_options` ends only its own calls and closes nothing it shares. Calls
        after this raise ClientClosedError. Closing twice is harmless.

        Raises:
            EventLoopError: the client is in use by an event loop running in another thread.
        """
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
