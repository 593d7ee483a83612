"""Write the reference pages of the client's namespaces at build time (mkdocs-gen-files).

Run by `mkdocs build` (see mkdocs.yml), never by hand: nothing it writes is committed. The list
of namespaces is the client's own: a client is made (it opens no session and sends nothing) and
each name of the generated `NAMESPACES` table is looked up on it, so a namespace added to the
spec, or a hand-written extension of one (`client.leads` is `Leads`, with `bulk_add`), shows up
here as users get it, without an edit. The fixed pages (client, errors, testing) are plain
Markdown files in docs/reference/; this script also writes the section's navigation.
"""

from __future__ import annotations

import inspect

import mkdocs_gen_files
from mkdocs.structure.files import InclusionLevel

from instantly import AsyncInstantly
from instantly._generated.resources import NAMESPACES

# The pages of the reference section, in the order of its navigation; namespaces go after these.
FIXED_PAGES = [
    ("Overview", "index.md"),
    ("The client", "client.md"),
    ("Errors", "errors.md"),
    ("Testing", "testing.md"),
    ("Models", "models.md"),
]

MODELS_PAGE = """\
# Models

The API's request and response models: attrs classes and enums generated from the spec
(`openapi/instantly-v2.yaml`). Import them from `instantly.models`:

```python
from instantly.models import Lead, LeadInterestStatus, LeadStatus
```

Response models default a missing optional field to `None`; request models default it to
`UNSET` (the field is left out of the request), so `None` can be sent to clear a value. An enum
value the spec does not know still decodes, and keeps the raw value the server sent.

::: instantly._generated.models
    options:
      show_root_heading: false
      show_root_toc_entry: false
      members_order: alphabetical
      summary:
        classes: true
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
      inherited_members: true
      members_order: alphabetical
      summary:
        functions: true
"""


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


def main() -> None:
    client = AsyncInstantly(api_key="docs-build")  # opens no session, sends nothing
    namespaces = {name: type(getattr(client, name)) for name in NAMESPACES}
    for name, cls in namespaces.items():
        with mkdocs_gen_files.open(f"reference/namespaces/{name}.md", "w") as page:
            page.write(namespace_page(name, cls))
    with mkdocs_gen_files.open("reference/index.md", "w") as page:
        page.write(index_page(namespaces))
    with mkdocs_gen_files.open("reference/models.md", "w") as page:
        page.write(MODELS_PAGE)
    nav = [f"* [{title}]({path})" for title, path in FIXED_PAGES]
    nav.append("* Namespaces")
    nav += [f"    * [client.{name}](namespaces/{name}.md)" for name in namespaces]
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as summary:
        summary.write("\n".join(nav) + "\n")
    # literate-nav reads the navigation from this file; it is not a page of the site.
    mkdocs_gen_files.files.get_file_from_path("reference/SUMMARY.md").inclusion = (
        InclusionLevel.EXCLUDED
    )


main()
