from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import attrs
import pytest

from instantly._pagination import Page, paginate
from instantly.errors import InstantlyError, PaginationError


class FakeList:
    """Serves pages keyed by cursor and records every fetch."""

    def __init__(self, pages: dict[str | None, Page[int]]) -> None:
        self.pages = pages
        self.fetched: list[str | None] = []

    async def __call__(self, cursor: str | None) -> Page[int]:
        self.fetched.append(cursor)
        return self.pages[cursor]


def three_pages() -> FakeList:
    return FakeList(
        {
            None: Page([1, 2, 3], "c1"),
            "c1": Page([4, 5, 6], "c2"),
            "c2": Page([7], None),
        }
    )


async def test_walks_all_pages() -> None:
    fetch = three_pages()
    assert [item async for item in paginate(fetch)] == [1, 2, 3, 4, 5, 6, 7]
    assert fetch.fetched == [None, "c1", "c2"]


async def test_fetches_the_next_page_only_when_needed() -> None:
    fetch = three_pages()
    seen = []
    async with contextlib.aclosing(paginate(fetch)) as items:
        async for item in items:
            seen.append(item)
            assert len(fetch.fetched) == (item - 1) // 3 + 1
    assert seen == [1, 2, 3, 4, 5, 6, 7]


async def test_early_break_sends_no_more_requests() -> None:
    fetch = three_pages()
    async with contextlib.aclosing(paginate(fetch)) as items:
        async for item in items:
            if item == 4:
                break
    assert fetch.fetched == [None, "c1"]


async def test_last_page_with_a_cursor_ends_on_the_empty_page() -> None:
    fetch = FakeList({None: Page([1, 2], "c1"), "c1": Page([], "c2")})
    assert [item async for item in paginate(fetch)] == [1, 2]
    assert fetch.fetched == [None, "c1"]


@pytest.mark.parametrize("cursor", [None, ""])
async def test_missing_or_empty_cursor_stops(cursor: str | None) -> None:
    fetch = FakeList({None: Page([1, 2], cursor)})
    assert [item async for item in paginate(fetch)] == [1, 2]
    assert fetch.fetched == [None]


async def test_empty_first_page() -> None:
    fetch = FakeList({None: Page([], "c1")})
    assert [item async for item in paginate(fetch)] == []
    assert fetch.fetched == [None]


async def test_repeated_cursor_raises_before_that_page_is_yielded() -> None:
    fetch = FakeList({None: Page([1], "c1"), "c1": Page([2], "c2"), "c2": Page([3], "c1")})
    seen = []
    with pytest.raises(PaginationError, match="'c1' twice"):
        async for item in paginate(fetch):
            seen.append(item)
    # The page that repeats a cursor is not trusted: none of its items reach the caller.
    assert seen == [1, 2]
    assert fetch.fetched == [None, "c1", "c2"]
    assert issubclass(PaginationError, InstantlyError)


async def test_a_server_ignoring_the_cursor_yields_nothing_twice() -> None:
    # Every request answers the first page again: the caller sees it once, then the error.
    fetch = FakeList({None: Page([1, 2], "c1"), "c1": Page([1, 2], "c1")})
    seen = []
    with pytest.raises(PaginationError):
        async for item in paginate(fetch):
            seen.append(item)
    assert seen == [1, 2]
    assert fetch.fetched == [None, "c1"]


async def test_a_repeated_cursor_on_the_empty_last_page_just_ends() -> None:
    fetch = FakeList({None: Page([1], "c1"), "c1": Page([], "c1")})
    assert [item async for item in paginate(fetch)] == [1]


@pytest.mark.parametrize(
    ("max_items", "expected", "fetches"),
    [
        (0, [], 0),
        (2, [1, 2], 1),
        (3, [1, 2, 3], 1),
        (4, [1, 2, 3, 4], 2),
        (100, list(range(1, 8)), 3),
    ],
)
async def test_max_items(max_items: int, expected: list[int], fetches: int) -> None:
    fetch = three_pages()
    assert [item async for item in paginate(fetch, max_items=max_items)] == expected
    assert len(fetch.fetched) == fetches


def test_page_has_more() -> None:
    assert Page([1], "c").has_more
    assert not Page([1], None).has_more
    assert not Page([1], "").has_more
    assert not Page([], "c").has_more
    assert Page([1]).next_starting_after is None


# --- page by page: Page.get_next_page() ---------------------------------------------------------


def linked(fetch: FakeList) -> Callable[[str], Awaitable[Page[int]]]:
    """`fetch` as a Page's fetch_next: each page it serves can fetch the one after it."""

    async def fetch_next(cursor: str) -> Page[int]:
        return attrs.evolve(await fetch(cursor), fetch_next=fetch_next)

    return fetch_next


async def test_get_next_page_walks_to_the_last_page() -> None:
    fetch = three_pages()
    page = attrs.evolve(fetch.pages[None], fetch_next=linked(fetch))
    items = list(page.items)
    while page.has_next_page():
        page = await page.get_next_page()
        items += page.items
    assert items == [1, 2, 3, 4, 5, 6, 7]
    assert fetch.fetched == ["c1", "c2"]
    with pytest.raises(PaginationError, match="last page"):
        await page.get_next_page()


async def test_get_next_page_refuses_a_cursor_it_was_given_before() -> None:
    fetch = FakeList({"c1": Page([2], "c2"), "c2": Page([3], "c1")})
    page = Page([1], "c1", fetch_next=linked(fetch))
    page = await page.get_next_page()
    with pytest.raises(PaginationError, match="'c1' twice"):
        await page.get_next_page()


async def test_a_page_made_by_hand_has_no_next_page_to_get() -> None:
    page = Page([1], "c1")
    assert page.has_next_page()  # by its data
    with pytest.raises(PaginationError):
        await page.get_next_page()
    assert Page([1], "c1") == Page([1], "c1", fetch_next=linked(three_pages()))
    assert "fetch_next" not in repr(Page([1], "c1"))


@pytest.mark.parametrize("namespace", ["leads", "lead_lists"])  # cursor in the body, the query
async def test_get_next_page_against_the_mock(namespace: str) -> None:
    from instantly.testing import MockInstantly

    async with MockInstantly(rate_limit=None) as mock:
        for i in range(5):
            if namespace == "leads":
                mock.state.add_lead(f"lead{i}@example.com")
            else:
                mock.state.add_lead_list(f"List {i}")
        client = mock.client()
        resource = getattr(client, namespace)
        page = await resource.list_page(limit=2, extra_headers={"X-Trace": "1"})
        sizes = [len(page.items)]
        while page.has_next_page():
            page = await page.get_next_page()
            sizes.append(len(page.items))
    assert sum(sizes) == 5
    assert sizes[:3] == [2, 2, 1]
