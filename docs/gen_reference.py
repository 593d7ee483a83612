"""Write the reference pages at build time (mkdocs-gen-files).

Run by `mkdocs build` (see mkdocs.yml), never by hand: nothing it writes is committed. Every list
on these pages is read from the code, so a name added to the SDK shows up without an edit here:

- the namespaces are the client's own: a client is made (it opens no session and sends nothing)
  and each name of the generated `NAMESPACES` table is looked up on it, so a namespace added to
  the spec, or a hand-written extension of one (`client.leads` is `Leads`, with `bulk_add`),
  shows up as users get it;
- the names `instantly` exports go to the page of the module that defines them (`TOPICS`):
  bulk work, rate limits, reading answers; exceptions go to the errors page; a name from a
  module not listed there goes to the client's page;
- the webhooks, tools and testing pages render what `instantly.webhooks`, `instantly.tools` and
  `instantly.testing` export (`__all__`), with tables of the event types and of the agent tools
  made from the generated tables;
- the models come from the generated models module, one page per initial letter.

This script also writes the section's navigation.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from collections.abc import Iterable

import mkdocs_gen_files
from mkdocs.structure.files import InclusionLevel

import instantly
import instantly.testing
import instantly.tools
import instantly.webhooks
from instantly import AsyncInstantly
from instantly._generated import models as generated_models
from instantly._generated.operations import OPERATIONS
from instantly._generated.resources import NAMESPACES
from instantly._generated.tools import ALL_TOOLS, DEFAULT_TOOLS
from instantly._generated.webhooks import SUBSCRIPTIONS
from instantly.testing import _server  # noqa: F401 - registers the mock's HANDLERS
from instantly.testing._call import HANDLERS
from instantly.tools import mcp_server

# The pages of the reference section, in the order of its navigation; models and namespaces go
# after these.
FIXED_PAGES = [
    ("Overview", "index.md"),
    ("The client", "client.md"),
    ("Bulk work", "bulk.md"),
    ("Rate limits", "rate-limits.md"),
    ("Reading answers", "decoding.md"),
    ("Errors", "errors.md"),
    ("Webhooks", "webhooks.md"),
    ("Agent tools", "tools.md"),
    ("Testing", "testing.md"),
]

# Where a name exported by `instantly` is rendered: by the module that defines it.
TOPICS = {
    "instantly._client": "client.md",
    "instantly._pagination": "client.md",
    "instantly._types": "client.md",
    "instantly._bulk": "bulk.md",
    "instantly._ratelimit": "rate-limits.md",
    "instantly._ratelimit_redis": "rate-limits.md",
    "instantly._convert": "decoding.md",
}
FALLBACK_PAGE = "client.md"
# Names of `instantly` with a page of their own (the modules) or none (the version string).
NOT_RENDERED = {"errors", "models", "__version__"}
# Objects users meet (as a result's type, a constant they compare with) that `instantly` does not
# export, rendered with the topic's names.
EXTRA = {
    "bulk.md": [
        "instantly._bulk.CreatedIds",
        "instantly._bulk.SKIP_REASONS",
        "instantly._bulk.CLOCK_SKEW",
    ],
    "rate-limits.md": [],
    "decoding.md": [],
}

# The names a page shows first, when it has them (the rest follow in `__all__` order).
FIRST = (
    "BulkAddResult",
    "RateLimiter",
    "RedisRateLimiter",
    "mismatches",
    "raw_value",
    "WebhookReceiver",
    "parse_event",
    "Toolkit",
    "MockInstantly",
    "MockState",
    "Faults",
)

INTROS = {
    "client.md": """\
# The client

`AsyncInstantly` owns one aiohttp session and one rate gate; every namespace sends through them.
""",
    "bulk.md": """\
# Bulk work

What [`client.leads.bulk_add`](namespaces/leads.md) and `client.bulk` return, and the pieces of
their results. The [bulk import guide](../bulk-import.md) says how an import runs.
""",
    "rate-limits.md": """\
# Rate limits

The gate every request passes before it starts. A client makes a `RateLimiter` of its own from
`rate_limit=(per_second, per_minute)`; pass one instance to several clients to share a limit in
a process, or a `RedisRateLimiter` to share it between processes. Anything that has the two
methods of `Limiter` can be passed instead. The [many workers guide](../many-workers.md) says
which to use when.
""",
    "decoding.md": """\
# Reading answers

An answer never breaks a program: a value that does not fit its declared type becomes what can
honestly be made of it, and stays readable as it came through these functions. Only an answer
of the wrong JSON kind raises [`StructureError`](errors.md#instantly.StructureError).
""",
}

ERRORS_PAGE = """\
# Errors

What each exception means and what to do about it is in the [errors guide](../errors.md).

::: instantly.errors
    options:
      show_root_heading: false
      show_root_toc_entry: false
      members_order: source
"""

CLIENT_OPTIONS = """\
    options:
      show_attribute_values: false
      filters: {filters}
"""

NAMESPACE_TABLE = """\
## Namespaces

One attribute of the client per namespace of the API, each with its own page:

| Attribute | Class | Methods |
| --- | --- | --- |
{rows}
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

WEBHOOKS_PAGE = """\
# Webhooks

`instantly.webhooks`: a receiver for Instantly's webhook deliveries and the typed events they
carry. The [bots guide](../bots.md) shows a receiver at work, and how to test one against the
mock. `client.webhooks` ([its page](namespaces/webhooks.md)) manages the subscriptions.

## Events

`parse_event` (and the receiver) decodes a delivery into the model of its `event_type`. Every
model has the fields of [`BaseEvent`]({base}); keys no field names (the lead's custom
variables, fields newer than this SDK) are in its `custom_variables`.

The last column is the `event_type` to give `client.webhooks.create` to receive it (every
webhook of `all_events` receives them all).

| `event_type` | Model | What happened | Subscribe with |
| --- | --- | --- | --- |
{rows}

A delivery with another `event_type` decodes to [`UnknownEvent`]({unknown}).

## Receiving

{directives}
"""

TOOLS_PAGE = """\
# Agent tools

`instantly.tools`: the API as tools for a model (OpenAI or Anthropic tool use, or any framework
that takes JSON-schema tools), and `instantly.tools.mcp_server`, the same tools over the Model
Context Protocol (`instantly mcp`). The [agents guide](../agents.md) shows a tool-use loop.

{directives}

## The MCP server

Needs the `mcp` extra (`pip install 'instantly-sdk[mcp]'`).

{server}

## The default tools

`Toolkit(client)` offers these {default_count}: one page per list call, the fields a model
needs, and descriptions written for a model.

| Tool | Calls | Changes | What it does |
| --- | --- | --- | --- |
{default_rows}

## Every operation

`Toolkit(client, tools="all")` offers one tool per operation of the API ({all_count}), named
`namespace_method` after the client's method it calls. `read_only=True` keeps the
{read_only_count} that change nothing.

| Tool | Calls | Changes | What it does |
| --- | --- | --- | --- |
{all_rows}
"""

TESTING_PAGE = """\
# Testing

`instantly.testing`: the embedded, stateful mock of the API (the `testing` extra). The
[testing guide](../testing.md) walks through it.

{directives}

## The pytest fixture

Installing the SDK registers a pytest plugin (entry point `pytest11`) with this fixture.

::: instantly.testing.pytest_plugin.instantly_mock

## Operations with state

The mock keeps real state for these {count} operations. Every other operation of the spec is
routed and checked as well, and answers an example made from its response schema.

| Namespace | Methods |
| --- | --- |
{rows}
"""


def ordered(paths: Iterable[str]) -> list[str]:
    """`paths` with the names of FIRST first, in that order; the others keep theirs."""
    rank = {name: i for i, name in enumerate(FIRST)}
    return sorted(paths, key=lambda path: rank.get(path.rpartition(".")[2], len(rank)))


def directive(path: str, *, inherited: bool = False) -> str:
    """A `:::` block rendering the object at `path` (with its inherited members if asked)."""
    if not inherited:
        return f"::: {path}\n"
    return f"::: {path}\n    options:\n      inherited_members: true\n"


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


def home(name: str, obj: object) -> str:
    """The module that defines an exported object: its own for a class or a function, else the
    module of the SDK whose `__all__` exports it (a constant such as `DEFAULT_BASE_URL`)."""
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return obj.__module__
    for module_name, module in sorted(sys.modules.items()):
        if (
            module_name.startswith("instantly.")
            and name in getattr(module, "__all__", ())
            and getattr(module, name, None) is obj
        ):
            return module_name
    return ""


def topic_pages() -> dict[str, list[str]]:
    """The names `instantly` exports, by the reference page that renders them (in `__all__`
    order); exceptions defined outside `instantly.errors` go to the errors page."""
    pages: dict[str, list[str]] = {page: [] for page in (*INTROS, "errors.md")}
    for name in instantly.__all__:
        if name in NOT_RENDERED:
            continue
        obj = getattr(instantly, name)
        module = home(name, obj)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            if module != "instantly.errors":  # the errors module is rendered whole
                pages["errors.md"].append(f"instantly.{name}")
            continue
        pages[TOPICS.get(module, FALLBACK_PAGE)].append(f"instantly.{name}")
    for page, extra in EXTRA.items():
        pages[page] += extra
    return pages


def topic_page(page: str, paths: list[str], namespaces: dict[str, type]) -> str:
    """One of the pages of `instantly`'s names; the client's renders `AsyncInstantly` first,
    with its namespace attributes as a table rather than 35 bare entries."""
    if page == "errors.md":
        return ERRORS_PAGE + "".join(f"\n{directive(p)}" for p in paths)
    parts = [INTROS[page]]
    if page == "client.md":
        filters = json.dumps(["!^_", "!^(" + "|".join(map(re.escape, namespaces)) + ")$"])
        parts.append(directive("instantly.AsyncInstantly") + CLIENT_OPTIONS.format(filters=filters))
        rows = "\n".join(
            f"| [`{name}`](namespaces/{name}.md) | `{cls.__name__}` | {len(public_methods(cls))} |"
            for name, cls in namespaces.items()
        )
        parts.append(NAMESPACE_TABLE.format(rows=rows))
        paths = [p for p in paths if p != "instantly.AsyncInstantly"]
        if paths:
            parts.append("## Also exported by `instantly`\n")
    parts += [directive(p) for p in ordered(paths)]
    return "\n".join(parts)


def index_page(namespaces: dict[str, type]) -> str:
    """The overview: the other pages, then every namespace with its methods, linked."""
    rows = [
        f"| [`client.{name}`](namespaces/{name}.md) | "
        + ", ".join(f"`{method}`" for method in public_methods(cls))
        + " |"
        for name, cls in namespaces.items()
    ]
    pages = [f"[{title.lower()}]({path})" for title, path in FIXED_PAGES[2:]]
    return "\n".join(
        [
            "# API reference",
            "",
            "Generated from the code at build time. [The client](client.md) has one attribute "
            f"per namespace ({len(namespaces)} in all), named after the API's tags in snake "
            "case; each namespace has one typed method per operation. The arguments and "
            "results are [models](models.md). The other pages: " + ", ".join(pages) + ".",
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
    # Every name of `__all__`: the classes are built on first use, so the module's namespace
    # holds only those some code has used.
    for name in sorted(generated_models.__all__):
        obj = getattr(generated_models, name)
        if inspect.isclass(obj) and obj.__module__ == generated_models.__name__:
            by_letter.setdefault(name[0].upper(), []).append(obj)
    return by_letter


def first_line(obj: object) -> str:
    """The first line of an object's own docstring ("" for what Enum and attrs give)."""
    doc = (inspect.getdoc(obj) or "").partition("\n")[0]
    if doc.startswith(("An enumeration.", "Create a collection")):
        return ""
    return doc.replace("|", "\\|")


def model_link(cls: type, prefix: str = "") -> str:
    """The URL of a generated model's entry on its letter's page."""
    anchor = f"{generated_models.__name__}.{cls.__name__}"
    return f"{prefix}models/{cls.__name__[0].upper()}.md#{anchor}"


def models_index(by_letter: dict[str, list[type]]) -> str:
    """The models' overview: every model with the first line of its docstring, linked."""
    rows = [
        f"| [`{cls.__name__}`]({model_link(cls)}) | {first_line(cls)} |"
        for classes in by_letter.values()
        for cls in classes
    ]
    count = sum(map(len, by_letter.values()))
    return MODELS_INDEX.format(count=count, rows="\n".join(rows))


def exported(module: types.ModuleType, skip: Iterable[str] = ()) -> list[str]:
    """`::: module.name` paths of what a package exports (see `ordered`)."""
    return ordered(f"{module.__name__}.{n}" for n in module.__all__ if n not in set(skip))


def webhooks_page() -> str:
    """The receiver's names rendered, the event models (on the models pages) in a table."""
    events = instantly.webhooks.EVENT_MODELS
    base = instantly.webhooks.BaseEvent
    rows = []
    for event_type, cls in events.items():
        subscription = SUBSCRIPTIONS.get(event_type)
        rows.append(
            f"| {'null (a custom label)' if event_type is None else f'`{event_type}`'} | "
            f"[`{cls.__name__}`]({model_link(cls)}) | {first_line(cls)} | "
            f"{f'`{subscription}`' if subscription else '`all_events` only'} |"
        )
    models = [
        n
        for n in instantly.webhooks.__all__
        if inspect.isclass(getattr(instantly.webhooks, n))
        and issubclass(getattr(instantly.webhooks, n), base)
    ]
    paths = exported(instantly.webhooks, skip=models)
    return WEBHOOKS_PAGE.format(
        base=model_link(base),
        unknown=model_link(instantly.webhooks.UnknownEvent),
        rows="\n".join(rows),
        directives="\n".join(map(directive, paths)),
    )


def tool_rows(tools: Iterable[instantly.tools.ToolSpec], namespaces: dict[str, type]) -> str:
    """A table row per tool: the method it calls (linked), what it changes, its title."""
    rows = []
    for tool in tools:
        op = OPERATIONS[tool.operation_id]
        cls = namespaces[op.namespace]
        method = f"{cls.__module__}.{cls.__qualname__}.{op.name}"
        changes = "nothing" if tool.read_only else "deletes" if tool.destructive else "writes"
        rows.append(
            f"| `{tool.name}` | [`client.{op.namespace}.{op.name}`][{method}] | {changes} | "
            f"{tool.title} |"
        )
    return "\n".join(rows)


def tools_page(namespaces: dict[str, type]) -> str:
    """The toolkit's names and the server's rendered, and the tools listed."""
    spec_parts = [n for n in instantly.tools._spec.__all__ if n not in instantly.tools.__all__]
    paths = exported(instantly.tools) + [f"instantly.tools._spec.{n}" for n in spec_parts]
    return TOOLS_PAGE.format(
        directives="\n".join(map(directive, paths)),
        server="\n".join(map(directive, exported(mcp_server))),
        default_count=len(DEFAULT_TOOLS),
        default_rows=tool_rows(DEFAULT_TOOLS.values(), namespaces),
        all_count=len(ALL_TOOLS),
        read_only_count=sum(tool.read_only for tool in ALL_TOOLS.values()),
        all_rows=tool_rows(sorted(ALL_TOOLS.values(), key=lambda t: t.name), namespaces),
    )


def testing_page() -> str:
    """The mock's names rendered; MockState with the seeding helpers it inherits."""
    paths = exported(instantly.testing)
    blocks = [directive(p, inherited=p.endswith(".MockState")) for p in paths]
    by_namespace: dict[str, list[str]] = {}
    for operation_id in HANDLERS:
        op = OPERATIONS[operation_id]
        by_namespace.setdefault(op.namespace, []).append(op.name)
    rows = [
        f"| [`client.{name}`](namespaces/{name}.md) | "
        + ", ".join(f"`{method}`" for method in sorted(methods))
        + " |"
        for name, methods in sorted(by_namespace.items())
    ]
    return TESTING_PAGE.format(
        directives="\n".join(blocks), count=len(HANDLERS), rows="\n".join(rows)
    )


def write(path: str, text: str) -> None:
    with mkdocs_gen_files.open(f"reference/{path}", "w") as page:
        page.write(text)


def main() -> None:
    client = AsyncInstantly(api_key="docs-build")  # opens no session, sends nothing
    namespaces = {name: type(getattr(client, name)) for name in NAMESPACES}
    for name, cls in namespaces.items():
        write(f"namespaces/{name}.md", namespace_page(name, cls))
    write("index.md", index_page(namespaces))
    for page, paths in topic_pages().items():
        write(page, topic_page(page, paths, namespaces))
    write("webhooks.md", webhooks_page())
    write("tools.md", tools_page(namespaces))
    write("testing.md", testing_page())
    by_letter = model_pages()
    write("models.md", models_index(by_letter))
    for letter, classes in by_letter.items():
        members = json.dumps([cls.__name__ for cls in classes])
        write(f"models/{letter}.md", MODELS_LETTER.format(letter=letter, members=members))
    nav = [f"* [{title}]({path})" for title, path in FIXED_PAGES]
    nav.append("* [Models](models.md)")
    nav += [f"    * [{letter}](models/{letter}.md)" for letter in by_letter]
    nav.append("* Namespaces")
    nav += [f"    * [client.{name}](namespaces/{name}.md)" for name in namespaces]
    write("SUMMARY.md", "\n".join(nav) + "\n")
    # literate-nav reads the navigation from this file; it is not a page of the site.
    mkdocs_gen_files.files.get_file_from_path(
        "reference/SUMMARY.md"
    ).inclusion = InclusionLevel.EXCLUDED


main()
