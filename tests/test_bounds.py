"""Bounds on answers: size (decoded bytes, decompression included) and JSON nesting depth.

Against real servers on 127.0.0.1, so that aiohttp's own reading and inflating is what is bounded.
"""

from __future__ import annotations

import functools
import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from local_server import LocalServer

from instantly import (
    AsyncInstantly,
    InstantlyError,
    ResponseTooDeepError,
    ResponseTooLargeError,
)
from instantly.errors import APIError

KEY = "sk-bounds-test-KEY-112358"
MiB = 1 << 20
LEAD = json.loads(
    (Path(__file__).parent / "fixtures" / "seeds" / "lead_page_list_leads.json").read_text()
)["items"][0]


@functools.cache
def deflate_bomb() -> bytes:
    """About 200 KB of deflate that inflates to 200 MiB of JSON-ish zeros."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(b"[" + bytes(MiB - 1))]
    parts += [packer.compress(bytes(MiB)) for _ in range(199)]
    return b"".join([*parts, packer.flush()])


def client_for(server: LocalServer, **options: object) -> AsyncInstantly:
    return AsyncInstantly(
        api_key=KEY, base_url=server.url, rate_limit=None, max_retries=0, **options
    )  # type: ignore[arg-type]


@pytest.fixture
async def bomb_server() -> AsyncIterator[LocalServer]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=deflate_bomb(),
            headers={"Content-Encoding": "deflate", "Content-Type": "application/json"},
        )

    async with LocalServer(handler) as server:
        yield server


def test_the_default_bound_is_64_mib() -> None:
    client = AsyncInstantly(api_key=KEY)
    assert client._transport._max_response_size == 64 * MiB
    with pytest.raises(ValueError, match="max_response_size must be positive"):
        AsyncInstantly(api_key=KEY, max_response_size=0)


async def test_a_deflate_bomb_costs_the_bound_not_its_inflated_size(
    bomb_server: LocalServer,
) -> None:
    assert len(deflate_bomb()) < 250_000
    async with client_for(bomb_server, max_response_size=4 * MiB) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError) as info:
                await client.leads.get("L1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    error = info.value
    assert isinstance(error, APIError) and isinstance(error, InstantlyError)
    assert error.limit == 4 * MiB
    assert error.status_code == 200
    assert "max_response_size (4 MiB)" in str(error)
    # 200 MiB if it were inflated whole; the bound plus aiohttp's buffers when it is not.
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_the_default_bound_stops_the_bomb_too(bomb_server: LocalServer) -> None:
    async with client_for(bomb_server) as client:
        with pytest.raises(ResponseTooLargeError, match="64 MiB"):
            await client.leads.get("L1")


async def test_an_endless_stream_stops_at_the_bound() -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b"[" * 65536
        try:
            while sent < 1024 * MiB:  # a guard for the test, far past any bound
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what this test wants
        return response

    async with LocalServer(endless) as server, client_for(server, max_response_size=MiB) as c:
        with pytest.raises(ResponseTooLargeError):
            await c.leads.get("L1")
    assert sent < 64 * MiB  # the client stopped reading long before the guard


async def test_a_declared_length_over_the_bound_is_not_read() -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"[" + b"0," * (MiB // 2) + b"0]", content_type="text/plain")

    async with LocalServer(big) as server, client_for(server, max_response_size=MiB // 2) as c:
        with pytest.raises(ResponseTooLargeError):
            await c.leads.get("L1")


async def test_an_error_answer_over_the_bound_raises_the_same() -> None:
    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, body=b"x" * (2 * MiB), content_type="text/html")

    async with LocalServer(big) as server, client_for(server, max_response_size=MiB) as c:
        with pytest.raises(ResponseTooLargeError) as info:
            await c.leads.get("L1")
    assert info.value.status_code == 500


@pytest.mark.parametrize("encoding", ["gzip", "deflate", None])
async def test_answers_under_the_bound_read_as_usual(encoding: str | None) -> None:
    raw = json.dumps(LEAD).encode()
    packed = {"gzip": gzip.compress, "deflate": zlib.compress, None: bytes}[encoding](raw)

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": "application/json"}
        if encoding:
            headers["Content-Encoding"] = encoding
        return web.Response(body=packed, headers=headers)

    async with LocalServer(handler) as server, client_for(server, max_response_size=len(raw)) as c:
        lead = await c.leads.get("L1")
    assert lead.id == LEAD["id"]


async def test_a_chunked_answer_under_the_bound_reads_whole() -> None:
    raw = json.dumps(LEAD).encode()

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(raw), 100):
            await response.write(raw[i : i + 100])
        await response.write_eof()
        return response

    async with LocalServer(chunked) as server, client_for(server) as c:
        assert (await c.leads.get("L1")).email == LEAD["email"]


@pytest.mark.parametrize("depth", [1025, 100_000])
async def test_json_nested_past_the_depth_bound_is_a_typed_error(depth: int) -> None:
    async def deep(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"[" * depth + b"]" * depth, content_type="application/json")

    async with LocalServer(deep) as server, client_for(server) as c:
        with pytest.raises(ResponseTooDeepError, match="deeper than 1,024 levels"):
            await c.leads.get("L1")


@pytest.mark.parametrize("depth", [990, 1020])
async def test_deep_json_within_the_bound_never_raises_a_raw_recursion_error(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = json.dumps(LEAD)[:-1] + f', "payload": {{"deep": {nested}}}}}'

    async def deep(request: web.Request) -> web.StreamResponse:
        return web.Response(text=body, content_type="application/json")

    async with LocalServer(deep) as server, client_for(server) as c:
        try:
            lead = await c.leads.get("L1")
        except RecursionError:  # pragma: no cover - what this test is against
            pytest.fail("a raw RecursionError reached the caller")
    # Within the bound it is an answer like any other: it decodes, the deep value kept.
    assert lead.id == LEAD["id"]
    assert lead.payload is not None and "deep" in lead.payload
