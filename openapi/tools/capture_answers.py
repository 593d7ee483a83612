"""Capture answers of a third-party mock serving the vendor's own document, as test fixtures.

Maintainer tool, run by hand; nothing at build, test or run time starts the mock or reads the
vendor document. The mock is Stoplight Prism (npm `@stoplight/prism-cli`, installed outside the
repository), run twice on the vendor's snapshot:

    npx prism mock -h 127.0.0.1 -p 4010 SNAPSHOT.json       # answers built from its examples
    npx prism mock -d -h 127.0.0.1 -p 4011 SNAPSHOT.json    # answers generated from its schemas
    python openapi/tools/capture_answers.py --examples http://127.0.0.1:4010 \\
        --generated http://127.0.0.1:4011 --rounds 3

For every operation of our spec it sends a request that the spec allows (built as the mock's
spec test builds them) and keeps the JSON answer of a success:
- tests/fixtures/vendor_examples.json: {operationId: answer}, the vendor's examples as its
  document assembles them (media examples, else the fields' own examples);
- tests/fixtures/generated_answers.json: {operationId: [answer, ...]}, `--rounds` answers each,
  random but valid against the vendor's schemas.
tests/test_vendor_answers.py decodes each with its operation's response type.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from instantly.testing._spec import example, operation_schemas, routes

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

# Path parameters with a shape of their own (the rest take the example of their schema).
_PATH_VALUES = {"email": "ada@example.com", "domain": "example.com"}
# Bodies whose rules across fields the minimal example does not meet (the spec's x-conditions and
# the forward body's "html or text").
_BODIES = {
    "createSalesAgent": {"type": "website", "input": "https://example.com", "agent_type": 2},
    "createInboxManagerGuidance": {"category": 1, "instruction": "Be brief.", "status": 1},
    "forwardEmail": {"body": {"text": "FYI"}},
}


def build_request(route: Any) -> tuple[str, dict[str, str], Any]:
    params, body_schema, _ = operation_schemas(route.operation_id)
    path, query = route.path, {}
    for prm in params:
        value = example(prm.get("schema", {}), all_fields=False)
        if prm["in"] == "path":
            text = _PATH_VALUES.get(prm["name"], value if isinstance(value, str) else str(value))
            path = path.replace("{" + prm["name"] + "}", text)
        elif prm.get("required"):
            query[prm["name"]] = value if isinstance(value, str) else json.dumps(value)
    body = example(body_schema, all_fields=False) if body_schema else None
    if route.operation_id in _BODIES:
        body = {**(body or {}), **_BODIES[route.operation_id]}
    return path, query, body


async def capture(base: str, rounds: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    headers = {"Authorization": "Bearer capture", "Accept": "application/json"}
    async with aiohttp.ClientSession(base, headers=headers) as session:
        for route in routes():
            if route.content_type != "application/json":
                continue
            path, query, body = build_request(route)
            kept: list[Any] = []
            for _ in range(rounds):
                kwargs: dict[str, Any] = {"params": query}
                if route.has_body and body is not None:
                    kwargs["json"] = body
                async with session.request(route.method, path, **kwargs) as r:
                    text = await r.text()
                    if r.status >= 300:
                        print(f"{route.operation_id}: {r.status} {text[:300]}", file=sys.stderr)
                        break
                    kept.append(json.loads(text))
            if kept:
                out[route.operation_id] = kept
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", help="base URL of the mock answering with examples")
    ap.add_argument("--generated", help="base URL of the mock generating answers (-d)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if args.examples:
        answers = asyncio.run(capture(args.examples, 1))
        examples = {k: v[0] for k, v in answers.items()}
        (FIXTURES / "vendor_examples.json").write_text(
            json.dumps(examples, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        )
        print(f"{len(examples)} example answers", file=sys.stderr)
    if args.generated:
        generated = asyncio.run(capture(args.generated, args.rounds))
        (FIXTURES / "generated_answers.json").write_text(
            json.dumps(generated, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
        )
        total = sum(len(v) for v in generated.values())
        print(f"{total} generated answers for {len(generated)} operations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
