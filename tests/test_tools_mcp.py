"""`instantly mcp` end to end: the `mcp` package's own stdio client against the server and the mock."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from instantly._generated.operations import OPERATIONS
from instantly.cli import main
from instantly.testing import MockInstantly
from instantly.tools import Toolkit

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = list(json.loads((ROOT / "tests/fixtures/seed_tools.json").read_text())["tools"])
KEY = "sk-test-mcp-SECRET-9f8e7d6c5b4a"


@asynccontextmanager
async def session(
    mock: MockInstantly, *options: str, errlog: Any = None
) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session with `instantly mcp OPTIONS` against the mock.

    errlog: a file for the server's stderr (default: a temporary one).
    """
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "instantly", "mcp", "--base-url", mock.url, *options],
        env={"INSTANTLY_API_KEY": KEY},
    )
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spare:
        async with (
            stdio_client(params, errlog=errlog or spare) as (read, write),
            ClientSession(read, write) as client,
        ):
            init = await client.initialize()
            assert init.server_info.name == "instantly"
            assert init.capabilities.tools is not None
            yield client


async def test_the_server_lists_calls_fails_and_keeps_answering() -> None:
    async with MockInstantly(KEY, rate_limit=None) as mock:
        campaign = mock.state.add_campaign("Spring launch")
        said: list[str] = []
        # -vv: the SDK logs every request to stderr; the key must not be in any of it.
        with tempfile.TemporaryFile("w+", encoding="utf-8") as errlog:
            async with session(mock, "-vv", errlog=errlog) as client:
                listed = await client.list_tools()
                assert [t.name for t in listed.tools] == DEFAULTS
                said.append(listed.model_dump_json(by_alias=True))
                by_name = {t.name: t for t in listed.tools}
                assert by_name["delete_leads"].annotations.destructive_hint is True
                assert by_name["list_leads"].annotations.read_only_hint is True
                assert by_name["list_leads"].input_schema["properties"]["limit"]["maximum"] == 100

                ok = await client.call_tool("list_campaigns", {"limit": 5})
                assert ok.is_error is False
                assert ok.structured_content["campaigns"][0]["name"] == "Spring launch"
                assert json.loads(ok.content[0].text) == ok.structured_content

                missing = await client.call_tool(
                    "get_lead", {"lead_id": "0199b1c2-0000-7000-8000-00000000dead"}
                )
                assert missing.is_error is True
                assert missing.structured_content["success"] is False
                assert "404 Not Found" in missing.structured_content["error"]

                bad = await client.call_tool("list_leads", {"limit": 1000})
                assert bad.is_error is True
                assert "limit must be at most 100" in bad.content[0].text

                unknown = await client.call_tool("send_everything", {})
                assert unknown.is_error is True and "unknown tool" in unknown.content[0].text

                # Still answering after the failures.
                created = await client.call_tool(
                    "create_lead", {"campaign": campaign["id"], "email": "ada@example.com"}
                )
                assert created.is_error is False
                assert created.structured_content["email_address"] == "ada@example.com"
                for result in (ok, missing, bad, unknown, created):
                    said.append(result.model_dump_json(by_alias=True))
            errlog.seek(0)
            log = errlog.read()
    assert "POST /api/v2/leads" in log  # the log was on, and it went to stderr
    assert len(mock.state.leads) == 1
    for text in (*said, log):
        assert KEY not in text
        assert KEY[8:20] not in text


async def test_all_tools_read_only() -> None:
    async with MockInstantly(KEY, rate_limit=None) as mock:
        mock.state.add_campaign("Spring launch")
        async with session(mock, "--tools", "all", "--read-only") as client:
            listed = await client.list_tools()
            toolkit = Toolkit(mock.client(), tools="all", read_only=True)
            assert [t.name for t in listed.tools] == toolkit.names
            assert len(listed.tools) < len(OPERATIONS)
            assert all(t.annotations.read_only_hint for t in listed.tools)
            page = await client.call_tool("campaigns_list", {"limit": 1})
            assert page.is_error is False
            assert page.structured_content["items"][0]["name"] == "Spring launch"
            refused = await client.call_tool("campaigns_delete", {"id": "x"})
            assert refused.is_error is True


def test_the_command_refuses_bad_options_before_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    assert main(["mcp"]) == 2
    assert "no API key" in capsys.readouterr().err
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)
    assert main(["mcp", "--tools", "list_leads,delete_lead"]) == 2
    err = capsys.readouterr()
    assert "unknown tool 'delete_lead'" in err.err and "delete_leads" in err.err
    assert main(["mcp", "--tools", "delete_leads", "--read-only"]) == 2
    err = capsys.readouterr()
    assert "change data" in err.err
    assert err.out == "" and KEY not in err.err
