"""Codegen of the agent tools: what counts as read-only, and clear errors in codegen/tools.yaml."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_codegen import generate  # codegen/generate.py, loaded as a module

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi" / "instantly-v2.yaml").read_text())


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "codegen" / "tools.yaml").read_text())


def op(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return spec["paths"][path][method]  # type: ignore[no-any-return]


def test_read_only_is_gets_and_the_posts_that_only_read(spec: dict[str, Any]) -> None:
    assert generate.tool_read_only("get", op(spec, "/api/v2/leads/{id}", "get"))
    assert generate.tool_read_only("post", op(spec, "/api/v2/leads/list", "post"))
    # Retry-safe, but a write: a second activate finds the campaign active.
    activate = op(spec, "/api/v2/campaigns/{id}/activate", "post")
    assert activate["x-retry-safe"] is True
    assert not generate.tool_read_only("post", activate)
    assert not generate.tool_read_only("patch", op(spec, "/api/v2/leads/{id}", "patch"))
    assert not generate.tool_read_only("post", op(spec, "/api/v2/leads", "post"))
    # An explicit marker on the operation wins over the rule.
    assert generate.tool_read_only("post", {**activate, "x-read-only": True})
    assert not generate.tool_read_only("get", {"x-read-only": False})


def test_a_tool_states_its_rate_limit_in_words(spec: dict[str, Any]) -> None:
    label = op(spec, "/api/v2/lead-labels/ai-reply-label", "post")
    text = generate.tool_description(
        "testAiReplyLabelLeadLabels", "/x", "post", label, [], True, False
    )
    assert "The API allows 500 calls per 30 days." in text
    assert [generate.window(s) for s in (60, 3600, 7200, 90)] == [
        "minute",
        "hour",
        "2 hours",
        "90 seconds",
    ]


def test_destructive_is_every_delete(spec: dict[str, Any]) -> None:
    assert generate.tool_destructive("delete", op(spec, "/api/v2/leads", "delete"))
    assert not generate.tool_destructive("post", op(spec, "/api/v2/leads", "post"))


def test_tool_schemas_are_self_contained(spec: dict[str, Any]) -> None:
    schema = generate.tool_json_schema({"$ref": "#/components/schemas/CreateCampaignRequest"}, spec)
    text = repr(schema)
    assert "$ref" not in text and "x-" not in text and "oneOf" not in text
    status = generate.tool_json_schema({"$ref": "#/components/schemas/LeadInterestStatus"}, spec)
    # An open enum: any value goes, the known ones are explained.
    assert "enum" not in status and "1 = Interested" in status["description"]


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda t: t["tools"]["get_lead"].update(operation="getLeed"), "no operation 'getLeed'"),
        (
            lambda t: t["tools"]["get_lead"]["params"].update(lead_uuid={"wire": "uuid"}),
            "tools.get_lead.params.lead_uuid: getLead has no parameter 'uuid'",
        ),
        (
            lambda t: t["tools"]["get_lead"]["params"].pop("lead_id"),
            "getLead requires 'id'",
        ),
        (
            lambda t: t["tools"]["create_lead_list"]["params"]["name"].update(type="integer"),
            "only a spec `number` may be narrowed",
        ),
        (
            lambda t: t["tools"]["list_leads"]["result"].update(detail="campaign"),
            "listLeads does not list Campaign",
        ),
        (
            lambda t: t["tools"]["get_lead"]["result"]["top"].update(mail="mail"),
            "Lead has no field 'mail'",
        ),
    ],
)
def test_table_errors_name_the_tool_and_the_problem(
    spec: dict[str, Any], table: dict[str, Any], tmp_path: Path, mutate: Any, words: str
) -> None:
    broken = copy.deepcopy(table)
    mutate(broken)
    path = tmp_path / "tools.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(generate.SpecError, match=r"codegen/tools\.yaml") as caught:
        generate.generate_tools(spec, tmp_path, path)
    assert words in str(caught.value)
