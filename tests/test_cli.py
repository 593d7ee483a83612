"""The `instantly` command without a server: reading files, mapping columns, checks, dry runs,
refusals, exit codes and output. Nothing here opens a connection: `make_client` is made to fail
the test if any command reaches it."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from instantly.cli import _commands, _connect, _export, _import, _sdk_log, main
from instantly.cli._errors import UsageError
from instantly.cli._mapping import ColumnMap, Target, parse_map
from instantly.cli._output import Output
from instantly.cli._rows import RowFile, file_format

KEY = "sk-cli-test-SECRET-0123456789"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command that tries to make a client fails the test: these must send nothing."""

    def refuse(*_: Any) -> Any:
        raise AssertionError("a command made a client: something would have been sent")

    for module in (_import, _export, _commands):
        monkeypatch.setattr(module, "make_client", refuse)
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `instantly argv` and return (exit code, stdout, stderr).

    In a thread of its own, as from a shell: main() runs its own event loop, which must not
    replace the one the test runner keeps for this thread.
    """
    with ThreadPoolExecutor(1) as pool:
        code = pool.submit(main, list(argv)).result()
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# -- reading ----------------------------------------------------------------------------------


def test_csv_rows_keep_their_line_numbers_and_values(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    # A byte-order mark (Excel), a quoted field spanning two lines, a blank line.
    path.write_text(
        '\ufeffemail,Notes\na@example.com,"two\nlines"\n\nb@example.com,x\n', encoding="utf-8"
    )
    source = RowFile(str(path), "csv")
    assert source.header == ["email", "Notes"]
    rows = list(source.rows())
    assert [(r.line, r.values) for r in rows] == [
        (2, {"email": "a@example.com", "Notes": "two\nlines"}),
        (5, {"email": "b@example.com", "Notes": "x"}),
    ]
    with pytest.raises(RuntimeError, match="read already: an input is read once"):
        source.rows()


def test_csv_row_with_extra_fields_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,name\na@example.com,Ada\nb@example.com,Bob,oops\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"leads.csv:3: 3 fields but the header has 2"):
        list(RowFile(str(path), "csv").rows())


def test_csv_trailing_empty_fields_and_short_rows_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,name\na@example.com,Ada,,\nb@example.com\n", encoding="utf-8")
    rows = list(RowFile(str(path), "csv").rows())
    assert [r.values for r in rows] == [
        {"email": "a@example.com", "name": "Ada"},
        {"email": "b@example.com"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("email,email\n", "columns 1 and 2 are both named 'email'"),
    ],
)
def test_csv_header_problems(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        RowFile(str(path), "csv")


def test_jsonl_skips_blank_lines_and_names_a_malformed_one(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text('{"email": "a@example.com"}\n\n{"email": \n[1]\n', encoding="utf-8")
    rows = RowFile(str(path), "jsonl").rows()
    assert next(rows).values == {"email": "a@example.com"}
    with pytest.raises(UsageError, match=r"leads.jsonl:3: not valid JSON"):
        next(rows)
    path.write_text('{"email": "a@example.com"}\n[1]\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"leads.jsonl:2: expected a JSON object, got a list"):
        list(RowFile(str(path), "jsonl").rows())


def test_missing_file_and_unknown_format() -> None:
    with pytest.raises(UsageError, match=r"nope\.csv: no such file"):
        RowFile("nope.csv", "csv")
    assert file_format("x.CSV", None) == "csv"
    assert file_format("x.ndjson", None) == "jsonl"
    assert file_format("x.txt", "csv") == "csv"
    with pytest.raises(UsageError, match="pass --format csv"):
        file_format("x.txt", None)


# -- mapping ----------------------------------------------------------------------------------


def test_default_rule_maps_fields_by_name_and_the_rest_to_custom_variables() -> None:
    columns = ColumnMap({})
    lead, problem = columns.lead(
        {
            "Email": " ada@example.com ",
            "First Name": "Ada",
            "company-name": "Analytical",
            "Favourite Colour": "green",
            "phone": "",  # empty cells are left out, not sent as ""
            "id": "lead-1",  # set by the API: left out
            "error": "line 3: ...",  # a report's own column: left out
        }
    )
    assert problem is None
    assert lead == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "company_name": "Analytical",
        "custom_variables": {"Favourite Colour": "green"},
    }


def test_map_overrides_renames_drops_and_makes_custom_variables() -> None:
    columns = ColumnMap(
        parse_map(["Mail=email, Org=company_name", "Score=custom_variables.score,first_name="])
    )
    lead, problem = columns.lead(
        {"Mail": "a@example.com", "Org": "Acme", "Score": "9", "first_name": "x"}
    )
    assert problem is None
    assert lead == {
        "email": "a@example.com",
        "company_name": "Acme",
        "custom_variables": {"score": "9"},
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Email", "'Email' is not COLUMN=FIELD"),
        ("=email", "'=email' is not COLUMN=FIELD"),
        ("Email=emial", "'emial' is not a lead field; use one of email, "),
        ("Email=email,email=first_name", "column 'email' is mapped twice"),
        ("Notes=custom_variables.", "the custom variable needs a name"),
    ],
)
def test_bad_map_is_refused_with_the_pair(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_map([spec])


def test_header_checks() -> None:
    plain = ColumnMap({})
    with pytest.raises(UsageError, match="no email column"):
        plain.check_columns(["First Name", "Company"], for_campaign=True, path="f.csv")
    # A lead list accepts leads without an email.
    assert plain.check_columns(["First Name"], for_campaign=False, path="f.csv") == []
    with pytest.raises(UsageError, match="columns 'Email' and 'email' both map to the field"):
        plain.check_columns(["Email", "email"], for_campaign=True, path="f.csv")
    assert plain.check_columns(["email", "id", "status", "error"], for_campaign=True, path="f") == [
        "id",
        "status",
    ]
    mapped = ColumnMap(parse_map(["E Mail=email"]))
    with pytest.raises(UsageError, match=r"f\.csv has no column 'E Mail'; its columns are email"):
        mapped.check_columns(["email"], for_campaign=True, path="f.csv")


@pytest.mark.parametrize(
    ("values", "lead", "problem"),
    [
        ({"lt_interest_status": "1"}, {"lt_interest_status": 1}, None),
        ({"lt_interest_status": "hot"}, None, "column 'lt_interest_status': 'hot' is not a whole"),
        ({"phone": 4155550100}, {"phone": "4155550100"}, None),  # a JSON number
        ({"first_name": True}, None, "column 'first_name': expected text, got true"),
        ({"x": {"a": 1}}, None, "column 'x': a custom variable holds text, a number or a boolean"),
        (
            {"custom_variables": '{"tier": "gold", "seats": 5}'},
            {"custom_variables": {"tier": "gold", "seats": 5}},
            None,
        ),
        ({"custom_variables": "{oops"}, None, "column 'custom_variables': not a JSON object"),
        ({"custom_variables": None, "first_name": None}, {}, None),
    ],
)
def test_values_are_typed_or_refused_naming_the_column(
    values: dict[str, Any], lead: dict[str, Any] | None, problem: str | None
) -> None:
    got, why = ColumnMap({}).lead(values)
    if problem is None:
        assert why is None and got == lead
    else:
        assert why is not None and why[0] == "invalid_lead" and why[1].startswith(problem)


def test_target_of_an_unknown_column_keeps_its_spelling() -> None:
    assert ColumnMap({}).target(" Lead Score ") == Target("custom", "Lead Score")


# -- dry run and bad input, through main() ----------------------------------------------------


def sample(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "leads.csv",
        ["Email", "First Name", "Company", "status", "Notes"],
        [
            ["ada@example.com", "Ada", "Analytical", "1", "vip"],
            ["not-an-email", "Bob", "Foo", "", ""],
            ["ADA@example.com", "Ada again", "Analytical", "", ""],
            ["", "No Email", "", "", ""],
            ["grace@example.com", "Grace", "Navy", "", "hi, there"],
        ],
    )


def test_dry_run_counts_and_reports_without_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample(tmp_path)
    report = tmp_path / "failed.csv"
    code, out, err = run(
        capsys,
        "leads", "import", str(path), "--campaign-id", "c-1", "--dry-run", "--json",
        "--report", str(report), "--map", "Company=company_name",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    assert summary["rows"] == 5 and summary["sendable"] == 2 and summary["dry_run"] is True
    assert summary["rejected"] == {"duplicate_in_input": 1, "invalid_email": 2}
    assert "leads.csv:3: invalid_email: 'not-an-email' is not an email address" in err
    assert "leaving out the column status" in err
    with report.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # The original columns as they were, in order, plus the error.
    assert list(rows[0]) == ["Email", "First Name", "Company", "status", "Notes", "error"]
    assert [(r["Email"], r["error"]) for r in rows] == [
        ("not-an-email", "line 3: invalid_email: 'not-an-email' is not an email address"),
        ("ADA@example.com", "line 4: duplicate_in_input: 'ADA@example.com' appears earlier in the input"),
        ("", "line 5: invalid_email: no email (a campaign import needs one)"),
    ]  # fmt: skip
    # The report is valid input: its `error` column is left out, its rows are read as before.
    code, out, _ = run(
        capsys, "leads", "import", str(report), "--campaign-id", "c-1", "--dry-run", "--json"
    )
    assert code == 0 and json.loads(out)["rows"] == 3


def test_dry_run_into_a_list_accepts_a_lead_with_a_name_and_no_email(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "l.csv", ["first_name", "email"], [["Ada", ""], ["", ""]])
    code, out, _ = run(
        capsys, "leads", "import", str(path), "--list-id", "l-1", "--dry-run", "--json"
    )
    assert code == 0
    assert json.loads(out)["rejected"] == {"incomplete": 1}


def test_dry_run_needs_no_api_key_and_prints_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY")
    code, out, _ = run(
        capsys, "leads", "import", str(sample(tmp_path)), "--campaign-id", "c", "--dry-run"
    )
    assert code == 0
    assert "nothing was sent" in out and "Would send" in out


def test_jsonl_input_reports_as_jsonl_or_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.jsonl"
    lines = [
        {"email": "ada@example.com", "tier": "gold"},
        {"email": "bad", "first_name": "Bob", "seats": 3},
        {"email": "grace@example.com", "lt_interest_status": "hot"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    as_jsonl, as_csv = tmp_path / "failed.jsonl", tmp_path / "failed.csv"
    for report in (as_jsonl, as_csv):
        code, _, _ = run(
            capsys, "leads", "import", str(path), "--list-id", "l", "--dry-run",
            "--report", str(report),
        )  # fmt: skip
        assert code == 0
    reported = [json.loads(line) for line in as_jsonl.read_text().splitlines()]
    assert reported == [
        {**lines[1], "error": "line 2: invalid_email: 'bad' is not an email address"},
        {
            **lines[2],
            "error": "line 3: invalid_lead: column 'lt_interest_status': 'hot' is not a whole "
            "number",
        },
    ]
    with as_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # Every key of the rows reported, in the order first seen; numbers as JSON text.
    assert list(rows[0]) == ["email", "first_name", "seats", "lt_interest_status", "error"]
    assert rows[0]["seats"] == "3" and rows[1]["lt_interest_status"] == "hot"


@pytest.mark.parametrize(
    ("make", "argv", "message"),
    [
        (None, ["missing.csv", "--campaign-id", "c"], "missing.csv: no such file"),
        (
            lambda p: write_csv(p / "f.csv", ["First Name"], [["Ada"]]),
            ["f.csv", "--campaign-id", "c"],
            "f.csv: no email column (a campaign import needs one)",
        ),
        (
            lambda p: (p / "f.jsonl").write_text('{"email": "a@example.com"}\n{"email": x}\n'),
            ["f.jsonl", "--campaign-id", "c", "--dry-run"],
            "f.jsonl:2: not valid JSON",
        ),
        (
            lambda p: write_csv(p / "f.csv", ["email"], [["a@example.com"]]),
            ["f.csv", "--campaign-id", "c", "--map", "Email=e_mail"],
            "--map: Email=e_mail: 'e_mail' is not a lead field",
        ),
        (
            lambda p: write_csv(p / "f.csv", ["email"], [["a@example.com"]]),
            ["f.csv", "--campaign-id", "c", "--report", "f.csv"],
            "--report f.csv: that is the input file",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_sent(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make: Any,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if make is not None:
        make(tmp_path)
    code, out, err = run(capsys, "leads", "import", *argv)
    assert code == 2 and out == ""
    # One error line, last (a dry run prints the column mapping of a JSONL file's first row).
    assert err.count("instantly: error: ") == 1
    assert err.splitlines()[-1].startswith("instantly: error: ")
    assert message in err.splitlines()[-1]


def test_usage_errors_from_argparse_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "leads", "import", "f.csv", "--campaign-id", "c", "--list-id", "l")
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run(
        capsys, "leads", "import", "f.csv", "--campaign-id", "c", "--batch-size", "5000"
    )
    assert code == 2 and "5000 is out of range (1..1000)" in err
    code, _, err = run(capsys, "campaigns", "list", "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["leads", "delete", "lead-1"], ["leads", "delete-all", "--campaign-id", "c-1"]],
)
def test_destructive_commands_refuse_without_yes(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "pass --yes" in err


def test_missing_api_key_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY")
    # The real make_client: it refuses for want of a key before anything is sent.
    monkeypatch.setattr(_commands, "make_client", _connect.make_client)
    code, _, err = run(capsys, "campaigns", "list")
    assert code == 2 and "no API key: set INSTANTLY_API_KEY or pass --api-key" in err


def test_live_demo_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "demo", "--live", "--leads", "10")
    assert code == 2 and "pass --yes" in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "leads", "import", "--help")
    assert code == 0 and "--dry-run" in out and "--report FILE" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("instantly ")


# -- output -----------------------------------------------------------------------------------


def test_plain_output_without_rich() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(stdout=stdout, stderr=stderr, fancy=False)
    out.table("2 campaigns", ("ID", "Name"), [("c-1", "Spring"), ("c-22", "Autumn launch")])
    out.summary("Import", [("Rows", "5"), ("Created", "4")])
    with out.progress("Importing", 10) as bar:  # not a terminal: draws nothing
        bar.update(5)
        bar.advance(5)
    assert stdout.getvalue().splitlines() == [
        "2 campaigns",
        "ID    Name",
        "----  -------------",
        "c-1   Spring",
        "c-22  Autumn launch",
        "Import",
        "Rows     5",
        "Created  4",
    ]
    assert stderr.getvalue() == ""


# -- delegation and entry points --------------------------------------------------------------


def test_mock_command_passes_its_arguments_to_the_mock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import instantly.testing

    seen: list[tuple[list[str] | None, str]] = []

    def fake_main(argv: list[str] | None = None, *, prog: str = "") -> int:
        seen.append((argv, prog))
        return 0

    monkeypatch.setattr(instantly.testing, "main", fake_main)
    code, _, _ = run(capsys, "mock", "--port", "8080", "--api-key", "k", "--rate-limit", "none")
    assert code == 0
    assert seen == [
        (["--port", "8080", "--api-key", "k", "--rate-limit", "none"], "instantly mock")
    ]


def test_python_dash_m_instantly_runs_the_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "instantly", "leads", "import", "missing.csv", "--list-id", "l"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "instantly: error: missing.csv: no such file\n"


def test_sdk_log_lines_show_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("instantly")
    handlers, level = list(logger.handlers), logger.level
    with _sdk_log(0, sys.stderr):
        logger.warning("HTTP 429; pausing all requests")  # would break into a progress bar
    assert capsys.readouterr().err == ""
    with _sdk_log(1, sys.stderr):
        logger.warning("HTTP 429; pausing all requests")
        logger.debug("POST /api/v2/leads/add -> 200")
    assert capsys.readouterr().err == "WARNING instantly: HTTP 429; pausing all requests\n"
    with _sdk_log(2, sys.stderr):
        logger.debug("POST /api/v2/leads/add -> 200")
    assert capsys.readouterr().err == "DEBUG instantly: POST /api/v2/leads/add -> 200\n"
    assert logger.handlers == handlers and logger.level == level  # left as it was
