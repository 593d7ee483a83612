"""`python -m bench [--quick] [--only NAMES] [--out PATH] [--profile DIR]`: run the benchmarks.

Prints a table and writes the results as JSON: a full run to bench/results.json (committed: it
is the record of the last full run), a quick run to bench/results-quick.json (not committed), so
that `make bench-quick` in CI or on a laptop never replaces the full figures with smaller ones.
A run restricted with --only writes nothing unless --out names a file.

Benchmarks never fail on a number, they report it. The exit status is 1 only if a benchmark
could not run at all (its section is null and a note says why).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import bulk_import, calibrate, decode, overhead, paging, ratelimit, small_writes, startup
from ._proc import BenchError, enable_profiling
from ._report import machine, print_table, write_results

HERE = Path(__file__).resolve().parent
FULL_RESULTS = HERE / "results.json"
QUICK_RESULTS = HERE / "results-quick.json"

Scenario = Callable[[bool], tuple[dict[str, Any], list[str]]]
# In this order: the pure-CPU ones first, the long rate-limited ones last.
SCENARIOS: dict[str, Scenario] = {
    "startup": startup.run,
    "decode": decode.run,
    "mock_limit": calibrate.run,
    "overhead": overhead.run,
    "bulk_import": bulk_import.run,
    "paging_memory": paging.run,
    "small_writes": small_writes.run,
    "ratelimit": ratelimit.run,
}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, whole run under 2 minutes (CI)"
    )
    parser.add_argument(
        "--only",
        help="comma-separated benchmarks to run: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--out", type=Path, help="where to write the results JSON")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run every client process and mock under cProfile, stats to DIR/<name>.prof",
    )
    args = parser.parse_args(argv)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            parser.error(f"unknown benchmark(s) {unknown}; choose from {list(SCENARIOS)}")
        args.only = names
    return args


def main(argv: list[str]) -> int:
    args = _parse(argv)
    if args.profile is not None:
        enable_profiling(args.profile.resolve())
    names = args.only or list(SCENARIOS)
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full"}
    notes: list[str] = []
    results["machine"] = machine()
    broken = False
    started = time.perf_counter()
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        section_started = time.perf_counter()
        try:
            figures, section_notes = SCENARIOS[name](args.quick)
        except BenchError as exc:
            figures, section_notes = None, [f"{name}: could not run: {exc}"]
            broken = True
        except Exception as exc:  # a bug in a benchmark: report it, run the others
            traceback.print_exc()
            figures, section_notes = None, [f"{name}: crashed: {type(exc).__name__}: {exc}"]
            broken = True
        if figures is not None:
            figures["bench_s"] = round(time.perf_counter() - section_started, 1)
        results[name] = figures
        notes.extend(section_notes)
        print(
            f"[bench] {name} done in {time.perf_counter() - section_started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    for name in SCENARIOS:
        results.setdefault(name, None)
    results["notes"] = notes
    results["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["total_s"] = round(time.perf_counter() - started, 1)

    out = args.out
    if out is None and not args.only:
        out = QUICK_RESULTS if args.quick else FULL_RESULTS
    print_table(results)
    if out is not None:
        write_results(out, results)
        print(f"\nwrote {out}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
