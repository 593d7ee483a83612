"""Real answers decode: every example of the vendor's 2026-08-21 document and answers that a
third-party mock (Stoplight Prism) generated from the vendor's own schemas, for every operation
with a JSON answer, each structured into its operation's response type.

The fixtures come from `openapi/tools/capture_answers.py` (a maintainer tool; see its docstring);
this test needs neither the mock nor the vendor document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from instantly._convert import structure
from instantly._generated.operations import OPERATIONS

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES: dict[str, Any] = json.loads((FIXTURES / "vendor_examples.json").read_text())
GENERATED: dict[str, list[Any]] = json.loads((FIXTURES / "generated_answers.json").read_text())


def _cases() -> list[Any]:
    cases = []
    for source, answers in (
        ("example", {op: [answer] for op, answer in EXAMPLES.items()}),
        ("generated", GENERATED),
    ):
        for op_id, values in sorted(answers.items()):
            cases.append(pytest.param(source, op_id, values, id=f"{source}-{op_id}"))
    return cases


def test_every_operation_with_a_json_answer_has_answers() -> None:
    json_ops = {
        op_id
        for op_id, op in OPERATIONS.items()
        if op.response is not None and op.accept == "application/json"
    }
    assert len(OPERATIONS) == 240
    assert set(EXAMPLES) == set(GENERATED) == json_ops
    assert len(json_ops) == 238  # + one CSV download and one answer without a body
    assert all(len(values) >= 3 for values in GENERATED.values())


@pytest.mark.parametrize(("source", "operation_id", "answers"), _cases())
def test_answer_decodes_into_the_operation_response_type(
    source: str, operation_id: str, answers: list[Any]
) -> None:
    response = OPERATIONS[operation_id].response
    for answer in answers:
        structure(answer, response)
