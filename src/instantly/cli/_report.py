"""The `--report` file: the rows an import did not take, as they were, plus an `error` column.

It is written so it can be fed back in as the input of the next run: the original columns keep
their names and values, and the import's default mapping leaves the `error` column out.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

from .. import _json
from ._errors import UsageError
from ._mapping import REPORT_COLUMN
from ._rows import Row

__all__ = ["check_report_path", "write_report"]


def check_report_path(report: str, source: str) -> None:
    """Refuse a report path that would overwrite the input or cannot be written, before
    anything is read or sent."""
    if os.path.exists(report) and os.path.samefile(report, source):
        raise UsageError(f"--report {report}: that is the input file; choose another name")
    folder = os.path.dirname(os.path.abspath(report))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UsageError(f"--report {report}: cannot write in {folder}")


def write_report(path: str, header: Sequence[str] | None, rows: Sequence[tuple[Row, str]]) -> None:
    """Write `rows` (each with its error) to `path`, CSV unless it ends in .jsonl or .ndjson.

    header: the input's CSV header (kept in its order), or None for a JSONL input (the columns
    are then every key of the rows, in the order first seen).
    """
    fmt = "jsonl" if path.lower().endswith((".jsonl", ".ndjson")) else "csv"
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:
            if fmt == "jsonl":
                for row, error in rows:
                    f.write(_json.dumps({**row.values, REPORT_COLUMN: error}).decode() + "\n")
                return
            columns = list(header) if header is not None else _keys(rows)
            if REPORT_COLUMN not in columns:
                columns.append(REPORT_COLUMN)
            writer = csv.DictWriter(f, columns, extrasaction="ignore")
            writer.writeheader()
            for row, error in rows:
                values = {k: _cell(v) for k, v in row.values.items()}
                writer.writerow({**values, REPORT_COLUMN: error})
    except OSError as exc:
        raise UsageError(f"--report {path}: cannot write it ({exc.strerror})") from None


def _keys(rows: Sequence[tuple[Row, str]]) -> list[str]:
    keys: dict[str, None] = {}
    for row, _ in rows:
        keys.update(dict.fromkeys(row.values))
    return list(keys)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json.dumps(value).decode()
