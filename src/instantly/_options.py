"""Per-call options: what every generated method takes besides the operation's own arguments.

    lead = await client.leads.get(lead_id, timeout=5.0, extra_headers={"X-Trace": "1"})

They apply to that one call only (the client's own settings stay as they were); for a set of
calls, `client.with_options(...)` makes a client with other defaults that shares the session,
the rate limiter and the counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from ._types import Unset

__all__ = ["RequestOptions", "check_headers", "check_max_retries", "check_timeout"]


class RequestOptions(TypedDict, total=False):
    """The keyword-only options of every generated method, for that call only.

    Every method of every namespace (`client.leads.get`, `client.campaigns.list`, ...; the
    blocking `Instantly` client's too) takes these after its own arguments. Left out, an option
    keeps the client's setting. As a `TypedDict`, a set of them can be kept and passed along:

        opts: RequestOptions = {"timeout": 5.0, "max_retries": 1}
        lead = await client.leads.get(lead_id, **opts)

    The deadline: `timeout` bounds the whole call, every attempt, the backoff between them and
    a pause asked by a 429 included; a call that cannot finish in time raises at once instead of
    waiting for nothing (a Retry-After longer than the time left raises the `RateLimitError`;
    a retry that would start after the deadline is not made). What one attempt may take on its
    own is the client's `attempt_timeout` (None: whatever is left of the deadline).

    Time spent queued at the client's rate gate does not count: the request has not started,
    and a batch of thousands of calls (a bulk import, `asyncio.gather` over many ids) is paced
    there by design, for minutes if the limit says so; counting it would fail requests that were
    never sent. To bound the wait at the gate too, wrap the call in `asyncio.timeout(...)`:
    cancelling a call is safe.

    Attributes:
        extra_headers: Headers added to the request, or replacing the SDK's own (`Accept` for a
            CSV download, a tracing or workspace header). `Authorization` is refused: the key
            belongs to the client.
        extra_query: Query parameters added to the request, as given (for a parameter the spec
            does not know yet); they replace a parameter of the same name.
        extra_body: Fields merged into the top level of the JSON body (for a field the spec does
            not know yet); they replace a field of the same name. Only for operations that send
            a body.
        timeout: Seconds the whole call may take, retries included (see above); None for no
            deadline. Left out: the client's `timeout` (30 s by default).
        max_retries: How many times a failed attempt may be repeated for this call (429 always,
            5xx and dropped connections only where repeating is safe); 0 for no retry.
    """

    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, object] | None
    extra_body: Mapping[str, object] | None
    timeout: float | Unset | None
    max_retries: int | None


_REFUSED_HEADERS = frozenset({"authorization"})


def check_headers(headers: Mapping[str, str], name: str = "extra_headers") -> dict[str, str]:
    """A copy of `headers` that aiohttp can send, or ValueError/TypeError naming what is wrong.

    Args:
        headers: Header names and values.
        name: The argument's name, for the message.

    Returns:
        The headers as a plain dict, in the order given.

    Raises:
        TypeError: `headers` is not a mapping of strings to strings.
        ValueError: a header is `Authorization`, or a name or value holds a line break.
    """
    if not isinstance(headers, Mapping):
        raise TypeError(f"{name} must be a mapping of header names to values")
    checked: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"{name}: header names and values must be str, got {key!r}: {type(value).__name__}"
            )
        if key.lower() in _REFUSED_HEADERS:
            raise ValueError(
                f"{name} must not set {key}: the API key belongs to the client; make another "
                "client (AsyncInstantly(api_key=...)) for another workspace"
            )
        if any(c in key or c in value for c in "\r\n\0") or not key or ":" in key:
            # Never quoted: a header value may hold a secret of its own.
            raise ValueError(f"{name}: header {key!r} has a line break or is not a valid name")
        checked[key] = value
    return checked


def check_timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """`timeout` as a float, or None; ValueError unless it is a positive number of seconds.

    Args:
        timeout: Seconds, or None for no bound.
        name: The argument's name, for the message.

    Returns:
        The seconds as a float, or None.

    Raises:
        ValueError: `timeout` is not a positive number.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"{name} must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


def check_max_retries(max_retries: int, name: str = "max_retries") -> int:
    """`max_retries` if it is a whole number of 0 or more, else ValueError.

    Args:
        max_retries: How many times a failed attempt may be repeated.
        name: The argument's name, for the message.

    Returns:
        The number, unchanged.

    Raises:
        ValueError: it is not an int of 0 or more.
    """
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"{name} must be an int of 0 or more, got {max_retries!r}")
    return max_retries
