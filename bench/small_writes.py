"""Small writes at the limit: `update_interest_status` on 3,000 leads through `client.bulk`.

Against a mock with the API's limits (100 requests/s, 6,000/min) and 200 ms of latency, with the
client's default limits and `client.bulk`'s default concurrency, in a client process of its own.
The leads are seeded through the API first (a few requests), then the rate windows are left to
empty before the clock starts.
"""

from __future__ import annotations

import time
from typing import Any

from ._clients import Stopwatch, counters, sdk_client, stats_delta
from ._leads import new_lead
from ._proc import mock_server, run_child
from ._seed import seed_leads

__all__ = ["run", "update_interest"]

LIMIT = (100, 6000)
LATENCY = 0.2


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Seed the leads, update each one's interest status; return (figures, notes)."""
    count = 600 if quick else 3_000
    notes: list[str] = []
    if quick:
        notes.append(f"small_writes: quick mode updates {count:,} leads instead of 3,000")
    with mock_server(rate_limit=LIMIT, latency=LATENCY, name="small_writes-mock") as mock:
        seeded = seed_leads(mock.url, count, rate_limit=LIMIT)
        # The seeding's requests would still count in the mock's one-second window.
        time.sleep(1.1)
        measured = run_child(
            "bench.small_writes:update_interest",
            {"url": mock.url, "list_id": seeded.list_id, "count": count},
            name="small_writes",
            mock=mock,
        )
    figures: dict[str, Any] = {
        "updates": count,
        "rate_ratio": round(measured["accepted_per_s"] / LIMIT[0], 3),
        **measured,
    }
    return figures, notes


async def update_interest(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: one `update_interest_status` per lead, through `client.bulk`."""

    count: int = params["count"]
    list_id: str = params["list_id"]
    emails = [new_lead(i)["email"] for i in range(count)]
    async with sdk_client(params["url"], rate_limit=LIMIT) as client:

        async def mark_interested(email: str) -> object:
            return await client.leads.update_interest_status(
                lead_email=email, interest_value=1, list_id=list_id
            )

        before = counters(client)
        watch = Stopwatch()
        result = await client.bulk(mark_interested, emails)
        watch.stop()
        sent = stats_delta(before, counters(client))
    accepted = sent["requests_sent"] - sent["rate_limited"] - sent["errors"]
    return {
        "succeeded": len(result.succeeded),
        "failed": len(result.failed),
        "requests": sent["requests_sent"],
        "rate_limited": sent["rate_limited"],
        "share_429": round(sent["rate_limited"] / max(1, sent["requests_sent"]), 4),
        "accepted_per_s": round(accepted / watch.elapsed, 2),
        **watch.figures(),
    }
