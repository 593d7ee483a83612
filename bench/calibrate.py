"""What the mock's rate limit really admits: offered 150 requests/s, how many does it take?

The rate figures of the other benchmarks are only as strict as the mock: a mock that admits more
than the API's 100 requests/s shows fewer 429s, and lets a client without a limiter through
faster, than the API would. This offers a steady 150 requests/s (cheap GETs, no limiter, no
latency) for a few seconds and reports what got through, so results.json says how strict the
mock was.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ._clients import API_KEY
from ._proc import mock_server, run_child

__all__ = ["offer", "run"]

LIMIT = (100, 6000)
OFFERED = 150


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Offer OFFERED requests/s to a fresh mock limited to LIMIT; return (figures, notes)."""
    seconds = 5.0
    with mock_server(rate_limit=LIMIT, latency=0.0, name="calibrate-mock") as mock:
        measured = run_child(
            "bench.calibrate:offer",
            {"url": mock.url, "rate": OFFERED, "seconds": seconds},
            name="calibrate",
        )
    admitted = measured["admitted_per_s"]
    figures: dict[str, Any] = {
        "offered_per_s": OFFERED,
        "admitted_per_s": admitted,
        "limit_per_s": LIMIT[0],
        **measured,
    }
    notes = []
    if admitted > LIMIT[0] * 1.05:
        notes.append(
            f"mock_limit: offered {OFFERED} requests/s, the mock admitted {admitted:g}/s for "
            f"{seconds:g} s, not the API's {LIMIT[0]}/s: its limit is looser than the API's, so "
            "429 counts are low and unlimited clients (raw gather, instantlyai) get through "
            "faster than they would against the API"
        )
    return figures, notes


async def offer(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: start one GET every 1/rate s for `seconds`, count the answers by status."""
    import aiohttp

    rate: float = params["rate"]
    seconds: float = params["seconds"]
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one() -> None:
            async with session.get(f"{params['url']}/api/v2/lead-lists") as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

        tasks = []
        started = time.monotonic()
        for i in range(int(rate * seconds)):
            # On a schedule, not after a fixed sleep, so the offered rate holds on a slow loop.
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return {
        "seconds": seconds,
        "admitted_per_s": round(statuses.get(200, 0) / seconds, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
