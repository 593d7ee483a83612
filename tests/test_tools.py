"""`instantly.tools.Toolkit`: definitions for three vendors, the seed's 13 tools, and calls over the mock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from instantly import AsyncInstantly
from instantly._generated.operations import OPERATIONS
from instantly.testing import MockInstantly
from instantly.tools import Toolkit

pytestmark = pytest.mark.looptime

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "tests/fixtures/seed_tools.json").read_text())["tools"]
DEFAULTS = list(SEED)
KEY = "sk-test-tools-SECRET-0123456789"
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
SCHEDULE = {
    "schedules": [
        {
            "name": "Weekdays",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": {"1": True, "2": True, "3": True, "4": True, "5": True},
            "timezone": "Etc/GMT+12",
        }
    ]
}


def offline() -> AsyncInstantly:
    """A client for definitions only: nothing is sent (the port is closed)."""
    return AsyncInstantly(api_key=KEY, base_url="http://127.0.0.1:9")


def schema_of(definition: dict[str, Any], format: str) -> dict[str, Any]:
    if format == "openai":
        return definition["function"]["parameters"]  # type: ignore[no-any-return]
    return definition["input_schema" if format == "anthropic" else "inputSchema"]  # type: ignore[no-any-return]


def kinds(schema: dict[str, Any]) -> set[str]:
    found = schema.get("type", [])
    return {found} if isinstance(found, str) else set(found)


# --- definitions ----------------------------------------------------------------------------


async def test_the_default_tools_are_the_seeds_13_in_its_order() -> None:
    async with offline() as client:
        toolkit = Toolkit(client)
        assert toolkit.names == DEFAULTS
        assert len(toolkit) == 13


@pytest.mark.parametrize("format", ["openai", "anthropic", "mcp"])
async def test_definitions_have_each_vendors_shape(format: str) -> None:
    async with offline() as client:
        definitions = Toolkit(client).definitions(format=format)  # type: ignore[arg-type]
    assert len(definitions) == 13
    for d in definitions:
        if format == "openai":
            assert set(d) == {"type", "function"} and d["type"] == "function"
            assert set(d["function"]) == {"name", "description", "parameters"}
            name, text = d["function"]["name"], d["function"]["description"]
        elif format == "anthropic":
            assert set(d) == {"name", "description", "input_schema"}
            name, text = d["name"], d["description"]
        else:
            assert {"name", "description", "inputSchema", "annotations"} <= set(d)
            name, text = d["name"], d["description"]
            jsonschema.Draft202012Validator.check_schema(d["outputSchema"])
            assert d["outputSchema"]["type"] == "object"
        assert NAME.match(name)
        assert len(text) > 80  # words for the model, not just a name
        schema = schema_of(d, format)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert not {"anyOf", "oneOf", "allOf"} & set(schema)
        assert schema["additionalProperties"] is False
        # The same tool reads the same in every format.
        assert schema == Toolkit(client).spec(name).input_schema


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_parameters_follow_the_seed(tool: str) -> None:
    async with offline() as client:
        (definition,) = [d for d in Toolkit(client).definitions("anthropic") if d["name"] == tool]
    schema = definition["input_schema"]
    seed = SEED[tool]["params"]
    assert list(schema["properties"]) == list(seed)
    assert set(schema.get("required", [])) == {p for p, v in seed.items() if v["required"]}
    for name, fact in seed.items():
        prop = schema["properties"][name]
        assert kinds(prop) - {"null"} == {fact["type"]}, name
        for bound in ("minimum", "maximum"):
            if bound in fact:
                assert prop[bound] == fact[bound], (name, bound)
        assert prop.get("description"), name


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_result_shapes_follow_the_seed(tool: str) -> None:
    async with offline() as client:
        (definition,) = [d for d in Toolkit(client).definitions("mcp") if d["name"] == tool]
    output = definition["outputSchema"]
    seed = SEED[tool]["result"]
    assert list(output["properties"]) == seed["fields"]
    assert output["required"] == ["success"]
    assert kinds(output["properties"]["success"]) == {"boolean"}
    assert kinds(output["properties"]["error"]) == {"string", "null"}
    # The fields of each item (a lead, a campaign, an email and its body, a lead list).
    defs = {k: v for k, v in seed["defs"].items() if k != "EmailBody"}
    props = output["properties"].values()
    details = [p.get("items", p) for p in props if "properties" in p.get("items", p)]
    assert [list(d["properties"]) for d in details] == list(defs.values())
    if "EmailBody" in seed["defs"]:
        body = details[0]["properties"]["body"]
        assert list(body["properties"]) == seed["defs"]["EmailBody"]


async def test_destructive_and_read_only_tools_say_so() -> None:
    async with offline() as client:
        by_name = {d["name"]: d for d in Toolkit(client).definitions("mcp")}
    delete = by_name["delete_leads"]
    assert delete["annotations"]["destructiveHint"] is True
    assert delete["annotations"]["readOnlyHint"] is False
    assert "Destructive" in delete["description"]
    for name in ("list_leads", "get_lead", "list_campaigns", "list_emails", "list_lead_lists"):
        assert by_name[name]["annotations"]["readOnlyHint"] is True, name
    for name in ("create_lead", "reply_to_email", "activate_campaign", "create_campaign"):
        assert by_name[name]["annotations"] == {
            **by_name[name]["annotations"],
            "readOnlyHint": False,
            "destructiveHint": False,
        }, name


async def test_list_tools_explain_the_cursor() -> None:
    async with offline() as client:
        toolkit = Toolkit(client)
        for d in toolkit.definitions("anthropic"):
            if d["name"].startswith("list_"):
                assert "next_starting_after" in d["description"]
                assert "starting_after" in d["input_schema"]["properties"]


async def test_definitions_are_copies() -> None:
    async with offline() as client:
        toolkit = Toolkit(client)
        toolkit.definitions("openai")[0]["function"]["parameters"]["properties"].clear()
        assert toolkit.definitions("openai")[0]["function"]["parameters"]["properties"]


async def test_an_unknown_format_is_refused() -> None:
    async with offline() as client:
        with pytest.raises(ValueError, match="openai, anthropic, mcp"):
            Toolkit(client).definitions("gemini")  # type: ignore[arg-type]


# --- tools="all", picks, read_only ------------------------------------------------------------


async def test_all_offers_one_valid_tool_per_operation() -> None:
    async with offline() as client:
        toolkit = Toolkit(client, tools="all")
        definitions = toolkit.definitions("mcp")
    assert len(definitions) == len(OPERATIONS)
    names = [d["name"] for d in definitions]
    assert len(set(names)) == len(names)
    assert {toolkit.spec(n).operation_id for n in names} == set(OPERATIONS)
    for d in definitions:
        assert NAME.match(d["name"]), d["name"]
        jsonschema.Draft202012Validator.check_schema(d["inputSchema"])
        jsonschema.Draft202012Validator.check_schema(d["outputSchema"])
        assert d["inputSchema"]["type"] == "object"
        assert not {"anyOf", "oneOf", "allOf"} & set(d["inputSchema"])
        op = OPERATIONS[toolkit.spec(d["name"]).operation_id]
        assert d["name"] == f"{op.namespace}_{op.name}"
        wires = [p.wire for p in (*op.path_params, *op.query_params, *op.body_fields)]
        assert list(d["inputSchema"]["properties"]) == wires
        if op.method == "DELETE":
            assert d["annotations"]["destructiveHint"] is True, d["name"]
            assert "Destructive" in d["description"], d["name"]
        if op.pagination:
            assert "next_starting_after" in d["description"]


async def test_a_list_of_names_picks_tools_from_either_set() -> None:
    async with offline() as client:
        toolkit = Toolkit(client, tools=["get_lead", "campaigns_pause"])
        assert toolkit.names == ["get_lead", "campaigns_pause"]
        with pytest.raises(ValueError, match="did you mean get_lead"):
            Toolkit(client, tools=["get_leads"])
        with pytest.raises(ValueError, match="list of tool names"):
            Toolkit(client, tools="get_lead")


async def test_read_only_keeps_the_tools_that_change_nothing() -> None:
    async with offline() as client:
        assert Toolkit(client, read_only=True).names == [
            "list_leads",
            "get_lead",
            "list_campaigns",
            "list_emails",
            "list_lead_lists",
        ]
        every = Toolkit(client, tools="all", read_only=True)
        methods = {OPERATIONS[every.spec(n).operation_id].method for n in every}
        assert methods == {"GET", "POST"}
        assert "leads_list" in every  # POST /leads/list only reads
        # Retry-safe is not read-only: activating twice is harmless, but it changes the campaign.
        assert "campaigns_activate" not in every
        assert "campaigns_pause" not in every
        gets = {f"{op.namespace}_{op.name}" for op in OPERATIONS.values() if op.method == "GET"}
        assert gets <= set(every)
        for definition in every.definitions("mcp"):
            assert definition["annotations"]["readOnlyHint"] is True
        with pytest.raises(ValueError, match="change data: delete_leads"):
            Toolkit(client, tools=["get_lead", "delete_leads"], read_only=True)


# --- calls over the mock ----------------------------------------------------------------------


@attrs.define
class World:
    mock: MockInstantly
    toolkit: Toolkit
    campaign: dict[str, Any]
    lead: dict[str, Any]
    email: dict[str, Any]
    lead_list: dict[str, Any]


def seed(mock: MockInstantly, client: AsyncInstantly) -> World:
    state = mock.state
    campaign = state.add_campaign("Spring launch")
    lead = state.add_lead("ada@example.com", campaign=campaign["id"], first_name="Ada")
    email = state.add_email(
        lead="ada@example.com",
        eaccount="sender@example.com",
        subject="Pricing?",
        campaign_id=campaign["id"],
    )
    lead_list = state.add_lead_list("Warm leads")
    return World(mock, Toolkit(client), campaign, lead, email, lead_list)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with MockInstantly(KEY, rate_limit=None) as mock:
        yield seed(mock, mock.client())


Check = Callable[[World, dict[str, Any]], None]


def reply_args(w: World) -> dict[str, Any]:
    return {
        "eaccount": "sender@example.com",
        "reply_to_uuid": w.email["id"],
        "subject": "Re: Pricing?",
        "body_text": "It is 10 a seat.",
    }


# Per tool: arguments from the seeded world, and what the result must show.
CALLS: dict[str, tuple[Callable[[World], dict[str, Any]], Check]] = {
    "list_leads": (
        lambda w: {"campaign": w.campaign["id"], "limit": 10},
        lambda w, r: (
            (
                [lead["email"] for lead in r["leads"]] == ["ada@example.com"]
                and r["count"] == 1
                and r["next_starting_after"] is None
            )
            or pytest.fail(str(r))
        ),
    ),
    "get_lead": (
        lambda w: {"lead_id": w.lead["id"]},
        lambda w, r: (
            (
                r["email_address"] == "ada@example.com"
                and r["lead"]["first_name"] == "Ada"
                and r["id"] == w.lead["id"]
            )
            or pytest.fail(str(r))
        ),
    ),
    "create_lead": (
        lambda w: {
            "campaign": w.campaign["id"],
            "email": "bob@example.com",
            "first_name": "Bob",
            "custom_variables": {"plan": "pro"},
        },
        lambda w, r: (
            (
                r["email_address"] == "bob@example.com"
                and r["campaign"] == w.campaign["id"]
                and r["lead"]["payload"] == {"plan": "pro"}
                and len(w.mock.state.leads) == 2
            )
            or pytest.fail(str(r))
        ),
    ),
    "delete_leads": (
        lambda w: {"campaign_id": w.campaign["id"], "ids": [w.lead["id"]]},
        lambda w, r: (r["count"] == 1 and len(w.mock.state.leads) == 0) or pytest.fail(str(r)),
    ),
    "update_lead_interest_status": (
        lambda w: {"lead_email": "ada@example.com", "interest_value": 1},
        lambda w, r: (
            (
                bool(r["message"])
                and w.mock.state.leads.rows[w.lead["id"]]["lt_interest_status"] == 1
            )
            or pytest.fail(str(r))
        ),
    ),
    "list_campaigns": (
        lambda w: {"search": "Spring", "limit": 5},
        lambda w, r: (
            [c["name"] for c in r["campaigns"]] == ["Spring launch"] or pytest.fail(str(r))
        ),
    ),
    "create_campaign": (
        lambda w: {"name": "Autumn", "campaign_schedule": SCHEDULE, "daily_limit": 50},
        lambda w, r: (
            (r["name"] == "Autumn" and r["status"] == 0 and r["id"]) or pytest.fail(str(r))
        ),
    ),
    "patch_campaign": (
        lambda w: {"campaign_id": w.campaign["id"], "name": "Spring 2", "email_gap": 10},
        lambda w, r: isinstance(r["campaign"], dict) or pytest.fail(str(r)),
    ),
    "activate_campaign": (
        lambda w: {"campaign_id": w.campaign["id"]},
        lambda w, r: (
            (r["status"] == 1 and r["campaign"]["name"] == "Spring launch") or pytest.fail(str(r))
        ),
    ),
    "list_emails": (
        lambda w: {"campaign_id": w.campaign["id"], "is_unread": True},
        lambda w, r: (
            (
                [e["subject"] for e in r["emails"]] == ["Pricing?"]
                and r["emails"][0]["body"]["text"] == "Hello!"
            )
            or pytest.fail(str(r))
        ),
    ),
    "reply_to_email": (
        reply_args,
        lambda w, r: (
            (
                r["subject"] == "Re: Pricing?"
                and r["thread_id"] == w.email["thread_id"]
                and r["email"]["body"]["text"] == "It is 10 a seat."
            )
            or pytest.fail(str(r))
        ),
    ),
    "list_lead_lists": (
        lambda w: {"search": "Warm"},
        lambda w, r: [x["name"] for x in r["lead_lists"]] == ["Warm leads"] or pytest.fail(str(r)),
    ),
    "create_lead_list": (
        lambda w: {"name": "Webinar", "has_enrichment_task": False},
        lambda w, r: (
            (r["name"] == "Webinar" and len(w.mock.state.lead_lists) == 2) or pytest.fail(str(r))
        ),
    ),
}


def assert_fits(toolkit: Toolkit, name: str, result: dict[str, Any]) -> None:
    """A result is plain JSON and matches the tool's output schema."""
    assert json.loads(json.dumps(result)) == result
    jsonschema.validate(result, toolkit.spec(name).output_schema)


def test_every_default_tool_has_a_call_case() -> None:
    assert list(CALLS) == DEFAULTS


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_a_call_succeeds_over_the_mock(world: World, tool: str) -> None:
    arguments, check = CALLS[tool]
    result = await world.toolkit.call(tool, arguments(world))
    assert result["success"] is True and result["error"] is None, result
    assert_fits(world.toolkit, tool, result)
    check(world, result)


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_arguments_may_come_as_json_text(world: World, tool: str) -> None:
    arguments, _ = CALLS[tool]
    result = await world.toolkit.call(tool, json.dumps(arguments(world)))
    assert result["success"] is True, result


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_a_404_is_a_failed_result_with_the_status(tool: str) -> None:
    # A base URL the API does not serve: every route answers 404, as the mock does for routes
    # it does not know.
    async with MockInstantly(KEY, rate_limit=None) as mock:
        w = seed(mock, mock.client())
        w.toolkit = Toolkit(AsyncInstantly(api_key=KEY, base_url=mock.url + "/nowhere"))
        async with w.toolkit._client:
            result = await w.toolkit.call(tool, CALLS[tool][0](w))
    assert result == {"success": False, "error": result["error"]}
    assert "404" in result["error"] and "Not Found" in result["error"], result
    assert_fits(w.toolkit, tool, result)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_lead", {"lead_id": "0199b1c2-0000-7000-8000-00000000dead"}),
        ("activate_campaign", {"campaign_id": "0199b1c2-0000-7000-8000-00000000dead"}),
        (
            "reply_to_email",
            {
                "eaccount": "sender@example.com",
                "reply_to_uuid": "0199b1c2-0000-7000-8000-00000000dead",
                "subject": "Re:",
                "body_text": "Hi",
            },
        ),
    ],
)
async def test_an_unknown_id_is_a_404_result(
    world: World, tool: str, arguments: dict[str, Any]
) -> None:
    result = await world.toolkit.call(tool, arguments)
    assert result["success"] is False
    assert result["error"].startswith("404 Not Found"), result
    assert "dead" in result["error"]


# Per tool: a bad argument, and the words the refusal must hold (the field's name first).
BAD: dict[str, tuple[Callable[[World], dict[str, Any]], str]] = {
    "list_leads": (lambda w: {"limit": 0}, "limit must be at least 1"),
    "get_lead": (lambda w: {}, "lead_id is required"),
    "create_lead": (lambda w: {"email": 42}, "email must be"),
    "delete_leads": (
        lambda w: {"campaign_id": w.campaign["id"], "limit": 20_000},
        "limit must be at most 10000",
    ),
    "update_lead_interest_status": (
        lambda w: {"lead_email": "ada@example.com", "interest_value": "keen"},
        "interest_value must be",
    ),
    "list_campaigns": (lambda w: {"status": 7}, "status must be one of"),
    "create_campaign": (lambda w: {"name": "No schedule"}, "campaign_schedule is required"),
    "patch_campaign": (
        lambda w: {"campaign_id": w.campaign["id"], "daily_limit": 2.5},
        "daily_limit must be",
    ),
    "activate_campaign": (lambda w: {"campaign_id": ""}, "campaign_id must not be empty"),
    "list_emails": (lambda w: {"limit": 101}, "limit must be at most 100"),
    "reply_to_email": (
        lambda w: {k: v for k, v in reply_args(w).items() if k != "body_text"},
        "give at least one of: body_text or body_html",
    ),
    "list_lead_lists": (lambda w: {"has_enrichment_task": "yes"}, "has_enrichment_task must be"),
    "create_lead_list": (lambda w: {"name": "L", "colour": "red"}, "unknown argument 'colour'"),
}


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_a_bad_argument_is_refused_before_any_request(world: World, tool: str) -> None:
    arguments, words = BAD[tool]
    before = world.mock.state.requests
    result = await world.toolkit.call(tool, arguments(world))
    assert result["success"] is False
    assert words in result["error"], result
    assert "nothing was sent" in result["error"]
    assert world.mock.state.requests == before


async def test_other_bad_calls_are_failed_results_too(world: World) -> None:
    toolkit = world.toolkit
    unknown = await toolkit.call("list_lead", {})
    assert unknown["success"] is False and "did you mean list_leads" in unknown["error"]
    assert "not valid JSON" in (await toolkit.call("list_leads", "{limit: 5"))["error"]
    assert "JSON object" in (await toolkit.call("list_leads", "[1, 2]"))["error"]
    # A model's null for an optional argument means "not given".
    assert (await toolkit.call("list_leads", {"limit": None, "campaign": None}))["success"]
    assert world.mock.state.requests == 1


async def test_a_read_only_toolkit_does_not_call_writes(world: World) -> None:
    toolkit = Toolkit(world.toolkit._client, read_only=True)
    result = await toolkit.call("delete_leads", {"campaign_id": world.campaign["id"]})
    assert result["success"] is False and "unknown tool" in result["error"]
    assert world.mock.state.requests == 0


@pytest.mark.parametrize("tool", DEFAULTS)
async def test_a_429_is_waited_out_and_the_call_succeeds(tool: str) -> None:
    # One request a second at the server, none held back by the client: the warm-up takes this
    # second, so the tool's request gets a 429 and the pipeline retries it after Retry-After.
    async with MockInstantly(KEY, rate_limit=(1, None)) as mock:
        w = seed(mock, mock.client(rate_limit=None))
        await w.toolkit._client.lead_lists.list_page()
        result = await w.toolkit.call(tool, CALLS[tool][0](w))
        assert result["success"] is True, result
        assert mock.state.rate_limited >= 1
        assert_fits(w.toolkit, tool, result)
        CALLS[tool][1](w, result)


async def test_a_timeout_is_a_failed_result() -> None:
    from instantly.testing import Faults

    async with MockInstantly(KEY, rate_limit=None) as mock:
        mock.faults = Faults(error_rate=0, drop_rate=0, slow_rate=1.0, slow_seconds=60)
        toolkit = Toolkit(mock.client(timeout=5, max_retries=0))
        result = await toolkit.call("list_campaigns", {})
    assert result["success"] is False
    assert "timed out" in result["error"].lower(), result


async def test_list_tools_page_with_the_cursor(world: World) -> None:
    for i in range(5):
        world.mock.state.add_lead(f"lead{i}@example.com", campaign=world.campaign["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        args: dict[str, Any] = {"campaign": world.campaign["id"], "limit": 2}
        if cursor:
            args["starting_after"] = cursor
        result = await world.toolkit.call("list_leads", args)
        seen += [lead["email"] for lead in result["leads"]]
        pages += 1
        cursor = result["next_starting_after"]
        if cursor is None:
            break
    # Six leads in pages of two (the API may end on an empty page after a full one).
    assert pages in (3, 4) and sorted(seen) == sorted(set(seen)) and len(seen) == 6


async def test_a_tool_of_all_calls_its_operation(world: World) -> None:
    toolkit = Toolkit(world.toolkit._client, tools="all")
    page = await toolkit.call("campaigns_list", {"limit": 1})
    assert page["success"] and page["items"][0]["name"] == "Spring launch"
    assert set(page) == {"success", "error", "items", "count", "next_starting_after"}
    got = await toolkit.call("leads_get", {"id": world.lead["id"]})
    assert got["success"] and got["data"]["email"] == "ada@example.com"
    jsonschema.validate(got, toolkit.spec("leads_get").output_schema)


# --- imports --------------------------------------------------------------------------------


def test_importing_the_toolkit_does_not_import_mcp() -> None:
    code = "import sys, instantly, instantly.tools; print('mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_server_without_the_extra_names_it() -> None:
    code = "import sys; sys.modules['mcp'] = None; import instantly.tools.mcp_server"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    assert "pip install 'instantly-sdk[mcp]'" in out.stderr


def test_the_agent_example_runs_on_the_mock() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/agent_tools.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for tool in ("list_campaigns", "create_lead", "list_emails", "reply_to_email"):
        assert f"-> {tool}(" in out.stdout
    assert "success=False" not in out.stdout
    assert "replied to 'ada@example.com'" in out.stdout
