"""Write the reference pages of the client's namespaces at build time (mkdocs-gen-files).

Run by `mkdocs build` (see mkdocs.yml), never by hand: nothing it writes is committed. The list
of namespaces is the client's own: a client is made (it opens no session and sends nothing) and
each name of the generated `NAMESPACES` table is looked up on it, so a namespace added to the
spec, or a hand-written extension of one (`client.leads` is `Leads`, with `bulk_add`), shows up
here as users get it, without an edit. The client's page is written here too, so that its
namespace attributes become a table of links rather than 28 bare entries; the other fixed pages
(errors, testing) are plain Markdown files in docs/reference/. This script also writes the
section's navigation.
"""

from __future__ import annotations

import inspect
import json
import re

import mkdocs_gen_files
from mkdocs.structure.files import InclusionLevel

from instantly import AsyncInstantly
from instantly._generated import models as generated_models
from instantly._generated.resources import NAMESPACES

# The pages of the reference section, in the order of its navigation; namespaces go after these.
FIXED_PAGES = [
    ("Overview", "index.md"),
    ("The client", "client.md"),
    ("Errors", "errors.md"),
    ("Testing", "testing.md"),
]

CLIENT_PAGE = """\
# The client

`AsyncInstantly` owns one aiohttp session and one rate gate; every namespace sends through them.

::: instantly.AsyncInstantly
    options:
      show_attribute_values: false
      filters: {filters}

## Namespaces

One attribute of the client per namespace of the API, each with its own page:

| Attribute | Class | Methods |
| --- | --- | --- |
{rows}

## Per-call options

::: instantly.RequestOptions
    options:
      show_if_no_docstring: false

## Raw responses

::: instantly.RawResponse

## Pages

::: instantly.Page
    options:
      inherited_members: true

::: instantly.SyncPage
    options:
      inherited_members: true

## The blocking client

`Instantly` has the same namespaces and methods as `AsyncInstantly` (each the async method of the
same name, run on a private event loop in a worker thread), returning results instead of
awaitables, plain iterators instead of async ones and `SyncPage` instead of `Page`.

::: instantly.Instantly
    options:
      show_attribute_values: false
      filters: {filters}

## Rate limits

::: instantly.RateLimiter

## Bulk work

::: instantly.BulkAddResult

::: instantly.Rejection

::: instantly.FailedChunk

::: instantly.BulkRun

::: instantly.BulkResult

::: instantly.Outcome
"""

MODELS_INDEX = """\
# Models

The API's request and response models: attrs classes and enums generated from the spec
(`openapi/instantly-v2.yaml`), {count} in all. Import them from `instantly.models`:

```python
from instantly.models import Lead, LeadInterestStatus, LeadStatus
```

Response models default a missing optional field to `None`; request models default it to
`UNSET` (the field is left out of the request), so `None` can be sent to clear a value. An enum
value the spec does not know still decodes, and keeps the raw value the server sent.

| Model | What it is |
| --- | --- |
{rows}
"""

MODELS_LETTER = """\
# Models: {letter}

::: instantly._generated.models
    options:
      show_root_heading: false
      show_root_toc_entry: false
      show_labels: false
      members: {members}
      members_order: alphabetical
"""


def public_methods(cls: type) -> list[str]:
    """The names of the methods a user calls on a namespace, in alphabetical order."""
    return sorted(
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    )


def namespace_page(name: str, cls: type) -> str:
    """The Markdown of one namespace's page: a title, then mkdocstrings renders the class."""
    path = f"{cls.__module__}.{cls.__qualname__}"
    return f"""\
# client.{name}

`client.{name}` is an instance of `{cls.__name__}`: one `async` method per operation of the
API's *{name}* endpoints. Each method checks its arguments before any request, sends one request
through the client's pipeline (rate limit, retries, typed errors) and returns the operation's
model. `list` methods iterate over every item of every page; `list_page` returns one `Page`.

::: {path}
    options:
      show_root_heading: false
      show_root_toc_entry: false
      show_bases: false
      inherited_members: true
      members_order: alphabetical
      summary:
        functions: true
"""


def client_page(namespaces: dict[str, type]) -> str:
    """The client's page: its own members, and its namespaces as a table instead of attributes."""
    filters = json.dumps(["!^_", "!^(" + "|".join(map(re.escape, namespaces)) + ")$"])
    rows = "\n".join(
        f"| [`{name}`](namespaces/{name}.md) | `{cls.__name__}` | {len(public_methods(cls))} |"
        for name, cls in namespaces.items()
    )
    return CLIENT_PAGE.format(filters=filters, rows=rows)


def index_page(namespaces: dict[str, type]) -> str:
    """The overview: every namespace with its methods, linked to its page."""
    rows = [
        f"| [`client.{name}`](namespaces/{name}.md) | "
        + ", ".join(f"`{method}`" for method in public_methods(cls))
        + " |"
        for name, cls in namespaces.items()
    ]
    return "\n".join(
        [
            "# API reference",
            "",
            "Generated from the code at build time. [The client](client.md) has one attribute "
            f"per namespace ({len(namespaces)} in all), named after the API's tags in snake "
            "case; each namespace has one typed method per operation. The arguments and "
            "results are [models](models.md); what can go wrong is in [errors](errors.md).",
            "",
            "| Namespace | Methods |",
            "| --- | --- |",
            *rows,
            "",
        ]
    )


def model_pages() -> dict[str, list[type]]:
    """The generated models by initial letter: one page each, so that no page is megabytes."""
    by_letter: dict[str, list[type]] = {}
    for name, obj in sorted(vars(generated_models).items()):
        if inspect.isclass(obj) and obj.__module__ == generated_models.__name__:
            by_letter.setdefault(name[0].upper(), []).append(obj)
    return by_letter


def models_index(by_letter: dict[str, list[type]]) -> str:
    """The models' overview: every model with the first line of its docstring, linked."""
    rows = []
    for letter, classes in by_letter.items():
        for cls in classes:
            doc = (inspect.getdoc(cls) or "").partition("\n")[0]
            if doc.startswith(("An enumeration.", "Create a collection")):
                doc = ""  # what Enum and attrs give a class without a docstring of its own
            anchor = f"{generated_models.__name__}.{cls.__name__}"
            rows.append(f"| [`{cls.__name__}`](models/{letter}.md#{anchor}) | {doc} |")
    count = sum(map(len, by_letter.values()))
    return MODELS_INDEX.format(count=count, rows="\n".join(rows))


def main() -> None:
    client = AsyncInstantly(api_key="docs-build")  # opens no session, sends nothing
    namespaces = {name: type(getattr(client, name)) for name in NAMESPACES}
    for name, cls in namespaces.items():
        with mkdocs_gen_files.open(f"reference/namespaces/{name}.md", "w") as page:
            page.write(namespace_page(name, cls))
    with mkdocs_gen_files.open("reference/index.md", "w") as page:
        page.write(index_page(namespaces))
    with mkdocs_gen_files.open("reference/client.md", "w") as page:
        page.write(client_page(namespaces))
    by_letter = model_pages()
    with mkdocs_gen_files.open("reference/models.md", "w") as page:
        page.write(models_index(by_letter))
    for letter, classes in by_letter.items():
        with mkdocs_gen_files.open(f"reference/models/{letter}.md", "w") as page:
            members = json.dumps([cls.__name__ for cls in classes])
            page.write(MODELS_LETTER.format(letter=letter, members=members))
    nav = [f"* [{title}]({path})" for title, path in FIXED_PAGES]
    nav.append("* [Models](models.md)")
    nav += [f"    * [{letter}](models/{letter}.md)" for letter in by_letter]
    nav.append("* Namespaces")
    nav += [f"    * [client.{name}](namespaces/{name}.md)" for name in namespaces]
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as summary:
        summary.write("\n".join(nav) + "\n")
    # literate-nav reads the navigation from this file; it is not a page of the site.
    mkdocs_gen_files.files.get_file_from_path(
        "reference/SUMMARY.md"
    ).inclusion = InclusionLevel.EXCLUDED


main()
