"""`instantly webhooks listen`: a real process receiving the mock's deliveries, one line per event."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from datetime import UTC, datetime

import aiohttp

from instantly.cli import main
from instantly.cli._webhooks import event_line
from instantly.testing import MockInstantly
from instantly.webhooks import parse_event

SECRET = "listen-Secret-77"


async def listen(
    *extra: str, secret: str | None = SECRET
) -> tuple[asyncio.subprocess.Process, str, list[str]]:
    """Start `instantly webhooks listen` on a free port (the secret from the environment);
    returns the process, its URL, and what it said on stderr before it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    if secret is not None:  # no key is needed to listen
        env["INSTANTLY_WEBHOOK_SECRET"] = secret
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "instantly", "webhooks", "listen", "--port", "0", *extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    said: list[str] = []
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert line, said
        found = re.search(r"listening on (http://[^\s,;]+)", line)
        if found:
            return proc, found.group(1), said
        said.append(line)


async def stop(proc: asyncio.subprocess.Process) -> tuple[list[str], str]:
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    return out.decode().splitlines(), err.decode()


async def test_listen_prints_each_event_the_mock_delivers_as_a_json_line() -> None:
    proc, url, _ = await listen("--json", "--path", "/hook")
    try:
        async with MockInstantly("k", rate_limit=None) as mock:
            client = mock.client()
            await client.webhooks.create(
                target_hook_url=url,
                event_type="all_events",
                headers={"X-Instantly-Secret": SECRET},
            )
            campaign = mock.state.add_campaign("Launch")
            lead = mock.state.add_lead(
                "ada@example.com", campaign=campaign["id"], payload={"tier": "gold"}
            )
            mock.state.send_email(lead)
            reply = mock.state.receive_reply(lead, "Yes, call me")
            await mock.drain_webhooks()
            assert len(mock.state.webhook_events) == 2
            assert all(e["success"] for e in mock.state.webhook_events)
            async with (  # no secret: refused, not printed
                aiohttp.ClientSession() as session,
                session.post(url, json={"event_type": "email_sent"}) as answer,
            ):
                assert answer.status == 401
    finally:
        lines, err = await stop(proc)
    events = [json.loads(line) for line in lines]
    assert [e["event_type"] for e in events] == ["email_sent", "reply_received"]
    assert events[1]["email_id"] == reply["id"]
    assert events[1]["custom_variables"] == {"tier": "gold"}
    assert SECRET not in err


async def test_listen_without_a_secret_warns_and_prints_readable_lines() -> None:
    proc, url, said = await listen(secret=None)
    try:
        assert "no --secret" in "".join(said)
        body = {
            "timestamp": "2026-08-21T09:15:02Z",
            "event_type": "reply_received",
            "workspace": "w",
            "campaign_id": None,
            "campaign_name": "Launch",
            "lead_email": "ada@example.com",
            "reply_text_snippet": "Yes,   call me",
        }
        async with aiohttp.ClientSession() as session, session.post(url, json=body) as answer:
            assert answer.status == 200
    finally:
        lines, _ = await stop(proc)
    assert lines == [
        "2026-08-21T09:15:02Z reply_received ada@example.com campaign='Launch' 'Yes, call me'"
    ]


def test_event_line_names_custom_labels_and_shortens_long_replies() -> None:
    event = parse_event(
        {
            "timestamp": datetime(2026, 8, 21, tzinfo=UTC).isoformat(),
            "event_type": None,
            "workspace": "w",
            "campaign_id": None,
            "campaign_name": None,
            "custom_interest_value": 3,
            "reply_text": "word " * 40,
        }
    )
    line = event_line(event)
    assert line.startswith("2026-08-21T00:00:00Z custom_label interest=3 'word word")
    assert line.endswith("...'") and len(line) < 140


def test_listen_refuses_a_bad_path() -> None:
    assert main(["webhooks", "listen", "--port", "0", "--path", "hook"]) == 2
