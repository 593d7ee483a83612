"""A worker process of one workspace, for the Redis limiter's tests: `python _redis_worker.py JSON`.

Opens a client on the mock with a `RedisRateLimiter`, says it is ready (a file in the barrier
directory), waits for the `go` file (the monotonic start time, shared by every process on the
machine), makes `count` concurrent `leads.get` and prints one JSON line with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


def wait_for_go(barrier: Path, index: int) -> float:
    """Say this worker is ready; block until `go` appears; return the start time it names."""
    (barrier / f"ready-{index}").touch()
    go = barrier / "go"
    while not go.exists():
        time.sleep(0.002)
    return float(go.read_text())


async def main(params: dict[str, Any]) -> dict[str, Any]:
    from instantly import AsyncInstantly, RedisRateLimiter

    limiter = RedisRateLimiter(
        params["redis"], workspace="tests", per_second=params["per_second"], per_minute=6000
    )
    async with AsyncInstantly(
        api_key="test", base_url=params["url"], rate_limit=limiter, max_retries=20
    ) as client:
        start_at = wait_for_go(Path(params["barrier"]), params["index"])
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        leads = await asyncio.gather(
            *(client.leads.get(params["lead_id"]) for _ in range(params["count"]))
        )
        stats = client.stats
        result = {
            "succeeded": sum(1 for lead in leads if lead.id == params["lead_id"]),
            "requests": stats.requests_sent,
            "rate_limited": stats.rate_limited,
            "end": time.monotonic(),
            "fallbacks": limiter.fallbacks,
        }
    await limiter.aclose()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
