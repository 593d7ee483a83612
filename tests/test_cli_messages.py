"""What the `instantly` command says when the key, the base URL or the mock's options are wrong.

A shell user has options and environment variables, not keyword arguments: the messages name
those, and say each thing once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from instantly.cli import main
from instantly.cli._connect import make_client
from instantly.cli._parser import build_parser
from instantly.testing import MockInstantly

KEY = "sk-cli-messages-SECRET-0123456789"


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    monkeypatch.delenv("INSTANTLY_BASE_URL", raising=False)


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(api_key=KEY, rate_limit=None) as server:
        yield server


def test_mock_help_names_the_command_it_was_run_as(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: instantly mock ")
    assert "python -m instantly.testing" not in out


def test_mock_option_errors_name_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mock", "--rate-limit", "fast"]) == 2
    err = capsys.readouterr().err
    assert "instantly mock: error: argument --rate-limit" in err


def test_plain_http_base_url_points_at_the_option_not_the_keyword(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--api-key", KEY, "--base-url", "http://api.example.test", "campaigns", "list"])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        "instantly: error: base URL 'http://api.example.test' is plain http: the API key would "
        "travel in clear. Use https, a loopback address (127.0.0.1, localhost, ::1), or pass "
        "--allow-insecure\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--allow-insecure", "--base-url", "http://mock.internal:8080", "campaigns", "list"],
        ["campaigns", "list", "--base-url", "http://mock.internal:8080", "--allow-insecure"],
    ],
    ids=["before the command", "after it"],
)
async def test_allow_insecure_lets_a_plain_http_base_url_through(argv: list[str]) -> None:
    client = make_client(build_parser().parse_args(["--api-key", KEY, *argv]))
    assert client.base_url == "http://mock.internal:8080"  # made, not used: nothing is sent
    await client.aclose()


def test_a_base_url_that_is_not_http_at_all_is_not_blamed_on_http(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--api-key", KEY, "--base-url", "ftp://api.example.test", "campaigns", "list"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--allow-insecure" not in err and "'ftp://api.example.test'" in err


@pytest.mark.parametrize(
    ("argv", "env", "where"),
    [
        (["--api-key", "sk-wrong-key-1234"], None, "--api-key"),
        ([], "sk-wrong-key-1234", "$INSTANTLY_API_KEY"),
    ],
    ids=["from the option", "from the environment"],
)
async def test_a_refused_key_says_unauthorized_once_and_where_the_key_came_from(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mock: MockInstantly,
    argv: list[str],
    env: str | None,
    where: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("INSTANTLY_API_KEY", env)
    code = await asyncio.to_thread(main, [*argv, "--base-url", mock.url, "campaigns", "list"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("instantly: error: 401 Unauthorized")
    assert len(re.findall("Unauthorized", err)) == 1, err
    assert f"Check the key in {where}: it may be mistyped, revoked" in err
    assert "sk-wrong-key-1234" not in err
