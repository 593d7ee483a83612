"""Arguments accept what their annotations say, and mypy --strict agrees with what runs.

`typecheck/user_program.py` passes `datetime`, `date`, `uuid.UUID` and `None` where the signatures
say they go; it is type-checked here, then run against the embedded mock, and the wire shows each
value sent as the API wants it (or not sent at all).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from typecheck.user_program import main

from instantly import AsyncInstantly
from instantly.testing import MockInstantly

ROOT = Path(__file__).parent.parent
PROGRAM = Path(__file__).parent / "typecheck" / "user_program.py"


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    # The project's cache (shared with `make lint`) keeps a re-check to a few seconds.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_user_program_passes_mypy_strict() -> None:
    result = mypy(str(PROGRAM))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_refuses_what_the_runtime_refuses(tmp_path: Path) -> None:
    # The counterpart: values the checks refuse at runtime are type errors too.
    program = tmp_path / "wrong.py"
    program.write_text(
        "import instantly\n"
        "async def f(c: instantly.AsyncInstantly) -> None:\n"
        "    await c.leads.get(12)\n"
        "    await c.emails.reply(eaccount='a', reply_to_uuid='b', subject='c', body={},"
        " reminder_ts=1.5)\n"
        "    await c.leads.update('L', first_name=3)\n"
    )
    result = mypy(str(program))
    assert result.returncode == 1
    assert result.stdout.count("error:") == 3, result.stdout


class Wire:
    """Records each request's method, path and JSON body, through aiohttp's tracing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.config = aiohttp.TraceConfig()
        self.config.on_request_end.append(self._end)
        self.config.on_request_chunk_sent.append(self._chunk)
        self._body = b""

    async def _chunk(self, session: Any, context: SimpleNamespace, params: Any) -> None:
        self._body += params.chunk

    async def _end(self, session: Any, context: SimpleNamespace, params: Any) -> None:
        body = json.loads(self._body) if self._body else None
        self._body = b""
        self.sent.append((params.method, params.url.raw_path_qs, body))

    def bodies(self, method: str, prefix: str) -> list[Any]:
        return [b for m, p, b in self.sent if m == method and p.startswith(prefix)]

    def paths(self, method: str, prefix: str) -> list[str]:
        return [p for m, p, _ in self.sent if m == method and p.startswith(prefix)]


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly("k", rate_limit=None) as server:
        yield server


async def test_the_user_program_runs_as_it_type_checks(mock: MockInstantly) -> None:
    email = mock.state.add_email(lead="ada@example.com", campaign_id=None)
    wire = Wire()
    async with aiohttp.ClientSession(trace_configs=[wire.config]) as session:
        client = mock.client(rate_limit=None, session=session)
        result = await main(client, uuid.UUID(email["id"]))

    assert result["got"] == "ada@example.com"
    assert (result["first_name"], result["last_name"]) == ("Ada L.", None)
    assert result["reply_subject"] == "Re: Hello"
    # uuid.UUID in a path and a query: its string.
    assert wire.paths("GET", "/api/v2/emails/") == [f"/api/v2/emails/{email['id']}"]
    assert f"campaign_id={uuid.UUID(int=7)}" in wire.paths("GET", "/api/v2/emails?")[0]
    # None for an optional argument: not sent (campaign is nullable, but this is a POST).
    (created,) = wire.bodies("POST", "/api/v2/leads")
    assert created == {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    # None for a nullable field of a PATCH: sent as null, which clears it.
    (patch,) = wire.bodies("PATCH", "/api/v2/leads/")
    assert patch == {"first_name": "Ada L.", "last_name": None}
    # An aware datetime in a body: ISO 8601 with its offset; the None arguments left out.
    (reply,) = wire.bodies("POST", "/api/v2/emails/reply")
    assert reply["reminder_ts"] == "2026-09-01T09:30:00+00:00"
    assert "cc_address_email_list" not in reply and "assigned_to" not in reply
    # A date in a query: ISO 8601.
    (summary,) = wire.paths("GET", "/api/v2/webhook-events/summary")
    assert "from=2026-01-01" in summary and "to=2026-01-31" in summary


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None)


async def test_a_naive_datetime_is_refused_before_any_request(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    email = mock.state.add_email()
    before = mock.state.requests
    with pytest.raises(ValueError, match="reminder_ts is a naive datetime") as info:
        await client.emails.reply(
            eaccount="sender@example.com",
            reply_to_uuid=email["id"],
            subject="Re",
            body={"text": "x"},
            reminder_ts=datetime.datetime(2026, 9, 1, 9, 30),
        )
    assert "attach one" in str(info.value)
    assert mock.state.requests == before


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda c: c.leads.get(12), TypeError, "id must be a str or a UUID, got int 12"),
        (
            lambda c: c.webhook_events.summary(from_=datetime.datetime(2026, 1, 1)),
            TypeError,
            "from_ must be a date or an ISO 8601 date string",
        ),
        (
            lambda c: c.leads.create(email=None, first_name=None, campaign=None, list_id=5),
            TypeError,
            "list_id must be",
        ),
        (
            lambda c: c.leads.update_interest_status(lead_email=None, interest_value=1),
            TypeError,
            "lead_email is required and cannot be None",
        ),
    ],
)
async def test_what_the_annotations_refuse_is_refused_at_runtime(
    mock: MockInstantly, client: AsyncInstantly, call: Any, error: type[Exception], words: str
) -> None:
    before = mock.state.requests
    with pytest.raises(error) as info:
        await call(client)
    assert words in str(info.value)
    assert mock.state.requests == before


async def test_a_required_nullable_field_sends_null(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    # interest_value is required and nullable: None is the API's "reset to the lead's status".
    wire = Wire()
    async with aiohttp.ClientSession(trace_configs=[wire.config]) as session:
        borrowed = mock.client(rate_limit=None, session=session)
        await borrowed.leads.update_interest_status(lead_email="a@b.co", interest_value=None)
    assert wire.bodies("POST", "/api/v2/leads/update-interest-status") == [
        {"lead_email": "a@b.co", "interest_value": None}
    ]
