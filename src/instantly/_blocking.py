"""The machinery of the blocking client: a private event loop in a worker thread, and wrappers
that run the async namespaces' methods on it.

`Instantly` (in `_blocking_client.py`) is an `AsyncInstantly` driven from other threads. Its
loop runs in a daemon thread of its own, so it works the same in a script, in a thread pool,
and where an event loop already runs in the calling thread (Jupyter, an async web framework):
the caller's thread only waits for the result. Every blocking method is the async method of the
same name, wrapped by `blocking`, `blocking_page` or `blocking_items` (the generated
`_generated/blocking.py` lists them): the signature is carried over through ParamSpec, so a type
checker sees the async method's arguments and the blocking result type.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._pagination import Page, Pager, SyncPage
from ._types import MethodProxy
from .errors import ClientClosedError, EventLoopError

if TYPE_CHECKING:
    from typing import Self

__all__ = ["BlockingResource", "Portal", "blocking", "blocking_items", "blocking_page"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_CLOSED = "this Instantly client is closed; create a new one to send requests"


class Portal:
    """A private event loop, running in a daemon thread; `run` hands it a coroutine and waits.

    The thread starts on the first call and stops at `close()`. Any number of threads may call
    `run` at once: the calls run concurrently on the loop, as tasks of one async client would.
    """

    def __init__(self, name: str = "instantly-blocking") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._futures: set[concurrent.futures.Future[Any]] = set()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._loop else "not started"
        return f"<Portal {self._name} {state}>"

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    @property
    def started(self) -> bool:
        """Whether the loop's thread was started (by a first call)."""
        return self._loop is not None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise ClientClosedError(_CLOSED)
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=_serve, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def in_own_thread(self) -> bool:
        """Whether the caller runs on the portal's loop (where waiting on it would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        """Run `coro` on the loop and wait for its result, in the calling thread.

        Args:
            coro: The coroutine to run.

        Returns:
            What the coroutine returns.

        Raises:
            ClientClosedError: the portal is closed (or closed while the call ran).
            EventLoopError: called from the portal's own thread (a callback of the client
                calling the blocking client again), which would wait for itself.
        """
        loop = self._loop
        try:
            if loop is None or self._closed:
                loop = self._start()
            if self.in_own_thread():
                raise EventLoopError(
                    "the blocking client was called from its own event loop (from a callback "
                    "it runs, such as on_progress): there, call the async method instead "
                    "(client.leads.get -> await ...), or call from another thread"
                )
        except BaseException:
            coro.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        futures = self._futures
        futures.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            if self._closed:
                raise ClientClosedError(_CLOSED) from None
            raise
        except BaseException:
            if not future.done():  # interrupted while waiting (Ctrl-C): stop the call too
                future.cancel()
            raise
        finally:
            futures.discard(future)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start `coro` on the loop without waiting for it (a clean-up); dropped if closed."""
        loop = self._loop
        if loop is None or self._closed or loop.is_closed():
            coro.close()
            return
        asyncio.run_coroutine_threadsafe(coro, loop)

    def close(self) -> None:
        """Stop the loop and its thread; calls still waiting end with ClientClosedError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join()
        for future in list(self._futures):
            future.cancel()


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class BlockingResource:
    """The base of the blocking client's namespaces: an async namespace and the portal."""

    def __init__(self, resource: Any, portal: Portal) -> None:
        """Wrap an async namespace.

        Args:
            resource: The async client's namespace (or its `with_raw_response`).
            portal: The loop the calls run on.
        """
        self._async = resource
        self._portal = portal

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class _Wrapper(MethodProxy, Generic[P, R]):
    """A blocking method: the async method of the same name, run on the portal."""

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(self, instance: BlockingResource, owner: type) -> Callable[P, R]: ...

    def __get__(self, instance: BlockingResource | None, owner: type) -> Any:
        if instance is None:
            return self
        method = getattr(instance._async, self._name)
        portal = instance._portal

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(portal, method, args, kwargs)

        return call

    def _call(
        self, portal: Portal, method: Callable[..., Any], args: Any, kwargs: Any
    ) -> Any:  # pragma: no cover - every wrapper overrides it
        raise NotImplementedError


class _Blocking(_Wrapper[P, R]):
    def _call(self, portal: Portal, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        return portal.run(method(*args, **kwargs))


class _BlockingPage(_Wrapper[P, SyncPage[T]]):
    def _call(self, portal: Portal, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        return sync_page(portal, portal.run(method(*args, **kwargs)))


class _BlockingItems(_Wrapper[P, Generator[T, None, None]]):
    def _call(self, portal: Portal, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        # Called here, in the caller's thread: the arguments are checked before any request,
        # so a bad one raises at the call, not at the first step of the loop.
        return iterate(portal, method(*args, **kwargs))


def blocking(method: Callable[Concatenate[Any, P], Awaitable[R]]) -> _Blocking[P, R]:
    """Declare the blocking form of an async method that returns one result.

    Args:
        method: The async namespace's method (e.g. `LeadsResource.get`).

    Returns:
        A descriptor: on a `BlockingResource`, a function taking the same arguments that runs
        the call on the client's loop and returns its result.
    """
    return _Blocking(method)


def blocking_page(method: Callable[Concatenate[Any, P], Awaitable[Page[T]]]) -> _BlockingPage[P, T]:
    """Declare the blocking form of a `..._page` method: it returns a `SyncPage`.

    Args:
        method: The async namespace's page method (e.g. `LeadsResource.list_page`).

    Returns:
        A descriptor, as for `blocking`, whose result is a `SyncPage`.
    """
    return _BlockingPage(method)


def blocking_items(
    method: Callable[Concatenate[Any, P], AsyncIterator[T]],
) -> _BlockingItems[P, T]:
    """Declare the blocking form of a method that returns an async iterator (`list`, `watch`).

    Args:
        method: The async namespace's method (e.g. `LeadsResource.list`).

    Returns:
        A descriptor, as for `blocking`, whose result is a generator that fetches lazily
        (`close()` it, or break out of its loop, to stop).
    """
    return _BlockingItems(method)


def sync_page(portal: Portal, page: Page[T]) -> SyncPage[T]:
    """The blocking twin of `page`: its `get_next_page()` runs the async one on the portal."""
    return SyncPage(
        page.items,
        page.next_starting_after,
        fetch_next=lambda: sync_page(portal, portal.run(page.get_next_page())),
    )


_END: Any = object()


async def _next(source: AsyncIterator[T]) -> T:
    try:
        return await anext(source)
    except StopAsyncIteration:
        return _END  # type: ignore[no-any-return]


def iterate(portal: Portal, source: AsyncIterator[T]) -> Generator[T, None, None]:
    """A plain iterator over an async one, each step run on the portal.

    A `Pager` (what `list` methods return) is read a page at a time, so the threads meet once
    per page; any other async iterator (`emails.watch`) once per item. Closing the iterator
    (a `break`, or its collection) closes the async one.

    Args:
        portal: The loop the steps run on.
        source: The async iterator.

    Returns:
        A generator of the same items.
    """
    if isinstance(source, Pager):
        return _pages(portal, source)
    return _items(portal, source)


def _pages(portal: Portal, source: Pager[T]) -> Generator[T, None, None]:
    try:
        while (batch := portal.run(source.next_batch())) is not None:
            yield from batch
    finally:
        _close(portal, source)  # in the loop's thread: it cancels a page asked for ahead


def _items(portal: Portal, source: AsyncIterator[T]) -> Generator[T, None, None]:
    try:
        while (item := portal.run(_next(source))) is not _END:
            yield item
    finally:
        _close(portal, source)


def _close(portal: Portal, source: AsyncIterator[Any]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        if portal.in_own_thread() or portal.closed:
            portal.submit(aclose())
        else:
            portal.run(aclose())
