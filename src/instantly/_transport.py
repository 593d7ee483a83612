"""The one request pipeline: rate gate -> send -> classify -> retry or raise -> decode.

Every API call of the SDK goes through `Transport.request`. It knows HTTP, JSON, retries and the
rate limiter, and nothing about the API's models.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import logging
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Final

import aiohttp
import attrs

from . import _json
from ._ratelimit import Limiter, Permit
from ._types import Unset
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InstantlyError,
    make_status_error,
    text_excerpt,
)

__all__ = ["NO_BODY", "NoBody", "Transport", "TransportStats"]

logger = logging.getLogger("instantly")


class NoBody(enum.Enum):
    """Type of `NO_BODY` (an enum so that type checkers can narrow it)."""

    NO_BODY = "NO_BODY"

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = NoBody.NO_BODY
"""Send no request body at all (unlike `None`, which sends the JSON `null`)."""

# A Retry-After longer than this is not waited out inside a call: the caller hears about it.
RETRY_AFTER_CAP: Final = 120.0
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 30.0

# Errors raised before any byte of the request left: repeating those cannot apply it twice.
_NOT_SENT = (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)
# Failures after which the request may or may not have reached the server.
_BROKEN = (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


@attrs.define(slots=True)
class TransportStats:
    """Counters of one transport, for logs and benchmarks."""

    requests_sent: int = 0
    """HTTP requests sent, retries included."""
    retries: int = 0
    """Requests repeated after a 429, a 5xx or a connection failure."""
    rate_limited: int = 0
    """429 answers received."""
    errors: int = 0
    """Exceptions raised to callers."""
    gate_waits: int = 0
    """Attempts the rate gate held back before they could start."""
    gate_wait_s: float = 0.0
    """Seconds those attempts spent held at the rate gate, in total."""


class _Credentials:
    """The prebuilt request headers; its repr hides them, as they carry the API key."""

    __slots__ = ("_key", "plain", "with_body")

    def __init__(self, api_key: str, user_agent: str) -> None:
        self._key = api_key
        self.plain: Mapping[str, str] = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self.with_body: Mapping[str, str] = {**self.plain, "Content-Type": "application/json"}

    def scrub(self, text: str) -> str:
        """Remove the key from text that came back from the server, in case it echoed it."""
        return text.replace(self._key, "***") if self._key in text else text

    def __repr__(self) -> str:
        return "<credentials redacted>"


class Transport:
    """Sends requests to the API over one aiohttp session, with rate limiting and retries."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 5,
        limiter: Limiter | None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str,
        connector_limit: int = 100,
    ) -> None:
        """Set up the pipeline; no connection is made until the first request.

        api_key: the workspace's API key, sent as `Authorization: Bearer ...` on every request.
        base_url: the API's origin, e.g. "https://api.instantly.ai".
        timeout: seconds one attempt may take in total before it fails as a timeout.
        max_retries: how many times a failed request may be repeated (attempts = this + 1).
        limiter: the rate gate every attempt passes first; None sends without client-side limits.
        session: an aiohttp session to use (and leave open); None creates and owns one.
        user_agent: the `User-Agent` header value.
        connector_limit: most simultaneous connections of the session this transport creates.
        """
        if not api_key:
            raise ValueError("api_key is empty; pass the workspace's API key")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self._credentials = _Credentials(api_key, user_agent)
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._limiter = limiter
        self._session = session
        self._owns_session = session is None
        self._connector_limit = connector_limit
        self._closed = False
        self.stats = TransportStats()

    def __repr__(self) -> str:
        return (
            f"Transport(base_url={self._base_url!r}, api_key='***', "
            f"max_retries={self._max_retries}, limiter={self._limiter!r})"
        )

    @property
    def base_url(self) -> str:
        """The API's origin that request paths are appended to."""
        return self._base_url

    async def aclose(self) -> None:
        """Close the session if this transport created it; a session passed in stays open."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise InstantlyError("this client is closed; create a new one to send requests")
        # Created here, inside the running loop: aiohttp binds the connector to it. The session
        # carries the common headers and the timeout, so a request merges nothing more than its
        # content type: aiohttp's per-request merge of headers is a visible part of a call's CPU.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connector_limit),
            timeout=self._timeout,
            headers=self._credentials.plain,
        )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        json: object = NO_BODY,
        retry_safe: bool,
        rate_key: str | None = None,
        endpoint_limits: Sequence[tuple[int, float]] = (),
    ) -> object:
        """Send one API request, retrying what is safe to retry, and return its decoded answer.

        method: the HTTP method, upper case.
        path: the path after base_url, starting with "/", path parameters already filled in.
        query: query parameters; None values are left out, lists repeat the key.
        json: the request body, serialized as JSON; NO_BODY sends no body (None sends `null`).
        retry_safe: whether sending the request twice does no harm (5xx/timeouts are retried).
        rate_key: names the endpoint for `endpoint_limits` in the rate limiter.
        endpoint_limits: stricter (requests, seconds) limits of this endpoint.

        Returns the decoded JSON, text for a non-JSON answer, or None for an empty one.
        """
        session = self._session
        if session is None or self._closed:
            session = self._open_session()
        url = self._base_url + path
        params = _encode_query(query) if query else None
        own = self._owns_session  # our session carries the common headers itself
        if json is NO_BODY:
            data: bytes | None = None
            headers = None if own else self._credentials.plain
        else:
            data = _json.dumps(json)
            headers = _JSON_CONTENT if own else self._credentials.with_body
        limiter = self._limiter
        stats = self.stats
        loop = asyncio.get_running_loop()
        debug = logger.isEnabledFor(logging.DEBUG)
        attempt = 0
        permit: Permit | None = None
        while True:
            if limiter is not None:
                permit = await limiter.acquire(rate_key, endpoint_limits)
                if permit.waited:
                    stats.gate_waits += 1
                    stats.gate_wait_s += permit.waited
            attempt += 1
            stats.requests_sent += 1
            started = loop.time()
            try:
                async with session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                ) as response:
                    raw = await response.read()
                    status = response.status
                    content_type = response.content_type
                    charset = response.charset
                    response_headers = response.headers
            except (TimeoutError, aiohttp.ClientError) as exc:
                if debug:
                    logger.debug(
                        "%s %s -> %s in %.1f ms (attempt %d)",
                        method,
                        path,
                        type(exc).__name__,
                        (loop.time() - started) * 1000,
                        attempt,
                    )
                error = self._connection_error(exc, method, path, attempt)
                if attempt > self._max_retries or not _may_retry(exc, retry_safe):
                    stats.errors += 1
                    raise error from exc
                await self._back_off(method, path, attempt, type(exc).__name__)
                continue

            if debug:
                logger.debug(
                    "%s %s -> %d in %.1f ms (attempt %d)",
                    method,
                    path,
                    status,
                    (loop.time() - started) * 1000,
                    attempt,
                )

            if status < 400:
                if not raw or status == 204:
                    return None
                if content_type != "application/json" and not content_type.endswith("+json"):
                    return raw.decode(charset or "utf-8", errors="replace")
                try:
                    body: object = _json.loads(raw)
                except ValueError:
                    stats.errors += 1
                    raise APIError(
                        status,
                        text_excerpt(raw.decode("utf-8", errors="replace")),
                        method=method,
                        path=path,
                        attempts=attempt,
                        message="the API sent a body that is not valid JSON",
                    ) from None
                # Some failures come back as 200 with an error object; they are errors all the same.
                if type(body) is not dict or "statusCode" not in body or not _is_error_body(body):
                    return body
                status = body["statusCode"]
            body = _error_body(self._credentials.scrub(raw.decode("utf-8", errors="replace")))

            # An error answer: retry it, or raise it.
            retry_after = _parse_retry_after(response_headers.get("Retry-After"))
            if status == 429:
                stats.rate_limited += 1
                retryable = True  # the server did nothing, so repeating is always safe
            else:
                retryable = status >= 500 and retry_safe
            if (
                not retryable
                or attempt > self._max_retries
                or (retry_after is not None and retry_after > RETRY_AFTER_CAP)
            ):
                stats.errors += 1
                raise self._status_error(
                    status, body, response_headers, method, path, attempt, retry_after
                )
            if status == 429 and limiter is not None and permit is not None:
                wait = retry_after if retry_after is not None else _backoff(attempt)
                stats.retries += 1
                # The limiter pauses whom the limit concerns (the workspace, or this endpoint),
                # this task included: its next acquire() waits for the pause to end.
                paused = await limiter.on_rate_limited(permit, wait)
                logger.warning(
                    "%s %s: HTTP 429; pausing %s for %.2f s (retry %d of %d)",
                    method,
                    path,
                    paused,
                    wait,
                    attempt,
                    self._max_retries,
                )
                continue
            await self._back_off(method, path, attempt, f"HTTP {status}", retry_after)

    async def _back_off(
        self, method: str, path: str, attempt: int, reason: str, wait: float | None = None
    ) -> None:
        if wait is None:
            wait = _backoff(attempt)
        self.stats.retries += 1
        logger.warning(
            "%s %s: %s; retrying in %.2f s (retry %d of %d)",
            method,
            path,
            reason,
            wait,
            attempt,
            self._max_retries,
        )
        await asyncio.sleep(wait)

    def _status_error(
        self,
        status: int,
        body: object,
        headers: Mapping[str, str],
        method: str,
        path: str,
        attempts: int,
        retry_after: float | None,
    ) -> APIError:
        return make_status_error(
            status,
            body,
            method=method,
            path=path,
            request_id=headers.get("x-request-id") or headers.get("cf-ray"),
            attempts=attempts,
            retry_after=retry_after,
        )

    def _connection_error(
        self, exc: BaseException, method: str, path: str, attempts: int
    ) -> APIConnectionError:
        if isinstance(exc, TimeoutError):
            return APITimeoutError(
                f"Request timed out (timeout {self._timeout.total:g} s)",
                method=method,
                path=path,
                attempts=attempts,
            )
        detail = self._credentials.scrub(str(exc)) or type(exc).__name__
        return APIConnectionError(
            f"Connection error: {detail}", method=method, path=path, attempts=attempts
        )


def _backoff(attempt: int) -> float:
    # Full jitter: spreads the retries of many tasks instead of synchronising them.
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def _may_retry(exc: BaseException, retry_safe: bool) -> bool:
    if isinstance(exc, aiohttp.ClientSSLError):
        return False  # a TLS failure will fail again
    if isinstance(exc, _NOT_SENT):
        return True  # nothing reached the server, so nothing can happen twice
    return retry_safe and isinstance(exc, _BROKEN)


def _is_error_body(body: dict[str, object]) -> bool:
    code = body["statusCode"]
    return type(code) is int and code >= 400 and "error" in body


def _error_body(text: str) -> object:
    # Parsed by its looks, not its content type: proxies label JSON errors text/plain and
    # HTML pages anything at all.
    if not text:
        return None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return _json.loads(text)
        except ValueError:
            pass
    return text_excerpt(text)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None if absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            date = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
        seconds = date.timestamp() - _wall_clock()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _wall_clock() -> float:
    # HTTP dates are wall-clock times; a function so tests can pin "now".
    return time.time()


def _encode_query(query: Mapping[str, object]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if type(value) is str:
            pairs.append((key, value))
        elif isinstance(value, list | tuple):
            # The spec's array parameters are form/explode: `ids=a&ids=b`. Parameters the API
            # wants comma-separated are declared as strings; the caller joins those.
            for item in value:
                encoded = _encode_scalar(item)
                if encoded is not None:
                    pairs.append((key, encoded))
        else:
            encoded = _encode_scalar(value)
            if encoded is not None:
                pairs.append((key, encoded))
    return pairs


def _encode_scalar(value: object) -> str | None:
    if value is None or isinstance(value, Unset):
        return None
    if isinstance(value, str):
        # Before Enum: a str-enum member is a str, and its value is what goes on the wire.
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _encode_scalar(value.value)
    if isinstance(value, int | float | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date):  # datetime too
        return value.isoformat()
    raise TypeError(
        f"cannot send a {type(value).__name__} as a query parameter; "
        "pass a str, int, float, bool, enum, date/datetime, or a list of those"
    )


_JSON_CONTENT: Final = {"Content-Type": "application/json"}
