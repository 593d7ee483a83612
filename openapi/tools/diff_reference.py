"""Our own measure of drift: the structural difference between our spec and a vendor document.

Maintainer tool, run by hand (nothing at build, test or run time reads the vendor document):

    python openapi/tools/diff_reference.py SNAPSHOT.json            # prints the diff, exit 1 if any
    python openapi/tools/diff_reference.py SNAPSHOT.json --write-fixtures
        # also writes tests/fixtures/reference_structure.json and reference_operations.tsv,
        # the vendor's structural facts that tests/test_spec.py checks our spec against

Structure means names and places, never prose or types: every operation (method, path,
operationId), its parameters (name, place, required), and the property names of its JSON request
body and of its success answer at every depth, following `$ref`s (`items[].email`,
`campaign_schedule.schedules[].timing.from`; `{}` stands for the values of a map). Where we
differ on purpose (openapi/README.md, "Where we differ"), `EXCEPTIONS` says so by name, with why.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import io
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "openapi" / "instantly-v2.yaml"
FIXTURES = ROOT / "tests" / "fixtures"
METHODS = ("get", "post", "put", "patch", "delete")

# Property paths where our spec differs from the vendor's on purpose: (operationId glob, which
# side has it, "request" or "response", path glob) -> why. "vendor" means only the vendor
# document has the path; "ours" only our spec.
EXCEPTIONS: dict[tuple[str, str, str, str], str] = {
    ("*", "vendor", "*", "payload.*"): "Lead.payload is a free-form map of custom variables; the "
    "vendor lists sample keys as if they were fields",
    ("*", "vendor", "*", "items[].payload.*"): "Lead.payload, in pages of leads",
    ("*", "vendor", "*", "leads[].payload.*"): "Lead.payload, in the leads of a request",
    ("*", "ours", "*", "payload.{}"): "Lead.payload's values",
    ("*", "ours", "*", "items[].payload.{}"): "Lead.payload's values, in pages of leads",
    ("*", "ours", "*", "leads[].payload.{}"): "Lead.payload's values, in the leads of a request",
    ("*", "ours", "response", "warmup_pool_id"): "Account field seen in live answers",
    ("*", "ours", "response", "timestamp_last_used"): "Account field seen in live answers",
    ("*", "ours", "response", "forwarding_mode"): "Account field seen in live answers",
    ("*", "ours", "response", "items[].warmup_pool_id"): "Account field, in pages of accounts",
    ("*", "ours", "response", "items[].timestamp_last_used"): "Account field, in pages",
    ("*", "ours", "response", "items[].forwarding_mode"): "Account field, in pages of accounts",
    ("*Account*", "ours", "response", "tags*"): "GET /accounts items are Account, whose `tags` "
    "(filled when include_tags is set) every Account answer therefore has",
    ("*Account*", "ours", "response", "items[].tags*"): "Account.tags, in pages of accounts",
}


def _resolve(doc: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def property_paths(doc: dict[str, Any], schema: Any) -> list[str]:
    """Every property name below `schema`, as dotted paths, following refs (each ref once per
    branch, so a schema that contains itself ends)."""
    out: set[str] = set()

    def walk(node: Any, prefix: str, seen: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            seen = (*seen, name)
            node = _resolve(doc, node)
        for comb in ("oneOf", "anyOf", "allOf"):
            for option in node.get(comb, ()):
                walk(option, prefix, seen)
        for key, value in (node.get("properties") or {}).items():
            path = f"{prefix}{key}"
            out.add(path)
            walk(value, path + ".", seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], prefix.rstrip(".") + "[].", seen)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            resolved = _resolve(doc, extra)
            if isinstance(resolved, dict) and (
                "properties" in resolved
                or "items" in resolved
                or "additionalProperties" in resolved
            ):
                out.add(prefix + "{}")
                walk(extra, prefix + "{}.", seen)
            elif prefix:
                out.add(prefix + "{}")

    walk(schema, "", ())
    return sorted(p.replace("[].", "[].") for p in out)


def _json_schema(content: dict[str, Any] | None) -> Any:
    media = (content or {}).get("application/json")
    schema = media.get("schema") if media else None
    if isinstance(schema, dict) and schema.get("type") == "null":
        return None  # the vendor's way of saying "no body"
    return schema


def structure(doc: dict[str, Any]) -> dict[str, Any]:
    """The structural facts of an OpenAPI document, keyed by `METHOD path`."""
    ops: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = sorted(
                f"{p['in']} {p['name']}" + (" required" if p.get("required") else "")
                for p in op.get("parameters", [])
            )
            body = _json_schema((op.get("requestBody") or {}).get("content"))
            success = next((r for c, r in sorted(op["responses"].items()) if c.startswith("2")), {})
            answer = _json_schema(success.get("content"))
            ops[f"{method.upper()} {path}"] = {
                "operationId": op["operationId"],
                "tag": (op.get("tags") or [""])[0],
                "parameters": params,
                "request": property_paths(doc, body) if body is not None else [],
                "response": property_paths(doc, answer) if answer is not None else [],
            }
    return {"operations": dict(sorted(ops.items()))}


def _excused(op_id: str, side: str, where: str, path: str) -> bool:
    return any(
        fnmatch.fnmatchcase(op_id, o)
        and s == side
        and fnmatch.fnmatchcase(where, w)
        and fnmatch.fnmatchcase(path, p)
        for (o, s, w, p) in EXCEPTIONS
    )


def diff(reference: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Lines naming each structural difference not covered by EXCEPTIONS; empty when none."""
    lines: list[str] = []
    ref_ops, our_ops = reference["operations"], ours["operations"]
    for key in sorted(set(ref_ops) - set(our_ops)):
        lines.append(f"missing operation: {key} ({ref_ops[key]['operationId']})")
    for key in sorted(set(our_ops) - set(ref_ops)):
        lines.append(f"operation not in the reference: {key} ({our_ops[key]['operationId']})")
    for key in sorted(set(ref_ops) & set(our_ops)):
        ref, our = ref_ops[key], our_ops[key]
        op_id = ref["operationId"]
        if ref["operationId"] != our["operationId"]:
            lines.append(f"{key}: operationId {our['operationId']} != {ref['operationId']}")
        for item in sorted(set(ref["parameters"]) ^ set(our["parameters"])):
            side = "vendor" if item in ref["parameters"] else "ours"
            lines.append(f"{key}: parameter only in {side}: {item}")
        for where in ("request", "response"):
            for item in sorted(set(ref[where]) - set(our[where])):
                if not _excused(op_id, "vendor", where, item):
                    lines.append(f"{key}: {where} property only in the vendor's: {item}")
            for item in sorted(set(our[where]) - set(ref[where])):
                if not _excused(op_id, "ours", where, item):
                    lines.append(f"{key}: {where} property only in ours: {item}")
    return lines


def operations_tsv(reference: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(["tag", "method", "path", "operationId"])
    rows = []
    for key, op in reference["operations"].items():
        method, path = key.split(" ", 1)
        rows.append([op["tag"], method, path, op["operationId"]])
    writer.writerows(sorted(rows))
    return buf.getvalue()


def load_spec(path: Path = SPEC) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(path.read_text(), Loader=loader)
    return spec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", type=Path, help="the vendor's OpenAPI document (JSON)")
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--write-fixtures", action="store_true")
    args = ap.parse_args(argv)
    reference = structure(json.loads(args.reference.read_text()))
    if args.write_fixtures:
        (FIXTURES / "reference_structure.json").write_text(
            json.dumps(reference, indent=1, sort_keys=True) + "\n"
        )
        (FIXTURES / "reference_operations.tsv").write_text(operations_tsv(reference))
    lines = diff(reference, structure(load_spec(args.spec)))
    for line in lines:
        print(line)
    n = len(reference["operations"])
    print(f"{len(lines)} differences over {n} operations", file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
