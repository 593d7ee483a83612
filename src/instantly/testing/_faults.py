"""Fault injection: server errors, dropped connections and slow answers, drawn from a seeded RNG."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Collection
from typing import Any

import attrs

__all__ = ["Fault", "Faults"]


class Fault(enum.Enum):
    """What happens to one request."""

    NONE = "none"
    ERROR = "error"  # a 5xx answer, nothing applied
    DROP = "drop"  # the connection closes without an answer, nothing applied


def _rate(name: str) -> Callable[[Any, Any, float], None]:
    def check(_: Any, __: Any, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")

    return check


def _frozen(value: Collection[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _statuses(value: Collection[int]) -> tuple[int, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Faults:
    """How often the mock misbehaves. Rates are probabilities per request, 0 to 1.

    A 5xx or a drop happens before the request is applied, so it never half-applies a write;
    `after_commit_rate` applies the write first, then answers a 5xx or drops the connection (what
    a client sees when a server dies between its commit and its answer). Draws come from the
    mock's seed: the same seed and the same requests give the same faults.

    ```python
    mock.faults = Faults(error_rate=0.2, drop_rate=0.0, only={"bulkAddLeads"}, times=3)
    ```

    Raises:
        ValueError: a rate outside 0..1, `error_rate + drop_rate` above 1, a status that is
            not 5xx, or a negative `slow_seconds` or `times`.
    """

    error_rate: float = attrs.field(default=0.05, validator=_rate("error_rate"))
    """Share of requests answered with one of `statuses`, before anything is applied."""
    statuses: tuple[int, ...] = attrs.field(default=(500, 502, 503), converter=_statuses)
    """The 5xx statuses to draw from."""
    drop_rate: float = attrs.field(default=0.01, validator=_rate("drop_rate"))
    """Share of requests whose connection is closed without an answer, nothing applied."""
    slow_rate: float = attrs.field(default=0.0, validator=_rate("slow_rate"))
    """Share of requests held `slow_seconds` before they are handled."""
    slow_seconds: float = 0.0
    """How long a slow request is held (to trip client timeouts)."""
    after_commit_rate: float = attrs.field(default=0.0, validator=_rate("after_commit_rate"))
    """Share of requests that are applied, then answered with a 5xx or dropped."""
    after_commit_drop_share: float = attrs.field(
        default=0.5, validator=_rate("after_commit_drop_share")
    )
    """Of those, the share that drop the connection; the rest answer a 5xx."""
    only: frozenset[str] | None = attrs.field(default=None, converter=_frozen)
    """operationIds that faults apply to; None for every operation."""
    times: int | None = None
    """Inject at most this many faults (slow answers included), then none; None for no cap."""

    def __attrs_post_init__(self) -> None:
        if not self.statuses or any(not 500 <= s <= 599 for s in self.statuses):
            raise ValueError(f"statuses must be 5xx codes, got {self.statuses}")
        if self.error_rate + self.drop_rate > 1.0:
            raise ValueError("error_rate + drop_rate must not exceed 1")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must be 0 or more, got {self.slow_seconds}")
        if self.times is not None and self.times < 0:
            raise ValueError(f"times must be 0 or more, got {self.times}")


class FaultDice:
    """The seeded draws of one mock: the same seed and the same requests give the same faults."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._faults: Faults | None = None
        self._injected = 0  # by the current `Faults`, for its `times`

    def _applies(self, faults: Faults, operation_id: str) -> bool:
        if faults is not self._faults:  # new settings: their own count
            self._faults, self._injected = faults, 0
        if faults.only is not None and operation_id not in faults.only:
            return False
        return faults.times is None or self._injected < faults.times

    def before(self, faults: Faults, operation_id: str) -> tuple[Fault, float]:
        """The fault before a request is applied, and how long to hold it first (seconds)."""
        if not self._applies(faults, operation_id):
            return Fault.NONE, 0.0
        rng = self._rng
        hold = faults.slow_seconds if faults.slow_rate and rng.random() < faults.slow_rate else 0.0
        roll = rng.random()
        fault = Fault.NONE
        if roll < faults.error_rate:
            fault = Fault.ERROR
        elif roll < faults.error_rate + faults.drop_rate:
            fault = Fault.DROP
        self._injected += (fault is not Fault.NONE) or hold > 0
        return fault, hold

    def after(self, faults: Faults, operation_id: str) -> Fault:
        """The fault after a request was applied: an error or a drop, or none."""
        if not faults.after_commit_rate or not self._applies(faults, operation_id):
            return Fault.NONE
        rng = self._rng
        if rng.random() >= faults.after_commit_rate:
            return Fault.NONE
        self._injected += 1
        return Fault.DROP if rng.random() < faults.after_commit_drop_share else Fault.ERROR

    def status(self, faults: Faults) -> int:
        """One of the configured 5xx statuses."""
        return self._rng.choice(faults.statuses)
