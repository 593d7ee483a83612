"""`instantly mcp`: serve the API as tools to an MCP client (Claude Desktop, an IDE, an agent).

The transport is stdio: the MCP client starts `instantly mcp` and talks JSON-RPC over its stdin
and stdout, so nothing else is ever printed to stdout; the log (-v) goes to stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._connect import api_key, make_client
from ._errors import EXIT_OK, UsageError
from ._output import Output

__all__ = ["add_mcp_parser", "run_mcp"]


def add_mcp_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `mcp` on the `instantly` subcommands."""
    mcp = commands.add_parser(
        "mcp",
        parents=[common],
        help="serve the API as tools to an MCP client over stdio (needs the [mcp] extra)",
        description="Serve Instantly as tools to an MCP client over stdin/stdout: the 13 "
        "default tools (leads, lead lists, campaigns, emails), or every operation of the API "
        "with --tools all. Calls go through the SDK's rate limiter and safe retries; a failed "
        "call is an error result and the server keeps running. The key comes from "
        "$INSTANTLY_API_KEY.",
    )
    mcp.add_argument(
        "--tools",
        metavar="all|NAME,...",
        help="'all' for one tool per API operation, or tool names separated by commas "
        "(default: the 13 default tools)",
    )
    mcp.add_argument(
        "--read-only",
        action="store_true",
        help="offer only the tools that change nothing (reads, searches, analytics)",
    )
    mcp.set_defaults(handler=run_mcp)


def _tools(text: str | None) -> str | list[str] | None:
    if text is None or text.strip() in ("", "default"):
        return None
    if text.strip() == "all":
        return "all"
    return [name.strip() for name in text.split(",") if name.strip()]


async def run_mcp(args: argparse.Namespace, out: Output) -> int:
    """The `mcp` command: serves until the MCP client closes stdin."""
    try:
        from ..tools.mcp_server import serve_stdio
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    from ..tools import Toolkit

    client = make_client(args)
    async with client:
        try:
            toolkit = Toolkit(client, tools=_tools(args.tools), read_only=args.read_only)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        await serve_stdio(toolkit, secrets=[api_key(args) or ""])
    return EXIT_OK
