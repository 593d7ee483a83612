"""Fixtures for the transport tests: a mocked API and transports that are closed after each test."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aioresponses import aioresponses

from instantly._transport import Transport

API_KEY = "sk-test-SECRET-1234567890abcdef"
BASE_URL = "https://api.instantly.test"
USER_AGENT = "instantly-python/test"


@pytest.fixture(autouse=True)
def loop_for_sync_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give each sync test an event loop of its own, closed after it.

    Otherwise the looptime plugin's `get_event_loop()` makes one for a sync test that runs after
    an async one, which nobody closes: its ResourceWarning then surfaces at some later point.
    """
    if inspect.iscoroutinefunction(request.function):
        yield
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def mock_api() -> Iterator[aioresponses]:
    """Patch aiohttp so that requests are answered by the registered mock responses."""
    with aioresponses() as mocked:
        yield mocked


@pytest.fixture
async def make_transport() -> AsyncIterator[Callable[..., Transport]]:
    """Build transports with test defaults (no limiter, no retries unless asked); close them."""
    made: list[Transport] = []

    def make(**overrides: Any) -> Transport:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": BASE_URL,
            "user_agent": USER_AGENT,
            "limiter": None,
            "max_retries": 0,
        }
        options.update(overrides)
        transport = Transport(**options)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.aclose()


class CancellingOutput:
    """Makes an `instantly.cli._output.Output` whose progress bar cancels `task` at its
    `after`-th update: a Ctrl-C mid-import, at a known point."""

    @staticmethod
    def make(after: int = 1, **kwargs: Any) -> Any:
        from contextlib import contextmanager

        from instantly.cli._output import Output

        class _Output(Output):
            task: asyncio.Task[int] | None = None

            @contextmanager
            def progress(self, label: str, total: int | None, unit: str = "leads") -> Iterator[Any]:
                output = self
                seen: list[int] = []

                class Cancel:
                    def update(self, done: int) -> None:
                        seen.append(done)
                        if len(seen) == after:
                            assert output.task is not None
                            output.task.cancel()

                    def advance(self, n: int = 1) -> None:
                        self.update(n)

                yield Cancel()

        return _Output(**kwargs)
