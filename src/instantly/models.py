"""The API's models, generated from the spec: attrs classes and enums, every one of them here.

Response models default missing optional fields to None; request models default them to
`UNSET` (left out of the request), so `None` can be sent to clear a value.

A class is built the first time it is used (`instantly._lazy`), so a program pays only for the
models it touches; `from instantly.models import *` builds them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._generated import models as _generated
from ._types import UNSET as UNSET
from ._types import Unset as Unset

if TYPE_CHECKING:
    # Type checkers see every class here as defined, and (no `__all__` for them: mypy reads
    # only a literal one) `from instantly.models import *` exports them all.
    from ._generated.models import *  # noqa: F403
else:
    __all__ = ["UNSET", "Unset", *_generated.__all__]
    _names = frozenset(_generated.__all__)

    def __getattr__(name: str) -> Any:
        if name not in _names:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(_generated, name)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
