"""Codegen: deterministic, fails on a bad spec with the JSON path of the node."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
spec_module = importlib.util.spec_from_file_location("generate", ROOT / "codegen" / "generate.py")
assert spec_module and spec_module.loader
generate = importlib.util.module_from_spec(spec_module)
spec_module.loader.exec_module(generate)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi" / "instantly-v2.yaml").read_text())


def test_spec_passes_codegen_checks(spec: dict[str, Any]) -> None:
    generate.check(spec)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (
            lambda s: s["paths"]["/api/v2/leads/{id}"]["get"].pop("operationId"),
            "#/paths/~1api~1v2~1leads~1{id}/get",
        ),
        (
            lambda s: s["paths"]["/api/v2/leads"]["post"]["responses"]["200"]["content"][
                "application/json"
            ]["schema"].update({"$ref": "#/components/schemas/Nope"}),
            "#/paths/~1api~1v2~1leads/post/responses/200/content/application~1json/schema",
        ),
        (
            lambda s: s["components"]["schemas"].update({"Status1": {"type": "object"}}),
            "#/components/schemas/Status1",
        ),
        (
            lambda s: s["paths"]["/api/v2/leads/list"]["post"].update({"x-pagination": "cursor"}),
            "#/paths/~1api~1v2~1leads~1list/post/x-pagination",
        ),
        (
            lambda s: s["components"]["schemas"]["LeadStatus"]["x-enum-varnames"].pop(),
            "#/components/schemas/LeadStatus/x-enum-varnames",
        ),
    ],
)
def test_spec_errors_name_the_json_path(spec: dict[str, Any], mutate: Any, where: str) -> None:
    import copy

    broken = copy.deepcopy(spec)
    mutate(broken)
    with pytest.raises(generate.SpecError) as info:
        generate.check(broken)
    assert info.value.path == where


def test_codegen_cli_reports_the_path_and_fails(tmp_path: Path, spec: dict[str, Any]) -> None:
    spec["paths"]["/api/v2/leads/{id}"]["get"]["x-sdk-method"] = "Get Lead"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(spec))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "codegen" / "generate.py"),
            "--spec",
            str(bad),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "#/paths/~1api~1v2~1leads~1{id}/get/x-sdk-method" in result.stderr
    assert not (tmp_path / "out").exists()


def test_generated_table_covers_every_operation() -> None:
    from instantly._generated import models
    from instantly._generated.operations import OPERATIONS

    assert len(OPERATIONS) == 240
    get_lead = OPERATIONS["getLead"]
    assert (get_lead.method, get_lead.path, get_lead.response) == (
        "GET",
        "/api/v2/leads/{id}",
        models.Lead,
    )
    assert get_lead.retry_safe
    list_leads = OPERATIONS["listLeads"]
    assert (list_leads.pagination, list_leads.page_item) == ("body", models.Lead)
    assert OPERATIONS["listLeadList"].pagination == "query"
    assert OPERATIONS["createLead"].retry_safe is False
    add = OPERATIONS["bulkAddLeads"]
    assert not add.is_retry_safe({"leads": []})
    assert add.is_retry_safe({"leads": [], "skip_if_in_campaign": True})
    assert OPERATIONS["listEmail"].rate_limits == ((20, 60.0),)


def test_renamed_wire_fields_are_recorded_for_the_converter() -> None:
    import attrs

    from instantly._generated import models

    wires = {a.name: a.metadata.get("wire") for a in attrs.fields(models.LeadStatusSummaryLastStep)}
    assert wires == {"from_": "from", "step_id": "stepID", "timestamp_executed": None}


def test_a_methods_docstring_says_what_the_operation_does(spec: dict[str, Any]) -> None:
    # help(client.leads.create) and the reference pages read it: the summary alone is a title.
    import inspect

    from instantly._generated.operations import OPERATIONS
    from instantly.resources.leads import Leads

    for op_id, method_name in (("createLead", "create"), ("listLeads", "list_page")):
        op = spec["paths"][OPERATIONS[op_id].path][OPERATIONS[op_id].method.lower()]
        doc = " ".join((inspect.getdoc(getattr(Leads, method_name)) or "").split())
        assert op["summary"].rstrip(".") in doc
        assert " ".join(op["description"].split()) in doc
    # The docstring stays a valid string whatever the description holds.
    assert generate.docstring_text('a """quoted""" \\ path\n  wrapped') == (
        "a '''quoted''' \\\\ path wrapped"
    )
