"""`instantly leads import` and friends against MockInstantly: one pass over stdin, pipes and
gzip, delimiters, encodings, header synonyms and the printed mapping, misspelling hints, targets
that do not exist, the key first, --json errors, progress without a terminal, connection
retries, --resume, and `campaigns create` / `lead-lists create`."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import CancellingOutput

from instantly.cli import _output, main
from instantly.cli._import import run_import
from instantly.cli._output import Bar, Output
from instantly.cli._parser import build_parser
from instantly.testing import MockInstantly

KEY = "sk-cli-import-SECRET-0123456789"


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(api_key=KEY, rate_limit=None) as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)
    monkeypatch.setattr("instantly._transport.BACKOFF_BASE", 0.002)


async def cli(
    capsys: pytest.CaptureFixture[str], mock: MockInstantly, *argv: str
) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["--base-url", mock.url, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def in_target(mock: MockInstantly, field: str, target: str) -> list[dict[str, Any]]:
    return [r for r in mock.state.leads if r.get(field) == target]


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def people(n: int) -> list[list[str]]:
    return [[f"p{i}@example.com", f"P{i}", f"Co {i % 9}"] for i in range(n)]


async def run_piped(
    mock: MockInstantly, data: bytes, *argv: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """The command in a process of its own, `data` on its stdin (a pipe)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "instantly", "--base-url", mock.url, *argv,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={"INSTANTLY_API_KEY": KEY, **(env or {})},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(data), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


# -- one pass ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
async def test_a_pipe_on_stdin_is_read_once_in_full(mock: MockInstantly, name: str) -> None:
    campaign = mock.state.add_campaign()["id"]
    rows = people(20_000)
    rows[7][0] = "not-an-email"
    data = csv_text(["Email", "First Name", "Company"], rows).encode()
    code, out, err = await run_piped(
        mock, data, "leads", "import", name, "--campaign-id", campaign, "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == 20_000 and summary["created"] == 19_999 and summary["accounted"]
    assert summary["skipped"] == {"invalid_email": 1}
    assert len(in_target(mock, "campaign", campaign)) == 19_999
    assert "StopIteration" not in err and "Traceback" not in err


async def test_a_gzip_file_and_a_semicolon_header_are_read_as_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.csv.gz"
    text = csv_text(["E-mail", "Vorname", "Firma"], people(500), delimiter=";")
    path.write_bytes(gzip.compress(text.encode()))
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign,
        "--map", "Vorname=first_name",
    )  # fmt: skip
    assert code == 0, err
    stored = in_target(mock, "campaign", campaign)
    assert len(stored) == 500
    lead = next(r for r in stored if r["email"] == "p3@example.com")
    assert lead["first_name"] == "P3" and lead["payload"] == {"Firma": "Co 3"}


async def test_delimiter_option_and_tabs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.csv"
    # One column whose values hold commas: the header gives the sniffer nothing to go by.
    path.write_text("email|note\na@example.com|x, y\nb@example.com|z\n", encoding="utf-8")
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign,
        "--delimiter", "|",
    )  # fmt: skip
    assert code == 0, err
    tabbed = tmp_path / "tabbed.csv"
    tabbed.write_text("email\tnote\nc@example.com\tq\n", encoding="utf-8")
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(tabbed), "--campaign-id", campaign
    )
    assert code == 0, err
    notes = {r["email"]: r["payload"]["note"] for r in in_target(mock, "campaign", campaign)}
    assert notes == {"a@example.com": "x, y", "b@example.com": "z", "c@example.com": "q"}


async def test_cp1252_is_named_with_its_byte_offset_and_read_with_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "excel.csv"
    text = "email,first_name\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(3))
    path.write_bytes(text.encode() + "zoe@example.com,Zoé\n".encode("cp1252"))
    offset = len(text.encode()) + len("zoe@example.com,Zo")
    code, _, err = await cli(capsys, mock, "leads", "import", str(path), "--campaign-id", campaign)
    assert code == 2
    assert f"excel.csv:5: byte {offset} (0xe9) is not utf-8 text" in err
    assert "try --encoding cp1252" in err
    # The import stops at the input's error: what was read of the request being filled is
    # not sent (and the report, if asked, holds it).
    assert "the import stopped there: 0 rows sent, 3 read but not sent" in err
    assert len(in_target(mock, "campaign", campaign)) == 0
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign,
        "--encoding", "cp1252",
    )  # fmt: skip
    assert code == 0, err
    zoe = next(r for r in in_target(mock, "campaign", campaign) if r["email"] == "zoe@example.com")
    assert zoe["first_name"] == "Zoé"


# -- mapping -----------------------------------------------------------------------------------


async def test_header_synonyms_map_to_lead_fields_and_the_mapping_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "crm.csv"
    header = ["Email Address", "Company", "Phone Number", "Job Title", "Website",
              "LinkedIn URL", "Frist Name"]  # fmt: skip
    path.write_text(
        csv_text(header, [["a@example.com", "Acme", "+1 555", "CTO", "acme.io", "li/a", "Ada"]]),
        encoding="utf-8",
    )
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign, "--dry-run"
    )
    assert code == 0
    assert (
        "columns: Email Address -> email (a synonym), Company -> company_name (a synonym), "
        "Phone Number -> phone (a synonym), Job Title -> job_title, "
        "Website -> website, LinkedIn URL -> custom variable 'LinkedIn URL', "
        "Frist Name -> custom variable 'Frist Name'"
    ) in err
    assert "warning: 'Frist Name' becomes a custom variable; did you mean first_name?" in err
    assert mock.state.requests == 0
    code, _, err = await cli(capsys, mock, "leads", "import", str(path), "--campaign-id", campaign)
    assert code == 0, err
    (lead,) = in_target(mock, "campaign", campaign)
    assert (lead["company_name"], lead["phone"], lead["job_title"], lead["website"]) == (
        "Acme", "+1 555", "CTO", "acme.io",
    )  # fmt: skip
    assert lead["payload"] == {"LinkedIn URL": "li/a", "Frist Name": "Ada"}


async def test_jsonl_keys_that_look_misspelled_are_pointed_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    path = tmp_path / "leads.jsonl"
    lines = [
        {"email": "a@example.com", "frist_name": "Ada"},
        {"email": "b@example.com", "compnay": "X"},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--list-id", "l-1", "--dry-run"
    )
    assert code == 0
    assert "columns: email -> email, frist_name -> custom variable 'frist_name'" in err
    assert "'frist_name' becomes a custom variable; did you mean first_name?" in err
    assert "new keys (line 2): compnay -> custom variable 'compnay'" in err
    assert "did you mean company_name?" in err


# -- refusals before any work ------------------------------------------------------------------


async def test_targets_that_do_not_exist_are_refused_with_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(csv_text(["email"], [["a@example.com"]]), encoding="utf-8")
    missing = "00000000-0000-4000-8000-00000000dead"
    output = tmp_path / "out.csv"
    for argv in (
        ["leads", "import", str(path), "--campaign-id", missing],
        ["leads", "import", str(path), "--list-id", missing],
        ["leads", "export", "--campaign-id", missing, "-o", str(output)],
        ["leads", "delete-all", "--list-id", missing, "--yes"],
    ):
        code, _, err = await cli(capsys, mock, *argv)
        assert code == 2, argv
        assert "does not exist in this workspace" in err and err.count("\n") == 1
    assert mock.state.by_operation["bulkAddLeads"] == 0
    assert mock.state.by_operation["bulkDeleteLeads"] == 0
    assert not output.exists()


async def test_the_key_is_checked_before_the_input_is_read(
    capsys: pytest.CaptureFixture[str], mock: MockInstantly, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY")
    code, _, err = await cli(capsys, mock, "leads", "import", "-", "--campaign-id", "c")
    assert code == 2 and "no API key: set INSTANTLY_API_KEY" in err  # stdin was never read


async def test_json_makes_errors_json_too(
    capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    code, out, err = await cli(
        capsys, mock, "leads", "import", "missing.csv", "--campaign-id", "c", "--json"
    )
    assert code == 2
    assert json.loads(out) == {"error": {"message": "missing.csv: no such file", "exit_code": 2}}
    assert err == "instantly: error: missing.csv: no such file\n"


# -- progress and connection failures ----------------------------------------------------------


async def test_without_a_terminal_progress_lines_are_printed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mock: MockInstantly,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.csv"
    path.write_text(csv_text(["email"], [[f"p{i}@example.com"] for i in range(3_000)]))
    monkeypatch.setattr(_output, "PROGRESS_EVERY", 0.0)  # every update, for the test
    code, _, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign,
        "--batch-size", "500", "--concurrency", "1",
    )  # fmt: skip
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("Importing: ")]
    assert [line.split()[1] for line in lines] == [
        "500",
        "1,000",
        "1,500",
        "2,000",
        "2,500",
        "3,000",
    ]
    assert "\r" not in err


class _RecordingOutput(Output):
    """An Output whose progress bar records every update."""

    updates: list[int]

    @contextmanager
    def progress(self, label: str, total: int | None, unit: str = "leads") -> Iterator[Bar]:
        updates = self.updates = []

        class Recording:
            def update(self, done: int) -> None:
                updates.append(done)

            def advance(self, n: int = 1) -> None:
                updates.append(n)

        yield Recording()


async def test_the_bar_advances_as_each_request_is_answered(
    tmp_path: Path, mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.csv"
    path.write_text(csv_text(["email"], [[f"p{i}@example.com"] for i in range(1_000)]))
    args = build_parser().parse_args(
        ["leads", "import", str(path), "--campaign-id", campaign, "--batch-size", "100",
         "--base-url", mock.url]
    )  # fmt: skip
    out = _RecordingOutput(stdout=io.StringIO(), stderr=io.StringIO(), fancy=False)
    assert await run_import(args, out) == 0
    assert sorted(out.updates) == list(range(100, 1_001, 100))


async def test_a_refused_connection_says_what_it_retries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await asyncio.to_thread(main, ["--base-url", "http://127.0.0.1:9", "campaigns", "list"])
    err = capsys.readouterr().err
    assert code == 1
    retries = [line for line in err.splitlines() if "the connection failed" in line]
    assert len(retries) == 5
    assert retries[0].startswith("instantly: GET /api/v2/campaigns: the connection failed (")
    assert "retrying in" in retries[0] and "(1 of 5)" in retries[0]
    assert err.splitlines()[-1].startswith("instantly: error: Connection error")


# -- resume ------------------------------------------------------------------------------------


async def test_resume_finishes_an_interrupted_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.csv"
    path.write_text(csv_text(["email"], [[f"p{i}@example.com"] for i in range(5_000)]))
    journal = tmp_path / "import.journal"
    argv = ["leads", "import", str(path), "--campaign-id", campaign, "--resume", str(journal),
            "--batch-size", "250", "--concurrency", "2", "--base-url", mock.url]  # fmt: skip
    stderr = io.StringIO()
    out = CancellingOutput.make(3, stdout=io.StringIO(), stderr=stderr, fancy=False)
    out.task = asyncio.create_task(run_import(build_parser().parse_args(argv), out))
    assert await out.task == 130
    assert f"run it again with --resume {journal} to finish" in stderr.getvalue()
    assert 0 < len(in_target(mock, "campaign", campaign)) < 5_000
    code, out_text, err = await cli(capsys, mock, *argv[:-2], "--json")
    assert code == 0, err
    summary = json.loads(out_text)
    assert summary["created"] == 5_000 and summary["resumed"] > 0 and summary["accounted"]
    assert len(in_target(mock, "campaign", campaign)) == 5_000


# -- campaigns and lead lists ------------------------------------------------------------------


async def test_campaigns_create_and_lead_lists_create_give_ids_to_import_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    code, out, err = await cli(capsys, mock, "campaigns", "create", "Spring launch")
    assert code == 0, err
    campaign = out.strip()
    record = mock.state.campaigns.rows[campaign]
    assert record["name"] == "Spring launch"
    (schedule,) = record["campaign_schedule"]["schedules"]
    assert schedule["timing"] == {"from": "09:00", "to": "17:00"}
    assert [d for d, on in sorted(schedule["days"].items()) if on] == ["1", "2", "3", "4", "5"]
    assert "Created campaign 'Spring launch'" in err and "mon-fri 09:00-17:00" in err

    code, out, _ = await cli(
        capsys, mock, "campaigns", "create", "Weekend", "--timezone", "Europe/Isle_of_Man",
        "--days", "sat-sun", "--start", "10:00", "--end", "14:00", "--json",
    )  # fmt: skip
    weekend = json.loads(out)
    assert weekend["campaign_schedule"]["schedules"][0]["timezone"] == "Europe/Isle_of_Man"
    code, _, err = await cli(capsys, mock, "campaigns", "create", "X", "--timezone", "Mars/Base")
    assert code == 2 and "the API does not take this zone" in err

    code, out, err = await cli(capsys, mock, "lead-lists", "create", "Prospects")
    assert code == 0, err
    lead_list = out.strip()
    assert mock.state.lead_lists.rows[lead_list]["name"] == "Prospects"
    code, out, _ = await cli(capsys, mock, "lead-lists", "list", "--json")
    assert [x["id"] for x in json.loads(out)] == [lead_list]

    path = tmp_path / "leads.csv"
    path.write_text(csv_text(["email"], [["a@example.com"], ["b@example.com"]]))
    for flag, target in (("--campaign-id", campaign), ("--list-id", lead_list)):
        code, _, err = await cli(capsys, mock, "leads", "import", str(path), flag, target)
        assert code == 0, err
    assert len(mock.state.leads) == 4  # a second target gets the same leads too


async def test_a_malformed_line_midway_stops_there_with_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mock: MockInstantly
) -> None:
    campaign = mock.state.add_campaign()["id"]
    path = tmp_path / "leads.jsonl"
    good = "".join(json.dumps({"email": f"p{i}@example.com"}) + "\n" for i in range(2_500))
    path.write_text(good + '{"email": oops}\n' + good, encoding="utf-8")
    code, out, err = await cli(
        capsys, mock, "leads", "import", str(path), "--campaign-id", campaign, "--json"
    )
    assert code == 2
    summary, error = _documents(out)
    assert summary["created"] == 2_000 and summary["not_sent"] == 500 and summary["accounted"]
    assert "leads.jsonl:2501: not valid JSON" in error["error"]["message"]
    assert "the import stopped there: 2,000 rows sent, 500 read but not sent" in err
    assert len(in_target(mock, "campaign", campaign)) == 2_000


def _documents(text: str) -> list[Any]:
    """The JSON documents printed one after the other."""
    decoder = json.JSONDecoder()
    found, at = [], 0
    while at < len(text.strip()):
        value, end = decoder.raw_decode(text, at)
        found.append(value)
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    return found
