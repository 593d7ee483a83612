"""Decoding: full Leads into models, with our converter vs pydantic v2 vs plain dict access.

Two figures for each: from the wire (the bytes of pages of 100 Leads: the SDK's JSON parse, the
one `instantly._json.loads`, then `structure(LeadPage)`, against pydantic's
`LeadPage.model_validate_json` of the same bytes), and from dicts already parsed (`structure` of
each Lead against `Lead.model_validate`). The pydantic models are generated at bench time by
datamodel-code-generator (pinned in the dev extra) from the same spec,
`openapi/instantly-v2.yaml`, into a temporary directory. Timing runs in a client process of its
own; the contenders take turns round by round over the same leads, best round of each, timed
in CPU time of the process.
"""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._proc import REPO, BenchError, run_child

__all__ = ["generate_pydantic_models", "measure", "run"]

SPEC = REPO / "openapi" / "instantly-v2.yaml"
_PAGE_SIZE = 100


def generate_pydantic_models(out_dir: Path) -> Path:
    """Generate pydantic v2 models of the spec into out_dir/instantly_pydantic.py; return it."""
    target = out_dir / "instantly_pydantic.py"
    command = [
        sys.executable,
        "-m",
        "datamodel_code_generator",
        "--input",
        str(SPEC),
        "--input-file-type",
        "openapi",
        "--output",
        str(target),
        "--output-model-type",
        "pydantic_v2.BaseModel",
        "--target-python-version",
        "3.11",
        # The builtin formatter: black and isort would triple the generation time for nothing.
        "--formatters",
        "builtin",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BenchError(f"datamodel-codegen failed: {completed.stderr[-2000:]}")
    if importlib.util.find_spec("email_validator") is None:
        # Some request models type emails as EmailStr, which needs the optional email-validator
        # at class creation. Lead has no EmailStr field, so a plain-str alias changes nothing
        # that is measured.
        text = target.read_text()
        first_class = text.index("\nclass ")
        target.write_text(text[:first_class] + "\nEmailStr = str\n" + text[first_class:])
    return target


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """Generate the pydantic models, time the three decoders; return (figures, notes)."""
    notes: list[str] = []
    if importlib.util.find_spec("pydantic") is None:
        raise BenchError("pydantic is not installed (it comes with the dev extra)")
    count = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-pydantic-") as tmp:
        started = time.perf_counter()
        models = generate_pydantic_models(Path(tmp))
        generated_in = time.perf_counter() - started
        result = run_child(
            "bench.decode:measure",
            {"count": count, "models": str(models), "rounds": 2 if quick else 3},
            name="decode",
        )
    result["pydantic_codegen_s"] = round(generated_in, 2)
    if quick:
        notes.append(f"decode: quick mode structures {count:,} leads instead of 100,000")
    return result, notes


def _best_rate(count: int, rounds: int, work: Callable[[], object]) -> float:
    # CPU time of this process, not wall time: the work is CPU-bound and single-threaded, and on
    # a shared machine the time it spends descheduled would otherwise count as decoding.
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return count / best


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: time each decoder over the same leads (runs in its own process)."""
    from instantly import models as ours
    from instantly._convert import structure
    from instantly._json import dumps, loads

    from ._leads import full_leads

    count: int = params["count"]
    rounds: int = params["rounds"]
    spec = importlib.util.spec_from_file_location("instantly_pydantic", params["models"])
    assert spec is not None and spec.loader is not None
    pyd = importlib.util.module_from_spec(spec)
    # Registered first: pydantic resolves the module's postponed annotations through sys.modules.
    sys.modules[spec.name] = pyd
    spec.loader.exec_module(pyd)
    import pydantic

    leads = full_leads(count)
    lead_cls = ours.Lead
    page_cls = ours.LeadPage
    pyd_lead = pyd.Lead
    pyd_page = pyd.LeadPage
    fields = [f.metadata.get("wire", f.name) for f in lead_cls.__attrs_attrs__]
    pages = [
        dumps({"items": leads[i : i + _PAGE_SIZE], "next_starting_after": "x"})
        for i in range(0, count, _PAGE_SIZE)
    ]

    # The test data stays alive for the whole run, unlike a client's one page at a time: out of
    # the collector's sight, so that its full collections do not walk 100,000 dicts again and
    # again in the middle of whichever decoder happens to trigger them.
    gc.freeze()
    # Both decoders must accept every lead before anything is timed, ours on its strict path.
    from instantly._convert import mismatches

    for lead in leads[:100]:
        if mismatches(structure(lead, lead_cls)):
            raise BenchError("the bench's leads do not fit the Lead model")
        pyd_lead.model_validate(lead)
    pyd_page.model_validate_json(pages[0])

    def ours_dicts() -> None:
        for lead in leads:
            structure(lead, lead_cls)

    def pydantic_dicts() -> None:
        validate = pyd_lead.model_validate
        for lead in leads:
            validate(lead)

    def plain_dicts() -> None:
        # The floor: touch every field of every lead, build nothing.
        for lead in leads:
            for name in fields:
                lead.get(name)

    def ours_wire() -> None:
        for page in pages:
            structure(loads(page), page_cls)

    def parse_only() -> None:
        # The floor from the wire: the JSON parse alone.
        for page in pages:
            loads(page)

    def pydantic_wire() -> None:
        validate_json = pyd_page.model_validate_json
        for page in pages:
            validate_json(page)

    contenders: dict[str, Callable[[], object]] = {
        "ours_wire": ours_wire,
        "pydantic_wire": pydantic_wire,
        "parse_only": parse_only,
        "ours_dicts": ours_dicts,
        "pydantic_dicts": pydantic_dicts,
        "plain_dicts": plain_dicts,
    }
    # Round by round, each contender in turn: on a shared machine, load that comes and goes
    # then falls on all of them alike, and each keeps its best round.
    rates = {name: 0.0 for name in contenders}
    for _ in range(rounds):
        for name, work in contenders.items():
            rates[name] = max(rates[name], _best_rate(count, 1, work))
    ours_rate, pydantic_rate, plain_rate = (
        rates["ours_dicts"],
        rates["pydantic_dicts"],
        rates["plain_dicts"],
    )
    ours_wire_rate, pydantic_wire_rate = rates["ours_wire"], rates["pydantic_wire"]
    return {
        "count": count,
        "leads_per_s": round(ours_rate),
        "pydantic_leads_per_s": round(pydantic_rate),
        "plain_dict_leads_per_s": round(plain_rate),
        "ratio_vs_pydantic": round(ours_rate / pydantic_rate, 3),
        "ratio_vs_plain_dict": round(ours_rate / plain_rate, 3),
        "us_per_lead": round(1e6 / ours_rate, 2),
        "pydantic_us_per_lead": round(1e6 / pydantic_rate, 2),
        # From the bytes of 100-lead pages: parse + structure vs model_validate_json.
        "wire_us_per_lead": round(1e6 / ours_wire_rate, 2),
        "pydantic_wire_us_per_lead": round(1e6 / pydantic_wire_rate, 2),
        "parse_us_per_lead": round(1e6 / rates["parse_only"], 2),
        "wire_leads_per_s": round(ours_wire_rate),
        "pydantic_wire_leads_per_s": round(pydantic_wire_rate),
        "ratio_vs_pydantic_wire": round(ours_wire_rate / pydantic_wire_rate, 3),
        "pydantic_version": pydantic.VERSION,
    }
