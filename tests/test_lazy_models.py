"""Model classes are built on first use, and everything a user does with them works as before.

Most checks run in a fresh interpreter (`fresh`): in this one, earlier tests have built most
classes already, and the point is what happens at a class's first use.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import yaml
from test_codegen import ROOT, generate  # codegen/generate.py, loaded as a module

from instantly import models
from instantly._convert import structure
from instantly._generated import models as generated

PARTS = "instantly._generated._models."
LEAD = {
    "id": "0199a7c4-5d1e-7b3a-9a8e-2b9f1e6c4d21",
    "timestamp_created": "2026-08-13T11:11:55.811Z",
    "timestamp_updated": "2026-08-13T11:11:55.811Z",
    "organization": "org",
    "status": 1,
    "email_open_count": 0,
    "email_reply_count": 0,
    "email_click_count": 0,
    "company_domain": "example.com",
    "status_summary": {"last_step": {"stepID": "s1", "from": "campaign"}},
    "email": "ada@example.com",
    "lt_interest_status": 1,
}


def fresh(code: str, stdin: bytes | None = None, path: Path | None = None) -> str:
    """Run `code` in a new interpreter; its stdout (it fails the test if the code raises)."""
    env = None
    if path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(path)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        input=stdin,
        capture_output=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_the_client_and_a_model_build_a_few_classes_of_the_hundreds() -> None:
    out = fresh(f"""
        import sys
        def built():
            return sorted(m for m in sys.modules if m.startswith({PARTS!r}))
        from instantly import AsyncInstantly
        import instantly.models
        import instantly._generated.operations
        at_import = built()
        instantly.models.Lead
        print(len(instantly.models.__all__), len(at_import), len(built()))
    """)
    names, at_import, after_lead = map(int, out.split())
    assert names > 600
    # A few that the SDK's own modules use (the bulk request lead, the job status, the email),
    # then Lead and the classes its fields name (its enums, its status summary): 11 in all.
    assert at_import < 20
    assert 0 < after_lead - at_import <= 11
    assert after_lead < names // 20


def test_every_way_to_reach_a_model_gives_the_same_class() -> None:
    out = fresh("""
        import instantly, instantly.models, instantly._generated.models as g
        names = set(g.__all__)
        # Listed before any is built.
        assert names <= set(dir(instantly.models)) and names <= set(dir(g))
        assert "UNSET" in dir(instantly.models)
        from instantly.models import Lead, LeadStatus
        from instantly._generated.models import Lead as Generated
        assert Lead is instantly.models.Lead is g.Lead is Generated is instantly.models.Lead
        assert instantly.models.LeadStatus is LeadStatus
        assert Lead.__module__ == "instantly._generated.models" and Lead.__qualname__ == "Lead"
        for missing in ("Leed", "datetime", "attrs"):
            try:
                getattr(instantly.models, missing)
            except AttributeError as exc:
                assert "instantly.models" in str(exc) and missing in str(exc)
            else:
                raise AssertionError(missing)
        try:
            g.Leed
        except AttributeError as exc:
            assert "Leed" in str(exc)
        else:
            raise AssertionError("Leed")
        print("ok")
    """)
    assert out.strip() == "ok"


def test_star_imports_give_every_model() -> None:
    out = fresh("""
        import instantly._generated.models as g
        public, generated = {}, {}
        exec("from instantly.models import *", public)
        exec("from instantly._generated.models import *", generated)
        assert set(g.__all__) <= set(public) and set(g.__all__) <= set(generated)
        assert all(public[n] is generated[n] is getattr(g, n) for n in g.__all__)
        assert all(isinstance(generated[n], type) for n in g.__all__)
        assert "UNSET" in public
        print(len(g.__all__))
    """)
    assert int(out) > 600


def test_instances_compare_print_and_check_as_before() -> None:
    lead = structure(LEAD, models.Lead)
    again = structure(LEAD, generated.Lead)
    assert lead == again and lead is not again
    assert isinstance(lead, models.Lead) and isinstance(
        lead.status_summary, models.LeadStatusSummary
    )
    assert lead.status is models.LeadStatus.ACTIVE
    assert repr(lead).startswith("Lead(id='0199a7c4-5d1e-7b3a-9a8e-2b9f1e6c4d21', ")
    assert "status=LeadStatus.ACTIVE" in repr(lead)
    assert [f.name for f in attrs.fields(models.LeadStatusSummaryLastStep)] == [
        "from_",
        "step_id",
        "timestamp_executed",
    ]


def test_pickles_load_in_an_interpreter_that_has_built_no_model() -> None:
    lead = structure(LEAD, models.Lead)
    payload = pickle.dumps((lead, models.Campaign, models.LeadStatus.ACTIVE))
    out = fresh(
        """
        import pickle, sys
        lead, campaign, status = pickle.load(sys.stdin.buffer)
        import instantly.models as m
        assert type(lead) is m.Lead and campaign is m.Campaign and status is m.LeadStatus.ACTIVE
        print(repr(lead))
        """,
        stdin=payload,
    )
    assert out.strip() == repr(lead)


def test_every_class_is_found_where_its_module_and_name_say() -> None:
    for name in generated.__all__:
        cls = getattr(generated, name)
        assert cls.__module__ == "instantly._generated.models"
        assert getattr(sys.modules[cls.__module__], cls.__qualname__) is cls


def test_each_class_resolves_its_annotations_and_decodes_at_its_first_use() -> None:
    # In a random order, so that a class is often the first of its group to be used: its
    # annotations must resolve (typing, attrs, the converter) with nothing built before it.
    out = fresh("""
        import random, typing, attrs
        import instantly._generated.models as g
        from instantly._convert import converter, structure
        names = list(g.__all__)
        random.Random(15).shuffle(names)
        for name in names:
            cls = getattr(g, name)
            if attrs.has(cls):
                hints = typing.get_type_hints(cls)
                attrs.resolve_types(cls)
                assert set(hints) >= {f.name for f in attrs.fields(cls)}, name
                converter.get_unstructure_hook(cls)
                structure({}, cls)  # builds its decoder (and its fields' decoders)
        print(len(names))
    """)
    assert int(out) == len(generated.__all__)


def test_the_operation_table_builds_the_models_of_an_operation_when_it_is_looked_up() -> None:
    out = fresh(f"""
        import sys
        def built():
            return {{m for m in sys.modules if m.startswith({PARTS!r})}}
        from instantly._generated.operations import OPERATIONS
        from instantly._generated import models
        assert not built()
        assert len(OPERATIONS) == 240 and "getLead" in OPERATIONS and "nope" not in OPERATIONS
        assert len(list(OPERATIONS)) == 240 and not built()
        op = OPERATIONS["getLead"]
        assert op.response is models.Lead and OPERATIONS["getLead"] is op
        assert "Lead" in vars(models) and "Campaign" not in vars(models) and len(built()) < 20
        assert OPERATIONS.get("nope") is None
        print(len(dict(OPERATIONS.items())))
    """)
    assert int(out) == 240


def test_the_tool_tables_build_only_the_tools_asked_for() -> None:
    out = fresh(f"""
        import sys
        from instantly import AsyncInstantly
        from instantly.tools import Toolkit
        toolkit = Toolkit(AsyncInstantly(api_key="k"), tools=["leads_get", "list_campaigns"])
        assert len(toolkit.definitions(format="openai")) == 2
        print(len([m for m in sys.modules if m.startswith({PARTS!r})]))
    """)
    assert int(out) < 40


# --- classes that refer to each other -----------------------------------------------------

CYCLES = {
    "openapi": "3.1.0",
    "info": {"title": "cycles", "version": "1"},
    "paths": {},
    "components": {
        "schemas": {
            # Itself, directly.
            "TreeNode": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/TreeNode"},
                    },
                },
            },
            # Each other: an owner has pets, a pet its owner.
            "Owner": {
                "type": "object",
                "properties": {
                    "pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                },
            },
            "Pet": {
                "type": "object",
                "properties": {
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "kind": {"$ref": "#/components/schemas/PetKind"},
                },
            },
            # Itself through two others.
            "Alpha": {
                "type": "object",
                "properties": {"beta": {"$ref": "#/components/schemas/Beta"}},
            },
            "Beta": {
                "type": "object",
                "properties": {"gamma": {"$ref": "#/components/schemas/Gamma"}},
            },
            "Gamma": {
                "type": "object",
                "properties": {"alpha": {"$ref": "#/components/schemas/Alpha"}},
            },
            # Two classes that name a cycle without being part of it.
            "Shelter": {
                "type": "object",
                "properties": {"resident": {"$ref": "#/components/schemas/Pet"}},
            },
            "Vet": {
                "type": "object",
                "properties": {"patient": {"$ref": "#/components/schemas/Pet"}},
            },
            "PetKind": {
                "type": "string",
                "enum": ["cat", "dog"],
                "x-enum-varnames": ["CAT", "DOG"],
            },
        }
    },
}


def test_classes_in_cycles_share_a_module_and_resolve(tmp_path: Path) -> None:
    spec_path = tmp_path / "cycles.yaml"
    spec_path.write_text(yaml.safe_dump(CYCLES))
    out = tmp_path / "cyclic"
    out.mkdir()
    (out / "__init__.py").write_text("")
    generate.generate_models(spec_path, CYCLES, out)
    parts = {p.stem: p.read_text() for p in (out / "_models").glob("*.py")}
    # A cycle's classes share a module; so do the classes only one other names (PetKind).
    assert set(parts) == {"__init__", "tree_node", "owner", "alpha", "shelter", "vet"}
    assert all(
        c in parts["owner"] for c in ("class Owner:", "class Pet:", "class PetKind(StrEnum)")
    )
    assert all(f"class {n}" in parts["alpha"] for n in ("Alpha", "Beta", "Gamma"))
    assert "from .owner import Pet\n" in parts["shelter"] and "class Pet" not in parts["shelter"]
    result = fresh(
        """
        import sys, typing, attrs
        import cyclic.models as m
        from instantly._convert import structure, unstructure
        shelter = structure({"resident": {"owner": {"pets": [{"kind": "cat"}]}}}, m.Shelter)
        assert type(shelter.resident.owner.pets[0]) is m.Pet
        assert shelter.resident.owner.pets[0].kind is m.PetKind.CAT
        assert typing.get_type_hints(m.Pet)["owner"] == m.Owner | None
        tree = structure({"name": "a", "children": [{"name": "b", "children": []}]}, m.TreeNode)
        assert tree.children[0] == m.TreeNode(name="b", children=[])
        loop = structure({"alpha": {"beta": {"gamma": {}}}}, m.Gamma)
        assert loop.alpha.beta.gamma == m.Gamma()
        assert unstructure(loop) == {"alpha": {"beta": {"gamma": {}}}}
        assert {c.__module__ for c in (m.Alpha, m.Beta, m.Gamma, m.Pet)} == {"cyclic.models"}
        print(sorted(k.rsplit(".", 1)[1] for k in sys.modules if k.startswith("cyclic._models.")))
        """,
        path=tmp_path,
    )
    assert result.strip() == str(["alpha", "owner", "shelter", "tree_node"])


# --- what type checkers see ---------------------------------------------------------------

PROGRAM = """\
from __future__ import annotations

import instantly.models
from instantly import models
from instantly._generated.models import Campaign
from instantly.models import *
from instantly.models import Lead


def use(lead: Lead, campaign: Campaign) -> None:
    reveal_type(lead.email)
    reveal_type(lead.status)
    reveal_type(instantly.models.LeadInterestStatus.INTERESTED.value)
    reveal_type(models.Campaign(id="c", name="n", status=1, campaign_schedule=None))
    reveal_type(campaign.sequences)
    reveal_type(BackgroundJob)
    reveal_type(UNSET)
    instantly.models.Leed
    lead.emial
"""


def test_type_checkers_see_every_model_with_its_fields(tmp_path: Path) -> None:
    # The classes, their fields and the star import, with no Any; a misspelt name is an error
    # (the facade's __getattr__ is hidden from type checkers).
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", str(program)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.splitlines()
    revealed = [line.split('Revealed type is "')[1][:-1] for line in lines if "Revealed" in line]
    assert len(revealed) == 7, done.stdout
    assert revealed[0] == "str | None"
    assert revealed[1].endswith(".LeadStatus")
    assert revealed[2] == "Literal[1]?"
    assert revealed[3].endswith(".Campaign")
    assert revealed[4].startswith("list[") and revealed[4].endswith(".CampaignSequence] | None")
    assert revealed[5].startswith("def (*, id: str, workspace_id: str, ")
    assert revealed[5].endswith(".BackgroundJob")
    assert revealed[6].endswith("Unset.UNSET]?")
    assert not any("Any" in r for r in revealed), revealed
    errors = "\n".join(line for line in lines if ": error:" in line)
    for expected in (
        'Missing named argument "timestamp_created" for "Campaign"',
        'Argument "status" to "Campaign" has incompatible type "int"; expected "CampaignStatus"',
        'Module has no attribute "Leed"',
        '"Lead" has no attribute "emial"',
    ):
        assert expected in errors, done.stdout
    assert errors.count(": error:") == 6, done.stdout
