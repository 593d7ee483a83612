"""What the commands print: tables and progress bars for people, JSON for programs.

Data, tables and JSON go to stdout; progress bars, notes and errors go to stderr, so stdout stays
clean for a pipe (`instantly leads export ... | gzip`, `instantly campaigns list --json | jq`).

`rich` (the `instantly-sdk[cli]` extra) draws the tables and bars when it is installed. Without
it the command still works, with plain-text tables and a one-line counter on a terminal: the
console script is installed with the SDK itself, and a script or a CI job that never installed
the extra should get the same results, only less pretty, rather than an error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from typing import Any, NamedTuple, Protocol, TextIO

from .. import _json

__all__ = ["HAVE_RICH", "Bar", "Output"]

HAVE_RICH = find_spec("rich") is not None

# A plain counter redraws at most this often, so a fast import does not flood the terminal.
_PLAIN_REDRAW = 0.1
# Without a terminal (a log file, CI), a progress line is printed this often (seconds).
PROGRESS_EVERY = 5.0


class Bar(Protocol):
    """A progress bar: `update(done)` sets the count, `advance(n)` adds to it."""

    def update(self, done: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Output:
    """Where and how a command prints; one per run of `instantly`."""

    def __init__(
        self,
        *,
        stdout: TextIO,
        stderr: TextIO,
        json_mode: bool = False,
        fancy: bool | None = None,
    ) -> None:
        """stdout/stderr: the streams; json_mode: print JSON instead of tables;
        fancy: use rich (None: when it is installed)."""
        self.stdout = stdout
        self.stderr = stderr
        self.json_mode = json_mode
        self.fancy = HAVE_RICH if fancy is None else fancy

    # -- results, to stdout --------------------------------------------------------------------

    def json(self, data: Any) -> None:
        """Print `data` as JSON (indented, one document)."""
        print(_json.dumps(data, indent=True).decode(), file=self.stdout)

    def table(
        self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> None:
        """Print a table with a header row."""
        self._draw(_Table(title, columns, rows, show_header=True))

    def summary(self, title: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Print a two-column table of labels and values."""
        self._draw(_Table(title, ("", ""), pairs, show_header=False))

    # -- for the person at the terminal, to stderr ---------------------------------------------

    def note(self, message: str) -> None:
        """Print a line for the user that is not the command's result."""
        print(message, file=self.stderr)

    def error(self, message: str, code: int = 1) -> None:
        """Print a one-line error; with --json, also as a JSON document on stdout, where a
        program reads the result: {"error": {"message": ..., "exit_code": ...}}."""
        print(f"instantly: error: {message}", file=self.stderr)
        if self.json_mode:
            self.json({"error": {"message": message, "exit_code": code}})

    @contextmanager
    def progress(self, label: str, total: int | None, unit: str = "leads") -> Iterator[Bar]:
        """A progress bar on stderr for the duration of the block (a counter if total is None)."""
        if self.fancy:
            with _rich_bar(self.stderr, label, total, unit) as bar:
                yield bar
        else:
            bar_ = _PlainBar(self.stderr, label, total, unit)
            try:
                yield bar_
            finally:
                bar_.close()

    def _draw(self, table: _Table) -> None:
        if self.fancy:
            _rich_table(self.stdout, table)
        else:
            _plain_table(self.stdout, table)


class _Table(NamedTuple):
    title: str | None
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    show_header: bool


def _rich_table(stream: TextIO, table: _Table) -> None:
    from rich.console import Console
    from rich.table import Table

    drawn = Table(title=table.title, show_header=table.show_header, title_justify="left")
    for index, column in enumerate(table.columns):
        # A summary's labels in bold; a table's header row is bold already.
        bold = not table.show_header and index == 0
        drawn.add_column(column, overflow="fold", style="bold" if bold else None)
    for row in table.rows:
        drawn.add_row(*row)
    Console(file=stream, width=_width(stream)).print(drawn)


def _plain_table(stream: TextIO, table: _Table) -> None:
    lines = [list(table.columns)] if table.show_header else []
    lines.extend(list(row) for row in table.rows)
    count = len(table.columns)
    widths = [max((len(line[i]) for line in lines), default=0) for i in range(count)]
    if table.title:
        print(table.title, file=stream)
    for number, line in enumerate(lines):
        cells = (cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip(), file=stream)
        if table.show_header and number == 0:
            print("  ".join("-" * w for w in widths), file=stream)


def _width(stream: TextIO) -> int | None:
    # A pipe or a file gets lines wide enough for a lead ID and an email, not rich's 80 columns.
    return None if stream.isatty() else 120


class _PlainBar:
    """A counter redrawn in place with a carriage return on a terminal; without one (a log
    file, CI), a line every PROGRESS_EVERY seconds, so a long run shows it is alive."""

    def __init__(self, stream: TextIO, label: str, total: int | None, unit: str) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self.live = stream.isatty()
        self.started = time.perf_counter()
        self.drawn = self.started

    def update(self, done: int) -> None:
        self.done = done
        now = time.perf_counter()
        if now - self.drawn >= (_PLAIN_REDRAW if self.live else PROGRESS_EVERY):
            self.drawn = now
            self._draw()

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def close(self) -> None:
        if self.live:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        text = f"{self.label}: {self.done:,}"
        if self.total:
            text += f"/{self.total:,} {self.unit} ({100 * self.done // self.total}%)"
        else:
            text += f" {self.unit}"
        text += f" {time.perf_counter() - self.started:.1f}s"
        self.stream.write(f"\r{text}" if self.live else f"{text}\n")
        self.stream.flush()


class _RichBar:
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress = progress
        self.task = task

    def update(self, done: int) -> None:
        self.progress.update(self.task, completed=done)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


@contextmanager
def _rich_bar(stream: TextIO, label: str, total: int | None, unit: str) -> Iterator[Bar]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(file=stream)
    if not console.is_terminal:
        # Nothing to animate in a log file; the command's summary says how it went.
        yield _PlainBar(stream, label, total, unit)
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console) as progress:
        yield _RichBar(progress, progress.add_task(label, total=total))
