"""The one request pipeline: rate gate -> send -> classify -> retry or raise -> decode.

Every API call of the SDK goes through `Transport.request`. It knows HTTP, JSON, retries and the
rate limiter, and nothing about the API's models.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import enum
import logging
import math
import random
import threading
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any, Final
from urllib.parse import quote, quote_plus

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _json
from ._options import check_headers, check_max_retries, check_timeout
from ._ratelimit import Limiter, Permit
from ._response import RawResponse, scrubbed_headers
from ._types import UNSET, Unset
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    EventLoopError,
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
        """Hide a string.

        Args:
            value: The secret, e.g. the API key.
        """
        self._value = value

    def reveal(self) -> str:
        """The string itself.

        Returns:
            The secret, to put where it is sent (the `Authorization` header) and nowhere else.
        """
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def api_key_problem(key: str, name: str = "api_key") -> str | None:
    """What makes `key` unusable as an API key, in words that never quote it; None if nothing.

    A key read from a file or an env file often keeps its line break: refused here, by name,
    instead of failing every request later with aiohttp's "newline in header" ValueError.

    Args:
        key: The candidate key.
        name: What to call it in the message (the argument, or `$INSTANTLY_API_KEY`).

    Returns:
        A message saying what is wrong and where (a character's position, never the character
        itself), or None for a usable key.
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
                return self.scrubbed_json(value, text)
        return text_excerpt(self.scrub(text))

    def scrubbed_json(self, value: object, text: str) -> object:
        """`value`, decoded from `text`, scrubbed of the key (an excerpt of `text` if too deep)."""
        # Without a backslash no JSON string can decode to more than its text shows.
        if "\\" not in text and not self.leaks(text):
            return value
        try:
            return self.scrub_value(value)
        except RecursionError:
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
    departure: _Departure | None = None,
) -> _Answer:
    """Send one HTTP request (no redirect followed) and read its answer, at most `limit` bytes.

    departure: told when the request's headers are written (on a session with `_DEPARTURES`).
    """
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
            trace_request_ctx=departure,
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


class _Departure:
    """A request's permit, and the limiter to tell when the request leaves (`Limiter.sent`)."""

    __slots__ = ("permit", "sent")

    def __init__(self, sent: Callable[[Permit, float], None], permit: Permit) -> None:
        self.sent = sent
        self.permit = permit


async def _on_headers_sent(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    del params  # it holds the request's headers, and so the key
    departure = context.trace_request_ctx
    if departure is not None:
        departure.sent(departure.permit, asyncio.get_running_loop().time())


# On a session of ours with a limiter: when each request really left (after a new connection,
# which can take longer than the gate's margin), for the limiter to count it from then.
_DEPARTURES: Final = aiohttp.TraceConfig()
_DEPARTURES.on_request_headers_sent.append(_on_headers_sent)


class _Link:
    """The connection state a client shares with every client `with_options` made from it.

    It holds the aiohttp session and the event loop that session belongs to, and the calls in
    flight (so that closing ends them). A session made here is closed when its loop ends:
    `asyncio.run` (and any runner) closes the loop's async generators before the loop itself,
    and `_close_with_loop` is one, started in that loop, whose `finally` closes the session.
    So a client used by a second `asyncio.run` finds no session bound to a dead loop: it opens a
    new one in the running loop (see `Transport._session_in`).
    """

    __slots__ = (
        "closed",
        "closer",
        "closing",
        "connector_limit",
        "headers",
        "inflight",
        "loop",
        "owned",
        "session",
        "traced",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        connector_limit: int,
        headers: _SecretHeaders,
        traced: bool = False,
    ) -> None:
        self.session = session
        self.traced = traced  # a session made here reports when requests leave
        self.owned = session is None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closer: AsyncGenerator[None, None] | None = None
        self.closed = False
        self.connector_limit = connector_limit
        self.headers = headers
        # Task -> the transport (client) it calls through; tasks cancelled by a close.
        self.inflight: dict[asyncio.Task[Any], Transport] = {}
        self.closing: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    def __repr__(self) -> str:
        return "<link>"  # its session's headers hold the key

    async def open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        # Created inside the running loop: aiohttp binds the connector to it. The session
        # carries the common headers, so a request merges nothing more than its content type:
        # aiohttp's per-request merge of headers is a visible part of a call's CPU.
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connector_limit),
            headers=self.headers,  # (no timeout: every request brings its own)
            trace_configs=[_DEPARTURES] if self.traced else None,
        )
        self.session, self.loop = session, loop
        closer = _close_with_loop(self, session)
        await closer.__anext__()  # registers it with the loop, which closes it before it ends
        self.closer = closer
        return session

    async def close(self) -> None:
        """Close the session (if it is ours) in the running loop, or let go of a dead one's."""
        session, closer = self.session, self.closer
        self.session = self.closer = None
        loop = self.loop
        self.loop = None
        if session is None or not self.owned:
            return
        if loop is asyncio.get_running_loop() and closer is not None:
            await closer.aclose()  # its `finally` closes the session
        else:
            await _abandon(session)

    def forget(self, session: aiohttp.ClientSession) -> None:
        if self.session is session:
            self.session = self.closer = None
            self.loop = None


async def _close_with_loop(
    link: _Link, session: aiohttp.ClientSession
) -> AsyncGenerator[None, None]:
    """Closes `session` when closed itself: by `_Link.close`, or by the loop as it shuts down."""
    try:
        yield
    finally:
        link.forget(session)
        await session.close()


async def _abandon(session: aiohttp.ClientSession) -> None:
    """Let go of a session whose loop stopped without closing it (a loop closed by hand).

    Its connections belong to that loop and cannot be closed from this one: aiohttp's connector
    only drops them when their loop is closed, and the sockets are freed as they are collected.
    """
    with contextlib.suppress(Exception):
        await session.close()


def _current_loop_owner(loop: asyncio.AbstractEventLoop) -> str:
    thread = getattr(loop, "_thread_id", None)
    for t in threading.enumerate():
        if t.ident == thread:
            return f"the thread {t.name!r}"
    return "another thread"


class Transport:
    """Sends requests to the API over one aiohttp session, with rate limiting and retries."""

    def __init__(
        self,
        *,
        api_key: str | Secret,
        base_url: str,
        timeout: float | None = 30.0,
        attempt_timeout: float | None = None,
        max_retries: int = 5,
        limiter: Limiter | None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str,
        connector_limit: int = 100,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        """Set up the pipeline; no connection is made until the first request.

        Args:
            api_key: The workspace's API key, sent as `Authorization: Bearer ...`.
            base_url: The API's origin, e.g. "https://api.instantly.ai".
            timeout: Seconds one call may take in all, retries included; None for no deadline.
                Time queued at the rate gate does not count (see `RequestOptions`).
            attempt_timeout: Seconds one attempt may take; None for whatever is left of the
                call's deadline.
            max_retries: How many times a failed request may be repeated (attempts = this + 1).
            limiter: The rate gate every attempt passes first; None sends without limits.
            session: An aiohttp session to use (and leave open); None creates and owns one.
            user_agent: The `User-Agent` header value.
            connector_limit: Most simultaneous connections of the session this creates.
            max_response_size: Most bytes an answer's body may have once decompressed; a larger
                one raises ResponseTooLargeError, having read no more than that.

        Raises:
            ValueError: the key or one of the settings is unusable (the message says which).
        """
        secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
        del api_key  # from here on the key is only in objects whose repr is '***'
        problem = api_key_problem(secret.reveal())
        if problem is not None:
            raise ValueError(problem)
        if max_response_size <= 0:
            raise ValueError(f"max_response_size must be positive, got {max_response_size}")
        self._credentials = _Credentials(secret, user_agent)
        self._base_url = base_url.rstrip("/")
        self._origin = URL(self._base_url).origin()
        self._max_response_size = max_response_size
        self._limiter = limiter
        # A limiter that re-times late departures (`Limiter.sent`); None: not told.
        self._sent: Callable[[Permit, float], None] | None = getattr(limiter, "sent", None)
        self._closed = False
        self._root = True  # made by a constructor, not by `derive`: its close closes the link
        self.stats = TransportStats()
        self._configure(timeout, attempt_timeout, max_retries, None)
        self._link = _Link(
            session,
            connector_limit,
            self._credentials.plain,
            traced=self._sent is not None,
        )

    def _configure(
        self,
        timeout: float | None,
        attempt_timeout: float | None,
        max_retries: int,
        headers: Mapping[str, str] | None,
    ) -> None:
        self._deadline = check_timeout(timeout)
        self._attempt_timeout = check_timeout(attempt_timeout, "attempt_timeout")
        self._max_retries = check_max_retries(max_retries)
        self._headers = check_headers(headers, "headers") if headers else {}
        # The first attempt's bound, made once: a call's first attempt starts its deadline.
        self._first_timeout = _client_timeout(_earliest(self._deadline, self._attempt_timeout))
        self._no_deadline_timeout = _client_timeout(self._attempt_timeout)

    def derive(
        self,
        *,
        timeout: float | Unset | None = UNSET,
        attempt_timeout: float | Unset | None = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Transport:
        """A transport with other defaults that shares this one's session, limiter and stats.

        Args:
            timeout: The new deadline of a call; left out, this transport's.
            attempt_timeout: The new bound of one attempt; left out, this transport's.
            max_retries: The new number of retries; None keeps this transport's.
            headers: Headers added to every request, over this transport's own extra headers.

        Returns:
            The new transport. Closing it ends its own calls in flight and nothing else.
        """
        child = copy.copy(self)
        child._closed = False
        child._root = False
        child._configure(
            self._deadline if isinstance(timeout, Unset) else timeout,
            self._attempt_timeout if isinstance(attempt_timeout, Unset) else attempt_timeout,
            self._max_retries if max_retries is None else max_retries,
            {**self._headers, **headers} if headers else self._headers,  # checked there
        )
        return child

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

    @property
    def closed(self) -> bool:
        """Whether this transport (or the one it was derived from) is closed."""
        return self._closed or self._link.closed

    async def aclose(self) -> None:
        """Close: end the calls in flight with ClientClosedError, then close the session.

        A derived transport (`derive`) ends only its own calls and leaves the session open; the
        one it came from ends every call and closes the session it created (a session passed
        in stays open).

        Raises:
            EventLoopError: the session belongs to an event loop that runs in another thread.
        """
        link = self._link
        loop = asyncio.get_running_loop()
        if link.loop is not None and link.loop is not loop and link.loop.is_running():
            raise EventLoopError(
                "close the client in the event loop that uses it: it is running in "
                f"{_current_loop_owner(link.loop)}"
            )
        self._closed = True
        if self._root:
            link.closed = True
        current = asyncio.current_task()
        for task, owner in list(link.inflight.items()):
            if (self._root or owner is self) and task is not current and not task.done():
                link.closing.add(task)
                task.cancel()
        if self._root:
            await link.close()

    async def _session_in(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        """The session to use from `loop`: opened, moved to it, or an error saying why not."""
        link = self._link
        if self._closed or link.closed:
            raise ClientClosedError("this client is closed; create a new one to send requests")
        old = link.loop
        if link.session is not None and old is not loop:
            if old is not None and old.is_running():
                raise EventLoopError(
                    "this client is in use by an event loop running in "
                    f"{_current_loop_owner(old)}: an AsyncInstantly serves one event loop at a "
                    "time. Make one client per thread, or use instantly.Instantly, the "
                    "blocking client, which any thread may call"
                )
            if not link.owned:
                if old is None:
                    link.loop = loop  # the session passed in: taken to be this loop's
                    return link.session
                raise EventLoopError(
                    "the aiohttp session passed to this client belongs to an event loop that "
                    "has stopped; pass a session made in the running loop, or none at all "
                    "(the client then opens its own, in whichever loop uses it)"
                )
            # Our session, of a loop that stopped without closing it (a loop closed by hand,
            # not by asyncio.run): let it go, and open one in this loop.
            await link.close()
        if link.session is None:
            return await link.open(loop)
        return link.session

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
        headers: Mapping[str, str] | None = None,
        timeout: float | Unset | None = UNSET,  # noqa: ASYNC109 - a deadline across retries
        max_retries: int | None = None,
        raw: bool = False,
    ) -> object:
        """Send one API request, retrying what is safe to retry, and return its decoded answer.

        Args:
            method: The HTTP method, upper case.
            path: The path after base_url, starting with "/", path parameters already filled in
                and percent-encoded: it is sent exactly as given (no dot segment resolved, no
                re-quoting).
            query: Query parameters; None values are left out, lists repeat the key.
            json: The request body, serialized as JSON; NO_BODY sends no body (None sends
                `null`).
            retry_safe: Whether sending the request twice does no harm (5xx and timeouts are
                then retried).
            rate_key: Names the endpoint for `endpoint_limits` in the rate limiter.
            endpoint_limits: Stricter (requests, seconds) limits of this endpoint.
            accept: The `Accept` media type when the answer is not JSON (a file, e.g.
                "text/csv"); a non-text type is returned as the bytes that came.
            headers: Headers for this request only, over the transport's (checked by the
                caller, see `check_headers`).
            timeout: This call's deadline in seconds (None: none); left out, the transport's.
            max_retries: This call's number of retries; None for the transport's.
            raw: Return a `RawResponse` (status, headers, body) instead of the decoded body.

        Returns:
            The decoded JSON, text for a non-JSON answer, bytes for a binary one, None for an
            empty one; with `raw`, a `RawResponse` holding that.

        Raises:
            APIError: the API answered with an error (the subclass says which).
            APIConnectionError: no answer came (APITimeoutError: not in time).
            ClientClosedError: the client is closed, or closed while the call was in flight.
            EventLoopError: the client is in use by an event loop of another thread.
        """
        link = self._link
        loop = asyncio.get_running_loop()
        session = link.session
        if session is None or link.loop is not loop or self._closed:
            session = await self._session_in(loop)
        # The calls in flight are known, so that closing the client ends them (see `aclose`);
        # a coroutine driven by hand, without a task, just runs.
        task = asyncio.current_task(loop)
        inflight = link.inflight
        if task is not None:
            inflight[task] = self
        try:
            return await self._send(
                session, loop, method, path, query, json, retry_safe, rate_key,
                endpoint_limits, accept, headers, timeout, max_retries, raw,
            )  # fmt: skip
        except asyncio.CancelledError:
            if task is None or task not in link.closing:
                raise
            link.closing.discard(task)
            task.uncancel()  # the cancel was ours, to end the call: the task goes on
            self.stats.errors += 1
            error = ClientClosedError(
                f"the client was closed while {method} {path} was in flight; the API may or "
                "may not have received it"
            )
        finally:
            if task is not None:
                inflight.pop(task, None)
        raise error

    async def _send(
        self,
        session: aiohttp.ClientSession,
        loop: asyncio.AbstractEventLoop,
        method: str,
        path: str,
        query: Mapping[str, object] | None,
        json: object,
        retry_safe: bool,
        rate_key: str | None,
        endpoint_limits: Sequence[tuple[int, float]],
        accept: str | None,
        extra_headers: Mapping[str, str] | None,
        timeout: float | Unset | None,  # noqa: ASYNC109 - a deadline across retries
        max_retries: int | None,
        raw: bool,
    ) -> object:
        # Encoded as given: a URL built from a str is re-quoted and its dot segments resolved,
        # so that `/leads/%2E%2E` would reach `/` instead of the lead `..`.
        url = URL(self._base_url + path, encoded=True)
        params = _encode_query(query) if query else None
        own = self._link.owned  # our session carries the common headers itself
        headers: _SecretHeaders | Mapping[str, str] | None
        if json is NO_BODY:
            data: bytes | None = None
            headers = None if own else self._credentials.plain
        else:
            data = _json.dumps(json)
            headers = _JSON_CONTENT if own else self._credentials.with_body
        if accept is not None:
            headers = _with_headers(headers, {"Accept": accept})
        if self._headers:
            headers = _with_headers(headers, self._headers)
        if extra_headers:
            headers = _with_headers(headers, extra_headers)
        retries = self._max_retries if max_retries is None else max_retries
        if isinstance(timeout, Unset):
            total, first_bound = self._deadline, self._first_timeout
        else:
            total = timeout
            first_bound = _client_timeout(_earliest(total, self._attempt_timeout))
        limiter = self._limiter
        stats = self.stats
        debug = logger.isEnabledFor(logging.DEBUG)
        deadline: float | None = None  # on the loop's clock; set as the first attempt starts
        counted = 0.0  # seconds of the next wait at the gate that are this call's own (a 429)
        attempt = 0
        hops = 0  # redirects followed in this attempt
        permit: Permit | None = None
        # Told when each attempt leaves, on a session of ours that reports it.
        sent = self._sent if own and self._link.traced else None
        departure: _Departure | None = None
        while True:
            if limiter is not None:
                permit = await limiter.acquire(rate_key, endpoint_limits)
                if permit.waited:
                    stats.gate_waits += 1
                    stats.gate_wait_s += permit.waited
                    if deadline is not None:
                        # Queueing at the gate is not the call's own time (see RequestOptions),
                        # but for the pause its own 429 asked for.
                        deadline += max(0.0, permit.waited - counted)
                counted = 0.0
                if sent is not None:
                    departure = _Departure(sent, permit)
            if not hops:
                attempt += 1
                target, target_params = url, params
            started = loop.time()
            per_attempt = self._attempt_timeout
            if deadline is None:
                if total is None:
                    bound, by_deadline = self._no_deadline_timeout, False
                else:
                    deadline = started + total
                    bound = first_bound
                    by_deadline = per_attempt is None or total <= per_attempt
            else:
                left = deadline - started
                if left <= 0:
                    stats.errors += 1
                    raise self._timeout_error(method, path, attempt, total, True)
                by_deadline = per_attempt is None or left <= per_attempt
                bound = _client_timeout(left if by_deadline else per_attempt)
            stats.requests_sent += 1
            try:
                answer = await _exchange(
                    session,
                    method,
                    target,
                    target_params,
                    data,
                    headers,
                    bound,
                    self._max_response_size,
                    departure,
                )
            except (TimeoutError, aiohttp.ClientError) as exc:
                failure: BaseException | None = exc
            except RuntimeError:
                if not session.closed:
                    raise
                # The session was closed under this call (by its owner, a session passed in).
                stats.errors += 1
                raise ClientClosedError(
                    f"the aiohttp session was closed while {method} {path} was in flight"
                ) from None
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
                error = self._connection_error(failure, method, path, attempt, total, by_deadline)
                wait = None
                if attempt <= retries and _may_retry(failure, retry_safe):
                    wait = _backoff(attempt)
                    if deadline is not None and loop.time() + wait >= deadline:
                        wait = None  # no time left for another attempt
                if wait is None:
                    stats.errors += 1
                    del failure
                    raise error
                await self._back_off(method, path, attempt, type(failure).__name__, wait, retries)
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
                value: object = None
                if answer.body and status != 204:
                    content_type = answer.content_type
                    if content_type != "application/json" and not content_type.endswith("+json"):
                        if accept is not None and not accept.startswith("text/"):
                            value = answer.body  # a binary file, as it came
                        else:
                            value = _text(answer.body, answer.charset)
                    else:
                        undecodable = None
                        try:
                            value = _json.loads(answer.body)
                        except ValueError as exc:
                            undecodable = self._undecodable(exc, answer, method, path, attempt)
                        if undecodable is not None:
                            stats.errors += 1
                            raise undecodable
                # Some failures come back as 200 with an error object; errors all the same.
                if (
                    type(value) is not dict
                    or "statusCode" not in value
                    or not _is_error_body(value)
                ):
                    if raw:
                        return self._raw(
                            answer, value, method, path, attempt, loop.time() - started
                        )
                    return value
                status = value["statusCode"]
                text = answer.body.decode("utf-8", errors="replace")
                body = self._credentials.scrubbed_json(value, text)
                value = None  # it may echo the key: only the scrubbed copy stays
            else:
                body = self._credentials.error_body(answer.body)

            # An error answer: retry it, or raise it.
            retry_after = _parse_retry_after(answer.headers.get("Retry-After"))
            if status == 429:
                stats.rate_limited += 1
                retryable = True  # the server did nothing, so repeating is always safe
            else:
                retryable = status >= 500 and retry_safe
            # The wait the answer asks for (its Retry-After, within the cap), or a backoff.
            asked = None
            if retryable and (retry_after is None or retry_after <= RETRY_AFTER_CAP):
                asked = retry_after if retry_after is not None else _backoff(attempt)
            wait = asked if attempt <= retries else None
            if wait is not None and deadline is not None and loop.time() + wait >= deadline:
                wait = None  # the wait alone would pass the deadline: say so now
            if wait is None:
                stats.errors += 1
                if (
                    status == 429
                    and limiter is not None
                    and permit is not None
                    and asked is not None
                ):
                    # This call is out of retries, but the others still have to hear of the
                    # limit: they pause and the gate learns, as after any other 429.
                    await limiter.on_rate_limited(permit, asked)
                raise self._status_error(
                    status, body, answer.headers, method, path, attempt, retry_after
                )
            if status == 429 and limiter is not None and permit is not None:
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
                    retries,
                )
                counted = wait  # this call's own wait: it counts against its deadline
                continue
            await self._back_off(method, path, attempt, f"HTTP {status}", wait, retries)

    def _raw(
        self,
        answer: _Answer,
        value: object,
        method: str,
        path: str,
        attempts: int,
        elapsed: float,
    ) -> RawResponse[Any]:
        credentials = self._credentials
        return RawResponse(
            status=answer.status,
            headers=scrubbed_headers(answer.headers, credentials),
            content=answer.body or b"",
            data=value,
            request_id=self._request_id(answer.headers),
            elapsed=elapsed,
            attempts=attempts,
            method=method,
            path=path,
            credentials=credentials,
        )

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
        self, method: str, path: str, attempt: int, reason: str, wait: float, retries: int
    ) -> None:
        self.stats.retries += 1
        logger.warning(
            "%s %s: %s; retrying in %.2f s (retry %d of %d)",
            method,
            path,
            reason,
            wait,
            attempt,
            retries,
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
        self,
        exc: BaseException,
        method: str,
        path: str,
        attempts: int,
        total: float | None,
        by_deadline: bool,
    ) -> APIConnectionError:
        """The error for a request that got no answer; its cause is `exc`, made safe to keep."""
        cause = self._credentials.sanitize(exc)
        if isinstance(exc, TimeoutError):
            error: APIConnectionError = self._timeout_error(
                method, path, attempts, total, by_deadline
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

    def _timeout_error(
        self, method: str, path: str, attempts: int, total: float | None, by_deadline: bool
    ) -> APITimeoutError:
        if by_deadline and total is not None:
            why = f" (timeout {total:g} s for the whole call, retries included)"
        elif self._attempt_timeout is not None:
            why = f" (attempt_timeout {self._attempt_timeout:g} s)"
        else:
            why = ""
        return APITimeoutError(
            f"Request timed out{why}", method=method, path=path, attempts=attempts
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


def _with_headers(
    headers: _SecretHeaders | Mapping[str, str] | None, more: Mapping[str, str]
) -> _SecretHeaders | Mapping[str, str]:
    """The request's headers with `more` over them; the key, if in them, stays in a secret."""
    if isinstance(headers, _SecretHeaders):
        return _SecretHeaders({**dict(headers), **more})
    return {**(headers or {}), **more}


def _earliest(a: float | None, b: float | None) -> float | None:
    """The smaller of two optional bounds (None: no bound)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _client_timeout(seconds: float | None) -> aiohttp.ClientTimeout:
    # No rounding up to the next whole second (aiohttp does that above 5 s by default): the
    # bound may be what is left of a deadline, which must hold to the fraction.
    return aiohttp.ClientTimeout(total=seconds, ceil_threshold=math.inf)
