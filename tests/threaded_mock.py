"""The embedded mock served from a thread and an event loop of its own.

For tests whose client comes and goes with its event loops (two `asyncio.run` in a row), or
blocks the test's own loop (the blocking client called from inside a running loop): the mock
must keep serving from somewhere else.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from instantly.testing import MockInstantly

T = TypeVar("T")


class ThreadedMock:
    """`with ThreadedMock(**options) as served:` runs `served.mock` until the block ends."""

    def __init__(self, **options: Any) -> None:
        self.mock = MockInstantly(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock", daemon=True)

    @property
    def url(self) -> str:
        return self.mock.url

    @property
    def api_key(self) -> str:
        return self.mock.api_key

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the mock's loop (to change its state safely) and wait."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def add_lead(self, email: str, **fields: Any) -> dict[str, Any]:
        return self._on_loop("add_lead", email, **fields)

    def add_lead_list(self, name: str = "List", **fields: Any) -> dict[str, Any]:
        return self._on_loop("add_lead_list", name, **fields)

    def add_email(self, **fields: Any) -> dict[str, Any]:
        return self._on_loop("add_email", **fields)

    def _on_loop(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def call() -> Any:
            return getattr(self.mock.state, method)(*args, **kwargs)

        return self.run(call())

    def __enter__(self) -> ThreadedMock:
        self._thread.start()
        self.run(self.mock.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self.mock.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
