"""Raw responses: `client.<namespace>.with_raw_response.<method>(...)` returns the answer itself.

    raw = await client.leads.with_raw_response.get(lead_id)
    raw.status, raw.headers["x-request-id"], raw.elapsed
    lead = raw.parse()                     # the Lead that `client.leads.get` returns

The call is the same one (arguments checked, rate gate, retries, typed errors for an error
answer); only what comes back differs. Each namespace's `with_raw_response` is a generated class
with one attribute per operation that sends one request (`list` walks many pages, so it has
none; `list_page` has one), typed so that a type checker knows `raw.parse()` is a `Lead`.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from multidict import CIMultiDict, CIMultiDictProxy

from . import _json
from ._types import MethodProxy

if TYPE_CHECKING:
    from typing import Self

    from ._resource import Resource
    from ._transport import _Credentials

__all__ = ["RawResponse", "RawResponses", "raw_response"]

T = TypeVar("T")
P = ParamSpec("P")

_NOT_PARSED: Any = object()


class RawResponse(Generic[T]):
    """One success answer of the API as it came: status, headers, body, and its model on demand.

    An error answer still raises its `APIError` (which carries the status, the body and the
    request id); a raw response is always a success. Its repr shows no header and no body, and
    the API key, should the server echo it, is scrubbed from the headers, the text and the JSON,
    as from everything else the SDK hands back.
    """

    __slots__ = (
        "_credentials",
        "_data",
        "_parse",
        "_parsed",
        "attempts",
        "content",
        "elapsed",
        "headers",
        "method",
        "path",
        "request_id",
        "status",
    )

    status: int
    """The HTTP status code (2xx)."""
    headers: CIMultiDictProxy[str]
    """The answer's headers (case-insensitive, read-only)."""
    request_id: str | None
    """The answer's request id header (`x-request-id`, else `cf-ray`), for support tickets."""
    elapsed: datetime.timedelta
    """How long the last attempt took, from sending the request to reading the whole answer."""
    attempts: int
    """How many times the request was sent (1 unless it was retried)."""
    method: str
    """The HTTP method of the request."""
    path: str
    """The request path, without the query string."""
    content: bytes
    """The body's bytes as they came (empty for no body)."""

    def __init__(
        self,
        *,
        status: int,
        headers: CIMultiDictProxy[str],
        content: bytes,
        data: object,
        request_id: str | None,
        elapsed: float,
        attempts: int,
        method: str,
        path: str,
        credentials: _Credentials,
    ) -> None:
        """Made by the pipeline; users get one from a `with_raw_response` method.

        Args:
            status: The HTTP status code.
            headers: The answer's headers, the key already scrubbed from them.
            content: The body's bytes.
            data: The body as the normal call decodes it (JSON data, text, bytes or None).
            request_id: The answer's request id, scrubbed.
            elapsed: Seconds the last attempt took.
            attempts: How many times the request was sent.
            method: The HTTP method.
            path: The request path.
            credentials: What scrubs the key from the text and the JSON.
        """
        self.status = status
        self.headers = headers
        self.content = content
        self._data = data
        self.request_id = request_id
        self.elapsed = datetime.timedelta(seconds=elapsed)
        self.attempts = attempts
        self.method = method
        self.path = path
        self._credentials = credentials
        self._parse: Callable[[object], T] | None = None
        self._parsed: T = _NOT_PARSED

    def __repr__(self) -> str:
        return (
            f"<RawResponse {self.status} {self.method} {self.path} "
            f"request_id={self.request_id!r} {len(self.content)} bytes>"
        )

    def text(self) -> str:
        """The body as text (UTF-8 unless the answer named another charset).

        Returns:
            The decoded body, with the API key scrubbed out should the server have echoed it.
        """
        data = self._data
        text = data if isinstance(data, str) else self.content.decode("utf-8", errors="replace")
        return self._credentials.scrub(text) if self._credentials.leaks(text) else text

    def json(self) -> Any:
        """The body decoded as JSON.

        Returns:
            The JSON data (dicts, lists, strings, numbers, None), the key scrubbed from strings.

        Raises:
            ValueError: the body is not JSON (a file download; use `content` or `text()`).
        """
        data = self._data
        if isinstance(data, str | bytes) or (data is None and self.content):
            data = _json.loads(self.content)  # raises ValueError for a body that is not JSON
        if self._credentials.leaks(self.content.decode("utf-8", errors="replace")):
            return self._credentials.scrub_value(data)
        return data

    def parse(self) -> T:
        """The answer as the method without `with_raw_response` returns it (a model, a Page).

        Decoded on the first call and kept.

        Returns:
            The method's return value, e.g. a `Lead` for `leads.with_raw_response.get`.
        """
        if self._parsed is _NOT_PARSED:
            parse = self._parse
            self._parsed = parse(self._data) if parse is not None else self._data  # type: ignore[assignment]
        return self._parsed

    def _then(self, step: Callable[[Any], Any]) -> RawResponse[Any]:
        """Add a step to how `parse()` builds the result (the resource that made the call knows:
        the model, then the Page around it)."""
        before = self._parse
        self._parse = step if before is None else (lambda data: step(before(data)))
        return self


def scrubbed_headers(
    headers: CIMultiDictProxy[str], credentials: _Credentials
) -> CIMultiDictProxy[str]:
    """The answer's headers with the key scrubbed from every value (a copy only if needed)."""
    if not any(credentials.leaks(value) for value in headers.values()):
        return headers
    clean: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        clean.add(name, credentials.scrub(value))
    return CIMultiDictProxy(clean)


class RawResponses:
    """The base of every generated `...WithRawResponse` class: the methods of one namespace,
    each returning a `RawResponse` instead of its model."""

    __slots__ = ("_resource",)

    def __init__(self, resource: Resource) -> None:
        """Bind to a namespace of a client.

        Args:
            resource: The namespace (`client.leads`); its raw twin sends the calls.
        """
        self._resource = resource._raw_twin()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class _RawMethod(MethodProxy, Generic[P, T]):
    """One operation of a `with_raw_response` namespace: the namespace's method of the same
    name, called on the raw twin of the namespace (whose pipeline hands back the answer)."""

    def __init__(self, method: Callable[Concatenate[Any, P], Awaitable[T]]) -> None:
        super().__init__(method)  # typed here, so that P and T are the method's

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(
        self, instance: RawResponses, owner: type
    ) -> Callable[P, Awaitable[RawResponse[T]]]: ...

    def __get__(self, instance: RawResponses | None, owner: type) -> Any:
        if instance is None:
            return self
        return getattr(instance._resource, self._name)

    def __call__(
        self, instance: RawResponses, /, *args: P.args, **kwargs: P.kwargs
    ) -> Awaitable[RawResponse[T]]:
        method: Callable[P, Awaitable[RawResponse[T]]] = getattr(instance._resource, self._name)
        return method(*args, **kwargs)


def raw_response(method: Callable[Concatenate[Any, P], Awaitable[T]]) -> _RawMethod[P, T]:
    """Declare, in a generated `...WithRawResponse` class, the raw form of a namespace's method.

    Args:
        method: The namespace's method (e.g. `LeadsResource.get`); its signature is kept.

    Returns:
        A descriptor: on an instance, the same method returning `RawResponse[its result]`.
    """
    return _RawMethod(method)
