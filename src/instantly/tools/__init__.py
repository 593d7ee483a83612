"""The Instantly API as tools for agents: JSON-schema definitions and `{success, error}` results.

    from instantly import AsyncInstantly
    from instantly.tools import Toolkit

    async with AsyncInstantly() as client:
        toolkit = Toolkit(client)                       # the 13 default tools
        tools = toolkit.definitions(format="openai")    # or "anthropic", "mcp"
        result = await toolkit.call("list_campaigns", {"limit": 10})
        result["success"], result["error"], result["campaigns"]

`Toolkit(client, tools="all")` offers one tool per operation of the API, `read_only=True` only
those that change nothing. `instantly mcp` serves the same tools to an MCP client over stdio
(`pip install 'instantly-sdk[mcp]'`; see `instantly.tools.mcp_server`). This package does not
import the `mcp` SDK; only the server does.
"""

from __future__ import annotations

from ._spec import ToolSpec
from ._toolkit import Format, Toolkit

__all__ = ["Format", "ToolSpec", "Toolkit"]
