"""mypy --strict knows the surface's types (raw responses, pages, the blocking client), and the
program that says so runs."""

from __future__ import annotations

from pathlib import Path

from test_typed_arguments import mypy
from threaded_mock import ThreadedMock
from typecheck.surface_program import with_the_async_client, with_the_blocking_client

from instantly import Instantly
from instantly.testing import MockInstantly

PROGRAM = Path(__file__).parent / "typecheck" / "surface_program.py"


def test_the_surface_program_passes_mypy_strict() -> None:
    result = mypy(str(PROGRAM))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_refuses_misuse_of_the_surface(tmp_path: Path) -> None:
    program = tmp_path / "wrong.py"
    program.write_text(
        "import instantly\n"
        "async def f(a: instantly.AsyncInstantly, b: instantly.Instantly) -> None:\n"
        "    raw = await a.leads.with_raw_response.get('L')\n"
        "    n: int = raw.parse()\n"  # a Lead, not an int
        "    await a.leads.get('L', timeout='soon')\n"  # seconds, not words
        "    await b.leads.get('L')\n"  # the blocking client's result is not awaitable
        "    async for lead in b.leads.list():\n"  # nor is its iterator async
        "        pass\n"
        "    b.leads.get('L', max_retry=1)\n"  # a misspelt option
    )
    result = mypy(str(program))
    assert result.returncode == 1
    assert result.stdout.count("error:") == 5, result.stdout


async def test_the_async_part_runs_as_it_type_checks() -> None:
    async with MockInstantly(rate_limit=None) as mock:
        lead = mock.state.add_lead("ada@example.com")
        mock.state.add_lead("bob@example.com")
        result = await with_the_async_client(mock.client(), lead["id"])
    assert result == {
        "email": "ada@example.com",
        "status": 200,
        "request_id": result["request_id"],
        "elapsed": True,
        "content_type": "application/json",
        "last_page": 0,  # the page after the last lead: empty, as the API ends a list
        "again": True,
    }


def test_the_blocking_part_runs_as_it_type_checks() -> None:
    with ThreadedMock(rate_limit=None) as served:
        lead = served.add_lead("ada@example.com")
        list_id = served.add_lead_list()["id"]
        with Instantly(api_key=served.api_key, base_url=served.url) as client:
            result = with_the_blocking_client(client, lead["id"], list_id)
    assert result == {
        "email": "ada@example.com",
        "emails": ["ada@example.com"],
        "raw": True,
        "created": 1,
        "fast": True,
    }
