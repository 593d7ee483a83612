"""Descriptions of `openapi/instantly-v2.yaml`: measure them, hand out worksheets, write them back.

Maintainer tool, run by hand; nothing at build, test or run time reads it. Our descriptions are our
own words; the vendor's document is read only for facts (what a field is, its unit, its effect),
shown next to each item of a worksheet so the writer need not search for them.

    describe.py coverage [SPEC]                    how many operations, parameters, properties
                                                   have a description; what is missing
    describe.py worksheet SPEC --vendor SNAPSHOT --tags Lead,LeadList --out FILE
                                                   a YAML file of every item of those tags
                                                   (their operations, and the schemas they reach
                                                   first), our text where there is one, the
                                                   vendor's facts as comments
    describe.py merge WORKSHEET... [--into FILE]   add the written items of filled-in
                                                   worksheets to openapi/descriptions.yaml (our
                                                   descriptions, which shape_reference.py applies
                                                   when it shapes the spec), after checking that
                                                   each names something the spec has
    describe.py extract SPEC --out OVERLAY         SPEC's descriptions as an overlay

An overlay (and a worksheet, once filled in) is YAML:

    tags: {Lead: "..."}
    operations:
      createLead: {summary: "...", description: "...", parameters: {campaign: "..."}}
    schemas:
      Lead: {description: "...", properties: {email: "...", status: "..."}}

`TODO` (or an empty string) means "not written": such items are left out of the merge.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "instantly-v2.yaml"
DESCRIPTIONS = ROOT / "openapi" / "descriptions.yaml"
DESCRIPTIONS_HEADER = (
    "# Our descriptions of the API's tags, operations, parameters and schemas, in our own words.\n"
    "# openapi/tools/shape_reference.py writes them into openapi/instantly-v2.yaml; add to them\n"
    "# with `openapi/tools/describe.py worksheet` and `merge` (see that tool's docstring).\n"
)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
TODO = "TODO"


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def written(text: Any) -> bool:
    return isinstance(text, str) and bool(text.strip()) and text.strip() != TODO


# --- coverage ------------------------------------------------------------------------------


def coverage(spec: dict[str, Any]) -> dict[str, Any]:
    """Counts of described items, and the missing ones by kind."""
    missing: dict[str, list[str]] = {"operations": [], "parameters": [], "properties": []}
    total = {"operations": 0, "parameters": 0, "properties": 0}
    for _path, _method, op in operations(spec):
        total["operations"] += 1
        if not written(op.get("description")):
            missing["operations"].append(op["operationId"])
        for prm in op.get("parameters", []):
            total["parameters"] += 1
            if not written(prm.get("description")):
                missing["parameters"].append(f"{op['operationId']}.{prm['name']}")
    for name, schema in spec["components"]["schemas"].items():
        for prop, sub in (schema.get("properties") or {}).items():
            total["properties"] += 1
            if not written(sub.get("description")):
                missing["properties"].append(f"{name}.{prop}")
    return {"total": total, "missing": missing}


# --- vendor facts --------------------------------------------------------------------------


class Facts:
    """What the vendor's document says about each of our items, found by walking both side by
    side from the operations they share (operationIds are the vendor's)."""

    def __init__(self, ours: dict[str, Any], vendor: dict[str, Any]) -> None:
        self.ours = ours
        self.vendor = vendor
        self.props: dict[tuple[str, str], str] = {}
        self.schemas: dict[str, str] = {}
        self.ops: dict[str, dict[str, Any]] = {}
        vendor_ops = {op["operationId"]: op for _, _, op in operations(vendor)}
        for _path, _method, op in operations(ours):
            vop = vendor_ops.get(op["operationId"])
            if vop is None:
                continue
            self.ops[op["operationId"]] = {
                "summary": vop.get("summary", ""),
                "description": vop.get("description", ""),
                "parameters": {
                    p["name"]: p.get("description", "") for p in vop.get("parameters", [])
                },
            }
            ours_body = _body_schema(op.get("requestBody"))
            vendor_body = _body_schema(vop.get("requestBody"))
            if ours_body is not None and vendor_body is not None:
                self._pair(ours_body, vendor_body, set())
            for code, resp in op.get("responses", {}).items():
                if not code.startswith("2"):
                    continue
                vresp = vop.get("responses", {}).get(code)
                ours_s = _body_schema(resp)
                vendor_s = _body_schema(vresp)
                if ours_s is not None and vendor_s is not None:
                    self._pair(ours_s, vendor_s, set())

    def _deref_ours(self, node: Any) -> tuple[str | None, Any]:
        if isinstance(node, dict) and "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return name, self.ours["components"]["schemas"].get(name, {})
        return None, node

    def _deref_vendor(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 10:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = self.vendor["components"]["schemas"].get(name, {})
            seen += 1
        return node

    def _pair(self, ours: Any, vendor: Any, seen: set[int]) -> None:
        name, ours = self._deref_ours(ours)
        vendor = self._deref_vendor(vendor)
        if not isinstance(ours, dict) or not isinstance(vendor, dict):
            return
        if id(ours) in seen:
            return
        seen = seen | {id(ours)}
        if name is not None and vendor.get("description"):
            self.schemas.setdefault(name, vendor["description"])
        # Nullable wrappers and alternatives: pair by position, nulls left out.
        for key in ("oneOf", "anyOf", "allOf"):
            if key in ours:
                ours_opts = [o for o in ours[key] if o != {"type": "null"}]
                vendor_opts = [
                    o
                    for o in vendor.get(key, [])
                    if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                if not vendor_opts:
                    vendor_opts = [vendor] * len(ours_opts)
                for o, v in zip(ours_opts, vendor_opts, strict=False):
                    self._pair(o, v, seen)
        if "items" in ours and isinstance(vendor.get("items"), dict):
            self._pair(ours["items"], vendor["items"], seen)
        vprops = vendor.get("properties") or {}
        if not vprops and vendor.get("allOf"):
            for part in vendor["allOf"]:
                vprops = {**vprops, **(self._deref_vendor(part).get("properties") or {})}
        for prop, sub in (ours.get("properties") or {}).items():
            vsub = vprops.get(prop)
            if not isinstance(vsub, dict):
                continue
            if name is not None:
                fact = _fact(vsub)
                if fact:
                    self.props.setdefault((name, prop), fact)
            self._pair(sub, vsub, seen)
        if isinstance(ours.get("additionalProperties"), dict) and isinstance(
            vendor.get("additionalProperties"), dict
        ):
            self._pair(ours["additionalProperties"], vendor["additionalProperties"], seen)


def _body_schema(node: Any) -> Any:
    if not isinstance(node, dict):
        return None
    content = node.get("content") or {}
    for media in content.values():
        if isinstance(media, dict) and "schema" in media:
            return media["schema"]
    return None


def _fact(vsub: dict[str, Any]) -> str:
    parts = []
    if vsub.get("description"):
        parts.append(" ".join(str(vsub["description"]).split()))
    if isinstance(vsub.get("x-enumDescriptions"), dict):
        meanings = ", ".join(f"{k}={v}" for k, v in vsub["x-enumDescriptions"].items())
        parts.append(f"values: {meanings}")
    return " | ".join(parts)


# --- worksheets ----------------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and "/schemas/" in v:
                yield v.rsplit("/", 1)[-1]
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def schema_owners(spec: dict[str, Any]) -> dict[str, str]:
    """Each schema's owning tag: the first tag (in spec order) whose operations reach it."""
    schemas = spec["components"]["schemas"]
    owner: dict[str, str] = {}
    for _path, _method, op in operations(spec):
        tag = op["tags"][0]
        todo = list(_refs({k: op.get(k) for k in ("requestBody", "responses", "parameters")}))
        while todo:
            name = todo.pop()
            if name in owner or name not in schemas:
                continue
            owner[name] = tag
            todo.extend(_refs(schemas[name]))
    for name in schemas:
        owner.setdefault(name, "")
    return owner


def _type_of(sub: dict[str, Any]) -> str:
    if "$ref" in sub:
        return sub["$ref"].rsplit("/", 1)[-1]
    for key in ("oneOf", "anyOf"):
        if key in sub:
            return " | ".join(_type_of(o) for o in sub[key])
    t = sub.get("type", "any")
    text = "|".join(t) if isinstance(t, list) else str(t)
    if "items" in sub:
        text += f"[{_type_of(sub['items'])}]"
    if sub.get("format"):
        text += f" ({sub['format']})"
    bounds = [f"{k}={sub[k]}" for k in ("minimum", "maximum", "minItems", "maxItems") if k in sub]
    if bounds:
        text += " " + " ".join(bounds)
    return text


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def worksheet(spec: dict[str, Any], facts: Facts | None, tags: set[str]) -> str:
    """The worksheet text for `tags` (YAML with comments)."""
    out = ["# Fill in every TODO in your own words (facts from the comments, not their prose).", ""]
    out.append("tags:")
    for tag in spec.get("tags", []):
        if tag["name"] in tags:
            out.append(f"  {tag['name']}: {_q(tag.get('description', TODO))}")
    out += ["", "operations:"]
    for path, method, op in operations(spec):
        if op["tags"][0] not in tags:
            continue
        op_id = op["operationId"]
        vf = facts.ops.get(op_id, {}) if facts else {}
        out.append(f"  {op_id}:  # {method.upper()} {path}")
        if vf.get("summary"):
            out.append(f"    # vendor summary: {_comment(vf['summary'])}")
        if vf.get("description"):
            out.append(f"    # vendor: {_comment(vf['description'])}")
        out.append(f"    summary: {_q(op.get('summary') or TODO)}")
        out.append(f"    description: {_q(op.get('description') or TODO)}")
        params = op.get("parameters", [])
        if params:
            out.append("    parameters:")
            for prm in params:
                fact = vf.get("parameters", {}).get(prm["name"], "")
                note = f"  # {prm['in']}, {_type_of(prm.get('schema', {}))}"
                if fact:
                    note += f"; vendor: {_comment(fact)}"
                out.append(f"      {prm['name']}: {_q(prm.get('description') or TODO)}{note}")
    out += ["", "schemas:"]
    owners = schema_owners(spec)
    for name, schema in spec["components"]["schemas"].items():
        if owners.get(name) not in tags:
            continue
        props = schema.get("properties") or {}
        if not props and "enum" not in schema:
            continue
        out.append(f"  {name}:")
        if facts and name in facts.schemas:
            out.append(f"    # vendor: {_comment(facts.schemas[name])}")
        if "enum" in schema:
            meanings = schema.get("x-enum-meanings") or {}
            shown = ", ".join(
                f"{v}={meanings.get(str(v), n)}"
                for v, n in zip(schema["enum"], schema.get("x-enum-varnames", []), strict=False)
            )
            out.append(f"    # enum: {_comment(shown)}")
        out.append(f"    description: {_q(schema.get('description') or TODO)}")
        if props:
            out.append("    properties:")
            for prop, sub in props.items():
                note = f"  # {_type_of(sub)}"
                if facts and (name, prop) in facts.props:
                    note += f"; vendor: {_comment(facts.props[(name, prop)])}"
                text = sub.get("description") or TODO
                key = prop if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prop) else _q(prop)
                out.append(f"      {key}: {_q(text)}{note}")
    return "\n".join(out) + "\n"


# --- apply and extract ---------------------------------------------------------------------


def apply(spec: dict[str, Any], overlay: dict[str, Any]) -> list[str]:
    """Write the overlay's descriptions into the spec; returns the keys it did not find."""
    unknown: list[str] = []
    tags = {t["name"]: t for t in spec.get("tags", [])}
    for name, text in (overlay.get("tags") or {}).items():
        if name not in tags:
            unknown.append(f"tags.{name}")
        elif written(text):
            tags[name]["description"] = text.strip()
    ops = {op["operationId"]: op for _, _, op in operations(spec)}
    for op_id, entry in (overlay.get("operations") or {}).items():
        op = ops.get(op_id)
        if op is None:
            unknown.append(f"operations.{op_id}")
            continue
        for key in ("summary", "description"):
            if written(entry.get(key)):
                op[key] = entry[key].strip()
        params = {p["name"]: p for p in op.get("parameters", [])}
        for pname, text in (entry.get("parameters") or {}).items():
            if pname not in params:
                unknown.append(f"operations.{op_id}.parameters.{pname}")
            elif written(text):
                params[pname]["description"] = text.strip()
    schemas = spec["components"]["schemas"]
    for name, entry in (overlay.get("schemas") or {}).items():
        schema = schemas.get(name)
        if schema is None:
            unknown.append(f"schemas.{name}")
            continue
        if written(entry.get("description")):
            schema["description"] = entry["description"].strip()
        props = schema.get("properties") or {}
        for prop, text in (entry.get("properties") or {}).items():
            if prop not in props:
                unknown.append(f"schemas.{name}.properties.{prop}")
            elif written(text):
                _describe_property(props, prop, text.strip())
    return unknown


def _describe_property(props: dict[str, Any], prop: str, text: str) -> None:
    sub = props[prop]
    if "$ref" in sub and len(sub) == 1:
        # OpenAPI 3.1 allows siblings of $ref; datamodel-code-generator reads the description.
        props[prop] = {"$ref": sub["$ref"], "description": text}
    else:
        sub["description"] = text


def merge(into: dict[str, Any], overlay: dict[str, Any]) -> int:
    """Add the written items of `overlay` to `into` (later text wins); returns how many."""
    count = 0
    for name, text in (overlay.get("tags") or {}).items():
        if written(text):
            into.setdefault("tags", {})[name] = text.strip()
            count += 1
    for op_id, entry in (overlay.get("operations") or {}).items():
        target = into.setdefault("operations", {}).setdefault(op_id, {})
        for key in ("summary", "description"):
            if written(entry.get(key)):
                target[key] = entry[key].strip()
                count += 1
        for pname, text in (entry.get("parameters") or {}).items():
            if written(text):
                target.setdefault("parameters", {})[pname] = text.strip()
                count += 1
    for name, entry in (overlay.get("schemas") or {}).items():
        target = into.setdefault("schemas", {}).setdefault(name, {})
        if written(entry.get("description")):
            target["description"] = entry["description"].strip()
            count += 1
        for prop, text in (entry.get("properties") or {}).items():
            if written(text):
                target.setdefault("properties", {})[prop] = text.strip()
                count += 1
    for section in ("operations", "schemas"):
        for key in [k for k, v in (into.get(section) or {}).items() if not v]:
            del into[section][key]
    return count


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    overlay: dict[str, Any] = {"tags": {}, "operations": {}, "schemas": {}}
    for tag in spec.get("tags", []):
        if tag.get("description"):
            overlay["tags"][tag["name"]] = tag["description"]
    for _path, _method, op in operations(spec):
        entry: dict[str, Any] = {k: op[k] for k in ("summary", "description") if op.get(k)}
        params = {
            p["name"]: p["description"] for p in op.get("parameters", []) if p.get("description")
        }
        if params:
            entry["parameters"] = params
        if entry:
            overlay["operations"][op["operationId"]] = entry
    for name, schema in spec["components"]["schemas"].items():
        entry = {}
        if schema.get("description"):
            entry["description"] = schema["description"]
        props = {
            p: s["description"]
            for p, s in (schema.get("properties") or {}).items()
            if s.get("description")
        }
        if props:
            entry["properties"] = props
        if entry:
            overlay["schemas"][name] = entry
    return overlay


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("coverage")
    c.add_argument("spec", nargs="?", type=Path, default=SPEC)
    c.add_argument("--list", action="store_true", help="list every missing item")
    w = sub.add_parser("worksheet")
    w.add_argument("spec", type=Path)
    w.add_argument("--vendor", type=Path)
    w.add_argument(
        "--tags", required=True, help='comma-separated tag names; "(none)" for unreached schemas'
    )
    w.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("merge")
    m.add_argument("worksheets", type=Path, nargs="+")
    m.add_argument("--into", type=Path, default=DESCRIPTIONS)
    m.add_argument("--spec", type=Path, default=SPEC)
    e = sub.add_parser("extract")
    e.add_argument("spec", type=Path)
    e.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    if args.cmd == "coverage":
        spec = load(args.spec)
        cov = coverage(spec)
        for kind, total in cov["total"].items():
            missing = len(cov["missing"][kind])
            share = 100.0 * (total - missing) / total if total else 100.0
            print(f"{kind}: {total - missing} of {total} described ({share:.1f}%)")
            if args.list:
                for item in cov["missing"][kind]:
                    print(f"  {item}")
        return 0
    if args.cmd == "worksheet":
        spec = load(args.spec)
        facts = Facts(spec, json.loads(args.vendor.read_text())) if args.vendor else None
        # "(none)" stands for the schemas no operation reaches (Error, the webhook events).
        tags = {
            "" if t.strip() == "(none)" else t.strip() for t in args.tags.split(",") if t.strip()
        }
        args.out.write_text(worksheet(spec, facts, tags), encoding="utf-8")
        return 0
    if args.cmd == "merge":
        into = (load(args.into) if args.into.exists() else None) or {}
        count = 0
        for path in args.worksheets:
            overlay = load(path) or {}
            unknown = apply(copy.deepcopy(load(args.spec)), overlay)
            if unknown:
                for key in unknown:
                    print(f"{path}: not in the spec: {key}", file=sys.stderr)
                return 1
            count += merge(into, overlay)
        text = yaml.dump(into, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
        args.into.write_text(DESCRIPTIONS_HEADER + text, encoding="utf-8")
        print(f"{count} items merged into {args.into}", file=sys.stderr)
        return 0
    if args.cmd == "extract":
        spec = load(args.spec)
        text = yaml.dump(
            extract(spec), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True
        )
        args.out.write_text(text, encoding="utf-8")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
