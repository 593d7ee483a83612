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
from collections.abc import Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Final
from urllib.parse import quote, quote_plus

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _json
from ._ratelimit import Limiter, Permit
from ._types import Unset
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InstantlyError,
    RedirectError,
    ResponseTooDeepError,
    ResponseTooLargeError,
    make_status_error,
    text_excerpt,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "MAX_REDIRECTS",
    "NO_BODY",
    "NoBody",
    "Secret",
    "Transport",
    "TransportStats",
    "api_key_problem",
]

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

# The most decoded bytes one answer may have (a constructor option): the API's largest answers
# (a page of 100 leads with their payloads) are a few MB; a broken or hostile server is not
# allowed to make the client hold more, however well its body compresses.
DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
# Redirects followed in a row (same origin only; see `Transport._follow`).
MAX_REDIRECTS: Final = 5

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


class Secret:
    """A string that never shows itself: its repr and str are `'***'`.

    The API key lives only in objects like this one (and in `_Credentials`, whose repr is as
    blank), so that a traceback reporter which records every frame's local variables (Sentry,
    `traceback.TracebackException(..., capture_locals=True)`) has nothing to record.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The string itself."""
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def api_key_problem(key: str, name: str = "api_key") -> str | None:
    """What makes `key` unusable as an API key, in words that never quote it; None if nothing.

    A key read from a file or an env file often keeps its line break: refused here, by name,
    instead of failing every request later with aiohttp's "newline in header" ValueError.
    """
    if not key:
        return f"{name} is empty; pass the workspace's API key"
    for i, char in enumerate(key):
        if char.isascii() and char.isprintable() and not char.isspace():
            continue
        where = f"character {i + 1} of {len(key)}"
        if char in "\r\n":
            if not key[i:].strip():
                return (
                    f"{name} ends with a line break (as read from a file?); strip it first, "
                    "e.g. key.strip()"
                )
            return f"{name} contains a line break ({where}); check that it was copied whole"
        if char.isspace():
            edge = not key[: i + 1].strip() or not key[i:].strip()
            if edge:
                return f"{name} starts or ends with whitespace; strip it first, e.g. key.strip()"
            return f"{name} contains whitespace ({where}); an API key has none"
        if not char.isascii():
            return (
                f"{name} contains a non-ASCII character ({where}); API keys are plain ASCII: "
                "look for a stray quote or an invisible character"
            )
        return f"{name} contains a control character ({where})"
    return None


class _SecretHeaders:
    """Request headers that hold the key: aiohttp reads them as (name, value) pairs, a repr sees
    `'***'`. Not a Mapping on purpose: reporters walk mappings item by item, but repr the rest."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Mapping[str, str]) -> None:
        self._pairs = tuple(pairs.items())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, name: str) -> str:
        for key, value in self._pairs:
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._pairs)

    def __repr__(self) -> str:
        return "'***'"


class _Credentials:
    """The prebuilt request headers, and the scrubbing of the key out of what comes back.

    Its repr hides everything, as it carries the key.
    """

    __slots__ = ("_forms", "plain", "with_body")

    def __init__(self, api_key: Secret, user_agent: str) -> None:
        key = api_key.reveal()
        self.plain = _SecretHeaders(
            {
                "Authorization": f"Bearer {key}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            }
        )
        self.with_body = _SecretHeaders({**dict(self.plain), "Content-Type": "application/json"})
        # The key as a server may echo it: as is, with JSON's optional `\/`, and URL-encoded
        # (upper and lower case hex, and form encoding). JSON bodies are scrubbed after decoding
        # (`scrub_value`), which undoes any other JSON escape.
        encoded = quote(key, safe="")
        forms = {key, key.replace("/", "\\/"), encoded, quote_plus(key)}
        forms.add(_lower_hex(encoded))
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def leaks(self, text: str) -> bool:
        """Whether `text` holds the key in any of the forms `scrub` removes."""
        return any(form in text for form in self._forms)

    def scrub(self, text: str) -> str:
        """Remove the key from text that came back from the server, in case it echoed it."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, "***")
        return text

    def scrub_value(self, value: object) -> object:
        """`scrub` every string (keys included) of decoded JSON."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        return value

    def error_body(self, raw: bytes) -> object:
        """An error answer's body, decoded by its looks and scrubbed of the key.

        Parsed by its looks, not its content type: proxies label JSON errors text/plain and
        HTML pages anything at all. JSON is scrubbed after decoding, so no escape hides the key;
        other text is scrubbed before it is cut to an excerpt, so no half of the key remains.
        """
        text = raw.decode("utf-8", errors="replace")
        if not text:
            return None
        if text.lstrip()[:1] in ("{", "["):
            try:
                value = _json.loads(raw)
            except ValueError:
                pass
            else:
                # Without a backslash no JSON string can decode to more than its text shows.
                if "\\" not in text and not self.leaks(text):
                    return value
                try:
                    return self.scrub_value(value)
                except RecursionError:
                    pass
        return text_excerpt(self.scrub(text))

    def sanitize(self, exc: BaseException) -> BaseException | None:
        """Make an aiohttp exception (and its chain) safe to keep as a cause; None if it cannot be.

        aiohttp's exceptions carry the request's headers (`request_info`), the key among them,
        and their tracebacks run through aiohttp frames whose locals hold the headers too. The
        headers are redacted, strings scrubbed, tracebacks dropped; then every exception of the
        chain is checked, and a chain that still shows the key is not kept at all.
        """
        chain: list[BaseException] = []
        todo = [exc]
        while todo:
            item = todo.pop()
            if any(item is seen for seen in chain):
                continue
            chain.append(item)
            item.__traceback__ = None
            self._scrub_exception(item)
            todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        for item in chain:
            try:
                if self.leaks(repr(item)) or self.leaks(str(item)):
                    return None
            except Exception:  # an exception whose repr fails cannot be vouched for
                return None
        return exc

    def _scrub_exception(self, exc: BaseException) -> None:
        if isinstance(exc, aiohttp.ClientResponseError):
            exc.request_info = self._scrub_request_info(exc.request_info)
            exc.history = ()
        try:
            exc.args = tuple(self._scrub_part(a) for a in exc.args)
            for name, value in list(vars(exc).items()):
                scrubbed = self._scrub_part(value)
                if scrubbed is not value:
                    setattr(exc, name, scrubbed)
        except (AttributeError, TypeError):  # read-only attributes: `sanitize` checks the result
            pass

    def _scrub_part(self, value: object) -> object:
        if isinstance(value, str):
            return self.scrub(value) if self.leaks(value) else value
        if isinstance(value, aiohttp.RequestInfo):
            return self._scrub_request_info(value)
        if isinstance(value, CIMultiDictProxy | CIMultiDict):
            return self._scrub_headers(value)
        return value

    def _scrub_request_info(self, info: aiohttp.RequestInfo) -> aiohttp.RequestInfo:
        return aiohttp.RequestInfo(
            info.url, info.method, self._scrub_headers(info.headers), info.real_url
        )

    def _scrub_headers(
        self, headers: CIMultiDictProxy[str] | CIMultiDict[str]
    ) -> CIMultiDictProxy[str]:
        clean: CIMultiDict[str] = CIMultiDict()
        for name, value in headers.items():
            clean.add(name, "***" if name.lower() == "authorization" else self.scrub(value))
        return CIMultiDictProxy(clean)

    def __repr__(self) -> str:
        return "'***'"


def _lower_hex(encoded: str) -> str:
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


class _Answer:
    """One HTTP answer as read: status, headers and the body's bytes (None: over the bound).

    Its repr shows neither headers nor body: the pipeline holds answers in local variables, and
    a server may echo the key in either.
    """

    __slots__ = ("body", "charset", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes | None,
        content_type: str,
        charset: str | None,
        headers: CIMultiDictProxy[str],
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.charset = charset
        self.headers = headers

    def __repr__(self) -> str:
        size = "over the size bound" if self.body is None else f"{len(self.body)} bytes"
        return f"<answer {self.status} {self.content_type}, {size}>"


async def _exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    params: list[tuple[str, str]] | None,
    data: bytes | None,
    headers: _SecretHeaders | Mapping[str, str] | None,
    client_timeout: aiohttp.ClientTimeout,
    limit: int,
) -> _Answer:
    """Send one HTTP request (no redirect followed) and read its answer, at most `limit` bytes."""
    response = None
    try:
        async with session.request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=client_timeout,
            allow_redirects=False,
        ) as response:
            length = response.content_length
            if length is not None and length <= limit and _identity_encoded(response.headers):
                body: bytes | None = await response.read()  # exactly `length` bytes
            else:
                body = await _read_bounded(response, limit)
            return _Answer(
                response.status, body, response.content_type, response.charset, response.headers
            )
    except BaseException as exc:
        # The frames below this one are aiohttp's, whose locals hold the request headers; a
        # traceback reporter that records locals must not find the key there.
        exc.__traceback__ = None
        response = None  # its repr shows the answer's headers
        raise


def _identity_encoded(headers: CIMultiDictProxy[str]) -> bool:
    # Without a Content-Encoding, Content-Length is the decoded size, which aiohttp enforces.
    encoding = headers.get("Content-Encoding")
    return not encoding or encoding == "identity"


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """Read the body piece by piece as aiohttp inflates it; None as soon as it passes `limit`."""
    if response.content_length is not None and _identity_encoded(response.headers):
        return None  # declared larger than the bound: not a byte of it is read
    chunks: list[bytes] = []
    size = 0
    content = response.content
    while chunk := await content.readany():
        size += len(chunk)
        if size > limit:
            chunks.clear()
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    """Sends requests to the API over one aiohttp session, with rate limiting and retries."""

    def __init__(
        self,
        *,
        api_key: str | Secret,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 5,
        limiter: Limiter | None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str,
        connector_limit: int = 100,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
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
        max_response_size: most bytes an answer's body may have once decompressed; a larger
            one raises ResponseTooLargeError, having read no more than that.
        """
        secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
        del api_key  # from here on the key is only in objects whose repr is '***'
        problem = api_key_problem(secret.reveal())
        if problem is not None:
            raise ValueError(problem)
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        if max_response_size <= 0:
            raise ValueError(f"max_response_size must be positive, got {max_response_size}")
        self._credentials = _Credentials(secret, user_agent)
        self._base_url = base_url.rstrip("/")
        self._origin = URL(self._base_url).origin()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._max_response_size = max_response_size
        self._limiter = limiter
        self._session = session
        self._owns_session = session is None
        self._connector_limit = connector_limit
        self._closed = False
        self.stats = TransportStats()

    def __repr__(self) -> str:
        # getattr: a traceback reporter may repr a transport whose __init__ raised half-way.
        return (
            f"Transport(base_url={getattr(self, '_base_url', None)!r}, api_key='***', "
            f"max_retries={getattr(self, '_max_retries', None)}, "
            f"limiter={getattr(self, '_limiter', None)!r})"
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
        accept: str | None = None,
    ) -> object:
        """Send one API request, retrying what is safe to retry, and return its decoded answer.

        method: the HTTP method, upper case.
        path: the path after base_url, starting with "/", path parameters already filled in and
            percent-encoded: it is sent exactly as given (no dot segment resolved, no re-quoting).
        query: query parameters; None values are left out, lists repeat the key.
        json: the request body, serialized as JSON; NO_BODY sends no body (None sends `null`).
        retry_safe: whether sending the request twice does no harm (5xx/timeouts are retried).
        rate_key: names the endpoint for `endpoint_limits` in the rate limiter.
        endpoint_limits: stricter (requests, seconds) limits of this endpoint.
        accept: the `Accept` media type when the answer is not JSON (a file, e.g. "text/csv");
            a non-text type is returned as the bytes that came.

        Returns the decoded JSON, text for a non-JSON answer, or None for an empty one.
        """
        session = self._session
        if session is None or self._closed:
            session = self._open_session()
        # Encoded as given: a URL built from a str is re-quoted and its dot segments resolved,
        # so that `/leads/%2E%2E` would reach `/` instead of the lead `..`.
        url = URL(self._base_url + path, encoded=True)
        params = _encode_query(query) if query else None
        own = self._owns_session  # our session carries the common headers itself
        headers: _SecretHeaders | Mapping[str, str] | None
        if json is NO_BODY:
            data: bytes | None = None
            headers = None if own else self._credentials.plain
        else:
            data = _json.dumps(json)
            headers = _JSON_CONTENT if own else self._credentials.with_body
        if accept is not None:
            headers = _with_accept(headers, accept)
        limiter = self._limiter
        stats = self.stats
        loop = asyncio.get_running_loop()
        debug = logger.isEnabledFor(logging.DEBUG)
        attempt = 0
        hops = 0  # redirects followed in this attempt
        permit: Permit | None = None
        while True:
            if limiter is not None:
                permit = await limiter.acquire(rate_key, endpoint_limits)
                if permit.waited:
                    stats.gate_waits += 1
                    stats.gate_wait_s += permit.waited
            if not hops:
                attempt += 1
                target, target_params = url, params
            stats.requests_sent += 1
            started = loop.time()
            try:
                answer = await _exchange(
                    session,
                    method,
                    target,
                    target_params,
                    data,
                    headers,
                    self._timeout,
                    self._max_response_size,
                )
            except (TimeoutError, aiohttp.ClientError) as exc:
                failure: BaseException | None = exc
            else:
                failure = None
            if failure is not None:
                # Handled here, outside the `except`: raised inside it, the error would get the
                # aiohttp exception as its context even when that exception cannot be cleaned.
                hops = 0
                if debug:
                    logger.debug(
                        "%s %s -> %s in %.1f ms (attempt %d)",
                        method,
                        path,
                        type(failure).__name__,
                        (loop.time() - started) * 1000,
                        attempt,
                    )
                error = self._connection_error(failure, method, path, attempt)
                if attempt > self._max_retries or not _may_retry(failure, retry_safe):
                    stats.errors += 1
                    del failure
                    raise error
                await self._back_off(method, path, attempt, type(failure).__name__)
                continue

            status = answer.status
            if debug:
                logger.debug(
                    "%s %s -> %d in %.1f ms (attempt %d)",
                    method,
                    path,
                    status,
                    (loop.time() - started) * 1000,
                    attempt,
                )

            if 300 <= status < 400:
                if not hops:
                    visited = {url}
                followed = self._follow(answer, method, target, visited, hops, path, attempt)
                if isinstance(followed, RedirectError):
                    stats.errors += 1
                    raise followed
                target, target_params = followed, None  # the Location carries its own query
                visited.add(followed)
                hops += 1
                continue
            hops = 0
            if answer.body is None:
                stats.errors += 1
                raise ResponseTooLargeError(
                    status,
                    request_id=self._request_id(answer.headers),
                    method=method,
                    path=path,
                    attempts=attempt,
                    limit=self._max_response_size,
                )

            if status < 400:
                if not answer.body or status == 204:
                    return None
                content_type = answer.content_type
                if content_type != "application/json" and not content_type.endswith("+json"):
                    if accept is not None and not accept.startswith("text/"):
                        return answer.body  # a binary file, as it came
                    return _text(answer.body, answer.charset)
                undecodable = None
                try:
                    body: object = _json.loads(answer.body)
                except ValueError as exc:
                    undecodable = self._undecodable(exc, answer, method, path, attempt)
                if undecodable is not None:
                    stats.errors += 1
                    raise undecodable
                # Some failures come back as 200 with an error object; they are errors all the same.
                if type(body) is not dict or "statusCode" not in body or not _is_error_body(body):
                    return body
                status = body["statusCode"]
            body = self._credentials.error_body(answer.body)

            # An error answer: retry it, or raise it.
            retry_after = _parse_retry_after(answer.headers.get("Retry-After"))
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
                if (
                    status == 429
                    and limiter is not None
                    and permit is not None
                    and (retry_after is None or retry_after <= RETRY_AFTER_CAP)
                ):
                    # This call is out of retries, but the others still have to hear of the
                    # limit: they pause and the gate learns, as after any other 429.
                    wait = retry_after if retry_after is not None else _backoff(attempt)
                    await limiter.on_rate_limited(permit, wait)
                raise self._status_error(
                    status, body, answer.headers, method, path, attempt, retry_after
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

    def _follow(
        self,
        answer: _Answer,
        method: str,
        current: URL,
        visited: set[URL],
        hops: int,
        path: str,
        attempts: int,
    ) -> URL | RedirectError:
        """Where a redirect leads, if the SDK follows it; else the RedirectError to raise.

        Followed: only to the API's own origin (scheme, host and port of base_url, no userinfo),
        so the key and the request's data go nowhere else and never from https to http (nor to a
        URL that carries the key, which a server echoing it could build); 307 and
        308 for any method, resending the same method and body; 301, 302 and 303 for a GET only,
        since clients turn those into a GET, which would silently drop a POST's body and take
        the answer of another operation for the answer of this one. At most MAX_REDIRECTS in a
        row, and never back to a URL of the same chain.
        """
        status = answer.status
        location = answer.headers.get("Location")
        target: URL | None = None
        if location:
            try:
                target = current.join(URL(location))
                shown: str | None = self._credentials.scrub(str(target))
            except ValueError:
                shown = self._credentials.scrub(location)
        else:
            shown = None
        if target is None:
            why = (
                f"the API answered {status} with an unusable Location"
                if location
                else f"the API answered {status} without a Location to go to"
            )
        elif self._credentials.leaks(location or "") or self._credentials.leaks(str(target)):
            # A URL is logged and cached everywhere it goes; one holding the key is no place
            # to send a request to (and no value for this pipeline to hold).
            why = f"the API redirected to a URL that carries the API key ({shown}); not followed"
        elif target.user is not None or target.password is not None or not target.absolute:
            why = f"the API redirected to a URL with user info ({shown}); not followed"
        elif target.scheme == "http" and self._origin.scheme == "https":
            why = (
                f"the API redirected from https to plain http ({shown}): the key and the "
                "request's data would travel in clear; not followed"
            )
        elif target.origin() != self._origin:
            why = (
                f"the API redirected to another origin ({shown}); the SDK sends the key and the "
                "request's data to base_url's origin only"
            )
        elif status in (301, 302, 303) and method != "GET":
            why = (
                f"the API answered {status} to a {method}: following it would resend the request "
                "as a GET without its body; not followed, so the request is neither changed nor "
                "mistaken for done"
            )
        elif status not in (301, 302, 303, 307, 308):
            why = (
                f"the API answered {status} ({_phrase(status)}), a redirect the SDK does not follow"
            )
        elif target in visited:
            why = f"the API's redirects loop back to {shown}"
        elif hops >= MAX_REDIRECTS:
            why = f"more than {MAX_REDIRECTS} redirects in a row (last to {shown})"
        else:
            return target
        return RedirectError(
            status,
            self._credentials.error_body(answer.body) if answer.body else None,
            self._request_id(answer.headers),
            method=method,
            path=path,
            attempts=attempts,
            message=why,
            location=shown,
        )

    def _undecodable(
        self, exc: ValueError, answer: _Answer, method: str, path: str, attempts: int
    ) -> APIError:
        """The error for a success answer whose JSON does not decode."""
        request_id = self._request_id(answer.headers)
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            return ResponseTooDeepError(
                answer.status,
                None,
                request_id,
                method=method,
                path=path,
                attempts=attempts,
                message="the API sent JSON nested deeper than 1,024 levels; it was not decoded",
            )
        return APIError(
            answer.status,
            text_excerpt(self._credentials.scrub((answer.body or b"").decode("utf-8", "replace"))),
            request_id,
            method=method,
            path=path,
            attempts=attempts,
            message="the API sent a body that is not valid JSON",
        )

    def _request_id(self, headers: Mapping[str, str]) -> str | None:
        value = headers.get("x-request-id") or headers.get("cf-ray")
        return self._credentials.scrub(value) if value else None

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
            request_id=self._request_id(headers),
            attempts=attempts,
            retry_after=retry_after,
        )

    def _connection_error(
        self, exc: BaseException, method: str, path: str, attempts: int
    ) -> APIConnectionError:
        """The error for a request that got no answer; its cause is `exc`, made safe to keep."""
        cause = self._credentials.sanitize(exc)
        if isinstance(exc, TimeoutError):
            error: APIConnectionError = APITimeoutError(
                f"Request timed out (timeout {self._timeout.total:g} s)",
                method=method,
                path=path,
                attempts=attempts,
            )
        else:
            detail = self._credentials.scrub(str(exc)) or type(exc).__name__
            if cause is None:
                detail = f"{type(exc).__name__}: {detail}"
            error = APIConnectionError(
                f"Connection error: {detail}", method=method, path=path, attempts=attempts
            )
        error.__cause__ = cause
        error.__suppress_context__ = True
        return error


def _backoff(attempt: int) -> float:
    # Full jitter: spreads the retries of many tasks instead of synchronising them.
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))


def _may_retry(exc: BaseException, retry_safe: bool) -> bool:
    if isinstance(exc, aiohttp.ClientSSLError):
        return False  # a TLS failure will fail again
    if isinstance(exc, _NOT_SENT):
        return True  # nothing reached the server, so nothing can happen twice
    return retry_safe and isinstance(exc, _BROKEN)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _is_error_body(body: dict[str, object]) -> bool:
    code = body["statusCode"]
    return type(code) is int and code >= 400 and "error" in body


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


def _text(body: bytes, charset: str | None) -> str:
    """A text answer decoded by its declared charset; UTF-8 when it names none we know."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _with_accept(
    headers: _SecretHeaders | Mapping[str, str] | None, accept: str
) -> _SecretHeaders | Mapping[str, str]:
    """The request's headers asking for `accept` instead of JSON; the key stays in a secret."""
    if isinstance(headers, _SecretHeaders):
        return _SecretHeaders({**dict(headers), "Accept": accept})
    return {**(headers or {}), "Accept": accept}
