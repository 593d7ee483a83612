"""Client side of the peer SDK, `instantlyai`: runs in its venv (bench/.peer-venv), not ours.

Only the standard library, instantlyai and its httpx here: this project is not installed there.
The client is built with `base_url` set to the mock's URL on 127.0.0.1, so it can never reach the
real API, and with the key "test".
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._clients import Stopwatch
from ._leads import new_leads

__all__ = ["peer_import"]

API_KEY = "test"


async def peer_import(params: dict[str, Any]) -> dict[str, Any]:
    """instantlyai's `leads.bulk_add`, once per chunk, as many at once as ours (a semaphore).

    instantlyai has no bulk helper: a user chunks the leads and calls `bulk_add` per chunk.
    `paced` turns on its own client-side limit, `requests_per_minute=6000`.
    """
    # Installed in the peer's venv only, so the project's type checker cannot see them.
    import httpx  # type: ignore[import-not-found]
    import instantlyai  # type: ignore[import-not-found]
    from instantlyai._transport import DEFAULT_TIMEOUT  # type: ignore[import-not-found]

    count: int = params["count"]
    batch: int = params["batch_size"]
    url: str = params["url"]
    assert url.startswith("http://127.0.0.1:"), "the peer only ever talks to the local mock"
    statuses: dict[int, int] = {}

    async def count_status(response: httpx.Response) -> None:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    # Its own default timeout, plus a hook that counts answers (it keeps no such counters).
    http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, event_hooks={"response": [count_status]})
    async with instantlyai.AsyncInstantly(
        api_key=API_KEY,
        base_url=url,
        http_client=http,
        requests_per_minute=6000 if params["paced"] else None,
    ) as client:
        target = await client.lead_lists.create(name="bench instantlyai")
        statuses.clear()
        watch = Stopwatch()
        leads = list(new_leads(count))
        chunks = [leads[i : i + batch] for i in range(0, count, batch)]
        gate = asyncio.Semaphore(params["concurrency"])
        created = 0
        failures: dict[str, int] = {}

        async def add(chunk: list[dict[str, Any]]) -> None:
            nonlocal created
            async with gate:
                try:
                    result = await client.leads.bulk_add(leads=chunk, list_id=str(target.id))
                except instantlyai.InstantlyError as exc:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                    return
            created += result.leads_uploaded or 0

        await asyncio.gather(*(add(c) for c in chunks))
        watch.stop()
    requests = sum(statuses.values())
    return {
        "version": instantlyai.__version__,
        "paced": params["paced"],
        "created": created,
        "lost_leads": count - created,
        "failed_chunks": failures,
        "requests": requests,
        "rate_limited": statuses.get(429, 0),
        "share_429": round(statuses.get(429, 0) / max(1, requests), 4),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "leads_per_s": round(created / watch.elapsed, 1),
        **watch.figures(),
    }
