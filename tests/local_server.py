"""Real servers on 127.0.0.1 for the tests of what leaves the client and what comes back.

`LocalServer` is an aiohttp.web app answering every path with one handler and recording each
request as it arrived (raw path, method, headers, body). `RawServer` speaks bytes over TCP, for
answers that aiohttp.web refuses to write (a malformed status line).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.define
class Seen:
    """One request as the server got it."""

    method: str
    raw_path: str  # as sent, before any decoding: what the client really asked for
    headers: dict[str, str]
    body: bytes


async def _empty(request: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


class LocalServer:
    """`async with LocalServer(handler) as server:` serves `server.url`; `server.seen` records."""

    def __init__(self, handler: Handler = _empty) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _record(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(request.method, request.raw_path, dict(request.headers), await request.read())
        )
        return await self.handler(request)

    async def __aenter__(self) -> LocalServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class RawServer:
    """Reads one request per connection and writes `answer` (bytes) back, then closes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.url = ""
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            writer.write(self.answer)
            await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
