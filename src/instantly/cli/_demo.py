"""`instantly demo`: the SDK's main job end to end, on the embedded mock (or the real API).

It creates a campaign and a lead list, imports N generated leads with `leads.bulk_add`, pages
them back with `leads.list`, updates the interest status of 1 in 50 of them concurrently with
`client.bulk`, moves 1 in 100 to the list and waits for the background job, then prints what
each phase took against the API's limit of 100 requests/s, and checks that every lead is
accounted for. A few generated leads are bad on purpose (an invalid email, a repeated email), so
the accounting has skips to account for.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from .. import models
from .._client import AsyncInstantly
from ..errors import BulkCancelledError
from ._commands import campaign_schedule
from ._connect import make_client
from ._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, UsageError
from ._output import Output

__all__ = ["campaign_schedule", "demo_leads", "run_demo"]

RATE_LIMIT = (100, 6000)  # the API's: per second, per minute
UPDATE_EVERY = 50  # 1 lead in 50 gets an interest status update: 1,000 of 50,000
MOVE_EVERY = 100  # 1 lead in 100 moves to the list: 500 of 50,000
# Bad leads on purpose, 2 in 2,500: one email that is not one, one repeating the lead before.
_CYCLE, _INVALID_AT, _REPEAT_AT = 2500, 1000, 2000

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
_COMPANY = ("Analytical", "Compiler", "Enigma", "Semaphore", "Clu", "TeX", "Ptran", "Unix")
_SEGMENT = ("smb", "mid-market", "enterprise", "startup")


def _email(i: int, domain: str) -> str:
    return f"lead{i:06d}@{domain}"


def demo_leads(n: int, domain: str) -> Iterator[dict[str, Any]]:
    """N leads as dicts, generated as they are read; 2 in 2,500 are bad on purpose."""
    for i in range(n):
        email = _email(i, domain)
        if i % _CYCLE == _INVALID_AT:
            email = email.replace("@", ".at.")
        elif i % _CYCLE == _REPEAT_AT:
            email = _email(i - 1, domain)
        yield {
            "email": email,
            "first_name": _FIRST[i % len(_FIRST)],
            "last_name": _LAST[i // len(_FIRST) % len(_LAST)],
            "company_name": f"{_COMPANY[i % len(_COMPANY)]} {i % 997}",
            "custom_variables": {"segment": _SEGMENT[i % len(_SEGMENT)], "score": i % 100},
        }


class Phase(NamedTuple):
    """What one step of the demo took."""

    name: str
    requests: int
    seconds: float
    result: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class _Demo:
    def __init__(self, client: AsyncInstantly, args: argparse.Namespace, out: Output) -> None:
        self.client = client
        self.args = args
        self.out = out
        self.phases: list[Phase] = []
        self.checks: list[tuple[str, bool]] = []
        self.data: dict[str, Any] = {"leads": args.leads}
        self._clock = (0, 0.0)

    def _start(self) -> None:
        self._clock = (self._requests(), time.perf_counter())

    def _stop(self, name: str, result: str) -> None:
        requests, started = self._clock
        self.phases.append(
            Phase(name, self._requests() - requests, time.perf_counter() - started, result)
        )

    def _requests(self) -> int:
        return self.client.stats.requests_sent

    async def run(self, domain: str) -> None:
        client, out, n = self.client, self.out, self.args.leads
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")

        self._start()
        campaign = await client.campaigns.create(
            name=f"SDK demo {stamp}", campaign_schedule=campaign_schedule()
        )
        lead_list = await client.lead_lists.create(name=f"SDK demo {stamp}")
        self._stop("Create campaign and list", "created")
        self.data.update(campaign_id=campaign.id, list_id=lead_list.id)

        self._start()
        with out.progress("Importing", n) as bar:
            result = await client.leads.bulk_add(
                demo_leads(n, domain),
                campaign_id=campaign.id,
                concurrency=self.args.concurrency,
                on_progress=lambda done, _total, _result: bar.update(done),
            )
        skipped = ", ".join(f"{r} {k:,}" for r, k in sorted(result.skipped.items()))
        speed = n / result.elapsed if result.elapsed > 0 else 0.0
        self._stop(
            "Import (leads.bulk_add)",
            f"{result.created:,} created, {result.skipped_total:,} skipped"
            f"{f' ({skipped})' if skipped else ''}, {result.failed_total:,} failed; "
            f"{speed:,.0f} leads/s",
        )
        accounted = result.created + result.skipped_total + result.failed_total == n
        self.checks.append(
            (
                f"every lead accounted for: {n:,} = {result.created:,} created + "
                f"{result.skipped_total:,} skipped + {result.failed_total:,} failed",
                accounted,
            )
        )
        self.data["import"] = {
            "created": result.created,
            "skipped": dict(sorted(result.skipped.items())),
            "failed": result.failed_total,
            "leads_per_second": round(speed, 1),
            "rate_limited": result.rate_limited,
            "retries": result.retries,
        }

        self._start()
        listed = 0
        with out.progress("Paging back", result.created) as bar:
            async for _lead in client.leads.list(campaign=campaign.id, limit=100):
                listed += 1
                bar.update(listed)
        self._stop("Page back (leads.list)", f"{listed:,} leads listed")
        self.checks.append(
            (
                f"paged back what was created: {listed:,} = {result.created:,}",
                listed == result.created,
            )
        )
        self.data["listed"] = listed

        # The leads created, in input order: the first 1 in 50 get an update, 1 in 100 move.
        created = sorted(result.created_ids)
        emails = [_email(p, domain) for p in created[: max(1, n // UPDATE_EVERY)]]
        self._start()
        updated = failed = 0
        with out.progress("Interest status", len(emails)) as bar:
            run = client.bulk(
                lambda email: client.leads.update_interest_status(
                    lead_email=email,
                    interest_value=models.LeadInterestStatus.INTERESTED,
                    campaign_id=campaign.id,
                ),
                emails,
                concurrency=self.args.concurrency,
            )
            async for outcome in run:
                updated += outcome.ok
                failed += not outcome.ok
                bar.advance()
        self._stop("Interest status (client.bulk)", f"{updated:,} updated, {failed:,} failed")
        self.checks.append(
            (f"interest status updated: {updated:,} of {len(emails):,}", failed == 0)
        )
        self.data["interest_updated"] = updated

        ids = [result.created_ids[p] for p in created[: max(1, n // MOVE_EVERY)]]
        self._start()
        job = await client.leads.move(ids=ids, to_list_id=lead_list.id)
        job = await client.background_jobs.wait(job, timeout=300, poll_interval=0.2)
        in_list = 0
        async for _lead in client.leads.list(list_id=lead_list.id, limit=100):
            in_list += 1
        self._stop(
            "Move to list (leads.move + wait)",
            f"job {job.status.name.lower()}; the list holds {in_list:,} leads",
        )
        self.checks.append((f"moved to the list: {in_list:,} of {len(ids):,}", in_list == len(ids)))
        self.data["moved"] = in_list

    def report(self, wall: float, server: dict[str, int] | None) -> None:
        stats = self.client.stats
        requests = sum(p.requests for p in self.phases)
        rate_limited = stats.rate_limited
        retries = stats.retries
        busy = sum(p.seconds for p in self.phases)
        self.data.update(
            phases=[{**p._asdict(), "rate": round(p.rate, 1)} for p in self.phases],
            requests=requests,
            requests_per_second=round(requests / busy, 1) if busy else 0.0,
            rate_limit_per_second=RATE_LIMIT[0],
            rate_limited=rate_limited,
            retries=retries,
            wall_seconds=round(wall, 2),
            checks={text: ok for text, ok in self.checks},
            server=server,
        )
        if self.out.json_mode:
            self.out.json(self.data)
            return
        rows = [
            (p.name, f"{p.requests:,}", f"{p.seconds:.1f}", f"{p.rate:,.0f}", p.result)
            for p in self.phases
        ]
        rows.append(
            (
                "Total",
                f"{requests:,}",
                f"{busy:.1f}",
                f"{requests / busy if busy else 0:,.0f}",
                f"limit {RATE_LIMIT[0]}/s; {rate_limited:,} 429s, {retries:,} retries",
            )
        )
        self.out.table(
            f"instantly demo: {self.args.leads:,} leads in {wall:.1f} s",
            ("Phase", "Requests", "Seconds", "Req/s", "Result"),
            rows,
        )
        lines = [("yes" if ok else "NO", text) for text, ok in self.checks]
        lines.append(("", f"campaign {self.data['campaign_id']}, list {self.data['list_id']}"))
        if server is not None:
            lines.append(
                (
                    "",
                    f"the mock saw {server['requests']:,} requests, answered {server['rate_limited']:,} with 429",
                )
            )
        self.out.table(None, ("OK", "Check"), lines)


async def run_demo(args: argparse.Namespace, out: Output) -> int:
    """The `demo` command."""
    started = time.perf_counter()
    if args.live:
        if not args.yes:
            raise UsageError(
                f"--live creates a campaign, a list and {args.leads:,} leads in your workspace; "
                "pass --yes to go ahead"
            )
        client = make_client(args)
        demo = _Demo(client, args, out)
        async with client:
            code = await _run(demo, f"sdk-demo-{int(time.time())}.example.com")
            server = None
    else:
        from ..testing import MockInstantly

        async with MockInstantly(rate_limit=RATE_LIMIT, latency=args.latency) as mock:
            async with mock.client() as client:
                demo = _Demo(client, args, out)
                code = await _run(demo, "example.com")
            server = {"requests": mock.state.requests, "rate_limited": mock.state.rate_limited}
    if code == EXIT_OK:
        demo.report(time.perf_counter() - started, server)
        failed = [text for text, ok in demo.checks if not ok]
        if failed:
            out.error(f"check failed: {failed[0]}")
            return EXIT_API
    return code


async def _run(demo: _Demo, domain: str) -> int:
    try:
        await demo.run(domain)
    except BulkCancelledError as exc:
        demo.out.error(f"interrupted during the import: {exc.result}")
        return EXIT_INTERRUPTED
    return EXIT_OK
