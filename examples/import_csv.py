"""Import the leads of a CSV file into a campaign with `leads.bulk_add`, and print the summary.

    export INSTANTLY_API_KEY=...
    python examples/import_csv.py leads.csv --campaign-id <campaign uuid>

The file has a header row. Columns named like lead fields (email, first_name, last_name,
company_name, ...) fill those fields; every other column becomes a custom variable. Empty cells
are left out. Rows are read as they are sent, so the file may be of any size.

Without an account: run `instantly mock --port 8080` in another shell, then
`INSTANTLY_API_KEY=test python examples/import_csv.py leads.csv --campaign-id <id>
--base-url http://127.0.0.1:8080`.

Exit status: 0 when every row was created or skipped, 1 when requests failed (the summary says
which rows), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterator
from typing import Any

from instantly import DEFAULT_BASE_URL, AsyncInstantly

LEAD_FIELDS = frozenset(
    ("email", "first_name", "last_name", "company_name", "job_title", "phone", "website")
)


def read_leads(path: str) -> Iterator[dict[str, Any]]:
    """One lead dict per row of the CSV file, read lazily."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            lead: dict[str, Any] = {}
            custom: dict[str, Any] = {}
            for column, value in row.items():
                if not column or not value:
                    continue
                name = column.strip().lower().replace(" ", "_")
                if name in LEAD_FIELDS:
                    lead[name] = value.strip()
                else:
                    custom[column.strip()] = value
            if custom:
                lead["custom_variables"] = custom
            yield lead


def progress(done: int, total: int | None, _: object) -> None:
    print(f"\r{done:,} leads done", end="", file=sys.stderr, flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a CSV file with a header row")
    parser.add_argument("--campaign-id", required=True, help="the campaign to import into")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the API's origin")
    args = parser.parse_args()

    try:
        client = AsyncInstantly(base_url=args.base_url)  # the key from $INSTANTLY_API_KEY
    except ValueError as exc:  # no key, or a base URL it refuses
        parser.error(str(exc))
    async with client:
        result = await client.leads.bulk_add(
            read_leads(args.file), campaign_id=args.campaign_id, on_progress=progress
        )
    print(file=sys.stderr)
    print(result.summary())
    for rejection in result.invalid:
        print(f"row {rejection.position + 2}: not sent: {rejection.detail}")  # +2: header, 1-based
    for chunk in result.failed:
        print(
            f"{len(chunk.positions)} rows from row {chunk.positions[0] + 2}: failed: {chunk.error}"
        )
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
