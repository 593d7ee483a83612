"""pytest plugin (entry point `pytest11`): the `instantly_mock` fixture.

Loaded in every pytest run wherever the SDK is installed, so it imports nothing heavy: the mock
itself is imported when a test first asks for the fixture.

    async def test_import(instantly_mock):
        async with instantly_mock.client() as client:
            ...

The fixture's mock keeps the API's real rate limit (100 requests/s, 6,000/min), counted
strictly by arrival as the API counts it, so tests see what production would do; mark a test `@pytest.mark.instantly_mock(rate_limit=None, ...)` to
pass other MockInstantly arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._server import MockInstantly


def _async_fixture(fn: Callable[..., Any]) -> Any:
    # pytest-asyncio's decorator works in its strict mode as well as in auto mode; without it,
    # another async plugin (e.g. anyio) runs the fixture.
    try:
        from pytest_asyncio import fixture
    except ImportError:  # pragma: no cover
        return pytest.fixture(fn)
    return fixture(fn)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "instantly_mock(**kwargs): MockInstantly arguments for the instantly_mock fixture",
    )


@_async_fixture
async def instantly_mock(request: pytest.FixtureRequest) -> AsyncIterator[MockInstantly]:
    """A started MockInstantly (api_key "test", rate limit 100/s and 6,000/min, seed 0).

    Mark a test `@pytest.mark.instantly_mock(rate_limit=None, latency=0.05, ...)` to pass other
    MockInstantly arguments. The mock (and every client made by `mock.client()`) stops when the
    test ends.
    """
    from ._server import MockInstantly

    marker = request.node.get_closest_marker("instantly_mock")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    async with MockInstantly(**options) as mock:
        yield mock
