"""A server that does no per-lead work: the bulk benchmark's counterpart to the mock.

`python -m bench.sink --port 0 --rate-limit 100,6000 --latency 0.2 [--fault-rate 0.05]` prints
`listening on URL` and answers, for the key "test":
- `POST /api/v2/lead-lists` and `POST /api/v2/campaigns`: a new target (a LeadList / Campaign);
- `POST /api/v2/leads/add`: a valid `BulkAddLeadsResult` with every lead created, its ids made
  from a counter. The body is parsed (orjson: the count of leads and, with faults, their emails)
  but no lead is checked or stored, so the client's CPU, not the server's, is what a run shows;
- `POST /api/v2/leads/list` by `contacts` (with faults only): the leads it created with those
  emails, 100 a page, which is what bulk import's lookups ask.
The workspace limit is enforced as the mock does (429 with Retry-After, the same leeway for new
connections), so `rate_ratio` against it means the same as against the mock. With `--fault-rate
R`, a share R of `leads/add` requests fails: a quarter each answered 503 before the write,
dropped before, answered 503 after the write, dropped after (seeded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aiohttp import web

from instantly.testing._arrivals import ArrivalLimits

__all__ = ["main"]

_AUTH = "Bearer test"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Sink:
    def __init__(
        self, rate_limit: tuple[int, int] | None, latency: float, fault_rate: float, seed: int
    ) -> None:
        self.latency = latency
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        # Counted by arrival with no leeway, as the API (and the mock, by default) counts.
        self.limiter = ArrivalLimits(*rate_limit) if rate_limit else None
        self.connections: set[object] = set()
        self.counter = 0
        self.prefix = f"{seed:08x}-0000-4000-8000-"
        self.stored: dict[str, dict[str, str]] = {}  # target -> email -> id (with faults)
        self.created_at: dict[str, str] = {}  # id -> timestamp (with faults)

    def _id(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter:012x}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != _AUTH:
            return _error(401, "Unauthorized")
        if self.limiter is not None:
            fresh = request.transport not in self.connections
            if fresh:
                self.connections.add(request.transport)
            now = asyncio.get_running_loop().time()
            wait = self.limiter.admit(now, new_connection=fresh)
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                return _error(429, "Too many requests", {"Retry-After": str(seconds)})
        raw = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        path = request.path
        if path == "/api/v2/leads/add":
            return self._add(request, raw)
        if path == "/api/v2/leads/list":
            return self._list(raw)
        if path in ("/api/v2/lead-lists", "/api/v2/campaigns"):
            body = orjson.loads(raw)
            now = _now()
            return _json(
                {
                    "id": self._id(),
                    "organization_id": self.prefix + "0" * 12,
                    "organization": self.prefix + "0" * 12,
                    "name": body.get("name", "sink"),
                    "status": 0,
                    "timestamp_created": now,
                    "timestamp_updated": now,
                }
            )
        return _error(404, f"{path} is not served by the sink")

    def _add(self, request: web.Request, raw: bytes) -> web.StreamResponse:
        body = orjson.loads(raw)
        leads = body["leads"]
        roll = self.rng.random() if self.fault_rate else 1.0
        kind = int(roll / self.fault_rate * 4) if roll < self.fault_rate else -1
        if kind == 0:
            return _error(503, "Injected fault before the write")
        if kind == 1:
            return _drop(request)
        first = self.counter + 1
        self.counter += len(leads)
        prefix = self.prefix
        if self.fault_rate:
            target = body.get("campaign_id") or body.get("list_id")
            store = self.stored.setdefault(target, {})
            now = _now()
            for i, lead in enumerate(leads):
                email = lead.get("email")
                if email:
                    lead_id = f"{prefix}{first + i:012x}"
                    store[email.lower()] = lead_id
                    self.created_at[lead_id] = now
        if kind == 2:
            return _error(503, "Injected fault after the write")
        if kind == 3:
            return _drop(request)
        entries = ",".join(
            [f'{{"index":{i},"id":"{prefix}{first + i:012x}"}}' for i in range(len(leads))]
        )
        n = len(leads)
        head = (
            f'{{"status":"success","total_sent":{n},"leads_uploaded":{n},"in_blocklist":0,'
            f'"blocklist_used":null,"duplicated_leads":0,"skipped_count":0,'
            f'"invalid_email_count":0,"incomplete_count":0,"duplicate_email_count":0,'
            f'"remaining_in_plan":null,"created_leads":['
        )
        return web.Response(body=(head + entries + "]}").encode(), content_type="application/json")

    def _list(self, raw: bytes) -> web.StreamResponse:
        body = orjson.loads(raw)
        field = "campaign" if body.get("campaign") else "list_id"
        target = body.get(field)
        store = self.stored.get(target, {})
        found = [(store[c.lower()], c) for c in body.get("contacts", []) if c.lower() in store]
        found.sort()
        start = 0
        if body.get("starting_after"):
            start = next((i + 1 for i, (lead_id, _) in enumerate(found)
                          if lead_id == body["starting_after"]), len(found))  # fmt: skip
        limit = body.get("limit", 100)
        page = found[start : start + limit]
        items = [
            {"id": lead_id, "email": email, field: target,
             "timestamp_created": self.created_at[lead_id]}
            for lead_id, email in page
        ]  # fmt: skip
        answer: dict[str, object] = {"items": items}
        if len(page) == limit:
            answer["next_starting_after"] = page[-1][0]
        return _json(answer)


def _json(data: object) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"statusCode": status, "error": "Error", "message": message}
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _drop(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.close()
    raise web.HTTPServiceUnavailable()


async def _serve(args: argparse.Namespace) -> None:
    limit = None if args.rate_limit == "none" else tuple(int(x) for x in args.rate_limit.split(","))
    sink = Sink(limit, args.latency, args.fault_rate, args.seed)  # type: ignore[arg-type]
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening on http://{args.host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sink", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default="test", help="ignored: the sink takes the key 'test'")
    ap.add_argument("--rate-limit", default="100,6000", help="PER_SECOND,PER_MINUTE or none")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    args = ap.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
