"""The programs in examples/ run as a user would run them: a subprocess against the mock.

Each test starts a MockInstantly on the test's loop, seeds what the example needs, runs the
example with `--base-url <mock>` and the key in $INSTANTLY_API_KEY, and checks its output, its
exit status and what the mock holds afterwards.
"""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import pytest

from instantly.testing import MockInstantly

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KEY = "sk-examples-SECRET-0123456789"


class Run(NamedTuple):
    code: int
    out: str
    err: str


async def run_example(
    name: str, *args: str, mock: MockInstantly | None, key: str | None = KEY
) -> Run:
    """Run examples/<name> with `args` (plus --base-url of `mock`), the key in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTANTLY_")}
    if key is not None:
        env["INSTANTLY_API_KEY"] = key
    argv = [*args, "--base-url", mock.url] if mock is not None else list(args)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        *argv,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(api_key=KEY) as server:  # the API's rate limits, as in production
        yield server


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


async def test_import_csv_imports_every_row_and_prints_the_summary(
    tmp_path: Path, mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign(name="Spring")["id"]
    rows = [["Email", "First Name", "Company Name", "Tier"]]
    rows += [[f"lead{i}@example.com", f"Name{i}", f"Co {i % 7}", str(i % 3)] for i in range(2500)]
    rows[101][0] = "not-an-email"  # data row 100: line 102 of the file
    rows[2001][0] = rows[2000][0]  # a repeat of the row before it
    path = write_csv(tmp_path / "leads.csv", rows)

    run = await run_example("import_csv.py", str(path), "--campaign-id", campaign, mock=mock)

    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("2500 read: 2498 created, 2 skipped (")
    assert ", 0 failed;" in lines[0]
    assert len(lines) == 3
    assert lines[1].startswith("row 102: not sent: ") and "not-an-email" in lines[1]
    assert lines[2].startswith("row 2002: not sent: ")
    stored = [lead for lead in mock.state.leads if lead.get("campaign") == campaign]
    assert len(stored) == 2498
    ada = next(lead for lead in stored if lead["email"] == "lead7@example.com")
    assert ada["first_name"] == "Name7"
    assert ada["company_name"] == "Co 0"
    assert ada["payload"] == {"Tier": "1"}  # the column that is not a lead field
    assert KEY not in run.out + run.err


async def test_import_csv_without_a_key_says_how_to_give_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [["Email"], ["ada@example.com"]])
    run = await run_example("import_csv.py", str(path), "--campaign-id", "c", mock=None, key=None)
    assert run.code == 2 and run.out == ""
    assert "INSTANTLY_API_KEY" in run.err


async def test_page_leads_lists_every_lead_both_ways(mock: MockInstantly) -> None:
    campaign = mock.state.add_campaign(name="Spring")["id"]
    other = mock.state.add_campaign(name="Autumn")["id"]
    emails = [f"lead{i:03d}@example.com" for i in range(250)]
    for i, email in enumerate(emails):
        mock.state.add_lead(email, campaign=campaign, first_name=f"Name{i}", last_name="Doe")
    mock.state.add_lead("elsewhere@example.com", campaign=other)

    run = await run_example(
        "page_leads.py", "--campaign-id", campaign, "--page-size", "100", mock=mock
    )

    assert run.code == 0, run.err
    lines = run.out.splitlines()
    first = lines.index("every lead (async for):")
    second = lines.index("one page at a time (list_page):")
    listed = [line.split()[0] for line in lines[first + 1 : second - 1]]
    assert listed == emails  # every lead of the campaign once, in the API's order
    assert lines[first + 1] == "  lead000@example.com  Name0 Doe"
    assert lines[second - 1] == "250 leads"
    pages = lines[second + 1 :]
    assert pages[0].startswith("page 1: 100 leads, next cursor ")
    assert pages[1].startswith("page 2: 100 leads, next cursor ")
    assert pages[2] == "page 3: 50 leads, last page"
    assert pages[3:] == ["250 leads in 3 pages"]
    # 3 requests for the loop and 3 for the pages: nothing fetched twice, nothing skipped.
    assert mock.state.by_operation["listLeads"] == 6


async def test_page_leads_refuses_a_page_size_the_api_would_refuse() -> None:
    run = await run_example("page_leads.py", "--campaign-id", "c", "--page-size", "500", mock=None)
    assert run.code == 2
    assert "--page-size: must be 1 to 100, got 500" in run.err
