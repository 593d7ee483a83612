"""A `Toolkit` served over the Model Context Protocol, with the official `mcp` SDK.

    from instantly.tools.mcp_server import serve_stdio
    async with AsyncInstantly() as client:
        await serve_stdio(Toolkit(client))       # until the MCP client closes stdin

This is what `instantly mcp` runs. Each tool call's result is the toolkit's `{success, error,
...}` dict, as JSON text and as structured content; a failed call (an API error, a bad argument,
a timeout) is an error result (`isError`), so the model can read it, and the server keeps
answering. Needs the `mcp` extra: `pip install 'instantly-sdk[mcp]'`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

try:
    import mcp.types as mcp_types
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "the MCP server needs the `mcp` package: pip install 'instantly-sdk[mcp]'"
    ) from exc

from .._version import __version__
from ._toolkit import Toolkit

__all__ = ["create_server", "serve_stdio"]

logger = logging.getLogger("instantly.tools")

INSTRUCTIONS = """\
Tools for one Instantly workspace (cold email outreach): leads, lead lists, campaigns and the
Unibox. Every result is a JSON object with `success` and `error`; when `success` is false,
`error` says what went wrong (with the HTTP status) and nothing else is in the result. List
tools return one page and a `next_starting_after` cursor: pass it back as `starting_after` for
the next page. Tools that send email or delete data act for real: confirm with the user first.
"""


def create_server(
    toolkit: Toolkit, *, name: str = "instantly", secrets: Iterable[str] = ()
) -> Server[Any]:
    """An MCP server (`mcp.server.lowlevel.Server`) offering the toolkit's tools.

    Args:
        toolkit: the tools to offer and run.
        name: the server's name, as MCP clients show it.
        secrets: strings (the API key) that must never reach the client; any result holding
            one has it replaced by "***" (the SDK's messages never hold the key: this is a
            backstop).

    Returns:
        The server, not yet running: run it on the streams of a transport of your choice
        (`serve_stdio` runs it on stdin/stdout).
    """
    tools = [mcp_types.Tool.model_validate(d) for d in toolkit.definitions(format="mcp")]
    hidden = [s for s in secrets if s]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        try:
            result = await toolkit.call(params.name, params.arguments)
        except Exception as exc:  # Toolkit.call does not raise; if it ever did, stay up
            logger.exception("tool %s failed unexpectedly", params.name)
            result = {"success": False, "error": f"unexpected error: {type(exc).__name__}"}
        text = json.dumps(result, ensure_ascii=False)
        if any(s in text for s in hidden):
            for secret in hidden:
                text = text.replace(secret, "***")
            result = json.loads(text)
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(type="text", text=text)],
            structured_content=result,
            is_error=not result.get("success", False),
        )

    return Server(
        name,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(
    toolkit: Toolkit, *, name: str = "instantly", secrets: Iterable[str] = ()
) -> None:
    """Serve the toolkit over stdin/stdout until the client closes stdin.

    While it runs, stdout carries only MCP messages: anything else printed goes to stderr.

    Args:
        toolkit: the tools to offer and run.
        name: the server's name, as MCP clients show it.
        secrets: strings (the API key) that must never reach the client (see
            `create_server`).
    """
    server = create_server(toolkit, name=name, secrets=secrets)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
