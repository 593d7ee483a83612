"""The command line's grammar: every command and option, with one line of help each."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .._version import __version__
from ._rows import FORMATS

__all__ = ["build_parser"]

_EPILOG = """\
The API key comes from --api-key or $INSTANTLY_API_KEY (prefer the variable: options show up in
the process list); it is never printed. Exit codes: 0 done, 1 the API or the network failed,
2 bad arguments or bad input (nothing sent), 130 interrupted.
"""


def _count(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type for a whole number in low..high."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"{low}..{high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value} is out of range ({span})")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _connection_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default if default is argparse.SUPPRESS else 0,
        help="show the SDK's log: -v for warnings (429 pauses, retries), -vv for every request",
    )
    parser.add_argument(
        "--api-key",
        default=default,
        metavar="KEY",
        help="the workspace's API key (default: $INSTANTLY_API_KEY)",
    )
    parser.add_argument(
        "--base-url",
        default=default,
        metavar="URL",
        help="the API's origin (default: $INSTANTLY_BASE_URL or https://api.instantly.ai)",
    )
    parser.add_argument(
        "--allow-insecure",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="accept a plain-http --base-url that is not loopback (the key then travels in clear)",
    )


def _target(parser: argparse.ArgumentParser, action: str) -> None:
    """--campaign-id or --list-id, one of them; `action` reads "... this {}" in the help."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--campaign-id", metavar="ID", help=action.format("campaign"))
    group.add_argument("--list-id", metavar="ID", help=action.format("lead list"))


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON, for programs"
    )


def _concurrency(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency",
        type=_count(1),
        default=32,
        metavar="N",
        help="requests in flight at once (32)",
    )


def _yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="confirm: do it, without asking")


def build_parser() -> argparse.ArgumentParser:
    """The `instantly` parser; each command sets `handler` (an async function of args, output).

    Each command group is added by a function of its own, so that adding a command touches one
    place.
    """
    parser = argparse.ArgumentParser(
        prog="instantly",
        description="The Instantly V2 API from the shell: bulk lead import and export, a demo\n"
        "on the embedded mock, and the mock server itself.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"instantly {__version__}")
    _connection_options(parser, default=None)
    # Leaf commands take the connection options too, so they may come after the command; a
    # value given there wins, and SUPPRESS keeps one given before the command otherwise.
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo(commands, common)
    _add_leads(commands, common)
    _add_campaigns(commands, common)
    _add_lead_lists(commands, common)
    _add_webhooks(commands)
    _add_mcp(commands, common)
    _add_mock(commands)
    return parser


Commands = Any  # argparse's private _SubParsersAction


def _add_demo(commands: Commands, common: argparse.ArgumentParser) -> None:
    from . import _demo

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="import, page, update and move leads end to end on the embedded mock",
        description="Create a campaign and a list, import N generated leads with "
        "leads.bulk_add, page them back, update the interest status of 1 in 50 "
        "concurrently, move 1 in 100 to the list, and print what it took.",
    )
    demo.add_argument(
        "--leads", type=_count(1), default=50_000, metavar="N", help="leads to import (50,000)"
    )
    demo.add_argument(
        "--live",
        action="store_true",
        help="run against the real API with your key instead of the mock (creates real data)",
    )
    _yes(demo)
    demo.add_argument(
        "--latency",
        type=_seconds,
        default=0.02,
        metavar="S",
        help="seconds the mock waits before each answer (0.02)",
    )
    _concurrency(demo)
    _json(demo)
    demo.set_defaults(handler=_demo.run_demo)


def _add_leads(commands: Commands, common: argparse.ArgumentParser) -> None:
    from . import _commands, _export

    leads = commands.add_parser("leads", help="import, export and delete leads").add_subparsers(
        dest="leads_command", metavar="COMMAND", required=True
    )
    _add_import(leads, common)
    exp = leads.add_parser(
        "export",
        parents=[common],
        help="write every lead of a campaign or list as CSV or JSONL",
        description="Write every lead of a campaign or list, page by page, to stdout or FILE.",
    )
    _target(exp, "export the leads of this {}")
    exp.add_argument(
        "--format", choices=FORMATS, help="csv or jsonl (default: from --output's name, else csv)"
    )
    exp.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: stdout)")
    exp.set_defaults(handler=_export.run_export)

    delete = leads.add_parser("delete", parents=[common], help="delete one lead (needs --yes)")
    delete.add_argument("id", metavar="ID", help="the lead's ID")
    _yes(delete)
    _json(delete)
    delete.set_defaults(handler=_commands.run_delete)

    delete_all = leads.add_parser(
        "delete-all",
        parents=[common],
        help="delete every lead of a campaign or list (needs --yes)",
    )
    _target(delete_all, "delete the leads of this {}")
    _yes(delete_all)
    _json(delete_all)
    delete_all.set_defaults(handler=_commands.run_delete_all)


def _add_import(leads: Commands, common: argparse.ArgumentParser) -> None:
    from . import _import

    imp = leads.add_parser(
        "import",
        parents=[common],
        help="import leads from a CSV or JSONL file, or stdin",
        description="Import leads from FILE (- for stdin; .gz is decompressed), read once. "
        "Columns named like lead fields (email, first_name, company_name, ...; any case, "
        "spaces for underscores) or a common spelling of one (Email Address, E-mail, Company, "
        "Phone Number, Job Title, ...) map to them; other columns become custom variables. "
        "The mapping is printed before anything is sent; each row is checked as it is read.",
    )
    imp.add_argument(
        "file", metavar="FILE", help="the leads: CSV with a header row, or JSONL; - for stdin"
    )
    _target(imp, "import into this {}")
    imp.add_argument(
        "--map",
        action="append",
        metavar="COL=FIELD,...",
        help="map columns to lead fields, e.g. 'Email=email,Company=company_name'; "
        "COL=custom_variables.NAME for a custom variable, COL= to leave a column out",
    )
    imp.add_argument(
        "--format", choices=FORMATS, help="the input's format (default: from its name or content)"
    )
    imp.add_argument(
        "--delimiter",
        metavar="CHAR",
        help="a CSV's delimiter: , ; | or tab (default: sniffed from the header)",
    )
    imp.add_argument(
        "--encoding",
        default="utf-8",
        metavar="NAME",
        help="the input's text encoding, e.g. cp1252 for Excel on Windows (utf-8, with or "
        "without a byte-order mark)",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="check and count the rows; send nothing"
    )
    imp.add_argument(
        "--report",
        metavar="FILE",
        help="write the rows not imported, with an error column, to FILE (import it to retry)",
    )
    imp.add_argument(
        "--resume",
        metavar="FILE",
        help="record the import's progress in FILE (a journal); after a crash or Ctrl-C, run "
        "the same command again to send only what was not done",
    )
    _concurrency(imp)
    imp.add_argument(
        "--batch-size",
        type=_count(1, 1000),
        default=1000,
        metavar="N",
        help="leads per request, 1..1000 (1000)",
    )
    imp.add_argument(
        "--skip-if-in-workspace",
        action="store_true",
        help="skip a lead whose email is anywhere in the workspace already",
    )
    imp.add_argument(
        "--skip-if-in-campaign",
        action="store_true",
        help="skip a lead that is in any campaign already (a lead already in this campaign "
        "is never added twice)",
    )
    imp.add_argument(
        "--skip-if-in-list",
        action="store_true",
        help="skip a lead that is in any list already",
    )
    # The default of the first version's CLI was to skip leads in other campaigns; now it
    # adds them, which is what this flag asked for.
    imp.add_argument("--allow-duplicates", action="store_true", help=argparse.SUPPRESS)
    _json(imp)
    imp.set_defaults(handler=_import.run_import)


def _add_campaigns(commands: Commands, common: argparse.ArgumentParser) -> None:
    from . import _commands

    campaigns = commands.add_parser("campaigns", help="campaigns").add_subparsers(
        dest="campaigns_command", metavar="COMMAND", required=True
    )
    _list_command(campaigns, common, "campaigns", _commands.run_campaigns_list)

    create = campaigns.add_parser(
        "create",
        parents=[common],
        help="create a draft campaign (prints its ID)",
        description="Create a draft campaign named NAME, sending on weekdays from 09:00 to "
        "17:00 in this machine's time zone (if the API takes it; else a zone of the API's "
        "list with the same UTC offset; else America/Chicago). Time zones the API takes: "
        + ", ".join(_commands.TIMEZONES),
    )
    create.add_argument("name", metavar="NAME", help="the campaign's name")
    create.add_argument(
        "--timezone", metavar="TZ", help="the schedule's time zone, e.g. Europe/Isle_of_Man"
    )
    create.add_argument(
        "--days", default="mon-fri", metavar="DAYS", help="sending days (mon-fri; or mon,wed,fri)"
    )
    create.add_argument("--start", default="09:00", metavar="HH:MM", help="from (09:00)")
    create.add_argument("--end", default="17:00", metavar="HH:MM", help="until (17:00)")
    _json(create)
    create.set_defaults(handler=_commands.run_campaigns_create)


def _add_lead_lists(commands: Commands, common: argparse.ArgumentParser) -> None:
    from . import _commands

    lists = commands.add_parser("lead-lists", help="lead lists").add_subparsers(
        dest="lead_lists_command", metavar="COMMAND", required=True
    )
    _list_command(lists, common, "lead lists", _commands.run_lead_lists_list)
    create = lists.add_parser("create", parents=[common], help="create a lead list (prints its ID)")
    create.add_argument("name", metavar="NAME", help="the list's name")
    _json(create)
    create.set_defaults(handler=_commands.run_lead_lists_create)


def _list_command(
    group: Commands, common: argparse.ArgumentParser, what: str, handler: Any
) -> None:
    """A group's `list` command: --search TEXT and --json."""
    command = group.add_parser("list", parents=[common], help=f"list the {what}")
    command.add_argument("--search", metavar="TEXT", help="only those whose name holds TEXT")
    _json(command)
    command.set_defaults(handler=handler)


def _add_webhooks(commands: Commands) -> None:
    from . import _webhooks

    _webhooks.add_commands(commands)


def _add_mcp(commands: Commands, common: argparse.ArgumentParser) -> None:
    from ._mcp import add_mcp_parser

    add_mcp_parser(commands, common)


def _add_mock(commands: Commands) -> None:
    # The mock's own options (--port, --rate-limit, ...) are passed to instantly.testing.main.
    commands.add_parser(
        "mock",
        add_help=False,
        help="run the stateful mock of the API on a local port (see `instantly mock --help`)",
    )
