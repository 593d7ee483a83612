"""Per-request overhead: `client.leads.get(id)` vs raw aiohttp doing the same GET + json.loads.

Against a mock with no latency and no limit, so that what differs is the client's own work:
argument checks, the rate gate (off here), the pipeline, and structuring the Lead. The
contenders run in one client process, alternating round by round, each with its own session;
the figure is the best round of each (the least disturbed by the rest of the machine). A third
contender, `pipeline`, is the client's transport alone (the same GET through
`Transport.request`, decoded JSON and no model): `pipeline_ratio_c*` is the request pipeline's
share of the overhead, the rest of `ratio_c*` the arguments' checks and the model's decoding.
`cpu_ratio_c*` compares the client process's CPU time in the same best rounds: steadier than
wall time on a shared machine, where the mock's process competes for the same cores.

The mock shares the machine: at concurrency 1 a call's wall time is mostly the mock's, so the
ratio understates the client's share; at concurrency 50 the two processes compete for the
two cores and the ratio shows the client's CPU cost more plainly. `cpu_us_per_call_*` is the
client process's own CPU time per call, which the mock does not touch.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._clients import API_KEY, sdk_client
from ._proc import mock_server, run_child
from ._seed import seed_leads

__all__ = ["measure", "run"]

CONCURRENCIES = (1, 50)


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Seed one lead, time both contenders at each concurrency; return (figures, notes)."""
    calls = 2_000 if quick else 5_000
    rounds = 3 if quick else 5
    notes: list[str] = []
    if quick:
        notes.append(f"overhead: quick mode makes {calls:,} calls per round instead of 5,000")
    with mock_server(rate_limit=None, latency=0.0, name="overhead-mock") as mock:
        seeded = seed_leads(mock.url, 1)
        measured = run_child(
            "bench.overhead:measure",
            {"url": mock.url, "lead_id": seeded.first_lead_id, "calls": calls, "rounds": rounds},
            name="overhead",
        )
    figures: dict[str, Any] = {"calls": calls, "rounds": rounds}
    for c in CONCURRENCIES:
        ours, raw = measured[f"ours_c{c}"], measured[f"raw_c{c}"]
        pipeline = measured[f"pipeline_c{c}"]
        figures[f"ratio_c{c}"] = round(ours["wall_s"] / raw["wall_s"], 3)
        figures[f"cpu_ratio_c{c}"] = round(ours["cpu_s"] / raw["cpu_s"], 3)
        figures[f"pipeline_ratio_c{c}"] = round(pipeline["wall_s"] / raw["wall_s"], 3)
        figures[f"pipeline_cpu_ratio_c{c}"] = round(pipeline["cpu_s"] / raw["cpu_s"], 3)
    c1_ours, c1_raw = measured["ours_c1"], measured["raw_c1"]
    figures["us_per_call_c1"] = round((c1_ours["wall_s"] - c1_raw["wall_s"]) / calls * 1e6, 1)
    for c in CONCURRENCIES:
        ours, raw = measured[f"ours_c{c}"], measured[f"raw_c{c}"]
        figures[f"cpu_us_per_call_c{c}"] = round(ours["cpu_s"] / calls * 1e6, 1)
        figures[f"raw_cpu_us_per_call_c{c}"] = round(raw["cpu_s"] / calls * 1e6, 1)
        figures[f"calls_per_s_c{c}"] = round(calls / ours["wall_s"])
        figures[f"raw_calls_per_s_c{c}"] = round(calls / raw["wall_s"])
    figures["best_rounds"] = measured
    return figures, notes


async def _timed(calls: int, concurrency: int, call: Callable[[], Awaitable[None]]) -> list[float]:
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [time.perf_counter() - wall, time.process_time() - cpu]


async def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: both contenders, alternating, best round of each (runs in its own process)."""
    import aiohttp

    url: str = params["url"]
    lead_id: str = params["lead_id"]
    calls: int = params["calls"]
    rounds: int = params["rounds"]
    lead_url = f"{url}/api/v2/leads/{lead_id}"
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}

    async with (
        sdk_client(url, rate_limit=None) as client,
        aiohttp.ClientSession(headers=headers) as session,
    ):

        async def ours() -> None:
            await client.leads.get(lead_id)

        transport = client._transport
        lead_path = f"/api/v2/leads/{lead_id}"

        async def pipeline() -> None:
            await transport.request("GET", lead_path, retry_safe=True)

        async def raw() -> None:
            # What a careful user writes: check the status, read, decode.
            async with session.get(lead_url) as response:
                response.raise_for_status()
                json.loads(await response.read())

        best: dict[str, list[float]] = {}
        # A warm-up of each: connections opened, hooks built, caches filled.
        contenders = [("ours", ours), ("raw", raw), ("pipeline", pipeline)]
        for _, call in contenders:
            await _timed(200, 10, call)
        for c in CONCURRENCIES:
            for round_ in range(rounds):
                # Rotate who goes first, so that none always follows the same one.
                shift = round_ % len(contenders)
                order = contenders[shift:] + contenders[:shift]
                for name, call in order:
                    wall, cpu = await _timed(calls, c, call)
                    key = f"{name}_c{c}"
                    if key not in best or wall < best[key][0]:
                        best[key] = [wall, cpu]
    return {key: {"wall_s": round(w, 4), "cpu_s": round(c, 4)} for key, (w, c) in best.items()}
