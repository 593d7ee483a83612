"""The small commands: `campaigns list|create`, `lead-lists list|create`, `leads delete`,
`leads delete-all`."""

from __future__ import annotations

import argparse
import datetime
import enum
import os
import zoneinfo
from collections.abc import Sequence
from typing import Any, Final

from .. import models
from .._convert import unstructure
from .._types import is_unknown
from ._connect import check_target, make_client
from ._errors import EXIT_OK, UsageError
from ._output import Output

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_HOURS",
    "TIMEZONES",
    "campaign_schedule",
    "default_timezone",
    "run_campaigns_create",
    "run_campaigns_list",
    "run_delete",
    "run_delete_all",
    "run_lead_lists_create",
    "run_lead_lists_list",
]

TIMEZONES: Final = tuple(tz.value for tz in models.CampaignScheduleTimezone)
"""The time zones a campaign schedule may name (the API takes these only)."""
DEFAULT_HOURS: Final = ("09:00", "17:00")
DEFAULT_DAYS: Final = (1, 2, 3, 4, 5)  # Monday to Friday; the API counts 0 as Sunday
_FALLBACK_TIMEZONE: Final = "America/Chicago"


def default_timezone() -> str:
    """This machine's time zone if the API takes it; else the first zone the API takes with the
    same UTC offset now (Etc/UTC: Africa/Abidjan); else America/Chicago."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            name = os.path.realpath("/etc/localtime").partition("zoneinfo/")[2]
        except OSError:
            name = ""
    if name in TIMEZONES:
        return name
    offset = datetime.datetime.now().astimezone().utcoffset()
    now = datetime.datetime.now(datetime.UTC)
    for zone in TIMEZONES:
        if zone.startswith(("Antarctica/", "Arctic/")):
            continue
        try:
            if now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == offset:
                return zone
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return _FALLBACK_TIMEZONE


def campaign_schedule(
    timezone: str | None = None,
    hours: tuple[str, str] = DEFAULT_HOURS,
    days: tuple[int, ...] = DEFAULT_DAYS,
) -> models.CreateCampaignRequestCampaignSchedule:
    """A campaign's sending schedule: `days` (0 is Sunday) from hours[0] to hours[1] in
    `timezone` (default: `default_timezone()`); by default weekdays 9 to 5."""
    zone = timezone or default_timezone()
    if zone not in TIMEZONES:
        raise UsageError(
            f"--timezone {zone}: the API does not take this zone; use one of "
            f"{', '.join(TIMEZONES[:6])}, ... (instantly campaigns create --help lists them)"
        )
    flags = {f"field_{d}": d in days for d in range(7)}
    return models.CreateCampaignRequestCampaignSchedule(
        schedules=[
            models.CampaignSchedule(
                name="Default schedule",
                timing=models.CampaignScheduleTiming(from_=hours[0], to=hours[1]),
                days=models.CampaignScheduleDays(**flags),
                timezone=models.CampaignScheduleTimezone(zone),
            )
        ]
    )


def _name(value: Any) -> str:
    """An enum member as a word ("active"); an unknown value as it came."""
    if isinstance(value, enum.Enum) and not is_unknown(value):
        return value.name.lower()
    return str(getattr(value, "value", value))


async def run_campaigns_list(args: argparse.Namespace, out: Output) -> int:
    """The `campaigns list` command."""
    async with make_client(args) as client:
        campaigns = [c async for c in client.campaigns.list(limit=100, search=args.search)]
    rows = [(c.id, c.name, _name(c.status), str(c.timestamp_created)[:19]) for c in campaigns]
    return _listed(out, "campaigns", campaigns, ("ID", "Name", "Status", "Created"), rows)


def _listed(
    out: Output,
    what: str,
    items: Sequence[Any],
    columns: tuple[str, ...],
    rows: Sequence[Sequence[str]],
) -> int:
    """Print what a `list` command found: JSON, or a table."""
    if out.json_mode:
        out.json([unstructure(x) for x in items])
    else:
        out.table(f"{len(items):,} {what}", columns, rows)
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
        await check_target(client, args)  # a wrong ID is exit 2, not "deleted 0"
        result = await client.leads.bulk_delete(**where)
    count = result.count or 0
    if out.json_mode:
        out.json({"deleted": count, **where})
    else:
        out.note(f"Deleted {count:,} leads ({what.removeprefix('every lead of ')})")
    return EXIT_OK


async def run_campaigns_create(args: argparse.Namespace, out: Output) -> int:
    """The `campaigns create NAME` command: a draft campaign with a default schedule."""
    schedule = campaign_schedule(args.timezone, (args.start, args.end), _days(args.days))
    async with make_client(args) as client:
        campaign = await client.campaigns.create(name=args.name, campaign_schedule=schedule)
    timing = schedule.schedules[0]
    if out.json_mode:
        out.json(unstructure(campaign))
    else:
        out.note(
            f"Created campaign {campaign.name!r}: {campaign.id} (sends {args.days} "
            f"{args.start}-{args.end}, {timing.timezone.value}; a draft: activate it in the app "
            "or with client.campaigns.activate)"
        )
        print(campaign.id, file=out.stdout)
    return EXIT_OK


_DAY_NAMES: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _days(text: str) -> tuple[int, ...]:
    """Days of a schedule: "mon-fri", "mon,wed,fri", "sat-sun"; 0 is Sunday."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        try:
            a = _DAY_NAMES.index(first[:3])
            b = _DAY_NAMES.index(last[:3]) if last else a
        except ValueError:
            raise UsageError(
                f"--days {text}: name days as mon, tue, ... sun, e.g. mon-fri or mon,wed,fri"
            ) from None
        days.update(range(a, b + 1) if a <= b else (*range(a, 7), *range(0, b + 1)))
    return tuple(sorted(days))


async def run_lead_lists_create(args: argparse.Namespace, out: Output) -> int:
    """The `lead-lists create NAME` command."""
    async with make_client(args) as client:
        lead_list = await client.lead_lists.create(name=args.name)
    if out.json_mode:
        out.json(unstructure(lead_list))
    else:
        out.note(f"Created lead list {lead_list.name!r}: {lead_list.id}")
        print(lead_list.id, file=out.stdout)
    return EXIT_OK


async def run_lead_lists_list(args: argparse.Namespace, out: Output) -> int:
    """The `lead-lists list` command."""
    async with make_client(args) as client:
        lists = [x async for x in client.lead_lists.list(limit=100, search=args.search)]
    rows = [(x.id, x.name, str(x.timestamp_created)[:19]) for x in lists]
    return _listed(out, "lead lists", lists, ("ID", "Name", "Created"), rows)
