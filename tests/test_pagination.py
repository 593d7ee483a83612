from __future__ import annotations

import contextlib

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
