"""Every Python snippet of the guide pages (docs/*.md) runs, against the embedded mock.

A snippet is run as a reader would paste it: in a fresh namespace, with `asyncio.run` in a
thread of its own (the mock answers from the test's loop), top-level `await` allowed. What it
defines as `async def test_...()` is then called, with a started mock for an `instantly_mock`
parameter, as the pytest fixture would give one. `AsyncInstantly()` with no `base_url` reaches a
mock seeded with a campaign and a lead list, whose IDs stand in for the placeholders
`<campaign uuid>` and `<lead list uuid>`; the key comes from `$INSTANTLY_API_KEY`, as it would.
A snippet preceded by an HTML comment `<!-- not run: why -->` is not run (it needs a model's API,
a server left running, ...); the count of those is pinned, so that skipping one is a decision.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import instantly
from instantly._client import AsyncInstantly
from instantly.testing import MockInstantly

DOCS = Path(__file__).resolve().parent.parent / "docs"
KEY = "sk-docs-snippets-0123456789"
REDIS_URL = "redis://127.0.0.1:6379/0"  # what the snippets write; the test's own server instead
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
_NOT_RUN = re.compile(r"<!-- not run: [^>]+ -->\n$")


class Snippet(NamedTuple):
    page: str
    line: int
    code: str
    run: bool


def snippets() -> Iterator[Snippet]:
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        for match in _FENCE.finditer(text):
            if match.group(1) != "python":
                continue
            before = text[: match.start()]
            line = before.count("\n") + 1
            yield Snippet(path.name, line, match.group(2), not _NOT_RUN.search(before))


SNIPPETS = list(snippets())


def test_the_snippets_not_run_are_few_and_say_why() -> None:
    skipped = [f"{s.page}:{s.line}" for s in SNIPPETS if not s.run]
    assert len(skipped) == 4, skipped
    assert len(SNIPPETS) - len(skipped) >= 20


def _run(code: str, filename: str) -> None:
    """Run one snippet as a script, in this thread (which has no event loop)."""
    compiled = compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__snippet__"}
    awaited = eval(compiled, namespace)  # the docs' own code, with top-level await
    if inspect.iscoroutine(awaited):
        asyncio.run(awaited)
    for name, fn in list(namespace.items()):
        if name.startswith("test_") and inspect.iscoroutinefunction(fn):
            asyncio.run(_call_test(fn))


async def _call_test(fn: Any) -> None:
    if "instantly_mock" not in inspect.signature(fn).parameters:
        await fn()
        return
    async with MockInstantly() as mock:  # what the pytest fixture yields
        await fn(instantly_mock=mock)


@pytest.mark.parametrize(
    "snippet",
    [s for s in SNIPPETS if s.run],
    ids=lambda s: f"{s.page}:{s.line}",
)
async def test_the_snippet_runs(
    snippet: Snippet, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = snippet.code
    async with MockInstantly(KEY) as mock:
        campaign = mock.state.add_campaign(name="Spring")
        lead_list = mock.state.add_lead_list(name="Prospects")
        code = code.replace("<campaign uuid>", campaign["id"])
        code = code.replace("<lead list uuid>", lead_list["id"])

        class Client(AsyncInstantly):
            """AsyncInstantly, but aimed at the mock when no base_url is given."""

            def __init__(self, api_key: str | None = None, **options: Any) -> None:
                options.setdefault("base_url", mock.url)
                super().__init__(api_key, **options)

        monkeypatch.setattr(instantly, "AsyncInstantly", Client)
        monkeypatch.setenv("INSTANTLY_API_KEY", KEY)
        monkeypatch.chdir(tmp_path)  # files a snippet writes (a journal) go there
        if REDIS_URL in code:
            if shutil.which("redis-server") is None:
                pytest.skip("redis-server is not installed")
            from instantly.testing._redis import redis_server

            with redis_server() as server:
                code = code.replace(REDIS_URL, server.url)
                await asyncio.to_thread(_run, code, f"{snippet.page}:{snippet.line}")
        else:
            await asyncio.to_thread(_run, code, f"{snippet.page}:{snippet.line}")
