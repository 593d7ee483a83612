"""Start-up: what importing the SDK costs a fresh interpreter, and what first use of a model adds.

Each measurement runs in a fresh `python -c` process that imports nothing before it (only `time`),
so every module it needs is loaded inside the measured part; the process prints its figures as
one JSON line. Bytecode caches are on for these processes (`PYTHONDONTWRITEBYTECODE` is dropped
from their environment, and a warm-up run writes the `.pyc` files first), as for an installed
wheel; without them every run would compile the generated sources and measure the compiler.
The scenarios take turns, run after run, so that a burst of load on this shared machine spreads
over all of them; each figure is the median of the runs.

- `client`: `import aiohttp` (split out), then `from instantly import AsyncInstantly;
  import instantly.models` (the goal: both together), then the first use of `Lead` (the class)
  and its first decode (`structure(payload, Lead)`: the converter's hook for it is built then).
- `tools`: `import instantly.tools`, then `Toolkit(client)` (the 13 default tools' definitions).
- `webhooks`: `from instantly.webhooks import parse_event`.
- `all_models`: `from instantly.models import *`: every class built, what any start-up paid
  before the models were built on first use.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from ._proc import REPO, BenchError

__all__ = ["SCENARIOS", "run"]

_PRELUDE = """\
import time
_t0 = time.perf_counter()
"""

_RSS = """\
def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None
"""

_LEAD = {
    "id": "0199a7c4-5d1e-7b3a-9a8e-2b9f1e6c4d21",
    "timestamp_created": "2026-08-13T11:11:55.811Z",
    "timestamp_updated": "2026-08-13T11:11:55.811Z",
    "organization": "0199a7c4-0000-7000-8000-000000000001",
    "status": 1,
    "email_open_count": 0,
    "email_reply_count": 0,
    "email_click_count": 0,
    "company_domain": "example.com",
    "status_summary": {},
    "email": "ada@example.com",
    "first_name": "Ada",
    "lt_interest_status": 1,
}

# Each scenario's code; it leaves its figures (milliseconds, MiB) in `_out`.
SCENARIOS: dict[str, str] = {
    "client": f"""\
import aiohttp
_t1 = time.perf_counter()
from instantly import AsyncInstantly
import instantly.models
_t2 = time.perf_counter()
{_RSS}
_rss_import = _rss_mb()
_t3 = time.perf_counter()
instantly.models.Lead
_t4 = time.perf_counter()
from instantly._convert import structure
_lead = structure({_LEAD!r}, instantly.models.Lead)
_t5 = time.perf_counter()
_out = {{
    "import_ms": (_t2 - _t0) * 1e3,
    "aiohttp_ms": (_t1 - _t0) * 1e3,
    "ours_ms": (_t2 - _t1) * 1e3,
    "lead_class_ms": (_t4 - _t3) * 1e3,
    "lead_first_decode_ms": (_t5 - _t4) * 1e3,
    "rss_mb": _rss_import,
    "rss_after_lead_mb": _rss_mb(),
}}
""",
    "tools": f"""\
import instantly.tools
_t1 = time.perf_counter()
from instantly import AsyncInstantly
_client = AsyncInstantly(api_key="bench")
instantly.tools.Toolkit(_client).definitions(format="openai")
_t2 = time.perf_counter()
{_RSS}
_out = {{
    "tools_import_ms": (_t1 - _t0) * 1e3,
    "toolkit_first_ms": (_t2 - _t1) * 1e3,
    "tools_rss_mb": _rss_mb(),
}}
""",
    "webhooks": f"""\
from instantly.webhooks import parse_event
_t1 = time.perf_counter()
{_RSS}
_out = {{"webhooks_import_ms": (_t1 - _t0) * 1e3, "webhooks_rss_mb": _rss_mb()}}
""",
    "all_models": f"""\
import aiohttp
_t1 = time.perf_counter()
from instantly.models import *
_t2 = time.perf_counter()
{_RSS}
_out = {{"all_models_ms": (_t2 - _t1) * 1e3, "all_models_rss_mb": _rss_mb()}}
""",
}

_EPILOGUE = """\
import json as _json
print("STARTUP " + _json.dumps(_out))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPROFILEIMPORT")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(name: str) -> dict[str, float]:
    """Run one scenario in a fresh interpreter; its figures."""
    code = _PRELUDE + SCENARIOS[name] + _EPILOGUE
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("STARTUP "):
            figures: dict[str, float] = json.loads(line.removeprefix("STARTUP "))
            return figures
    last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    raise BenchError(f"startup {name}: the process failed (status {completed.returncode}): {last}")


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Every scenario `runs` times, taking turns; the median of each figure, with its range."""
    runs = 5 if quick else 11
    for name in SCENARIOS:  # writes the bytecode caches, and warms the file system's
        measure(name)
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name in SCENARIOS:
            for key, value in measure(name).items():
                samples.setdefault(key, []).append(value)
    figures: dict[str, Any] = {
        key: round(statistics.median(values), 1) for key, values in samples.items()
    }
    figures["runs"] = runs
    figures["import_ms_range"] = [
        round(min(samples["import_ms"]), 1),
        round(max(samples["import_ms"]), 1),
    ]
    figures["import_vs_aiohttp"] = round(figures["import_ms"] / figures["aiohttp_ms"], 2)
    notes = [
        f"startup: medians of {runs} fresh interpreters per scenario, bytecode caches on; "
        f"import_ms ranged {figures['import_ms_range'][0]:g} to {figures['import_ms_range'][1]:g}"
    ]
    return figures, notes
