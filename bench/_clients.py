"""Small pieces the client processes share: the SDK client they open, and how they time a run."""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any

from ._child import current_rss_mb, peak_rss_mb, reset_peak_rss

if TYPE_CHECKING:
    from instantly import AsyncInstantly

__all__ = ["API_KEY", "Stopwatch", "counters", "sdk_client", "stats_delta"]

API_KEY = "test"
"""The mock's key. Never a real one: these processes only ever talk to 127.0.0.1."""


def sdk_client(url: str, rate_limit: tuple[int, int] | None, **kwargs: Any) -> AsyncInstantly:
    """Our client against the mock at url, with the given client-side limits."""
    from instantly import AsyncInstantly

    return AsyncInstantly(api_key=API_KEY, base_url=url, rate_limit=rate_limit, **kwargs)


_COUNTERS = ("requests_sent", "retries", "rate_limited", "errors")


def counters(client: AsyncInstantly) -> dict[str, int]:
    """A snapshot of the client's TransportStats counters."""
    stats = client.stats
    return {name: int(getattr(stats, name)) for name in _COUNTERS}


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The counters accrued between two snapshots."""
    return {name: after[name] - before[name] for name in _COUNTERS}


class Stopwatch:
    """Wall time and peak RSS of the measured part of a client process.

    At the start it collects garbage and lowers the peak-RSS mark to the current RSS (where the
    kernel allows it), so `peak_rss_mb` is the peak of the measured part and `rss_growth_mb` how
    far that peak rose above where the part began.
    """

    def __init__(self) -> None:
        gc.collect()
        self.peak_before_mb = peak_rss_mb()
        self.peak_was_reset = reset_peak_rss()
        self.rss_before_mb = current_rss_mb()
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.elapsed = 0.0
        self.cpu = 0.0

    def stop(self) -> float:
        self.elapsed = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started
        return self.elapsed

    def figures(self) -> dict[str, float | bool]:
        peak = peak_rss_mb()
        return {
            "elapsed_s": round(self.elapsed, 3),
            # CPU seconds per second of the measured part: 1.0 means a whole core was busy.
            "client_busy": round(self.cpu / self.elapsed, 2) if self.elapsed else 0.0,
            "client_cpu_s": round(self.cpu, 3),
            "peak_rss_mb": round(peak, 1),
            "rss_before_mb": round(self.rss_before_mb, 1),
            "rss_growth_mb": round(peak - self.rss_before_mb, 2),
            "peak_rss_before_mb": round(self.peak_before_mb, 1),
            "peak_was_reset": self.peak_was_reset,
        }
