"""The embedded, stateful mock of the Instantly V2 API, for tests, demos and benchmarks.

    from instantly.testing import MockInstantly, Faults

    async with MockInstantly(rate_limit=(100, 6000), faults=Faults(error_rate=0.05)) as mock:
        async with mock.client() as client:
            await client.leads.create(email="ada@example.com", list_id=...)
        assert len(mock.state.leads) == 1

Run it alone with `python -m instantly.testing --port 8080`. Under pytest, the `instantly_mock`
fixture yields a started mock.

Names are imported on first use, so that importing this package (the pytest plugin does, in
every test run) costs nothing until the mock is used. The mock needs the `testing` extra
(`pip install 'instantly-sdk[testing]'`); without it, the first use raises an ImportError saying so.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._extras import needs_extra

if TYPE_CHECKING:
    from ._faults import Faults
    from ._main import main
    from ._server import MockInstantly
    from ._state import MockState

__all__ = ["Faults", "MockInstantly", "MockState", "main"]

_WHERE = {
    "Faults": "._faults",
    "MockInstantly": "._server",
    "MockState": "._state",
    "main": "._main",
}

# The packages of the `testing` extra that the mock imports (pytest-asyncio is the fixture's).
_EXTRA_MODULES = ("fastjsonschema",)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with needs_extra("instantly.testing", "testing", _EXTRA_MODULES):
        module = importlib.import_module(where, __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
