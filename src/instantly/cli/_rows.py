"""Reading an import file (CSV or JSONL) once, row by row, with errors that name the file and line.

The input is read in one pass, so anything readable once works: a file, `-` or `/dev/stdin`, a
pipe, a process substitution (`<(zcat leads.csv.gz)`), a `.gz` file (decompressed as it is
read). Its bytes are decoded as they come, so a byte that is not in the encoding is reported
with its offset and line. A CSV's delimiter is sniffed from its header (`,` `;` tab `|`) unless
given; the format comes from the name (`.csv`, `.jsonl`, `.ndjson`, each maybe `.gz`) or, for a
name that says nothing (stdin, a pipe), from the first line: `{` starts JSONL.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

from .. import _json
from ._errors import UsageError

__all__ = ["DELIMITERS", "FORMATS", "Row", "RowFile", "file_format", "parse_delimiter"]

FORMATS: Final = ("csv", "jsonl")
_SUFFIXES: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS: Final = (",", ";", "\t", "|")
_STDIN: Final = ("-", "/dev/stdin")
_READ = 1 << 16  # bytes read at a time
_NOT_UTF8_HINT: Final = (
    "if it was saved by Excel or on Windows, try --encoding cp1252 (or the file's own encoding)"
)


class Row(NamedTuple):
    """One record of the file."""

    line: int
    """The line of the file where it starts (1-based; a CSV header is line 1)."""
    values: dict[str, Any]
    """Its columns as they are in the file: strings for CSV, JSON values for JSONL."""


def file_format(path: str, given: str | None, option: str = "--format") -> str | None:
    """The format of `path`: `given` if set, else from its suffix (.csv, .jsonl, .ndjson, each
    maybe with .gz); None if the name says nothing (stdin, a pipe: the content will tell)."""
    if given is not None:
        return given
    name = Path(path)
    if name.suffix.lower() == ".gz":
        name = name.with_suffix("")
    found = _SUFFIXES.get(name.suffix.lower())
    if found is None and path not in _STDIN and not _is_stream(path):
        raise UsageError(
            f"{path}: cannot tell the format from the file name; pass {option} csv or "
            f"{option} jsonl"
        )
    return found


def parse_delimiter(text: str) -> str:
    """`--delimiter`: one character; `tab` or `\\t` for a tab."""
    value = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}.get(
        text.lower(), text
    )
    if len(value) != 1:
        raise UsageError(f"--delimiter {text!r}: give one character (or 'tab')")
    return value


def _is_stream(path: str) -> bool:
    """Whether `path` is a pipe, a socket or a character device (read once, no name to go by)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


class RowFile:
    """An import file, opened and read once; `rows()` yields its records."""

    def __init__(
        self,
        path: str,
        fmt: str | None,
        *,
        encoding: str = "utf-8",
        delimiter: str | None = None,
    ) -> None:
        """Open the input and read as far as its header (a CSV's first row).

        path: the file; "-" or "/dev/stdin" for standard input. A name ending in .gz is
            decompressed.
        fmt: "csv", "jsonl", or None to tell from the first line.
        encoding: the text encoding; UTF-8 (the default) takes a byte-order mark.
        delimiter: a CSV's delimiter; None sniffs it from the header.
        """
        self.path = path
        self.name = "stdin" if path in _STDIN else path
        self.encoding = encoding
        self.regular = False  # a regular file: it could be read to its end after a Ctrl-C
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding}: no such encoding") from None
        self._binary = self._open()
        self.header: list[str] | None = None
        self.delimiter = delimiter
        self._used = False
        try:
            self._lines = self._decoded_lines()
            self._first: str | None = next(self._lines, None)
            self.format = fmt or self._sniff_format()
            if self.format == "csv":
                self._start_csv()
        except BaseException:
            self.close()
            raise

    # -- opening and decoding ------------------------------------------------------------------

    def _open(self) -> IO[bytes]:
        if self.path in _STDIN:
            stream: IO[bytes] = sys.stdin.buffer
        else:
            try:
                stream = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            except FileNotFoundError:
                raise UsageError(f"{self.path}: no such file") from None
            except IsADirectoryError:
                raise UsageError(f"{self.path}: is a directory, not a file") from None
            except OSError as exc:
                raise UsageError(f"{self.path}: cannot read it ({exc.strerror})") from None
            self.regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
        self._raw = stream
        if self.path.lower().endswith(".gz"):
            return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
        return stream

    def _decoded_lines(self) -> Iterator[str]:
        """The text, line by line (each with its newline), decoded as it is read."""
        name = codecs.lookup(self.encoding).name
        decoder = codecs.getincrementaldecoder("utf-8-sig" if name == "utf-8" else name)()
        offset = 0  # bytes read before `data`
        line = 1
        tail = ""
        read = self._binary.read
        while True:
            try:
                data = read(_READ)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise UsageError(f"{self.name}: cannot read it ({exc})") from None
            buffered = len(decoder.getstate()[0])
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                where = offset - buffered + exc.start
                before = exc.object[: exc.start].decode(name, errors="replace")
                if offset - buffered == 0:
                    before = before.lstrip("\ufeff")
                bad = exc.object[exc.start : exc.end].hex(" ")
                gz = " (of the decompressed data)" if self.path.lower().endswith(".gz") else ""
                error = UsageError(
                    f"{self.name}:{{line}}: byte {where:,}{gz} (0x{bad}) is not {self.encoding} "
                    f"text; {_NOT_UTF8_HINT if name == 'utf-8' else 'pass the right --encoding'}"
                )
                # The whole lines before the bad byte are read as usual, then the error.
                parts = (tail + before).split("\n")
                tail = parts.pop()
                for part in parts:
                    yield part + "\n"
                line += len(parts)
                error.args = (str(error).replace("{line}", str(line)),)
                raise error from None
            offset += len(data)
            if not data:
                if tail:
                    yield tail
                return
            parts = (tail + text).split("\n")
            tail = parts.pop()
            for part in parts:
                yield part + "\n"
            line += len(parts)

    def close(self) -> None:
        """Close the input (stdin is left open)."""
        if self.path not in _STDIN:
            self._binary.close()
            self._raw.close()  # a GzipFile leaves the file it reads open

    def _all_lines(self) -> Iterator[str]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._lines

    def _sniff_format(self) -> str:
        head = (self._first or "").lstrip("\ufeff \t\r\n")
        return "jsonl" if head.startswith("{") else "csv"

    # -- CSV -----------------------------------------------------------------------------------

    def _start_csv(self) -> None:
        if self.delimiter is None:
            self.delimiter = _sniff_delimiter(self._first or "")
        self._reader = csv.reader(self._all_lines(), delimiter=self.delimiter)
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise self._bad(1, exc) from None
        if not header or not any(name.strip() for name in header):
            raise UsageError(f"{self.name}: the file is empty; a CSV import needs a header row")
        names = [name.strip() for name in header]
        seen: dict[str, int] = {}
        for number, name in enumerate(names, 1):
            if name and name in seen:
                raise UsageError(
                    f"{self.name}:1: columns {seen[name]} and {number} are both named {name!r}"
                )
            seen[name] = number
        self.header = names

    def rows(self) -> Iterator[Row]:
        """Every record, in file order, once; a UsageError names the line of a malformed one."""
        if self._used:
            raise RuntimeError(f"{self.name} was read already: an input is read once")
        self._used = True
        return self._closing(self._csv_rows() if self.format == "csv" else self._jsonl_rows())

    def _closing(self, rows: Iterator[Row]) -> Iterator[Row]:
        try:
            yield from rows
        finally:
            self.close()

    def _csv_rows(self) -> Iterator[Row]:
        header = self.header or []
        width = len(header)
        reader = self._reader
        line = 1
        try:
            while True:
                line = reader.line_num + 1
                record = next(reader, None)
                if record is None:
                    return
                if not record:
                    continue  # a blank line
                if len(record) > width and any(v.strip() for v in record[width:]):
                    raise UsageError(
                        f"{self.name}:{line}: {len(record)} fields but the header has "
                        f"{width}; check the quoting of this line" + self._delimiter_hint()
                    )
                values = dict(zip(header, record, strict=False))
                values.pop("", None)  # an unnamed column (a trailing comma in the header)
                yield Row(line, values)
        except csv.Error as exc:
            raise self._bad(line, exc) from None

    def _delimiter_hint(self) -> str:
        shown = "tab" if self.delimiter == "\t" else repr(self.delimiter)
        return f" (the delimiter is {shown}; --delimiter sets another)"

    def _jsonl_rows(self) -> Iterator[Row]:
        for line, text in enumerate(self._all_lines(), 1):
            text = text.lstrip("\ufeff") if line == 1 else text
            if not text.strip():
                continue
            try:
                value = _json.loads(text)
            except _json.JSONDecodeError as exc:
                raise UsageError(f"{self.name}:{line}: not valid JSON ({exc})") from None
            if not isinstance(value, dict):
                raise UsageError(
                    f"{self.name}:{line}: expected a JSON object, got {_json_kind(value)}"
                )
            yield Row(line, value)

    def _bad(self, line: int, exc: Exception) -> UsageError:
        return UsageError(f"{self.name}:{line}: malformed CSV ({exc})")


def _sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV header line: whichever of , ; tab | it holds most, outside
    quotes; a comma when it holds none."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
