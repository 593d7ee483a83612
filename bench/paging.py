"""Pagination: memory of `async for` over 200,000 leads and over 50,000, and its throughput.

Memory: the mock (no limit, no latency) is seeded through the API with 200,000 leads in one
list. Each walk runs in a fresh client process: it opens the client, walks one page (so the
session and the converter's hooks exist), then records its peak RSS, walks the list 100 leads a
page keeping none of them, and records the peak again. Memory that does not grow with the walk's
length is the promise of `async for`: the two growths should be within 20% of each other.

Throughput: `async for lead in client.leads.list(limit=100)` against a server that does no work
(`bench._pages`: precomputed bytes of pages of 100 full Leads, in its own process), so that the
figure is the SDK's receive path: transport, JSON, structure and pagination.
"""

from __future__ import annotations

from typing import Any

from ._clients import Stopwatch, sdk_client
from ._pages import static_pages_server
from ._proc import mock_server, run_child
from ._seed import seed_leads

__all__ = ["run", "walk", "walk_static"]

PAGE = 100
RESOLUTION_MB = 0.5


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Seed the mock, walk a small and a large part of the list; return (figures, notes)."""
    small, large = (12_500, 50_000) if quick else (50_000, 200_000)
    notes: list[str] = []
    if quick:
        notes.append(
            f"paging_memory: quick mode walks {small:,} and {large:,} leads (the figures keep "
            "their 50k/200k names)"
        )
    with mock_server(rate_limit=None, latency=0.0, name="paging-mock") as mock:
        seeded = seed_leads(mock.url, large)
        walks = {
            n: run_child(
                "bench.paging:walk",
                {"url": mock.url, "list_id": seeded.list_id, "max_items": n},
                name=f"paging-{n}",
                mock=mock,
            )
            for n in (small, large)
        }
    static_n = 20_000 if quick else 100_000
    with static_pages_server() as server:
        static = run_child(
            "bench.paging:walk_static",
            {"url": server.url, "max_items": static_n, "rounds": 3},
            name="paging-static",
            mock=server,
        )
    small_growth = walks[small]["rss_growth_mb"]
    large_growth = walks[large]["rss_growth_mb"]
    figures: dict[str, Any] = {
        "small_n": small,
        "large_n": large,
        "rss_growth_mb_50k": small_growth,
        "rss_growth_mb_200k": large_growth,
        "growth_ratio_large_to_small": _growth_ratio(small_growth, large_growth),
        "leads_per_s": walks[large]["leads_per_s"],
        "static_leads_per_s": static["leads_per_s"],
        "static_us_per_lead": round(1e6 / static["leads_per_s"], 2),
        "static_client_cpu_us_per_lead": static["client_cpu_us_per_lead"],
        "walks": {str(n): w for n, w in walks.items()},
        "static": static,
    }
    return figures, notes


def _growth_ratio(small: float, large: float) -> float:
    """The larger growth over the smaller, each floored at RESOLUTION_MB: 1.0 is flat.

    Below half a MiB, a growth is the allocator's noise (an arena, a page of the JSON parser),
    not the walk's: two flat walks read 1.0 rather than 0/0.
    """
    a, b = max(small, RESOLUTION_MB), max(large, RESOLUTION_MB)
    return round(max(a, b) / min(a, b), 3)


async def walk(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: walk `max_items` leads of the list, holding none (runs in its own process)."""
    max_items: int = params["max_items"]
    async with sdk_client(params["url"], rate_limit=None) as client:
        async for _lead in client.leads.list(list_id=params["list_id"], limit=PAGE, max_items=1):
            pass
        watch = Stopwatch()
        seen = 0
        async for _lead in client.leads.list(
            list_id=params["list_id"], limit=PAGE, max_items=max_items
        ):
            seen += 1
        watch.stop()
    if seen != max_items:
        raise RuntimeError(f"walked {seen} leads, expected {max_items}")
    return {"leads": seen, "leads_per_s": round(seen / watch.elapsed), **watch.figures()}


async def walk_static(params: dict[str, Any]) -> dict[str, Any]:
    """Client side of the throughput figure: walk `max_items` leads, best of `rounds` walks."""
    max_items: int = params["max_items"]
    rates: list[int] = []
    best: dict[str, Any] = {}
    async with sdk_client(params["url"], rate_limit=None) as client:
        async for _lead in client.leads.list(limit=PAGE, max_items=PAGE):
            pass
        for _ in range(params["rounds"]):
            watch = Stopwatch()
            seen = 0
            async for _lead in client.leads.list(limit=PAGE, max_items=max_items):
                seen += 1
            watch.stop()
            if seen != max_items:
                raise RuntimeError(f"walked {seen} leads, expected {max_items}")
            rates.append(round(seen / watch.elapsed))
            if rates[-1] == max(rates):
                best = watch.figures()
                # What bounds the figure: the client's own CPU for each lead (receive, JSON,
                # structure, pagination), against the wall time per lead.
                best["client_cpu_us_per_lead"] = round(watch.cpu / seen * 1e6, 2)
    return {"leads": max_items, "leads_per_s": max(rates), "rounds_leads_per_s": rates, **best}
