"""Cursor pagination: one loop over pages, whatever carries the cursor.

The API pages with an opaque cursor (`starting_after`), sent in the query string by GET lists
and in the JSON body by `POST /api/v2/leads/list`. The caller's `fetch_page` knows which; this
module only walks the pages.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

import attrs

from .errors import PaginationError

__all__ = ["Page", "paginate"]

T = TypeVar("T")


@attrs.define(slots=True)
class Page(Generic[T]):
    """One page of a list: its items, and the cursor that fetches the next page."""

    items: list[T]
    """The items of this page."""
    next_starting_after: str | None = None
    """The cursor of the next page; None (or empty) when the API says this is the last page."""

    @property
    def has_more(self) -> bool:
        """Whether another page may follow (the API can still answer it with no items)."""
        return bool(self.items) and bool(self.next_starting_after)


async def paginate(
    fetch_page: Callable[[str | None], Awaitable[Page[T]]],
    *,
    max_items: int | None = None,
) -> AsyncGenerator[T, None]:
    """Yield every item of every page, fetching a page only when the previous one is used up.

    fetch_page: fetches the page after the given cursor (None for the first page).
    max_items: stop after this many items; None for all of them.

    Raises PaginationError if the API hands back a cursor it already gave, which would otherwise
    loop forever.
    """
    if max_items is not None and max_items <= 0:
        return
    seen: set[str] = set()
    cursor: str | None = None
    count = 0
    while True:
        page = await fetch_page(cursor)
        cursor = page.next_starting_after
        items = page.items
        # Only this page's items stay referenced while the consumer works through them.
        del page
        # Checked before any item of the page is yielded: a page that hands back a cursor
        # already given is a page already served (or a server ignoring the cursor), and its
        # items would reach the caller twice.
        if items and cursor:
            if cursor in seen:
                raise PaginationError(
                    f"the API returned the cursor {cursor!r} twice, so the list would never end; "
                    "the listing may have changed while paging: start over, or narrow the filters"
                )
            seen.add(cursor)
        for item in items:
            yield item
            count += 1
            if max_items is not None and count >= max_items:
                return
        # The last page may still carry a cursor; the empty page it leads to ends the walk.
        if not items or not cursor:
            return
