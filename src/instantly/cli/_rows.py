"""Reading an import file (CSV or JSONL) row by row, with errors that name the file and line.

A file is read in passes (check everything, then send, then pick out the rows for the report),
each pass streaming from disk, so a file of any size needs memory for one row at a time.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

from ._errors import UsageError

__all__ = ["FORMATS", "Row", "RowFile", "file_format"]

FORMATS: Final = ("csv", "jsonl")
_SUFFIXES: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class Row(NamedTuple):
    """One record of the file."""

    line: int
    """The line of the file where it starts (1-based; a CSV header is line 1)."""
    values: dict[str, Any]
    """Its columns as they are in the file: strings for CSV, JSON values for JSONL."""


def file_format(path: str, given: str | None, option: str = "--format") -> str:
    """The format of `path`: `given` if set, else from its suffix (.csv, .jsonl, .ndjson)."""
    if given is not None:
        return given
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise UsageError(
            f"{path}: cannot tell the format from the file name; pass {option} csv or "
            f"{option} jsonl"
        )
    return found


class RowFile:
    """An import file; `rows()` reads it from the start each time it is called."""

    def __init__(self, path: str, fmt: str) -> None:
        """Open the file once to check it can be read; for a CSV, read its header.

        path: the file; fmt: "csv" or "jsonl".
        """
        self.path = path
        self.format = fmt
        self.header: list[str] | None = None
        if fmt == "csv":
            with self._open() as f:
                self.header = self._read_header(csv.reader(f))
        else:
            with self._open():
                pass

    def rows(self) -> Iterator[Row]:
        """Every record, in file order; a UsageError names the line of a malformed one."""
        if self.format == "csv":
            return self._csv_rows()
        return self._jsonl_rows()

    def _open(self) -> IO[str]:
        try:
            # utf-8-sig: spreadsheets often save CSV with a byte-order mark.
            return open(self.path, encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise UsageError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{self.path}: is a directory, not a file") from None
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot read it ({exc.strerror})") from None

    def _read_header(self, reader: Any) -> list[str]:
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self._bad(1, exc) from None
        if not header or not any(name.strip() for name in header):
            raise UsageError(f"{self.path}: the file is empty; a CSV import needs a header row")
        names = [name.strip() for name in header]
        seen: dict[str, int] = {}
        for number, name in enumerate(names, 1):
            if name and name in seen:
                raise UsageError(
                    f"{self.path}:1: columns {seen[name]} and {number} are both named {name!r}"
                )
            seen[name] = number
        return names

    def _csv_rows(self) -> Iterator[Row]:
        header = self.header or []
        width = len(header)
        with self._open() as f:
            reader = csv.reader(f)
            line = 1
            try:
                next(reader)
                while True:
                    line = reader.line_num + 1
                    record = next(reader, None)
                    if record is None:
                        return
                    if not record:
                        continue  # a blank line
                    if len(record) > width and any(v.strip() for v in record[width:]):
                        raise UsageError(
                            f"{self.path}:{line}: {len(record)} fields but the header has "
                            f"{width}; check the quoting of this line"
                        )
                    values = dict(zip(header, record, strict=False))
                    values.pop("", None)  # an unnamed column (a trailing comma in the header)
                    yield Row(line, values)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise self._bad(line, exc) from None

    def _jsonl_rows(self) -> Iterator[Row]:
        with self._open() as f:
            line = 0
            try:
                for line, text in enumerate(f, 1):
                    if not text.strip():
                        continue
                    try:
                        value = json.loads(text)
                    except json.JSONDecodeError as exc:
                        raise UsageError(
                            f"{self.path}:{line}: not valid JSON ({exc.msg} at column {exc.colno})"
                        ) from None
                    if not isinstance(value, dict):
                        raise UsageError(
                            f"{self.path}:{line}: expected a JSON object, got {_json_kind(value)}"
                        )
                    yield Row(line, value)
            except UnicodeDecodeError as exc:
                raise self._bad(line + 1, exc) from None

    def _bad(self, line: int, exc: Exception) -> UsageError:
        if isinstance(exc, UnicodeDecodeError):
            return UsageError(f"{self.path}:{line}: not UTF-8 text ({exc.reason})")
        return UsageError(f"{self.path}:{line}: malformed CSV ({exc})")


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
