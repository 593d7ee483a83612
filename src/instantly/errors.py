"""Exceptions raised by the SDK.

Everything the SDK raises on purpose derives from `InstantlyError`. An HTTP error answer from the
API is an `APIError` subclass picked by its status (`make_status_error`); a request that never got
an answer (connection refused, reset, timed out) is an `APIConnectionError`.

No exception here ever holds the API key or the request headers, so they are safe to log.
"""

from __future__ import annotations

import asyncio
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # for the attributes' types only: importing them here would be a cycle
    from ._bulk import BulkAddResult
    from ._convert import StructureError
    from ._generated.models import BackgroundJob

__all__ = [
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
    "StructureError",
    "UnprocessableEntityError",
    "make_status_error",
]

# Long enough to recognise an HTML error page or a proxy's message, short enough for a log line.
_TEXT_EXCERPT = 500
_MESSAGE_EXCERPT = 200
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class InstantlyError(Exception):
    """Base class of every exception the SDK raises on purpose."""


class APIError(InstantlyError):
    """The API answered with an error status (or with an error object in a 2xx body)."""

    # What the user can do about it; subclasses override, appended to str().
    hint: ClassVar[str] = ""

    status_code: int
    body: object
    message: str
    method: str
    path: str
    request_id: str | None
    attempts: int

    def __init__(
        self,
        status: int,
        body: object,
        request_id: str | None = None,
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        message: str | None = None,
    ) -> None:
        """Describe one error answer.

        Args:
            status: The HTTP status code (or the `statusCode` of an error object in a 2xx body).
            body: The decoded JSON body, or a short excerpt of a non-JSON body (an HTML page).
            request_id: The request id header of the answer, for support tickets, if it had one.
            method: The HTTP method of the request.
            path: The request path, without the query string.
            attempts: How many times the request was sent before giving up.
            message: Overrides the message otherwise taken from the body's `message` field.
        """
        # Positional args are what pickle replays; the keyword fields travel in __dict__.
        super().__init__(status, body, request_id)
        self.status_code = status
        self.body = body
        self.request_id = request_id
        self.method = method
        self.path = path
        self.attempts = attempts
        self.message = message if message is not None else _message_from(body)

    def __str__(self) -> str:
        head = f"{self.status_code} {_phrase(self.status_code)}"
        # Proxies' pages and some API answers just repeat the status line; say it once.
        if self.message and self.message not in (head, _phrase(self.status_code)):
            head = f"{head}: {self.message}"
        if self.method or self.path:
            head = f"{head} ({self.method} {self.path})"
        if self.attempts > 1:
            head = f"{head} after {self.attempts} attempts"
        hint = self._hint()
        return f"{head}. {hint}" if hint else head

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r}, "
            f"attempts={self.attempts})"
        )

    def _hint(self) -> str:
        return self.hint


class BadRequestError(APIError):
    """400: the API rejected the request's parameters or body."""


class AuthenticationError(APIError):
    """401: the API key is missing, wrong, or revoked."""

    hint = "Check the API key: it may be mistyped, revoked, or from another workspace"


class PaymentRequiredError(APIError):
    """402: the workspace's plan does not include this feature (or it has no paid plan)."""

    hint = "The workspace needs a paid plan that includes this feature; upgrade it in Instantly"


class PermissionDeniedError(APIError):
    """403: the API key lacks the scope this endpoint needs."""

    hint = "The API key lacks the scope this endpoint needs; use a key created with that scope"


class NotFoundError(APIError):
    """404: the resource does not exist (or belongs to another workspace)."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's current state (e.g. a duplicate)."""


class UnprocessableEntityError(APIError):
    """422: the request was well-formed but its content was refused."""


class RateLimitError(APIError):
    """429: too many requests; `retry_after` is the server's requested wait, if it sent one."""

    retry_after: float | None

    def __init__(
        self,
        status: int,
        body: object,
        request_id: str | None = None,
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Describe a 429 answer; the other parameters are those of `APIError`.

        Args:
            status: The HTTP status code (429).
            body: The decoded JSON body, or an excerpt of a non-JSON body.
            request_id: The request id header of the answer, if it had one.
            method: The HTTP method of the request.
            path: The request path, without the query string.
            attempts: How many times the request was sent before giving up.
            message: Overrides the message otherwise taken from the body.
            retry_after: Seconds the server asked to wait (from `Retry-After`), or None.
        """
        super().__init__(
            status,
            body,
            request_id,
            method=method,
            path=path,
            attempts=attempts,
            message=message,
        )
        self.retry_after = retry_after

    def _hint(self) -> str:
        if self.retry_after is not None:
            return (
                f"The server asked to wait {self.retry_after:g} s; retry later or lower the "
                "request rate (RateLimiter)"
            )
        return "Retry later or lower the request rate (RateLimiter)"


class ServerError(APIError):
    """5xx: Instantly (or a proxy in front of it) failed to handle the request."""

    hint = (
        "This is usually transient: retry later. Requests that are not safe to repeat are "
        "never retried automatically, so check whether this one took effect"
    )


class RedirectError(APIError):
    """3xx: the API redirected, and the SDK does not follow this redirect.

    `location` is where the answer pointed (its `Location` header, resolved against the request's
    URL; None if it had none). The SDK follows a redirect only on the API's own origin, and only
    where the request stays what it was: 307/308 for any method (method and body kept), 301/302/303
    for a GET. Anything else (another host or port, https to http, a redirect that would turn a
    POST into a GET, a loop) ends here: the API key and the request's data are sent nowhere else.
    """

    hint = "Check base_url: it should be the API's own origin, e.g. https://api.instantly.ai"

    location: str | None

    def __init__(
        self,
        status: int,
        body: object,
        request_id: str | None = None,
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        message: str | None = None,
        location: str | None = None,
    ) -> None:
        """Describe a redirect not followed; the other parameters are those of `APIError`.

        Args:
            status: The HTTP status code of the redirect.
            body: The decoded body of the answer, if it had one.
            request_id: The request id header of the answer, if it had one.
            method: The HTTP method of the request.
            path: The request path, without the query string.
            attempts: How many times the request was sent before giving up.
            message: Why the redirect was not followed.
            location: The redirect's target, as an absolute URL (None if the answer had none).
        """
        super().__init__(
            status,
            body,
            request_id,
            method=method,
            path=path,
            attempts=attempts,
            message=message,
        )
        self.location = location


class ResponseTooLargeError(APIError):
    """The answer's body is larger than the client's `max_response_size` (decoded bytes).

    Reading stopped at the bound, so a huge or endless answer (or a small compressed one that
    inflates to gigabytes) costs at most that much memory. `limit` is the bound in bytes.
    """

    hint = "If such an answer is expected, raise max_response_size (AsyncInstantly(...))"

    limit: int

    def __init__(
        self,
        status: int,
        body: object = None,
        request_id: str | None = None,
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
        message: str | None = None,
        limit: int = 0,
    ) -> None:
        """Describe an answer too large to read; the other parameters are those of `APIError`.

        Args:
            status: The HTTP status code of the answer.
            body: Always None: the body was not kept.
            request_id: The request id header of the answer, if it had one.
            method: The HTTP method of the request.
            path: The request path, without the query string.
            attempts: How many times the request was sent before giving up.
            message: Overrides the default message, which names the bound.
            limit: The bound that was reached, in bytes.
        """
        super().__init__(
            status,
            body,
            request_id,
            method=method,
            path=path,
            attempts=attempts,
            message=message
            if message is not None
            else f"the answer is larger than max_response_size ({_size(limit)}); reading stopped",
        )
        self.limit = limit


class ResponseTooDeepError(APIError):
    """The answer's JSON nests deeper than the SDK reads (1,024 levels, orjson's bound).

    No answer of the API nests more than a few levels; this is a broken or hostile server, and
    the error stands where a `RecursionError` would otherwise surface.
    """


class APIConnectionError(InstantlyError):
    """The request got no HTTP answer: the connection failed, broke, or timed out."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        attempts: int = 1,
    ) -> None:
        """Describe a request that got no answer.

        Args:
            message: What went wrong, e.g. the underlying aiohttp error.
            method: The HTTP method of the request.
            path: The request path, without the query string.
            attempts: How many times the request was sent before giving up.
        """
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.attempts = attempts

    def __str__(self) -> str:
        text = self.message
        if self.method or self.path:
            text = f"{text} ({self.method} {self.path})"
        if self.attempts > 1:
            text = f"{text} after {self.attempts} attempts"
        return f"{text}. Check the network connection and base_url, then retry"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, method={self.method!r}, "
            f"path={self.path!r}, attempts={self.attempts})"
        )


class APITimeoutError(APIConnectionError):
    """The request got no answer within the timeout."""


class PaginationError(InstantlyError):
    """The API returned a cursor already seen (which would page forever), or there is no next page.

    `Page.get_next_page()` raises it on the last page: check `Page.has_next_page()` first.
    """


class ClientClosedError(InstantlyError, RuntimeError):
    """The client is closed: a call made after `aclose()` (or `close()`), or one that was in
    flight when the client closed.

    A call that was in flight may or may not have reached the API. Create a new client to go on.
    It is a `RuntimeError` too, so code that caught aiohttp's "Session is closed" keeps working.
    """


class EventLoopError(InstantlyError, RuntimeError):
    """The client was used from an event loop it does not belong to.

    An `AsyncInstantly` works in one event loop at a time: it moves to a new loop when the
    previous one has stopped (a second `asyncio.run`), but not while that loop still runs, as when
    another thread uses the same client. Give each thread its own client, or use `Instantly`,
    the blocking client, which any thread may call.
    """


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(
    status: int,
    body: object,
    *,
    method: str,
    path: str,
    request_id: str | None,
    attempts: int,
    retry_after: float | None = None,
    message: str | None = None,
) -> APIError:
    """Build the exception for an error answer, choosing the class by status.

    Args:
        status: The HTTP status (or the `statusCode` of an error object in a 2xx body).
        body: The decoded JSON body, or an excerpt of a non-JSON body.
        method: The HTTP method of the request.
        path: The request path, without the query string.
        request_id: The request id header of the answer, if any.
        attempts: How many times the request was sent.
        retry_after: For a 429, the seconds the server asked to wait, if it said.
        message: Overrides the message otherwise taken from the body.

    Returns:
        An instance of the `APIError` subclass for `status` (`ServerError` for any 5xx,
        `APIError` itself for a status without a class of its own).
    """
    if status == 429:
        return RateLimitError(
            status,
            body,
            request_id,
            method=method,
            path=path,
            attempts=attempts,
            message=message,
            retry_after=retry_after,
        )
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(
        status, body, request_id, method=method, path=path, attempts=attempts, message=message
    )


def text_excerpt(text: str) -> str:
    """Shorten a non-JSON body (an HTML error page) to what is worth keeping in an exception.

    Args:
        text: The decoded body.

    Returns:
        The text itself if it is short, else its first 500 characters and "...".
    """
    return text if len(text) <= _TEXT_EXCERPT else text[:_TEXT_EXCERPT] + "..."


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _message_from(body: object) -> str:
    if isinstance(body, dict):
        for field in ("message", "error"):
            value = body.get(field)
            if isinstance(value, str) and value:
                return value
            # Validation errors sometimes carry a list of messages.
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                return "; ".join(value)
        return ""
    if isinstance(body, str):
        text = body.strip()
        if text.startswith("<"):
            # An HTML page from a proxy: its title ("502 Bad Gateway") is the useful part.
            match = _TITLE.search(text)
            return " ".join(match.group(1).split())[:_MESSAGE_EXCERPT] if match else ""
        return " ".join(text.split())[:_MESSAGE_EXCERPT]
    return ""


class BackgroundJobError(InstantlyError):
    """A background job ended `failed` or `cancelled`; `job` is its last state."""

    job: BackgroundJob

    def __init__(self, job: BackgroundJob) -> None:
        """Describe a job that ended without success.

        Args:
            job: The job as last polled (`status` failed or cancelled).
        """
        status = getattr(job, "status", None)
        status = getattr(status, "value", status)
        super().__init__(f"background job {getattr(job, 'id', '?')} ended {status}")
        self.job = job


class BackgroundJobTimeout(InstantlyError, TimeoutError):
    """A background job did not finish in time; `job` is the last state seen (it may still run)."""

    job: BackgroundJob
    timeout: float

    def __init__(self, job: BackgroundJob, timeout: float) -> None:
        """Describe a wait that ran out of time.

        Args:
            job: The job as last polled; it may still be running.
            timeout: The seconds waited.
        """
        progress = getattr(job, "progress", None)
        super().__init__(
            f"background job {getattr(job, 'id', '?')} still not finished after {timeout:g} s "
            f"(progress {progress}); wait again with a longer timeout"
        )
        self.job = job
        self.timeout = timeout


class OutcomeUnknownError(InstantlyError):
    """A bulk request's leads may or may not have been added, and could not be looked up.

    `leads.bulk_add` asks the API which leads of an ambiguously failed request (5xx, dropped
    connection, timeout) are in the target; a lead it cannot ask about (no email to look it up
    by) or whose lookup failed ends `failed` with this error. Check the target before sending
    such a lead again: it may be there already.
    """


class ChunkCancelledError(OutcomeUnknownError):
    """A bulk request was cancelled in flight: the API may or may not have applied it.

    With a journal (`bulk_add(..., journal=...)`), running the same import again looks its
    leads up before sending any of them again.
    """


class BulkImportError(InstantlyError):
    """The caller's own code (the input being read, or `on_progress`) raised during a bulk import.

    The import stopped there: nothing more was read or sent, and the requests already in flight
    were let finish, so `result` (a `BulkAddResult`) accounts for every lead read. The original
    exception is `__cause__`.
    """

    result: BulkAddResult

    def __init__(self, result: BulkAddResult, cause: BaseException) -> None:
        where = result.stopped_in or "the caller's code"
        super().__init__(
            f"bulk import stopped by {type(cause).__name__} from {where}: {cause}; "
            f"the result so far is in .result: {result}"
        )
        self.result = result


class BulkCancelledError(asyncio.CancelledError):
    """A bulk import was cancelled; `result` says which inputs were sent and which were not.

    It is an `asyncio.CancelledError`, so cancellation goes on up the task as usual; catch it
    where the result is wanted (e.g. to print what was sent before Ctrl-C).
    """

    result: BulkAddResult

    def __init__(self, result: BulkAddResult) -> None:
        """Describe a cancelled import.

        Args:
            result: The import's result at the moment it was cancelled.
        """
        super().__init__(f"bulk import cancelled: {result}")
        self.result = result


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def __getattr__(name: str) -> Any:
    # StructureError lives with the converter, which needs the models: importing it here eagerly
    # would make `import instantly.errors` load them all.
    if name == "StructureError":
        from ._convert import StructureError

        return StructureError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
