"""Bulk import at the API's limit: `leads.bulk_add` of a million leads vs what users write without it.

Against a mock with the API's limits (100 requests/s and 6,000/min, 429 beyond) and 200 ms of
latency, three contenders import the same leads, one after the other, each against a fresh mock
(empty rate windows and store), each in a client process of its own:
- ours: `client.leads.bulk_add(generator, batch_size=1000, concurrency=32)`, default limits
  (and again with batch_size=100, `*_batch100`: the rate gate's figure without the CPU bound);
- raw: `asyncio.gather` over aiohttp posts of 1,000-lead chunks, no limiter, no retry, as a user
  without an SDK writes it (its 429s are leads that did not get in); again in chunks of 100;
- instantlyai (PyPI), if it installs: its `leads.bulk_add` per chunk, see bench/peer.py.

Before them, `mock_ceiling` posts bodies encoded beforehand with no limit: the most requests/s this
mock takes on this machine, whatever the client.

A million leads is 1,000 requests, about 10 s at 100 requests/s: the per-minute cap (6,000)
never binds in a run this short, the per-second one does.
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


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Run each contender against its own fresh mock; return (figures, notes)."""
    count = 100_000 if quick else 1_000_000
    notes: list[str] = []
    if quick:
        notes.append(
            f"bulk_import: quick mode imports {count:,} leads ({count // BATCH} requests): "
            "a run this short is dominated by its start and its last round trip"
        )
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
        "leads": count,
        "requests": ours["requests"],
        "rate_ratio": round(ours["accepted_per_s"] / LIMIT[0], 3),
        "share_429": round(ours["rate_limited"] / max(1, ours["requests"]), 4),
        "leads_per_s": round(ours["leads_per_s"]),
        "peak_rss_mb": ours["peak_rss_mb"],
        "vs_raw_gather": _ratio(ours["leads_per_s"], raw["leads_per_s"]),
        "vs_instantlyai": None,
        "rate_ratio_batch100": round(ours_batch100["accepted_per_s"] / LIMIT[0], 3),
        "share_429_batch100": round(
            ours_batch100["rate_limited"] / max(1, ours_batch100["requests"]), 4
        ),
        "vs_raw_gather_batch100": _ratio(ours_batch100["leads_per_s"], raw_batch100["leads_per_s"]),
        "ours": ours,
        "ours_batch100": ours_batch100,
        "raw_gather_batch100": raw_batch100,
        "raw_gather": raw,
    }

    figures["mock_ceiling_per_s"] = ceiling["requests_per_s"]
    figures["rate_ratio_vs_mock_ceiling"] = round(
        ours["accepted_per_s"] / ceiling["requests_per_s"], 3
    )
    figures["mock_ceiling"] = ceiling
    if ceiling["requests_per_s"] < LIMIT[0] * 0.95:
        notes.append(
            f"bulk_import: this mock takes at most {ceiling['requests_per_s']:g} requests/s of "
            f"{BATCH:,} leads on this machine (bodies encoded beforehand, no limit, mock_busy "
            f"{ceiling.get('mock_busy', 0):.2f}), so rate_ratio cannot exceed "
            f"{ceiling['requests_per_s'] / LIMIT[0]:.2f} whatever the client; "
            "rate_ratio_vs_mock_ceiling is ours against that, rate_ratio_batch100 the limit's "
            "own figure"
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
            # The client's CPU per lead: the cost that bounds a CPU-bound import.
            per_lead = contender["client_cpu_s"] / contender["created"] * 1e6
            contender["client_cpu_us_per_lead"] = round(per_lead, 1)
    return figures, notes


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs > 0 else None


async def sdk_import(params: dict[str, Any]) -> dict[str, Any]:
    """Client side, ours: `bulk_add` of a lazy generator at the default limits."""
    count: int = params["count"]
    async with sdk_client(params["url"], rate_limit=LIMIT) as client:
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
    return {
        "created": result.created,
        "skipped": result.skipped_total,
        "failed": result.failed_total,
        "requests": sent["requests_sent"],
        "rate_limited": sent["rate_limited"],
        "retries": sent["retries"],
        "accepted_per_s": round(accepted / watch.elapsed, 2),
        "leads_per_s": round(result.created / watch.elapsed, 1),
        "result_rate": round(result.rate, 2),
        **watch.figures(),
    }


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
