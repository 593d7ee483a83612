"""`instantly leads import FILE`: check every row, send the good ones with `leads.bulk_add`.

The file is read in passes, each streaming from disk:
1. the screen: every row is parsed, mapped and checked (bulk_add's own `check_lead`, and
   duplicates in the file). A malformed file, a bad `--map` or a missing email column stops the
   command here, before any connection; `--dry-run` stops here in any case.
2. the send: the rows that passed go to `client.leads.bulk_add`, lazily, behind a progress bar.
3. the report (`--report`): the rows that did not make it, as they were, plus an `error` column.
Every row ends in one bucket (created, skipped with a reason, failed, not sent) and the summary
checks that they add up to the rows read.
"""

from __future__ import annotations

import argparse
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

from .._bulk import BulkAddResult, LeadScreen
from ..errors import BulkCancelledError
from ._connect import make_client
from ._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, one_line
from ._mapping import ColumnMap, Problem, parse_map
from ._output import Output
from ._report import check_report_path, write_report
from ._rows import Row, RowFile, file_format

__all__ = ["Screening", "run_import", "screen"]


class Rejected(NamedTuple):
    """A row the screen refused."""

    line: int
    reason: str
    detail: str


class Screening(NamedTuple):
    """What the screen found: how many rows, and which of them may not be sent."""

    rows: int
    rejected: dict[int, Rejected]
    """Row index (0-based, in file order) -> why it may not be sent."""

    @property
    def sendable(self) -> int:
        """Rows that passed."""
        return self.rows - len(self.rejected)

    def reasons(self) -> Counter[str]:
        """Rejected rows by reason."""
        return Counter(r.reason for r in self.rejected.values())


class _Screen:
    """The client-side checks of one row: its values, then bulk_add's own `LeadScreen`."""

    def __init__(self, columns: ColumnMap, for_campaign: bool) -> None:
        self.columns = columns
        self.leads = LeadScreen(for_campaign)

    def check(self, row: Row) -> tuple[dict[str, Any], Problem | None]:
        lead, problem = self.columns.lead(row.values)
        if problem is not None:
            return lead, problem
        return self.leads.screen(lead)


def screen(source: RowFile, columns: ColumnMap, for_campaign: bool) -> Screening:
    """Read and check every row; raise UsageError at the first malformed one."""
    checks = _Screen(columns, for_campaign)
    rejected: dict[int, Rejected] = {}
    rows = 0
    for index, row in enumerate(source.rows()):
        rows += 1
        _, problem = checks.check(row)
        if problem is not None:
            rejected[index] = Rejected(row.line, *problem)
    return Screening(rows, rejected)


def _target(args: argparse.Namespace) -> dict[str, str]:
    if args.campaign_id:
        return {"campaign_id": args.campaign_id}
    return {"list_id": args.list_id}


async def run_import(args: argparse.Namespace, out: Output) -> int:
    """The `leads import` command."""
    source = RowFile(args.file, file_format(args.file, args.format))
    if args.report:
        check_report_path(args.report, args.file)
    for_campaign = bool(args.campaign_id)
    columns = ColumnMap(parse_map(args.map or ()))
    if source.header is not None:
        dropped = columns.check_columns(source.header, for_campaign=for_campaign, path=args.file)
        if dropped:
            out.note(
                f"note: leaving out {'the column' if len(dropped) == 1 else 'the columns'} "
                f"{', '.join(dropped)}: the API sets {'it' if len(dropped) == 1 else 'them'} "
                "(--map 'COLUMN=custom_variables.NAME' keeps one as a custom variable)"
            )
    screening = screen(source, columns, for_campaign)
    _show_rejected(out, screening, args)
    if args.dry_run:
        return _dry_run(args, out, source, screening)

    positions = array("q")  # bulk_add's input position -> row index in the file

    def leads() -> Iterator[dict[str, Any]]:
        for index, row in enumerate(source.rows()):
            if index not in screening.rejected:
                positions.append(index)
                yield columns.lead(row.values)[0]

    cancelled = False
    async with make_client(args) as client:
        # One cheap request first, so a wrong ID fails in a second, not after the whole file.
        if for_campaign:
            await client.campaigns.get(args.campaign_id)
        else:
            await client.lead_lists.get(args.list_id)
        with out.progress("Importing", screening.sendable) as bar:
            try:
                result = await client.leads.bulk_add(
                    leads(),
                    campaign_id=args.campaign_id,
                    list_id=args.list_id,
                    batch_size=args.batch_size,
                    concurrency=args.concurrency,
                    skip_if_in_workspace=args.skip_if_in_workspace,
                    # None: bulk_add's default, skip what is in another campaign (or list).
                    skip_if_in_campaign=False if args.allow_duplicates else None,
                    skip_if_in_list=False if args.allow_duplicates else None,
                    on_progress=lambda done, _total, _result: bar.update(done),
                )
            except BulkCancelledError as exc:
                # Ctrl-C: the import stopped cleanly; say what was sent and what was not.
                result = exc.result
                cancelled = True
    tally = _Tally(screening, result, cancelled)
    reported = 0
    if args.report:
        rows = _report_rows(source, screening, result, positions, cancelled)
        write_report(args.report, source.header, rows)
        reported = len(rows)
    _print_summary(args, out, tally, reported)
    if cancelled:
        invalid = len(screening.rejected) + len(result.invalid)
        out.error(
            f"interrupted: {tally.sent:,} of {tally.rows:,} rows sent ({tally.created:,} created, "
            f"{tally.sent - tally.created - tally.failed:,} skipped, {tally.failed:,} failed); "
            f"{tally.not_sent:,} not sent"
            + (f", {invalid:,} invalid" if invalid else "")
            + (f"; import {args.report} to send the rest" if args.report else "")
        )
        return EXIT_INTERRUPTED
    if result.failed:
        first = one_line(result.failed[0].error)
        out.error(f"{tally.failed:,} rows failed: {first}")
        return EXIT_API
    return EXIT_OK


class _Tally:
    """The import's counts per row of the file: the screen's and bulk_add's together."""

    def __init__(self, screening: Screening, result: BulkAddResult, cancelled: bool) -> None:
        self.rows = screening.rows
        self.created = result.created
        self.skipped = screening.reasons() + result.skipped
        self.failed = result.failed_total
        unread = screening.sendable - result.total  # never read by bulk_add: Ctrl-C came first
        self.not_sent = len(result.not_sent) + unread
        self.sent = result.created + (result.skipped_total - len(result.invalid)) + self.failed
        self.result = result
        self.cancelled = cancelled

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def accounted(self) -> bool:
        return self.created + self.skipped_total + self.failed + self.not_sent == self.rows


def _report_rows(
    source: RowFile,
    screening: Screening,
    result: BulkAddResult,
    positions: array[int],
    cancelled: bool,
) -> list[tuple[Row, str]]:
    """The rows that were not created or skipped by the API, each with why, in file order."""
    errors: dict[int, str] = {
        index: f"{r.reason}: {r.detail}" for index, r in screening.rejected.items()
    }
    for rejection in result.invalid:
        errors[positions[rejection.position]] = f"{rejection.reason}: {rejection.detail}"
    for chunk in result.failed:
        message = f"failed: {one_line(chunk.error)}"
        for position in chunk.positions:
            errors[positions[position]] = message
    for position in result.not_sent:
        errors[positions[position]] = _NOT_SENT
    last_read = positions[len(positions) - 1] if positions else -1
    picked: list[tuple[Row, str]] = []
    for index, row in enumerate(source.rows()):
        error = errors.get(index)
        if error is None and cancelled and index > last_read:
            error = _NOT_SENT
        if error is not None:
            picked.append((row, f"line {row.line}: {error}"))
    return picked


_NOT_SENT = "not_sent: the import was interrupted before this row was sent"
_SHOWN = 5  # rejected rows listed on stderr; the rest are in the report


def _show_rejected(out: Output, screening: Screening, args: argparse.Namespace) -> None:
    for number, r in enumerate(screening.rejected.values()):
        if number == _SHOWN:
            more = len(screening.rejected) - _SHOWN
            hint = f"see {args.report}" if args.report else "--report FILE lists them all"
            out.note(f"... and {more:,} more ({hint})")
            break
        out.note(f"{args.file}:{r.line}: {r.reason}: {r.detail}")


def _dry_run(args: argparse.Namespace, out: Output, source: RowFile, screening: Screening) -> int:
    if args.report:
        rejected = screening.rejected
        rows = [
            (row, f"line {row.line}: {rejected[i].reason}: {rejected[i].detail}")
            for i, row in enumerate(source.rows())
            if i in rejected
        ]
        write_report(args.report, source.header, rows)
    reasons = screening.reasons()
    if out.json_mode:
        out.json(
            {
                "file": args.file,
                "dry_run": True,
                **_target(args),
                "rows": screening.rows,
                "sendable": screening.sendable,
                "rejected": dict(sorted(reasons.items())),
                "rejected_total": len(screening.rejected),
                "report": args.report,
            }
        )
    else:
        pairs = [
            ("File", args.file),
            ("Rows", f"{screening.rows:,}"),
            ("Would send", f"{screening.sendable:,}"),
            ("Would skip", _by_reason(len(screening.rejected), reasons)),
        ]
        if args.report:
            pairs.append(("Report", f"{args.report} ({len(screening.rejected):,} rows)"))
        out.summary("Dry run: nothing was sent", pairs)
    return EXIT_OK


def _by_reason(total: int, reasons: Counter[str]) -> str:
    if not total:
        return "0"
    return f"{total:,} (" + ", ".join(f"{r} {n:,}" for r, n in sorted(reasons.items())) + ")"


def _print_summary(args: argparse.Namespace, out: Output, tally: _Tally, reported: int) -> None:
    result = tally.result
    speed = result.total / result.elapsed if result.elapsed > 0 else 0.0
    if out.json_mode:
        out.json(
            {
                "file": args.file,
                "dry_run": False,
                **_target(args),
                "rows": tally.rows,
                "created": tally.created,
                "skipped": dict(sorted(tally.skipped.items())),
                "skipped_total": tally.skipped_total,
                "failed": tally.failed,
                "not_sent": tally.not_sent,
                "sent": tally.sent,
                "accounted": tally.accounted,
                "cancelled": tally.cancelled,
                "requests": result.requests,
                "retries": result.retries,
                "rate_limited": result.rate_limited,
                "elapsed": round(result.elapsed, 3),
                "leads_per_second": round(speed, 1),
                "report": args.report,
                "reported_rows": reported if args.report else None,
            }
        )
        return
    check = "yes" if tally.accounted else "NO (a bug: please report it)"
    pairs = [
        ("File", args.file),
        ("Rows", f"{tally.rows:,}"),
        ("Created", f"{tally.created:,}"),
        ("Skipped", _by_reason(tally.skipped_total, tally.skipped)),
        ("Failed", f"{tally.failed:,}"),
        ("Not sent", f"{tally.not_sent:,}"),
        ("All rows accounted for", f"{check} (created + skipped + failed + not sent = rows)"),
        (
            "Requests",
            f"{result.requests:,} ({result.retries:,} retries, {result.rate_limited:,} 429s)",
        ),
        ("Time", f"{result.elapsed:.1f} s ({speed:,.0f} leads/s)"),
    ]
    if args.report:
        pairs.append(("Report", f"{args.report} ({reported:,} rows)"))
    out.summary("Interrupted import" if tally.cancelled else "Import", pairs)
