"""The small commands: `campaigns list`, `leads delete`, `leads delete-all`."""

from __future__ import annotations

import argparse
import enum
from typing import Any

from .._convert import unstructure
from .._types import is_unknown
from ._connect import make_client
from ._errors import EXIT_OK, UsageError
from ._output import Output

__all__ = ["run_campaigns_list", "run_delete", "run_delete_all"]


def _name(value: Any) -> str:
    """An enum member as a word ("active"); an unknown value as it came."""
    if isinstance(value, enum.Enum) and not is_unknown(value):
        return value.name.lower()
    return str(getattr(value, "value", value))


async def run_campaigns_list(args: argparse.Namespace, out: Output) -> int:
    """The `campaigns list` command."""
    async with make_client(args) as client:
        campaigns = [c async for c in client.campaigns.list(limit=100, search=args.search)]
    if out.json_mode:
        out.json([unstructure(c) for c in campaigns])
        return EXIT_OK
    rows = [(c.id, c.name, _name(c.status), c.timestamp_created[:19]) for c in campaigns]
    out.table(f"{len(campaigns):,} campaigns", ("ID", "Name", "Status", "Created"), rows)
    return EXIT_OK


def _confirm(args: argparse.Namespace, what: str) -> None:
    if not args.yes:
        raise UsageError(f"refusing to delete {what} without confirmation; pass --yes to do it")


async def run_delete(args: argparse.Namespace, out: Output) -> int:
    """The `leads delete ID` command."""
    _confirm(args, f"lead {args.id}")
    async with make_client(args) as client:
        await client.leads.delete(args.id)
    if out.json_mode:
        out.json({"deleted": args.id})
    else:
        out.note(f"Deleted lead {args.id}")
    return EXIT_OK


async def run_delete_all(args: argparse.Namespace, out: Output) -> int:
    """The `leads delete-all` command."""
    where = {"campaign_id": args.campaign_id} if args.campaign_id else {"list_id": args.list_id}
    what = (
        f"every lead of {'campaign' if args.campaign_id else 'list'} {next(iter(where.values()))}"
    )
    _confirm(args, what)
    async with make_client(args) as client:
        result = await client.leads.bulk_delete(**where)
    count = result.count or 0
    if out.json_mode:
        out.json({"deleted": count, **where})
    else:
        out.note(f"Deleted {count:,} leads ({what.removeprefix('every lead of ')})")
    return EXIT_OK
