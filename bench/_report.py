"""The results of a run: the machine it ran on, the goals, results.json, and the printed table."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._proc import REPO

__all__ = ["GOALS", "machine", "print_table", "write_results"]

# (section, figure) -> (comparison, bound). Benchmarks never fail on these: the table says
# whether each figure meets its goal, and the run goes on.
GOALS: dict[tuple[str, str], tuple[str, float]] = {
    ("startup", "import_ms"): ("<=", 300.0),
    ("bulk_import", "rate_ratio"): (">=", 0.95),
    ("bulk_import", "share_429"): ("<=", 0.01),
    ("bulk_import", "client_us_per_lead"): ("<=", 3.0),
    ("bulk_import", "est_peak_rss_mb_10m"): ("<=", 1024.0),
    ("overhead", "ratio_c1"): ("<=", 1.10),
    ("overhead", "ratio_c50"): ("<=", 1.10),
    ("decode", "ratio_vs_pydantic"): (">=", 1.0),
    ("decode", "wire_us_per_lead"): ("<=", 10.0),
    ("decode", "ratio_vs_pydantic_wire"): (">=", 1.3),
    ("paging_memory", "static_leads_per_s"): (">=", 80_000),
    ("paging_memory", "growth_ratio_large_to_small"): ("<=", 1.2),
    ("small_writes", "rate_ratio"): (">=", 0.95),
    # The server's busiest second, from a client limited to 100/s: at most the limit + 2.
    ("ratelimit", "worst_window_over_limit"): ("<=", 1.02),
    ("ratelimit", "throughput_ratio"): (">=", 0.95),
    ("ratelimit", "shared_worst_window_over_limit"): ("<=", 1.02),
    ("ratelimit", "shared_throughput_ratio"): (">=", 0.95),
    ("ratelimit", "share_429_adaptive"): ("<=", 0.10),
}

# The figures the table shows first in each section, in this order; the rest follow as they come.
_HEADLINE = {
    "startup": [
        "import_ms",
        "aiohttp_ms",
        "ours_ms",
        "lead_class_ms",
        "lead_first_decode_ms",
        "rss_mb",
        "tools_import_ms",
        "webhooks_import_ms",
    ],
    "bulk_import": [
        "rate_ratio",
        "share_429",
        "client_us_per_lead",
        "leads_per_s",
        "est_peak_rss_mb_10m",
        "reconcile_extra_requests",
        "reconcile_extra_time",
        "reconcile_all_created_once",
        "mock_rate_ratio",
        "mock_ceiling_per_s",
        "mock_rate_ratio_vs_ceiling",
        "mock_rate_ratio_batch100",
        "vs_raw_gather",
        "vs_instantlyai",
    ],
    "overhead": ["ratio_c1", "ratio_c50", "us_per_call_c1"],
    "decode": [
        "wire_us_per_lead",
        "ratio_vs_pydantic_wire",
        "pydantic_wire_us_per_lead",
        "parse_us_per_lead",
        "us_per_lead",
        "ratio_vs_pydantic",
    ],
    "paging_memory": [
        "static_leads_per_s",
        "rss_growth_mb_50k",
        "rss_growth_mb_200k",
        "growth_ratio_large_to_small",
    ],
    "small_writes": ["rate_ratio"],
    "mock_limit": ["admitted_per_s", "offered_per_s", "limit_per_s"],
    "ratelimit": [
        "worst_window_over_limit",
        "throughput_ratio",
        "shared_worst_window_over_limit",
        "shared_throughput_ratio",
        "share_429_adaptive",
        "adaptive_time_vs_ideal",
    ],
}
SECTIONS = list(_HEADLINE)


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return completed.stdout.strip() or None


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "cpu": cpu,
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=2) + "\n")


def _meets(section: str, key: str, value: object) -> str:
    goal = GOALS.get((section, key))
    if goal is None:
        return ""
    comparison, bound = goal
    if not isinstance(value, int | float):
        return f"goal {comparison} {bound:g}"
    ok = value >= bound if comparison == ">=" else value <= bound
    return f"goal {comparison} {bound:g}: {'meets' if ok else 'SHORT'}"


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def _flatten(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, object]]:
    # A contender's own figures (ours.*, raw_gather.*) as dotted rows under the headline ones.
    rows: list[tuple[str, object]] = []
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            rows.append((prefix + key, value))
    return rows


def print_table(results: dict[str, Any]) -> None:
    """Print every figure of every section, headline figures first, each with its goal."""
    rows: list[tuple[str, str, str, str]] = []
    for section in SECTIONS:
        figures = results.get(section)
        if not isinstance(figures, dict):
            rows.append((section, "-", "not run" if figures is None else str(figures), ""))
            continue
        keys = [k for k in _HEADLINE[section] if k in figures]
        keys += [k for k in figures if k not in keys]
        for key, value in _flatten({k: figures[k] for k in keys}):
            rows.append((section, key, _show(value), _meets(section, key, value)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"\nbenchmarks ({results.get('mode')} mode)")
    print("-" * (sum(widths) + 30))
    previous = ""
    for section, key, value, goal in rows:
        shown_section = section if section != previous else ""
        previous = section
        print(f"{shown_section:<{widths[0]}}  {key:<{widths[1]}}  {value:>{widths[2]}}  {goal}")
    notes = results.get("notes") or []
    if notes:
        print("\nnotes:")
        for note in notes:
            print(f"- {note}")
    m = results.get("machine", {})
    print(
        f"\nmachine: {m.get('nproc')} cores, Python {m.get('python')}, {m.get('platform')}, "
        f"load {m.get('load_avg_at_start')} at start"
    )
