"""Cursor pagination: one loop over pages, whatever carries the cursor.

The API pages with an opaque cursor (`starting_after`), sent in the query string by GET lists
and in the JSON body by `POST /api/v2/leads/list`. The caller's `fetch_page` knows which; this
module only walks the pages: `paginate` item by item (what `client.leads.list()` returns),
`Page.get_next_page()` page by page, and `SyncPage` the same for the blocking client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import attrs

from .errors import PaginationError

__all__ = ["Page", "Pager", "SyncPage", "paginate"]

T = TypeVar("T")


def _check_cursor(seen: set[str], items: list[T], cursor: str | None) -> None:
    """Refuse a page that hands back a cursor already given: it would page for ever.

    Checked before any item of the page is yielded: such a page is a page already served (or a
    server ignoring the cursor), and its items would reach the caller twice. An empty page ends
    the walk whatever its cursor, so it is not checked.
    """
    if items and cursor:
        if cursor in seen:
            raise PaginationError(
                f"the API returned the cursor {cursor!r} twice, so the list would never end; "
                "the listing may have changed while paging: start over, or narrow the filters"
            )
        seen.add(cursor)


def _last_page_error() -> PaginationError:
    return PaginationError(
        "this is the last page: there is no next page to get (check has_next_page() first)"
    )


@attrs.define(slots=True)
class _Items(Generic[T]):
    """What a page holds, async or blocking: its items and the cursor of the next page."""

    items: list[T]
    """The items of this page."""
    next_starting_after: str | None = None
    """The cursor of the next page; None (or empty) when the API says this is the last page."""

    @property
    def has_more(self) -> bool:
        """Whether another page may follow (the API can still answer it with no items)."""
        return bool(self.items) and bool(self.next_starting_after)

    def has_next_page(self) -> bool:
        """Whether `get_next_page()` has a page to fetch.

        Returns:
            True when this page has items and a cursor (the next page may still be empty).
        """
        return self.has_more


@attrs.define(slots=True)
class Page(_Items[T]):
    """One page of a list: its items, and the cursor that fetches the next page.

    page = await client.leads.list_page(campaign=campaign_id, limit=100)
    while True:
        handle(page.items)
        if not page.has_next_page():
            break
        page = await page.get_next_page()
    """

    _fetch_next: Callable[[str], Awaitable[Page[T]]] | None = attrs.field(
        default=None, kw_only=True, repr=False, eq=False, alias="fetch_next"
    )
    _seen: set[str] = attrs.field(factory=set, kw_only=True, repr=False, eq=False, alias="seen")

    async def get_next_page(self) -> Page[T]:
        """Fetch the page after this one, with the same arguments and per-call options.

        Returns:
            The next page.

        Raises:
            PaginationError: this is the last page, or the API handed back a cursor it had
                already given in this walk (which would page for ever).
            APIError: the API answered the request with an error.
        """
        cursor = self.next_starting_after
        if self._fetch_next is None or not self.has_more or cursor is None:
            raise _last_page_error()
        if not self._seen:
            self._seen.add(cursor)
        page = await self._fetch_next(cursor)
        _check_cursor(self._seen, page.items, page.next_starting_after)
        page._seen = self._seen
        return page


@attrs.define(slots=True)
class SyncPage(_Items[T]):
    """One page of a list, from the blocking client (`Instantly`): `Page` without the awaits."""

    _fetch_next: Callable[[], SyncPage[T]] | None = attrs.field(
        default=None, kw_only=True, repr=False, eq=False, alias="fetch_next"
    )

    def get_next_page(self) -> SyncPage[T]:
        """Fetch the page after this one, with the same arguments and per-call options.

        Returns:
            The next page.

        Raises:
            PaginationError: this is the last page, or the API repeated a cursor.
            APIError: the API answered the request with an error.
        """
        if self._fetch_next is None or not self.has_more:
            raise _last_page_error()
        return self._fetch_next()


class Pager(Generic[T]):
    """Every item of every page, fetched one page at a time as the items are used up.

    What `paginate` returns: an async iterator (`async for item in pager`), closeable like an
    async generator (`aclose()`), which also hands out a page's items at once (`next_batch`), so
    that the blocking client crosses threads once per page rather than once per item.
    """

    __slots__ = (
        "_ahead",
        "_cursor",
        "_done",
        "_fetch_page",
        "_index",
        "_items",
        "_left",
        "_read_ahead",
        "_seen",
    )

    def __init__(
        self,
        fetch_page: Callable[[str | None], Awaitable[Page[T]]],
        max_items: int | None,
        *,
        read_ahead: bool = False,
    ) -> None:
        self._fetch_page = fetch_page
        self._read_ahead = read_ahead
        # The next page, asked for while this one is used: (its cursor, the request in flight).
        self._ahead: tuple[str, asyncio.Future[Page[T]]] | None = None
        self._cursor: str | None = None
        self._seen: set[str] = set()
        self._left = max_items
        self._done = max_items is not None and max_items <= 0
        self._items: list[T] = []
        self._index = 0

    def __aiter__(self) -> Pager[T]:
        return self

    async def __anext__(self) -> T:
        while self._index >= len(self._items):
            batch = await self.next_batch()
            if batch is None:
                raise StopAsyncIteration
            # Only this page's items stay referenced while the consumer works through them.
            self._items, self._index = batch, 0
        item = self._items[self._index]
        self._index += 1
        return item

    async def next_batch(self) -> list[T] | None:
        """The items of the next page (at most what `max_items` leaves); None after the last.

        Returns:
            A list of items (possibly empty), or None when the walk is over.

        Raises:
            PaginationError: the API handed back a cursor it had already given.
        """
        if self._done:
            return None
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == self._cursor:
            page = await ahead[1]
        else:
            if ahead is not None:
                ahead[1].cancel()
            page = await self._fetch_page(self._cursor)
        cursor = page.next_starting_after
        items = page.items
        del page
        try:
            _check_cursor(self._seen, items, cursor)
        except PaginationError:
            self._done = True
            raise
        # The last page may still carry a cursor; the empty page it leads to ends the walk.
        if not items or not cursor:
            self._done = True
        self._cursor = cursor
        left = self._left
        if left is not None:
            if len(items) >= left:
                items = items[:left]
                self._done = True
            self._left = left - len(items)
        if self._read_ahead and not self._done and cursor:
            # The next page is asked for before this one is used: the server works on it while
            # the caller works through these items. One page ahead at most, and only when the
            # walk will want it (not after the last page, nor once max_items is reached).
            task = asyncio.ensure_future(self._fetch_page(cursor))
            task.add_done_callback(_leave_error_to_awaiter)
            self._ahead = (cursor, task)
            await asyncio.sleep(0)  # lets the request go out before the items are used
        return items

    async def aclose(self) -> None:
        """Stop: no page is fetched after this (a page asked for ahead is cancelled)."""
        self._done = True
        self._items, self._index = [], 0
        self._cancel_ahead()

    def _cancel_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and not ahead[1].done():
            ahead[1].cancel()

    def __del__(self) -> None:
        # Breaking out of `async for` closes nothing: the page asked for ahead is cancelled
        # when the pager goes.
        self._cancel_ahead()


def _leave_error_to_awaiter(task: asyncio.Future[Any]) -> None:
    # A page asked for ahead fails where the walk reaches it (its `await` raises); if the walk
    # never does, the error is read here so that asyncio does not report it as lost.
    if not task.cancelled():
        task.exception()


def paginate(
    fetch_page: Callable[[str | None], Awaitable[Page[T]]],
    *,
    max_items: int | None = None,
    read_ahead: bool = False,
) -> Pager[T]:
    """Every item of every page, fetching a page only when the previous one is used up.

    Args:
        fetch_page: Fetches the page after the given cursor (None for the first page).
        max_items: Stop after this many items; None for all of them.
        read_ahead: Ask for the next page as soon as a page arrives, so that the server works on
            it while the caller uses this one (one request more if the caller stops early).

    Returns:
        An async iterator of the items (a `Pager`). Iterating it raises PaginationError if the
        API hands back a cursor it already gave, which would otherwise loop for ever.
    """
    return Pager(fetch_page, max_items, read_ahead=read_ahead)
