"""Bulk import at the API's limit: `leads.bulk_add` against a server that does no per-lead work,
against the mock, and against what users write without it.

The SDK's own figures run against `bench/sink.py`, a server in its own process that answers
`leads/add` with valid results computed cheaply (no lead checked or stored) and enforces the
API's limits (100 requests/s and 6,000/min, 429 beyond) as the mock does, with 200 ms latency:
- `rate_ratio`: `client.leads.bulk_add(generator of 1M leads, batch_size=1000, concurrency=32)`,
  accepted requests / wall time / 100; `client_us_per_lead`: the client process's CPU per lead
  over the import, less the CPU of making the same leads (measured apart, in the same process);
- memory: the same import with no limit and no latency, 250k and 1M leads, each in a process of
  its own: the peak RSS, and `est_peak_rss_mb_10m`, the 1M peak plus 9M times the per-lead
  growth between the two;
- `reconcile_*`: the same import with 5% of `leads/add` requests failing (a quarter each 503
  before the write, dropped before, 503 after, dropped after): the lookups they cost, the extra
  requests and time against the run without faults, and whether every lead was created once.

The mock's figures (`mock_*`) are the first version's: the same import against the stateful mock,
whose CPU (it checks and stores every lead) bounds them on this machine; raw aiohttp
(`asyncio.gather` over posts) and instantlyai, each against a fresh mock, one after the other,
each client in a process of its own. `mock_ceiling` posts bodies encoded beforehand with no
limit: the most requests/s this mock takes here, whatever the client.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import peer
from ._clients import API_KEY, Stopwatch, counters, sdk_client, stats_delta
from ._leads import new_leads
from ._proc import mock_server, run_child

__all__ = ["raw_gather_import", "run", "sdk_import"]

LIMIT = (100, 6000)
LATENCY = 0.2
BATCH = 1000
CONCURRENCY = 32
SINK = "bench.sink"
FAULT_RATE = 0.05


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Run the sink figures, then each mock contender against its own fresh mock."""
    figures, notes = _sink_figures(quick)
    mock_figures, mock_notes = _mock_figures(quick)
    figures.update(mock_figures)
    return figures, notes + mock_notes


def _sink_figures(quick: bool) -> tuple[dict[str, Any], list[str]]:
    count = 100_000 if quick else 1_000_000
    params = {"count": count, "batch_size": BATCH, "concurrency": CONCURRENCY}
    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="bulk-sink", module=SINK) as sink:
        ours = run_child(
            "bench.bulk_import:sdk_import",
            {**params, "url": sink.url, "generation": True},
            name="sink",
            mock=sink,
        )
    with mock_server(
        rate_limit=LIMIT, latency=LATENCY, name="bulk-sink-faults", module=SINK,
        extra=("--fault-rate", str(FAULT_RATE)),
    ) as sink:  # fmt: skip
        faulty = run_child(
            "bench.bulk_import:sdk_import",
            {**params, "url": sink.url, "generation": True},
            name="sink_faults",
            mock=sink,
        )
    small, large = (100_000, 400_000) if quick else (250_000, 1_000_000)
    memory = {}
    for n in (small, large):
        with mock_server(rate_limit=None, name=f"bulk-sink-memory-{n}", module=SINK) as sink:
            memory[n] = run_child(
                "bench.bulk_import:sdk_import",
                {**params, "count": n, "url": sink.url, "rate_limit": None},
                name=f"sink_memory_{n}",
                mock=sink,
            )
    growth = (memory[large]["peak_rss_mb"] - memory[small]["peak_rss_mb"]) / (large - small)
    figures: dict[str, Any] = {
        "leads": count,
        "requests": ours["requests"],
        "rate_ratio": round(ours["accepted_per_s"] / LIMIT[0], 3),
        "share_429": round(ours["rate_limited"] / max(1, ours["requests"]), 4),
        "client_us_per_lead": ours["client_us_per_lead"],
        "leads_per_s": round(ours["leads_per_s"]),
        f"peak_rss_mb_{small // 1000}k": memory[small]["peak_rss_mb"],
        f"peak_rss_mb_{large // 1000}k": memory[large]["peak_rss_mb"],
        "rss_bytes_per_lead": round(growth * 1024 * 1024, 1),
        "est_peak_rss_mb_10m": round(
            memory[large]["peak_rss_mb"] + (10_000_000 - large) * growth, 1
        ),
        "reconcile_fault_rate": FAULT_RATE,
        "reconcile_lookups": faulty["lookups"],
        "reconcile_found": faulty["reconciled"],
        "reconcile_extra_requests": round(faulty["requests"] / max(1, ours["requests"]) - 1, 3),
        "reconcile_extra_time": round(faulty["elapsed_s"] / ours["elapsed_s"] - 1, 3),
        "reconcile_extra_cpu_us_per_lead": round(
            faulty["client_us_per_lead"] - ours["client_us_per_lead"], 2
        ),
        "reconcile_all_created_once": faulty["created"] == count and faulty["failed"] == 0,
        "sink": ours,
        "sink_faults": faulty,
        "sink_memory": {str(n): m for n, m in memory.items()},
    }
    notes = [
        f"bulk_import: rate_ratio, client_us_per_lead and the memory figures are against "
        f"bench/sink.py (no per-lead work; its CPU: {ours.get('mock_busy', 0):.2f} of a core); "
        "mock_* are against the stateful mock"
    ]
    return figures, notes


def _mock_figures(quick: bool) -> tuple[dict[str, Any], list[str]]:
    count = 100_000 if quick else 1_000_000
    notes: list[str] = []
    params = {"count": count, "batch_size": BATCH, "concurrency": CONCURRENCY}

    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="bulk_import-mock-ours") as mock:
        ours = run_child(
            "bench.bulk_import:sdk_import", {**params, "url": mock.url}, name="ours", mock=mock
        )
    # The ceiling this mock and machine allow: bodies encoded beforehand, no limit, so the
    # client costs next to nothing and the mock's own speed is what shows.
    with mock_server(rate_limit=None, latency=LATENCY, name="bulk_import-mock-ceiling") as mock:
        ceiling = run_child(
            "bench.bulk_import:mock_ceiling",
            {**params, "requests": 100 if quick else 300, "url": mock.url},
            name="mock_ceiling",
            mock=mock,
        )
    # The same import in chunks of 100: ten times the requests for the same CPU per lead, so
    # that the rate gate, not the CPU of either side, is what bounds the rate.
    small_batches = 300 if quick else 1000
    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="bulk_import-mock-batch100") as mock:
        ours_batch100 = run_child(
            "bench.bulk_import:sdk_import",
            {**params, "count": small_batches * 100, "batch_size": 100, "url": mock.url},
            name="ours_batch100",
            mock=mock,
        )
    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="bulk_import-mock-raw100") as mock:
        raw_batch100 = run_child(
            "bench.bulk_import:raw_gather_import",
            {**params, "count": small_batches * 100, "batch_size": 100, "url": mock.url},
            name="raw_gather_batch100",
            mock=mock,
        )
    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="bulk_import-mock-raw") as mock:
        raw = run_child(
            "bench.bulk_import:raw_gather_import",
            {**params, "url": mock.url},
            name="raw_gather",
            mock=mock,
        )

    figures: dict[str, Any] = {
        "mock_rate_ratio": round(ours["accepted_per_s"] / LIMIT[0], 3),
        "mock_share_429": round(ours["rate_limited"] / max(1, ours["requests"]), 4),
        "mock_leads_per_s": round(ours["leads_per_s"]),
        "mock_peak_rss_mb": ours["peak_rss_mb"],
        "vs_raw_gather": _ratio(ours["leads_per_s"], raw["leads_per_s"]),
        "vs_instantlyai": None,
        "mock_rate_ratio_batch100": round(ours_batch100["accepted_per_s"] / LIMIT[0], 3),
        "mock_share_429_batch100": round(
            ours_batch100["rate_limited"] / max(1, ours_batch100["requests"]), 4
        ),
        "vs_raw_gather_batch100": _ratio(ours_batch100["leads_per_s"], raw_batch100["leads_per_s"]),
        "ours": ours,
        "ours_batch100": ours_batch100,
        "raw_gather_batch100": raw_batch100,
        "raw_gather": raw,
    }

    figures["mock_ceiling_per_s"] = ceiling["requests_per_s"]
    figures["mock_rate_ratio_vs_ceiling"] = round(
        ours["accepted_per_s"] / ceiling["requests_per_s"], 3
    )
    figures["mock_ceiling"] = ceiling
    if ceiling["requests_per_s"] < LIMIT[0] * 0.95:
        notes.append(
            f"bulk_import: the mock takes at most {ceiling['requests_per_s']:g} requests/s of "
            f"{BATCH:,} leads on this machine (bodies encoded beforehand, no limit, mock_busy "
            f"{ceiling.get('mock_busy', 0):.2f}), so mock_rate_ratio cannot exceed "
            f"{ceiling['requests_per_s'] / LIMIT[0]:.2f} whatever the client"
        )
    python, why_not = peer.ensure_venv(quick)
    if python is None:
        notes.append(f"bulk_import: instantlyai could not run: {why_not}")
    else:
        # Quick mode (CI) keeps to its two minutes: the paced variant runs in full mode only.
        variants = [("instantlyai", False)] + ([] if quick else [("instantlyai_paced", True)])
        for variant, paced in variants:
            with mock_server(
                rate_limit=LIMIT, latency=LATENCY, name=f"bulk_import-mock-{variant}"
            ) as mock:
                theirs = run_child(
                    "bench.peer_client:peer_import",
                    {**params, "url": mock.url, "paced": paced},
                    name=variant,
                    python=python,
                    mock=mock,
                )
            figures[f"vs_{variant}"] = _ratio(ours["leads_per_s"], theirs["leads_per_s"])
            figures[variant] = theirs
        notes.append(
            "bulk_import: instantlyai runs its leads.bulk_add once per 1,000-lead chunk under "
            "an asyncio.Semaphore(32) (it has no bulk helper); 'instantlyai' with its defaults "
            "(no pacing, 3 retries honouring Retry-After), 'instantlyai_paced' (full mode only) "
            "with requests_per_minute=6000"
        )
    for name, run_ in (("raw_gather", raw), ("raw_gather_batch100", raw_batch100)):
        if run_["lost_leads"]:
            notes.append(
                f"bulk_import: {name} lost {run_['lost_leads']:,} of "
                f"{run_['created'] + run_['lost_leads']:,} leads ({run_['rate_limited']:,} of its "
                f"{run_['requests']:,} requests got a "
                "429): vs_raw_gather* compare leads that got in"
            )
    for name in ("ours", "raw_gather", "instantlyai", "instantlyai_paced"):
        contender: dict[str, Any] | None = figures.get(name)
        if contender and contender.get("created"):
            # The client's CPU per lead (lead generation included): the cost that bounds a
            # CPU-bound import.
            per_lead = contender["client_cpu_s"] / contender["created"] * 1e6
            contender["client_cpu_us_per_lead"] = round(per_lead, 1)
    return figures, notes


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs > 0 else None


async def sdk_import(params: dict[str, Any]) -> dict[str, Any]:
    """Client side, ours: `bulk_add` of a lazy generator (at the default limits unless
    params["rate_limit"] is None). With params["generation"], the CPU of making the same leads
    is measured first, apart, and `client_us_per_lead` is the import's CPU less it."""
    import time

    count: int = params["count"]
    generation = 0.0
    if params.get("generation"):
        started = time.process_time()
        for _ in new_leads(count):
            pass
        generation = time.process_time() - started
    limit = params.get("rate_limit", LIMIT)
    async with sdk_client(params["url"], rate_limit=tuple(limit) if limit else None) as client:
        target = await client.lead_lists.create(name="bench bulk import")
        before = counters(client)
        watch = Stopwatch()
        result = await client.leads.bulk_add(
            new_leads(count),
            list_id=target.id,
            batch_size=params["batch_size"],
            concurrency=params["concurrency"],
        )
        watch.stop()
        sent = stats_delta(before, counters(client))
    accepted = sent["requests_sent"] - sent["rate_limited"] - sent["errors"]
    figures = {
        "created": result.created,
        "skipped": result.skipped_total,
        "failed": result.failed_total,
        "requests": sent["requests_sent"],
        "rate_limited": sent["rate_limited"],
        "retries": sent["retries"],
        "lookups": getattr(result, "lookups", 0),  # (the first version's result had none)
        "reconciled": getattr(result, "reconciled", 0),
        "accepted_per_s": round(accepted / watch.elapsed, 2),
        "leads_per_s": round(result.created / watch.elapsed, 1),
        "result_rate": round(result.rate, 2),
        **watch.figures(),
    }
    if params.get("generation"):
        figures["generation_us_per_lead"] = round(generation / count * 1e6, 2)
        figures["client_us_per_lead"] = round((watch.cpu - generation) / count * 1e6, 2)
    return figures


async def mock_ceiling(params: dict[str, Any]) -> dict[str, Any]:
    """Client side, the ceiling: pre-encoded bodies posted `concurrency` at a time, no limit."""
    import json

    import aiohttp

    url: str = params["url"]
    batch: int = params["batch_size"]
    requests: int = params["requests"]
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{url}/api/v2/lead-lists", json={"name": "bench ceiling"}) as r:
            list_id = (await r.json())["id"]
        bodies = [
            json.dumps({"list_id": list_id, "leads": list(new_leads(batch, start=i * batch))})
            for i in range(requests)
        ]
        gate = asyncio.Semaphore(params["concurrency"])

        async def post(body: str) -> None:
            async with gate, session.post(f"{url}/api/v2/leads/add", data=body) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

        watch = Stopwatch()
        await asyncio.gather(*(post(b) for b in bodies))
        watch.stop()
    return {
        "requests_per_s": round(statuses.get(200, 0) / watch.elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        **watch.figures(),
    }


async def raw_gather_import(params: dict[str, Any]) -> dict[str, Any]:
    """Client side, raw: what a user writes with aiohttp alone (all chunks at once, no retry)."""
    import aiohttp

    count: int = params["count"]
    batch: int = params["batch_size"]
    url: str = params["url"]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    statuses: dict[int, int] = {}
    created = 0

    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{url}/api/v2/lead-lists", json={"name": "bench raw"}) as r:
            list_id = (await r.json())["id"]
        watch = Stopwatch()
        # asyncio.gather needs every coroutine up front, so every chunk is built up front.
        leads = list(new_leads(count))
        chunks = [leads[i : i + batch] for i in range(0, count, batch)]

        async def post(chunk: list[dict[str, Any]]) -> None:
            nonlocal created
            body = {"list_id": list_id, "leads": chunk}
            async with session.post(f"{url}/api/v2/leads/add", json=body) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 200:
                    created += (await response.json())["leads_uploaded"]

        outcomes = await asyncio.gather(*(post(c) for c in chunks), return_exceptions=True)
        watch.stop()
    errors = sum(1 for o in outcomes if isinstance(o, BaseException))
    requests = sum(statuses.values())
    return {
        "created": created,
        "lost_leads": count - created,
        "requests": requests,
        "rate_limited": statuses.get(429, 0),
        "share_429": round(statuses.get(429, 0) / max(1, requests), 4),
        "exceptions": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "leads_per_s": round(created / watch.elapsed, 1),
        **watch.figures(),
    }
