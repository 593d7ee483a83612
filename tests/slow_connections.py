"""New connections that take a while to open, as a distant server's DNS and TLS make them.

`slow_connections(monkeypatch, seconds)` makes every connection an SDK client opens from then on
wait `seconds` before it connects (a resolver that sleeps, with the DNS cache off), so the
first requests of a burst leave well after the rate gate let them through, while later ones
go out at once on warm connections. The client's base URL must name a host (`localhost`), not
an IP address, which aiohttp connects to without resolving.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult


class SlowResolver(AbstractResolver):
    """Resolves every host to 127.0.0.1, after `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        await asyncio.sleep(self.seconds)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


def slow_connections(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make every TCPConnector made from now on (the SDK's own) open connections slowly."""
    base = aiohttp.TCPConnector

    class SlowConnector(base):  # type: ignore[misc, valid-type]
        def __init__(self, **options: Any) -> None:
            super().__init__(resolver=SlowResolver(seconds), use_dns_cache=False, **options)

    monkeypatch.setattr(aiohttp, "TCPConnector", SlowConnector)


def via_localhost(url: str) -> str:
    """The mock's URL with its host as a name (resolved, so slow) instead of 127.0.0.1."""
    return url.replace("127.0.0.1", "localhost")
