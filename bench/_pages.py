"""A server that does no work: `POST /api/v2/leads/list` answered with precomputed page bytes.

`python -m bench._pages --port 0 --distinct 20` prints `listening on URL` and answers every
`leads/list` with the next of `distinct` pages of 100 full Leads (the bench's own, as
`GET /leads/{id}` returns them), cycling, with a cursor that names the next page. What a client
measures against it is its own receive path (transport, JSON, structure, pagination): the server
only joins the page's bytes to its cursor. `static_pages_server()` runs it in its own process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ._proc import Mock, server_process

__all__ = ["PAGE", "main", "static_pages_server"]

PAGE = 100
_ITEMS_KEY = b'{"items":'


def _pages(distinct: int) -> list[bytes]:
    from ._leads import full_leads

    leads = full_leads(distinct * PAGE)
    return [
        json.dumps(leads[i : i + PAGE], separators=(",", ":")).encode()
        for i in range(0, len(leads), PAGE)
    ]


def main(argv: list[str]) -> None:
    import asyncio

    from aiohttp import web

    parser = argparse.ArgumentParser(prog="python -m bench._pages")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--distinct", type=int, default=20)
    args = parser.parse_args(argv)
    items = _pages(args.distinct)

    async def list_leads(request: web.Request) -> web.Response:
        cursor = json.loads(await request.read() or b"{}").get("starting_after")
        index = int(cursor[1:]) if cursor else 0
        tail = b',"next_starting_after":"c%d"}' % (index + 1)
        body = _ITEMS_KEY + items[index % len(items)] + tail
        return web.Response(body=body, content_type="application/json")

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/api/v2/leads/list", list_leads)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    with suppress(KeyboardInterrupt):
        asyncio.run(serve())


@contextmanager
def static_pages_server(distinct: int = 20) -> Iterator[Mock]:
    """Run the server in its own process; yield it (`.url`, `.cpu_s()`)."""
    command = [sys.executable, "-m", "bench._pages", "--distinct", str(distinct)]
    with server_process(command) as server:
        yield server


if __name__ == "__main__":
    main(sys.argv[1:])
