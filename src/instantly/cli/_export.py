"""`instantly leads export`: every lead of a campaign or list, to stdout or a file, as it pages.

The leads are written as `client.leads.list` yields them, so memory holds one page (100 leads)
whatever the size of the campaign. The columns are the lead's own fields, the IDs and statuses
the API sets, and `custom_variables` (a JSON object in CSV); `leads import` reads such a file
back, leaving out what the API sets.
"""

from __future__ import annotations

import argparse
import csv
import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final, TextIO

from .. import _json
from .._generated.models import Lead
from ._connect import check_target, make_client
from ._errors import EXIT_OK, UsageError
from ._mapping import CUSTOM, LEAD_FIELDS, normalize
from ._output import Output
from ._rows import file_format

__all__ = ["COLUMNS", "lead_record", "run_export"]

COLUMNS: Final = (
    "id",
    *LEAD_FIELDS,
    "status",
    "campaign",
    "list_id",
    "timestamp_created",
    CUSTOM,
)

_PAGE: Final = 100  # the API's largest page


def lead_record(lead: Lead) -> dict[str, Any]:
    """The exported fields of a lead, JSON-ready; custom variables come from its `payload`."""
    record: dict[str, Any] = {}
    for name in COLUMNS[:-1]:
        value = getattr(lead, name, None)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        record[name] = value
    record[CUSTOM] = _custom_variables(lead)
    return record


# The API's `payload` repeats the lead's own fields in camelCase ("firstName") next to the custom
# variables; those copies are not custom variables and would come back as such on import.
_MIRRORS: Final = frozenset(normalize(f).replace("_", "") for f in (*LEAD_FIELDS, "email"))


def _custom_variables(lead: Lead) -> dict[str, Any]:
    payload = lead.payload or {}
    return {k: v for k, v in payload.items() if k.lower().replace("_", "") not in _MIRRORS}


@contextmanager
def _destination(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        return
    try:
        f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"--output {path}: cannot write it ({exc.strerror})") from None
    with f:
        yield f


class _CsvWriter:
    def __init__(self, stream: TextIO) -> None:
        self.writer = csv.DictWriter(stream, COLUMNS, lineterminator="\n")
        self.writer.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        custom = record[CUSTOM]
        row = {k: "" if v is None else v for k, v in record.items()}
        row[CUSTOM] = _json.dumps(custom).decode() if custom else ""
        self.writer.writerow(row)


class _JsonlWriter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        compact = {k: v for k, v in record.items() if v is not None and v != {}}
        self.stream.write(_json.dumps(compact).decode() + "\n")


async def run_export(args: argparse.Namespace, out: Output) -> int:
    """The `leads export` command."""
    output = None if args.output in (None, "-") else args.output
    # A name that says nothing (a pipe, /dev/stdout) is csv, as no name is.
    fmt = args.format or (file_format(output, None) if output else None) or "csv"
    where = {"campaign": args.campaign_id} if args.campaign_id else {"list_id": args.list_id}
    count = 0
    async with make_client(args) as client:
        await check_target(client, args)  # a wrong ID is exit 2, not an empty file
        with _destination(output) as stream, out.progress("Exporting", None) as bar:
            writer = _CsvWriter(stream) if fmt == "csv" else _JsonlWriter(stream)
            async for lead in client.leads.list(**where, limit=_PAGE):
                writer.write(lead_record(lead))
                count += 1
                bar.update(count)
    out.note(f"Exported {count:,} leads" + (f" to {output}" if output else ""))
    return EXIT_OK
