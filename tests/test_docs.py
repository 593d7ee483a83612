"""The reference site's generated pages, without a full build (CI runs `make docs --strict`).

docs/gen_reference.py runs here as mkdocs-gen-files runs it during a build, into a temporary
folder: every namespace of the client gets a page rendering the class users get, every name the
public packages export is on a page, every agent tool and webhook event type is listed, and
every `:::` reference of the site, written or generated, names an object that exists.
"""

from __future__ import annotations

import importlib
import json
import re
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.structure.files import Files
from mkdocs_gen_files.editor import FilesEditor

import instantly
import instantly.testing
import instantly.tools
import instantly.webhooks
from instantly import AsyncInstantly
from instantly._generated.resources import NAMESPACES
from instantly._generated.tools import ALL_TOOLS, DEFAULT_TOOLS

DOCS = Path(__file__).resolve().parent.parent / "docs"
_DIRECTIVE = re.compile(r"^::: ([\w.]+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The pages gen_reference.py writes: path -> Markdown."""
    src = tmp_path_factory.mktemp("generated")
    config = SimpleNamespace(site_dir=str(tmp_path_factory.mktemp("site")), use_directory_urls=True)
    with FilesEditor(Files([]), config, str(src)):  # type: ignore[arg-type]  # only what it reads
        runpy.run_path(str(DOCS / "gen_reference.py"))
    return {p.relative_to(src).as_posix(): p.read_text() for p in src.rglob("*.md")}


def test_every_namespace_has_a_page_of_the_class_the_client_uses(
    generated: dict[str, str],
) -> None:
    client = AsyncInstantly(api_key="docs-test")
    for name in NAMESPACES:
        page = generated[f"reference/namespaces/{name}.md"]
        cls = type(getattr(client, name))
        assert page.startswith(f"# client.{name}\n")
        assert _DIRECTIVE.findall(page) == [f"{cls.__module__}.{cls.__qualname__}"]
    # The hand-written extensions, not their generated bases.
    assert "::: instantly.resources.leads.Leads\n" in generated["reference/namespaces/leads.md"]


def test_the_navigation_lists_every_generated_page(generated: dict[str, str]) -> None:
    summary = generated["reference/SUMMARY.md"]
    linked = set(re.findall(r"\]\(([^)]+)\)", summary))
    pages = {
        path.removeprefix("reference/") for path in generated if path != "reference/SUMMARY.md"
    }
    written = {
        p.relative_to(DOCS / "reference").as_posix() for p in (DOCS / "reference").glob("*.md")
    }
    assert linked == pages | written


def rendered(generated: dict[str, str]) -> set[str]:
    """The objects the generated reference pages render, by the path their `:::` names."""
    return {name for text in generated.values() for name in _DIRECTIVE.findall(text)}


def test_every_name_instantly_exports_is_on_a_reference_page(generated: dict[str, str]) -> None:
    names = rendered(generated)
    missing = []
    for name in instantly.__all__:
        obj = getattr(instantly, name)
        if name in ("__version__", "models"):  # no page / the models' own pages
            continue
        in_errors_module = getattr(obj, "__module__", None) == "instantly.errors"
        if f"instantly.{name}" not in names and not (
            in_errors_module and "instantly.errors" in names
        ):
            missing.append(name)
    assert missing == []
    # Each where users look for it: by the module that defines it.
    pages = {page: set(_DIRECTIVE.findall(text)) for page, text in generated.items()}
    assert "instantly.RedisRateLimiter" in pages["reference/rate-limits.md"]
    assert "instantly.BulkAddResult" in pages["reference/bulk.md"]
    assert "instantly.mismatches" in pages["reference/decoding.md"]
    assert "instantly.StructureError" in pages["reference/errors.md"]


@pytest.mark.parametrize(
    "package", [instantly.webhooks, instantly.tools, instantly.testing], ids=lambda p: p.__name__
)
def test_every_name_of_a_public_package_is_on_its_page(
    generated: dict[str, str], package: object
) -> None:
    page = {
        "instantly.webhooks": "reference/webhooks.md",
        "instantly.tools": "reference/tools.md",
        "instantly.testing": "reference/testing.md",
    }[package.__name__]  # type: ignore[attr-defined]
    text = generated[page]
    names = set(_DIRECTIVE.findall(text))
    for name in package.__all__:  # type: ignore[attr-defined]
        # The event models are rendered on the models' pages, and linked from a table here.
        assert f"::: {package.__name__}.{name}\n" in text or f"[`{name}`](models/" in text, name  # type: ignore[attr-defined]
    if package is instantly.tools:
        assert {"instantly.tools.mcp_server.serve_stdio", "instantly.tools.Toolkit"} <= names
    if package is instantly.testing:
        assert "instantly.testing.pytest_plugin.instantly_mock" in names
        # The seeding helpers MockState takes from its base are rendered with it.
        assert (
            "::: instantly.testing.MockState\n    options:\n      inherited_members: true" in text
        )


def test_every_tool_and_every_event_type_is_listed(generated: dict[str, str]) -> None:
    tools = generated["reference/tools.md"]
    for name in {**DEFAULT_TOOLS, **ALL_TOOLS}:
        assert f"| `{name}` |" in tools, name
    assert tools.count("| `list_leads` |") == 1  # a default tool, not one of "all"
    webhooks = generated["reference/webhooks.md"]
    for event_type, model in instantly.webhooks.EVENT_MODELS.items():
        cell = "null (a custom label)" if event_type is None else f"`{event_type}`"
        assert f"| {cell} | [`{model.__name__}`]" in webhooks, event_type


def resolve(name: str) -> object:
    """The object a dotted path names: the longest importable module, then its attributes."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(name)


def test_every_reference_names_an_object_that_exists(generated: dict[str, str]) -> None:
    written = [p.read_text() for p in DOCS.rglob("*.md")]
    names = {name for text in [*written, *generated.values()] for name in _DIRECTIVE.findall(text)}
    assert {
        "instantly.AsyncInstantly",
        "instantly.errors",
        "instantly.testing.MockInstantly",
    } <= names
    for name in sorted(names):
        resolve(name)  # raises, naming the part that is missing


def test_the_model_pages_list_every_model(generated: dict[str, str]) -> None:
    # The classes are built on first use: the pages come from `__all__`, not from the names the
    # module has built so far.
    from instantly._generated import models

    index = generated["reference/models.md"]
    listed = set(re.findall(r"^\| \[`(\w+)`\]", index, re.MULTILINE))
    assert listed == set(models.__all__)
    on_pages = {
        name
        for path, page in generated.items()
        if path.startswith("reference/models/")
        for name in json.loads(re.search(r"members: (\[.*\])", page).group(1))  # type: ignore[union-attr]
    }
    assert on_pages == set(models.__all__)
