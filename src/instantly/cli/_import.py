"""`instantly leads import FILE`: read the file once, check each row as it comes, send the good
ones with `leads.bulk_add`, and account for every row.

Before anything is sent: the key is checked, the input opened and its header read (a bad --map, a
campaign import without an email column stop here, exit 2), the column mapping printed, and the
target fetched (a campaign or list that does not exist stops here, exit 2). Then the rows stream:
each is mapped to a lead (a value that cannot be one refuses the row), `bulk_add` screens and
sends them, and the rows that may end in the report are held until their lead is settled (at
most the requests in flight). A malformed line stops the import there (exit 2), with the summary
of what was done. `--dry-run` reads and checks everything and sends nothing (no key needed).

Every row ends in one bucket (created, skipped with a reason, failed, not sent) and the summary
checks that they add up to the rows read.
"""

from __future__ import annotations

import argparse
import contextlib
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any, NamedTuple

from .._bulk import BulkAddResult, LeadScreen
from ..errors import BulkCancelledError, BulkImportError
from ._connect import check_target, make_client, require_key
from ._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, one_line
from ._mapping import ColumnMap, Problem, parse_map
from ._output import Output
from ._report import check_report_path, write_report
from ._rows import Row, RowFile, file_format, parse_delimiter

__all__ = ["open_input", "run_import"]

_SHOWN = 5  # refused rows listed on stderr; the rest are in the report
_NOT_SENT = "not_sent: the import stopped before this row was sent"


class Refused(NamedTuple):
    """A row not sent, and why (one of bulk_add's SKIP_REASONS, and a detail)."""

    row: Row
    reason: str
    detail: str


def open_input(args: argparse.Namespace) -> RowFile:
    """The input of `leads import`, opened as far as its header."""
    delimiter = parse_delimiter(args.delimiter) if args.delimiter else None
    fmt = file_format(args.file, args.format)
    return RowFile(args.file, fmt, encoding=args.encoding, delimiter=delimiter)


class _Mapping:
    """The column mapping of one import, printed before sending, and hints on columns whose
    names look like misspelled fields (for JSONL, as new keys appear)."""

    def __init__(self, columns: ColumnMap, out: Output, name: str) -> None:
        self.columns = columns
        self.out = out
        self.name = name
        self.seen: set[str] = set()

    def show(self, keys: list[str], line: int | None = None) -> None:
        new = [k for k in keys if k not in self.seen]
        if not new:
            return
        self.seen.update(new)
        where = f" (line {line})" if line is not None else ""
        first = line is None or len(self.seen) == len(new)
        title = "columns" if first else f"new keys{where}"
        pairs = ", ".join(f"{k} -> {self.columns.describe(k)}" for k in new)
        self.out.note(f"{self.name}: {title}: {pairs}")
        for key in new:
            hint = self.columns.hint(key)
            if hint is not None:
                self.out.note(f"{self.name}: warning: {hint}")


async def run_import(args: argparse.Namespace, out: Output) -> int:
    """The `leads import` command."""
    if not args.dry_run:
        require_key(args)  # before the input is read: a missing key is not worth a whole file
    if args.report:
        check_report_path(args.report, args.file)
    columns = ColumnMap(parse_map(args.map or ()))
    for_campaign = bool(args.campaign_id)
    source = open_input(args)
    try:
        mapping = _Mapping(columns, out, source.name)
        dropped = []
        if source.header is not None:
            dropped = columns.check_columns(
                source.header, for_campaign=for_campaign, path=source.name
            )
        if args.dry_run:
            _show_mapping(out, mapping, source, dropped)
            return _dry_run(args, out, source, columns, mapping, for_campaign)
        async with make_client(args) as client:
            await check_target(client, args)
            _show_mapping(out, mapping, source, dropped)
            return await _Run(args, out, source, columns, mapping).run(client)
    finally:
        source.close()


def _show_mapping(out: Output, mapping: _Mapping, source: RowFile, dropped: list[str]) -> None:
    """A CSV's column mapping, before anything is sent (a JSONL file's, at its first row)."""
    if source.header is None:
        return
    mapping.show(source.header)
    if dropped:
        out.note(
            f"note: leaving out {'the column' if len(dropped) == 1 else 'the columns'} "
            f"{', '.join(dropped)}: the API sets {'it' if len(dropped) == 1 else 'them'} "
            "(--map 'COLUMN=custom_variables.NAME' keeps one as a custom variable)"
        )


class _Run:
    """One import: the rows as they stream, the rows held for the report, the summary."""

    def __init__(
        self,
        args: argparse.Namespace,
        out: Output,
        source: RowFile,
        columns: ColumnMap,
        mapping: _Mapping,
    ) -> None:
        self.args = args
        self.out = out
        self.source = source
        self.columns = columns
        self.mapping = mapping
        self.rows = 0
        self.refused: list[Refused] = []  # rows whose values cannot make a lead
        self.held: dict[int, Row] = {}  # bulk_add position -> its row, until settled
        self.order: deque[int] = deque()  # held positions in read order
        self.kept: dict[int, Row] = {}  # positions that go to the report
        self.invalid_seen = 0  # entries of result.invalid looked at so far
        self.stopped: UsageError | None = None
        self.rows_iter: Iterator[Row] | None = None
        self.unread: list[Row] = []  # rows after a Ctrl-C, read for the report only

    def leads(self) -> Iterator[dict[str, Any]]:
        position = 0
        jsonl = self.source.format == "jsonl"
        self.rows_iter = self.source.rows()
        for row in self.rows_iter:
            self.rows += 1
            if jsonl:
                self.mapping.show(list(row.values), row.line)
            lead, problem = self.columns.lead(row.values)
            if problem is not None:
                self._refuse(row, problem)
                continue
            self.held[position] = row
            self.order.append(position)
            position += 1
            yield lead

    def _refuse(self, row: Row, problem: Problem) -> None:
        self.refused.append(Refused(row, *problem))
        if len(self.refused) <= _SHOWN:
            self.out.note(f"{self.source.name}:{row.line}: {problem[0]}: {problem[1]}")

    def prune(self, result: BulkAddResult) -> None:
        """Let go of the rows whose lead is settled for good (created, or skipped by the API);
        keep those for the report (refused by bulk_add's checks, failed, not sent)."""
        invalid = result.invalid
        held, kept, order = self.held, self.kept, self.order
        for rejection in invalid[self.invalid_seen :]:
            row = held.pop(rejection.position, None)
            if row is not None:
                kept[rejection.position] = row
                if len(self.refused) + len(kept) <= _SHOWN:
                    self.out.note(
                        f"{self.source.name}:{row.line}: {rejection.reason}: {rejection.detail}"
                    )
        self.invalid_seen = len(invalid)
        while order:
            position = order[0]
            if position >= result.total:
                break
            state = result.outcome(position)
            if state == "pending":
                break
            order.popleft()
            row = held.pop(position, None)
            if row is not None and state in ("failed", "not_sent"):
                kept[position] = row

    async def run(self, client: Any) -> int:
        args, out = self.args, self.out
        cancelled = False
        with out.progress("Importing", None) as bar:

            def progress(done: int, _total: int | None, result: BulkAddResult) -> None:
                bar.update(done + len(self.refused))
                self.prune(result)

            try:
                result = await client.leads.bulk_add(
                    self.leads(),
                    campaign_id=args.campaign_id,
                    list_id=args.list_id,
                    batch_size=args.batch_size,
                    concurrency=args.concurrency,
                    skip_if_in_workspace=args.skip_if_in_workspace,
                    skip_if_in_campaign=args.skip_if_in_campaign,
                    skip_if_in_list=args.skip_if_in_list,
                    journal=args.resume,
                    on_progress=progress,
                )
            except BulkCancelledError as exc:
                # Ctrl-C: the import stopped cleanly; say what was sent and what was not.
                result = exc.result
                cancelled = True
            except BulkImportError as exc:
                if not isinstance(exc.__cause__, UsageError):
                    raise
                result = exc.result
                self.stopped = exc.__cause__
        self.prune(result)
        unread = 0
        if cancelled and self.source.regular and not args.resume:
            unread = self._read_rest()  # so that the report holds every row not sent
        tally = _Tally(self, result, unread)
        reported = self._report(result) if args.report else 0
        _print_summary(args, out, tally, reported, self.source.name)
        if self.stopped is not None:
            out.error(
                f"{self.stopped}; the import stopped there: {tally.sent:,} rows sent, "
                f"{tally.not_sent:,} read but not sent (see the summary)",
                EXIT_USAGE,
            )
            return EXIT_USAGE
        if cancelled:
            invalid = len(self.refused) + len(result.invalid)
            rest = (
                f"; import {args.report} to send the rest"
                if args.report
                else f"; run it again with --resume {args.resume} to finish"
                if args.resume
                else ""
            )
            out.error(
                f"interrupted: {tally.sent:,} of {tally.rows:,} rows sent ({tally.created:,} "
                f"created, {tally.sent - tally.created - tally.failed:,} skipped, "
                f"{tally.failed:,} failed); {tally.not_sent:,} not sent"
                + (f", {invalid:,} invalid" if invalid else "")
                + rest,
                EXIT_INTERRUPTED,
            )
            return EXIT_INTERRUPTED
        if result.failed:
            first = one_line(result.failed[0].error)
            out.error(f"{tally.failed:,} rows failed: {first}", EXIT_API)
            return EXIT_API
        return EXIT_OK

    def _read_rest(self) -> int:
        """After a Ctrl-C, the rows of a regular file not read yet: counted and kept for the
        report as not sent (nothing more is sent). A pipe is not read on: it may never end."""
        rows = self.rows_iter
        if rows is None:
            return 0
        with contextlib.suppress(UsageError):  # a malformed line further on: what came before
            self.unread.extend(rows)
        return len(self.unread)

    def _report(self, result: BulkAddResult) -> int:
        """Write the report: every row not created or skipped by the API, in file order."""
        errors: list[tuple[Row, str]] = [
            (r.row, f"line {r.row.line}: {r.reason}: {r.detail}") for r in self.refused
        ]
        why: dict[int, str] = {
            rejection.position: f"{rejection.reason}: {rejection.detail}"
            for rejection in result.invalid
        }
        for chunk in result.failed:
            message = f"failed: {one_line(chunk.error)}"
            for position in chunk.positions:
                why[position] = message
        for position in result.not_sent:
            why[position] = _NOT_SENT
        for position, row in self.kept.items():
            errors.append((row, f"line {row.line}: {why.get(position, _NOT_SENT)}"))
        for row in self.unread:
            errors.append((row, f"line {row.line}: {_NOT_SENT}"))
        errors.sort(key=lambda pair: pair[0].line)
        write_report(self.args.report, self.source.header, errors)
        return len(errors)


class _Tally:
    """The import's counts per row: the CLI's refusals and bulk_add's together."""

    def __init__(self, run: _Run, result: BulkAddResult, unread: int) -> None:
        self.rows = run.rows + unread
        self.created = result.created
        self.skipped = Counter(r.reason for r in run.refused) + result.skipped
        self.failed = result.failed_total
        self.not_sent = len(result.not_sent) + unread
        self.sent = result.created + (result.skipped_total - len(result.invalid)) + self.failed
        self.result = result
        self.cancelled = result.cancelled

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def accounted(self) -> bool:
        return self.created + self.skipped_total + self.failed + self.not_sent == self.rows


def _dry_run(
    args: argparse.Namespace,
    out: Output,
    source: RowFile,
    columns: ColumnMap,
    mapping: _Mapping,
    for_campaign: bool,
) -> int:
    """Read and check every row, as the import would, and send nothing."""
    screen = LeadScreen(for_campaign)
    rows = 0
    refused: list[Refused] = []
    jsonl = source.format == "jsonl"
    for row in source.rows():
        rows += 1
        if jsonl:
            mapping.show(list(row.values), row.line)
        lead, problem = columns.lead(row.values)
        if problem is None:
            _, problem = screen.screen(lead)
        if problem is not None:
            refused.append(Refused(row, *problem))
            if len(refused) <= _SHOWN:
                out.note(f"{source.name}:{row.line}: {problem[0]}: {problem[1]}")
    if len(refused) > _SHOWN:
        hint = f"see {args.report}" if args.report else "--report FILE lists them all"
        out.note(f"... and {len(refused) - _SHOWN:,} more ({hint})")
    if args.report:
        write_report(
            args.report,
            source.header,
            [(r.row, f"line {r.row.line}: {r.reason}: {r.detail}") for r in refused],
        )
    reasons = Counter(r.reason for r in refused)
    if out.json_mode:
        out.json(
            {
                "file": source.name,
                "dry_run": True,
                **_target(args),
                "rows": rows,
                "sendable": rows - len(refused),
                "rejected": dict(sorted(reasons.items())),
                "rejected_total": len(refused),
                "report": args.report,
            }
        )
    else:
        pairs = [
            ("File", source.name),
            ("Rows", f"{rows:,}"),
            ("Would send", f"{rows - len(refused):,}"),
            ("Would skip", _by_reason(len(refused), reasons)),
        ]
        if args.report:
            pairs.append(("Report", f"{args.report} ({len(refused):,} rows)"))
        out.summary("Dry run: nothing was sent", pairs)
    return EXIT_OK


def _target(args: argparse.Namespace) -> dict[str, str]:
    if args.campaign_id:
        return {"campaign_id": args.campaign_id}
    return {"list_id": args.list_id}


def _by_reason(total: int, reasons: Counter[str]) -> str:
    if not total:
        return "0"
    return f"{total:,} (" + ", ".join(f"{r} {n:,}" for r, n in sorted(reasons.items())) + ")"


def _print_summary(
    args: argparse.Namespace, out: Output, tally: _Tally, reported: int, name: str
) -> None:
    result = tally.result
    speed = result.total / result.elapsed if result.elapsed > 0 else 0.0
    if out.json_mode:
        out.json(
            {
                "file": name,
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
                "resumed": result.resumed,
                "looked_up": result.reconciled,
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
        ("File", name),
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
    if result.resumed:
        pairs.insert(2, ("Done by an earlier run", f"{result.resumed:,} (--resume)"))
    if args.report:
        pairs.append(("Report", f"{args.report} ({reported:,} rows)"))
    out.summary("Interrupted import" if tally.cancelled else "Import", pairs)
