"""The `instantly` command against MockInstantly over real loopback sockets.

The command runs in a worker thread with its own event loop, as it would from a shell, while the
mock serves from the test's loop; the test then reads the mock's state.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import signal
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CancellingOutput

from instantly.cli import main
from instantly.cli._demo import campaign_schedule
from instantly.cli._import import run_import
from instantly.cli._parser import build_parser
from instantly.testing import MockInstantly

KEY = "sk-cli-mock-SECRET-9876543210"


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(api_key=KEY, rate_limit=None) as server:
        yield server


async def cli(
    capsys: pytest.CaptureFixture[str], mock: MockInstantly, *argv: str
) -> tuple[int, str, str]:
    """Run `instantly --base-url <mock> argv` (key from the environment): (code, stdout, stderr)."""
    code = await asyncio.to_thread(main, ["--base-url", mock.url, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)


async def new_campaign(mock: MockInstantly) -> str:
    async with mock.client() as client:
        campaign = await client.campaigns.create(
            name="Spring", campaign_schedule=campaign_schedule()
        )
    return campaign.id


def leads_of(mock: MockInstantly, campaign: str) -> list[dict[str, Any]]:
    return [r for r in mock.state.leads if r.get("campaign") == campaign]


def write_leads(path: Path, n: int, bad: dict[int, str] | None = None) -> Path:
    """n rows of Email, First Name, Company, Tier; row i's email replaced by bad[i]."""
    bad = bad or {}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Email", "First Name", "Company", "Tier"])
        for i in range(n):
            email = bad.get(i, f"lead{i}@example.com")
            writer.writerow([email, f"Name{i}", f"Company {i % 7}", "gold" if i % 2 else "silver"])
    return path


async def test_import_of_5000_rows_with_3_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = await new_campaign(mock)
    bad = {10: "not-an-email", 2000: "", 4999: "LEAD11@example.com"}  # the last repeats row 11
    path = write_leads(tmp_path / "leads.csv", 5000, bad)
    report = tmp_path / "failed.csv"
    code, out, err = await cli(
        capsys, mock,
        "leads", "import", str(path), "--campaign-id", campaign, "--json",
        "--map", "Company=company_name", "--report", str(report), "--batch-size", "500",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == 5000 and summary["created"] == 4997
    assert summary["skipped"] == {"duplicate_in_input": 1, "invalid_email": 2}
    assert summary["failed"] == 0 and summary["not_sent"] == 0 and summary["accounted"] is True
    assert summary["requests"] == 10 + 0  # 5000 rows in chunks of 500; the campaign check is apart
    assert KEY not in out + err

    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["Email"], r["First Name"], r["error"].split(":")[0:2]) for r in rows] == [
        ("not-an-email", "Name10", ["line 12", " invalid_email"]),
        ("", "Name2000", ["line 2002", " invalid_email"]),
        ("LEAD11@example.com", "Name4999", ["line 5001", " duplicate_in_input"]),
    ]

    stored = leads_of(mock, campaign)
    assert len(stored) == 4997
    first = next(r for r in stored if r["email"] == "lead0@example.com")
    assert first["first_name"] == "Name0" and first["company_name"] == "Company 0"
    assert first["payload"] == {"Tier": "silver"}  # an unknown column: a custom variable


async def test_dry_run_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    path = write_leads(tmp_path / "leads.csv", 50, {3: "nope"})
    code, out, _ = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", "c-1", "--dry-run", "--json"
    )
    assert code == 0
    assert json.loads(out)["sendable"] == 49
    assert mock.state.requests == 0


async def test_export_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = await new_campaign(mock)
    path = write_leads(tmp_path / "leads.csv", 250)
    code, _, err = await cli(capsys, mock, "leads", "import", str(path), "--campaign-id", campaign)
    assert code == 0, err

    exported = tmp_path / "export.csv"
    code, out, err = await cli(
        capsys, mock, "leads", "export", "--campaign-id", campaign, "--output", str(exported)
    )
    assert code == 0 and out == ""
    assert "Exported 250 leads" in err
    with exported.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["email"] for r in rows} == {f"lead{i}@example.com" for i in range(250)}
    assert json.loads(rows[0]["custom_variables"])["Tier"] in {"gold", "silver"}

    # To stdout as JSONL, and the export imports back into another campaign as it is.
    code, out, _ = await cli(
        capsys, mock, "leads", "export", "--campaign-id", campaign, "--format", "jsonl"
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 250 and records[0]["campaign"] == campaign
    other = await new_campaign(mock)
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(exported), "--campaign-id", other, "--allow-duplicates"
    )
    assert code == 0, err
    assert "leaving out the columns id, status, campaign, list_id, timestamp_created" in err
    again = {r["email"]: r for r in leads_of(mock, other)}
    assert set(again) == {r["email"] for r in rows}
    # "Company" is a spelling of company_name: a lead field, not a custom variable.
    assert again["lead1@example.com"]["payload"] == {"Tier": "gold"}
    assert again["lead1@example.com"]["company_name"] == "Company 1"
    assert again["lead1@example.com"]["first_name"] == "Name1"


async def test_export_to_a_pipe_is_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    # A name that says nothing of the format (a named pipe, /dev/stdout) gets the default.
    campaign = await new_campaign(mock)
    path = write_leads(tmp_path / "leads.csv", 5)
    code, _, err = await cli(capsys, mock, "leads", "import", str(path), "--campaign-id", campaign)
    assert code == 0, err
    pipe = tmp_path / "out"
    os.mkfifo(pipe)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_text(encoding="utf-8")))
    reader.start()
    code, _, err = await cli(
        capsys, mock, "leads", "export", "--campaign-id", campaign, "--output", str(pipe)
    )
    reader.join(timeout=30)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(read[0])))
    assert {r["email"] for r in rows} == {f"lead{i}@example.com" for i in range(5)}


async def test_ctrl_c_stops_cleanly_and_the_report_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = await new_campaign(mock)
    path = write_leads(tmp_path / "leads.csv", 1000, {5: "bad"})
    report = tmp_path / "rest.csv"
    argv = ["leads", "import", str(path), "--campaign-id", campaign, "--report", str(report)]
    args = build_parser().parse_args(
        [*argv, "--batch-size", "100", "--concurrency", "1", "--base-url", mock.url]
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    out = CancellingOutput.make(1, stdout=stdout, stderr=stderr, fancy=False)
    out.task = asyncio.create_task(run_import(args, out))
    code = await out.task
    assert code == 130
    message = stderr.getvalue().splitlines()[-1]
    created = len(leads_of(mock, campaign))
    assert 0 < created < 999
    assert message == (
        f"instantly: error: interrupted: {created:,} of 1,000 rows sent ({created:,} created, "
        f"0 skipped, 0 failed); {999 - created:,} not sent, 1 invalid; import {report} to send "
        "the rest"
    )

    # The report holds the invalid row and every row not sent; importing it finishes the job.
    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 + 999 - created
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(report), "--campaign-id", campaign
    )
    assert code == 0, err
    assert len(leads_of(mock, campaign)) == 999


async def test_sigint_from_the_shell_exits_130_with_the_counts(tmp_path: Path) -> None:
    """A real Ctrl-C (SIGINT to the process) mid-import: asyncio.run cancels the command, which
    reports what happened to every row and exits 130."""
    async with MockInstantly(api_key=KEY, rate_limit=None, latency=0.05) as slow:
        campaign = await new_campaign(slow)
        path = write_leads(tmp_path / "leads.csv", 3000)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "instantly", "--base-url", slow.url,
            "leads", "import", str(path), "--campaign-id", campaign,
            "--batch-size", "100", "--concurrency", "2",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(60):
            # The mock offers no event for "leads stored"; its state is what shows the import
            # under way, so poll it.
            while len(slow.state.leads) < 100:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGINT)
            out, err = await proc.communicate()
        assert proc.returncode == 130
        message = err.decode().splitlines()[-1]
        found = re.fullmatch(
            r"instantly: error: interrupted: ([\d,]+) of 3,000 rows sent \(([\d,]+) created, "
            r"0 skipped, ([\d,]+) failed\); ([\d,]+) not sent",
            message,
        )
        assert found is not None, message
        sent, created, failed, not_sent = (int(g.replace(",", "")) for g in found.groups())
        assert sent == created + failed and sent + not_sent == 3000
        # A request cut off in flight may or may not have been applied: it counts as failed.
        assert created <= len(slow.state.leads) <= created + failed
        assert "Interrupted import" in out.decode()


async def test_api_errors_exit_1_in_one_line_without_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mock: MockInstantly,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_leads(tmp_path / "leads.csv", 5)
    code, out, err = await cli(
        capsys,
        mock,
        "leads",
        "import",
        str(path),
        "--campaign-id",
        "00000000-0000-4000-8000-000000000000",
    )
    # A campaign that does not exist is bad input: exit 2, before anything is sent.
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("instantly: error: campaign 0000")
    assert "does not exist in this workspace" in err
    assert len(mock.state.leads) == 0

    wrong = "sk-wrong-SECRET-key-000"
    monkeypatch.setenv("INSTANTLY_API_KEY", wrong)
    code, out, err = await cli(capsys, mock, "campaigns", "list")
    assert code == 1 and err.startswith("instantly: error: 401 Unauthorized")
    assert err.count("\n") == 1 and wrong not in out + err


async def test_campaigns_list_and_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = await new_campaign(mock)
    code, out, _ = await cli(capsys, mock, "campaigns", "list", "--json")
    assert code == 0 and [(c["id"], c["name"]) for c in json.loads(out)] == [(campaign, "Spring")]
    code, out, _ = await cli(capsys, mock, "campaigns", "list")
    assert code == 0 and "Spring" in out and campaign in out

    path = write_leads(tmp_path / "leads.csv", 30)
    await cli(capsys, mock, "leads", "import", str(path), "--campaign-id", campaign)
    one = leads_of(mock, campaign)[0]["id"]
    code, out, _ = await cli(capsys, mock, "leads", "delete", one, "--yes", "--json")
    assert code == 0 and json.loads(out) == {"deleted": one}
    code, out, _ = await cli(
        capsys, mock, "leads", "delete-all", "--campaign-id", campaign, "--yes", "--json"
    )
    assert code == 0 and json.loads(out)["deleted"] == 29
    assert leads_of(mock, campaign) == []


async def test_demo_runs_and_accounts_for_every_lead(capsys: pytest.CaptureFixture[str]) -> None:
    code = await asyncio.to_thread(main, ["demo", "--leads", "2000", "--latency", "0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # 1 lead in 2,500 has an invalid email on purpose; 1 in 50 is updated, 1 in 100 moved.
    for line in (
        "instantly demo: 2,000 leads in ",
        "every lead accounted for: 2,000 = 1,999 created + 1 skipped + 0 failed",
        "paged back what was created: 1,999 = 1,999",
        "interest status updated: 40 of 40",
        "moved to the list: 20 of 20",
        "limit 100/s; 0 429s, 0 retries",
    ):
        assert line in captured.out
    assert "NO" not in captured.out
