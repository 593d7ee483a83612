"""Entry point of a benchmark's client process: `python -m bench._child MODULE:FUNCTION PARAMS`.

Each client side runs in a process of its own so that its peak RSS is its own, and its CPU is
not shared with the mock's event loop. The function gets PARAMS (a JSON object), may be async,
and returns a JSON-able dict; this prints it on one line after RESULT_MARKER, last on stdout.

Standard library only at import time: the peer SDK's throwaway venv runs this file too, without
the project installed.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import inspect
import json
import os
import resource
import sys
from typing import Any

RESULT_MARKER = "BENCH-RESULT "
PROFILE_ENV = "BENCH_PROFILE_TO"
"""If set, the child runs under cProfile and writes its stats to this path."""


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (a high-water mark).

    On Linux this is VmHWM, the peak of this process's own memory. `ru_maxrss` is not: at exec,
    Linux folds the high-water mark of the memory the child was forked with (a copy of the
    parent's) into it, so a child of a big parent would report the parent's size.
    """
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux; elsewhere the peak stands in)."""
    rss = _proc_status_mb("VmRSS")
    return peak_rss_mb() if rss is None else rss


def reset_peak_rss() -> bool:
    """Lower the peak-RSS mark to the current RSS (Linux >= 4.0); False if it cannot be done.

    Without it, a peak reached while importing (or while building test data) would hide any
    smaller growth of the part that is measured.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _call(target: str, params: dict[str, Any]) -> Any:
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(params)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench._child MODULE:FUNCTION PARAMS_JSON", file=sys.stderr)
        return 2
    target, raw_params = argv
    params = json.loads(raw_params)
    profile_path = os.environ.get(PROFILE_ENV)
    if profile_path:
        profiler = cProfile.Profile()
        result = profiler.runcall(_call, target, params)
        profiler.dump_stats(profile_path)
    else:
        result = _call(target, params)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
