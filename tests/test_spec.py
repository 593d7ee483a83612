"""The vendored spec: valid OpenAPI 3.1, complete against the reference list, shaped for codegen."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "instantly-v2.yaml"
REFERENCE_OPS = Path(__file__).parent / "fixtures" / "reference_operations.tsv"
REFERENCE_STRUCTURE = Path(__file__).parent / "fixtures" / "reference_structure.json"
OPERATION_COUNT = 240
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (m.upper(), path): op
        for path, item in spec["paths"].items()
        for m, op in item.items()
        if m in METHODS
    }


def test_spec_is_valid_openapi_31(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_reference_operation_is_present_with_its_operation_id(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    with REFERENCE_OPS.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == OPERATION_COUNT
    missing = [(r["method"], r["path"]) for r in rows if (r["method"], r["path"]) not in ops]
    assert missing == []
    wrong_ids = [
        (r["operationId"], ops[(r["method"], r["path"])]["operationId"])
        for r in rows
        if ops[(r["method"], r["path"])]["operationId"] != r["operationId"]
    ]
    assert wrong_ids == []
    assert len(ops) == OPERATION_COUNT


def test_every_error_response_is_the_one_error_component(spec: dict[str, Any]) -> None:
    for (method, path), op in operations(spec).items():
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                assert response["$ref"].startswith("#/components/responses/"), (method, path, code)
    for response in spec["components"]["responses"].values():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}


def test_every_operation_documents_auth_and_rate_limit_errors(spec: dict[str, Any]) -> None:
    for key, op in operations(spec).items():
        if key[1].startswith("/api/v2/oauth"):
            continue  # the OAuth hand-shake documents only 429/503 (or nothing)
        assert "401" in op["responses"], key
        assert "429" in op["responses"], key


def test_schema_names_mean_something(spec: dict[str, Any]) -> None:
    names = list(spec["components"]["schemas"])
    assert not [n for n in names if re.search(r"\d$", n)], "no collision numbers"
    assert not [n for n in names if n.lower().startswith("def")]
    for expected in (
        "Lead",
        "LeadList",
        "LeadLabel",
        "Campaign",
        "Email",
        "BackgroundJob",
        "LeadPage",
        "BulkAddLeadsRequest",
        "BulkAddLeadsResult",
        "CreateLeadRequest",
        "LeadInterestStatus",
        "LeadStatus",
        "Error",
    ):
        assert expected in names


def test_enums_have_readable_member_names(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, schema in schemas.items():
        if "enum" in schema:
            varnames = schema["x-enum-varnames"]
            assert len(varnames) == len(set(varnames)) == len(schema["enum"]), name
            assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", v) for v in varnames), name
    interest = dict(
        zip(
            schemas["LeadInterestStatus"]["enum"],
            schemas["LeadInterestStatus"]["x-enum-varnames"],
            strict=True,
        )
    )
    assert interest[2] == "MEETING_BOOKED"
    status = dict(
        zip(schemas["LeadStatus"]["enum"], schemas["LeadStatus"]["x-enum-varnames"], strict=True)
    )
    assert status[-1] == "BOUNCED"


def test_limits_carry_over(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    schemas = spec["components"]["schemas"]
    leads = schemas["BulkAddLeadsRequest"]["properties"]["leads"]
    assert (leads["minItems"], leads["maxItems"]) == (1, 1000)
    list_leads = schemas["ListLeadsRequest"]["properties"]["limit"]
    assert (list_leads["minimum"], list_leads["maximum"]) == (1, 100)
    for (_method, path), op in ops.items():
        for p in op.get("parameters", []):
            if p["name"] == "limit" and op.get("x-pagination") == "query":
                expected = 1000 if path == "/api/v2/audit-logs" else 100
                assert (p["schema"]["minimum"], p["schema"]["maximum"]) == (1, expected), path
    assert ops[("GET", "/api/v2/emails")]["x-rate-limit"] == [{"requests": 20, "seconds": 60}]
    assert ops[("POST", "/api/v2/emails/test")]["x-rate-limit"] == [{"requests": 10, "seconds": 60}]


def test_retry_safety_is_declared_for_every_operation(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    for (method, path), op in ops.items():
        safe = op["x-retry-safe"]
        if method in ("GET", "DELETE", "PATCH"):
            assert safe is True, (method, path)
    assert ops[("POST", "/api/v2/leads")]["x-retry-safe"] is False
    assert ops[("POST", "/api/v2/leads/list")]["x-retry-safe"] is True
    assert ops[("POST", "/api/v2/leads/add")]["x-retry-safe"] == {
        "when-any-true": ["skip_if_in_workspace", "skip_if_in_campaign", "skip_if_in_list"]
    }


def test_pagination_styles(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert ops[("POST", "/api/v2/leads/list")]["x-pagination"] == "body"
    assert ops[("GET", "/api/v2/lead-lists")]["x-pagination"] == "query"
    assert "x-pagination" not in ops[("GET", "/api/v2/leads/{id}")]


def test_bulk_delete_leads_takes_a_json_body(spec: dict[str, Any]) -> None:
    op = operations(spec)[("DELETE", "/api/v2/leads")]
    assert "requestBody" in op
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BulkDeleteLeadsRequest"
    }


def test_the_project_does_not_read_shared() -> None:
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("codegen/**/*.py"), ROOT / "Makefile"]:
        assert "shared/" not in path.read_text(), path


def _diff_tool() -> Any:
    spec = importlib.util.spec_from_file_location(
        "diff_reference", ROOT / "openapi" / "tools" / "diff_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_structure_matches_the_vendor_document(spec: dict[str, Any]) -> None:
    """Operations, parameters, request and response property names (at every depth) are the
    vendor's, but for the differences openapi/README.md lists (the tool's EXCEPTIONS)."""
    tool = _diff_tool()
    reference = json.loads(REFERENCE_STRUCTURE.read_text())
    assert len(reference["operations"]) == OPERATION_COUNT
    assert tool.diff(reference, tool.structure(spec)) == []


def test_the_structural_diff_sees_a_difference(spec: dict[str, Any]) -> None:
    tool = _diff_tool()
    reference = json.loads(REFERENCE_STRUCTURE.read_text())
    ours = tool.structure(spec)
    ours["operations"]["GET /api/v2/leads/{id}"]["response"].remove("email")
    ours["operations"]["GET /api/v2/leads/{id}"]["parameters"].append("query extra")
    del ours["operations"]["GET /api/v2/emails"]
    assert tool.diff(reference, ours) == [
        "missing operation: GET /api/v2/emails (listEmail)",
        "GET /api/v2/leads/{id}: parameter only in ours: query extra",
        "GET /api/v2/leads/{id}: response property only in the vendor's: email",
    ]


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z][a-z0-9]*", name)


def test_schema_names_have_no_stutter_or_truncated_plural(spec: dict[str, Any]) -> None:
    bad = []
    for name in spec["components"]["schemas"]:
        words = _words(name)
        for size in range(1, len(words) // 2 + 1):
            if any(
                words[i : i + size] == words[i + size : i + 2 * size]
                and (size > 1 or len(words[i]) > 2)
                for i in range(len(words) - 2 * size + 1)
            ):
                bad.append(name)
                break
        if re.search(r"(Statu|Analytic|Addresse)(?=[A-Z]|$)", name):
            bad.append(name)
    assert bad == []


def test_tags_all_have_operations_and_new_namespaces(spec: dict[str, Any]) -> None:
    first_tags = {op["tags"][0] for op in operations(spec).values()}
    assert {t["name"] for t in spec["tags"]} == first_tags
    namespaces = {t["x-sdk-namespace"] for t in spec["tags"]}
    assert {
        "ai_agents",
        "ai_sales_agents",
        "ai_inbox_managers",
        "ai_deliverability_agents",
        "ai_lead_finder_agents",
        "ai_sales_agent_activities",
        "domain_forwarding",
    } <= namespaces
    assert len(namespaces) == len(spec["tags"]) == 35


def test_the_two_generations_of_sales_agent_routes_have_distinct_names(
    spec: dict[str, Any],
) -> None:
    ops = operations(spec)
    assert ops[("GET", "/api/v2/ai-agents/sales/{id}/analytics")]["x-sdk-method"] == "analytics"
    assert ops[("GET", "/api/v2/ai-agents/{id}/analytics")]["x-sdk-method"] == "sdr_analytics"
    for (_, path), op in ops.items():
        if path.startswith("/api/v2/ai-agents/{id}/") and op["tags"] == ["AISalesAgent"]:
            assert op["x-sdk-method"].startswith("sdr_"), path


def test_facts_fixed_in_our_spec(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    report = schemas["InboxPlacementBlacklistAndSpamAssassinReport"]["properties"]
    spam = schemas[report["spam_assassin_report"]["$ref"].rsplit("/", 1)[-1]]
    assert set(spam["properties"]) == {"is_spam", "report", "spam_score"}
    ops = operations(spec)
    ai = ops[("POST", "/api/v2/supersearch-enrichment/ai")]["responses"]["200"]
    answer = schemas[ai["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert sorted(answer["properties"]["resource_type"]["type"]) == ["integer", "string"]
    job = schemas["BackgroundJob"]["properties"]
    assert job["created_at"]["format"] == job["updated_at"]["format"] == "date-time"
    assert "replies_automatic" not in schemas["CampaignStepAnalytics"].get("required", [])
    assert {5, 7} <= set(schemas["EspCode"]["enum"]) and schemas["EspCode"]["x-open-enum"]
    assert 11 in schemas["AccountProviderCode"]["enum"]
    assert {"warmup_pool_id", "timestamp_last_used", "forwarding_mode"} <= set(
        schemas["Account"]["properties"]
    )
    assert 40 in schemas["AuditLogActivityType"]["enum"]
    forwarding = [{"requests": 10, "seconds": 60}, {"requests": 60, "seconds": 3600}]
    assert ops[("PUT", "/api/v2/domains/{domain}/forwarding")]["x-rate-limit"] == forwarding
    assert ops[("DELETE", "/api/v2/domains/{domain}/forwarding")]["x-rate-limit"] == forwarding


def test_patch_bodies_need_a_field(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for key in (("PATCH", "/api/v2/leads/{id}"), ("PATCH", "/api/v2/campaigns/{id}")):
        body = operations(spec)[key]["requestBody"]["content"]["application/json"]["schema"]
        assert schemas[body["$ref"].rsplit("/", 1)[-1]]["minProperties"] == 1, key
    assert schemas["ForwardEmailRequest"]["x-required-any-of"] == [
        ["body"],
        ["include_original_body"],
    ]


def test_no_generated_name_ends_in_a_collision_number() -> None:
    from instantly._generated import models, resources

    classes = [n for n in models.__all__ if isinstance(getattr(models, n), type)]
    classes += [n for n, v in vars(resources).items() if isinstance(v, type)]
    assert len(classes) > 585
    assert [n for n in classes if re.search(r"\d$", n)] == []


def test_a_new_answer_sharing_a_request_shape_keeps_the_request_model_request_only() -> None:
    """An ICP's job titles look like SuperSearch's title filter; the filter keeps sending only
    the fields a user set (UNSET defaults), because the ICP's are a model of their own."""
    from instantly._generated import models
    from instantly._types import UNSET

    assert models.SupersearchFiltersTitle().include is UNSET
    assert models.IcpJobTitle().include is None


def test_operations_that_change_nothing_say_so(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    for (method, path), op in ops.items():
        if method == "GET":
            assert op["x-read-only"] is True, path
        elif method in ("PATCH", "PUT", "DELETE"):
            assert "x-read-only" not in op, (method, path)
    for key in (
        ("POST", "/api/v2/leads/list"),
        ("POST", "/api/v2/ai-agents/analytics"),
        ("POST", "/api/v2/campaigns/{id}/export"),
    ):
        assert ops[key]["x-read-only"] is True and ops[key]["x-retry-safe"] is True, key
    for key in (("POST", "/api/v2/leads"), ("POST", "/api/v2/campaigns/{id}/activate")):
        assert "x-read-only" not in ops[key], key
    label = ops[("POST", "/api/v2/lead-labels/ai-reply-label")]
    assert label["x-rate-limit"] == [{"requests": 500, "seconds": 30 * 86400}]


def test_an_enum_keeps_the_meanings_of_its_own_place(spec: dict[str, Any]) -> None:
    """Same values, other meanings (or meanings known at one place only): not one enum."""
    schemas = spec["components"]["schemas"]

    def enum_of(model: str, field: str) -> dict[str, Any]:
        prop = schemas[model]["properties"][field]
        ref = prop.get("$ref") or next(o["$ref"] for o in prop["oneOf"] if "$ref" in o)
        return dict(schemas[ref.rsplit("/", 1)[-1]])

    resource = enum_of("EnrichLeadsFromSupersearchResponse", "resource_type")
    assert resource["x-enum-meanings"] == {"1": "Campaign", "2": "List"}
    assert resource == enum_of("SuperSearchEnrichment", "resource_type")
    assert "x-enum-meanings" not in enum_of("InboxPlacementTest", "type")
    # Meanings the vendor gives at another place of the same codes, or in prose only.
    assert enum_of("CreateAIAgentRequest", "status") == enum_of("AiAgent", "status")
    assert enum_of("InboxManagerActivity", "job_type")["x-enum-varnames"] == [
        "INBOX_REPLY",
        "INBOX_FOLLOW_UP",
        "NO_SHOW_FOLLOW_UP",
    ]
    assert enum_of("AiSalesAgent", "agent_type")["x-enum-varnames"][:2] == [
        "SALES_AGENT",
        "AFFILIATE_AGENT",
    ]
    # Long meanings are kept (they were cut at 80 characters).
    assert "pending" in schemas["WorkspaceGroupMemberStatus"]["x-enum-meanings"]
    assert "99" in schemas["CampaignNotSendingStatus"]["x-enum-meanings"]
    # Published member names stay what they were; the meanings document them.
    status = schemas["ListInboxPlacementTestStatus"]
    assert status["x-enum-varnames"] == ["V_1", "V_2", "V_3"]
    assert status["x-enum-meanings"] == {"1": "Active", "2": "Paused", "3": "Completed"}


def test_whole_numbers_are_integers(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    lead = schemas["Lead"]["properties"]
    for field in (
        "email_open_count",
        "email_reply_count",
        "email_opened_step",
        "email_clicked_variant",
    ):
        assert "integer" in lead[field]["type"] and "number" not in lead[field]["type"], field
    assert schemas["Email"]["properties"]["is_unread"]["type"] == ["null", "integer"]
    assert schemas["MoveLeadsRequest"]["properties"]["limit"]["type"] == "integer"
    assert schemas["SalesAgentAnalyticsTotals"]["properties"]["replies"]["type"] == "integer"
    # Money, rates and scores stay numbers.
    assert "number" in schemas["Campaign"]["properties"]["pl_value"]["type"]
    assert "number" in schemas["Account"]["properties"]["stat_warmup_score"]["type"]
    routing = schemas["CampaignProviderRoutingRule"]
    assert routing["required"] == ["action", "recipient_esp", "sender_esp"]


def _describe_tool() -> Any:
    found = importlib.util.spec_from_file_location(
        "describe", ROOT / "openapi" / "tools" / "describe.py"
    )
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def test_every_operation_parameter_and_nearly_every_property_is_described(
    spec: dict[str, Any],
) -> None:
    """Descriptions become the docstrings, the tools' descriptions and the reference site."""
    coverage = _describe_tool().coverage(spec)
    total, missing = coverage["total"], coverage["missing"]
    assert total["operations"] == OPERATION_COUNT
    assert missing["operations"] == []
    assert missing["parameters"] == []
    described = total["properties"] - len(missing["properties"])
    assert described >= 0.95 * total["properties"], missing["properties"][:20]


def test_the_coverage_measure_sees_a_missing_description(spec: dict[str, Any]) -> None:
    tool = _describe_tool()
    damaged = json.loads(json.dumps(spec))
    lead = damaged["components"]["schemas"]["Lead"]["properties"]["email"]
    lead.pop("description", None)
    first_op = next(iter(next(iter(damaged["paths"].values())).values()))
    first_op["description"] = "TODO"
    missing = tool.coverage(damaged)["missing"]
    assert "Lead.email" in missing["properties"]
    assert first_op["operationId"] in missing["operations"]
