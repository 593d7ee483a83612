"""`async for` over a list asks for the next page while the current one is read, and only then.

Against a server on 127.0.0.1 that answers `GET /api/v2/lead-lists` from a table of pages.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from instantly import AsyncInstantly, NotFoundError


def _list(i: int) -> dict[str, Any]:
    return {
        "id": f"list-{i}",
        "organization_id": "org",
        "name": f"List {i}",
        "timestamp_created": "2026-08-21T10:00:00.000Z",
    }


class Pages:
    """A server of pages of lead lists: `pages[cursor]` answers the request for that cursor."""

    def __init__(self, pages: dict[str | None, Any]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []
        self.arrived: dict[str | None, asyncio.Event] = {c: asyncio.Event() for c in pages}
        self.release: dict[str | None, asyncio.Event] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        cursor = request.query.get("starting_after")
        self.asked.append(cursor)
        self.arrived[cursor].set()
        if cursor in self.release:
            await self.release[cursor].wait()
        answer = self.pages[cursor]
        if isinstance(answer, int):
            return web.json_response(
                {"statusCode": answer, "error": "Not Found", "message": "gone"}, status=answer
            )
        return web.json_response(answer)


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    servers: list[TestServer] = []
    clients: list[AsyncInstantly] = []

    async def start(pages: Pages) -> AsyncInstantly:
        app = web.Application()
        app.router.add_get("/api/v2/lead-lists", pages.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        client = AsyncInstantly(
            api_key="test-key", base_url=str(server.make_url("")), rate_limit=None, max_retries=0
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.aclose()
    for server in servers:
        await server.close()


async def test_the_next_page_is_asked_for_before_the_walk_needs_it(serve: Any) -> None:
    pages = Pages(
        {
            None: {"items": [_list(0), _list(1)], "next_starting_after": "c1"},
            "c1": {"items": [_list(2)]},
        }
    )
    client = await serve(pages)
    walk = client.lead_lists.list(limit=2)
    first = [await anext(walk), await anext(walk)]
    assert [x.id for x in first] == ["list-0", "list-1"]
    # The walk has not asked for a third item, yet the server is already working on page 2.
    await asyncio.wait_for(pages.arrived["c1"].wait(), timeout=10)
    rest = [x.id async for x in walk]
    assert rest == ["list-2"]
    assert pages.asked == [None, "c1"]
    assert client.stats.requests_sent == 2


async def test_no_page_is_asked_for_beyond_the_last(serve: Any) -> None:
    pages = Pages({None: {"items": [_list(0), _list(1)]}})
    client = await serve(pages)
    assert [x.id async for x in client.lead_lists.list(limit=2)] == ["list-0", "list-1"]
    assert client.stats.requests_sent == 1


async def test_no_page_is_asked_for_beyond_max_items(serve: Any) -> None:
    pages = Pages(
        {
            None: {"items": [_list(0), _list(1)], "next_starting_after": "c1"},
            "c1": {"items": [_list(2)]},
        }
    )
    client = await serve(pages)
    walked = [x.id async for x in client.lead_lists.list(limit=2, max_items=2)]
    assert walked == ["list-0", "list-1"]
    assert client.stats.requests_sent == 1
    assert pages.asked == [None]


async def test_an_error_of_the_next_page_comes_where_the_walk_reaches_it(serve: Any) -> None:
    pages = Pages({None: {"items": [_list(0), _list(1)], "next_starting_after": "c1"}, "c1": 404})
    client = await serve(pages)
    walked: list[str] = []
    with pytest.raises(NotFoundError):
        async for item in client.lead_lists.list(limit=2):
            walked.append(item.id)
    assert walked == ["list-0", "list-1"]


async def test_a_walk_ended_early_cancels_the_page_asked_for_ahead(serve: Any) -> None:
    pages = Pages(
        {
            None: {"items": [_list(0), _list(1)], "next_starting_after": "c1"},
            "c1": {"items": [_list(2)]},
        }
    )
    pages.release["c1"] = asyncio.Event()  # page 2 stays in flight until the test says
    client = await serve(pages)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        async with aclosing(client.lead_lists.list(limit=2)) as walk:
            async for item in walk:
                assert item.id == "list-0"
                break
        await asyncio.wait_for(pages.arrived["c1"].wait(), timeout=10)
        ahead = [t for t in asyncio.all_tasks() if "_send" in repr(t.get_coro())]
        await asyncio.gather(*ahead, return_exceptions=True)
        assert all(t.cancelled() for t in ahead)
        pages.release["c1"].set()
        await client.aclose()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert reported == []
