"""AI agents and domain forwarding in the mock: stateful where a user's test needs them.

`/api/v2/ai-agents` (create, get, list, update, delete) keeps the agents it is given, and
`/api/v2/domains/{domain}/forwarding` (get, set, remove) the forwarding of each domain; every
other new operation answers its spec example. An answer is the spec's example with the record's
own fields laid over it, so it has every field the spec requires and what the test wrote.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from ._call import Call, handles
from ._leads import DEFAULT_LIMIT
from ._spec import SpecViolation, check_response, example, operation_schemas
from ._state import MockState, Problem, Record, Table, decode_cursor, page

__all__ = ["agents", "domain_forwarding"]

# The fields an agent's answers carry from its record (the rest is the example's).
_AGENT_FIELDS = ("id", "organization_id", "name", "status", "type", "description", "payload")
_AGENT_STAMPS = ("timestamp_created", "timestamp_updated")


def agents(state: MockState) -> Table:
    """The AI agents of this mock (`mock.state.ai_agents` once the first one exists)."""
    table: Table = vars(state).setdefault("ai_agents", Table())
    return table


def domain_forwarding(state: MockState) -> dict[str, Record]:
    """The forwarding set on each domain (`mock.state.domain_forwarding`), by domain."""
    table: dict[str, Record] = vars(state).setdefault("domain_forwarding", {})
    return table


@functools.cache
def _template(operation_id: str) -> dict[str, Any]:
    _, _, schema = operation_schemas(operation_id)
    assert schema is not None, operation_id
    value = example(schema)
    assert isinstance(value, dict), operation_id
    return value


def _answer(operation_id: str, record: Record, fields: tuple[str, ...]) -> dict[str, Any]:
    """The example answer with the record's fields over it; a field the answer's schema does not
    take as the record has it (a payload of another agent type, say) stays the example's."""
    out = copy.deepcopy(_template(operation_id))
    for name in fields:
        if name in record and name in out:
            before = out[name]
            out[name] = record[name]
            try:
                check_response(operation_id, out)
            except SpecViolation:
                out[name] = before
    return out


def _agent(call: Call) -> Record:
    return agents(call.state).get(call.params["id"], "AI agent")


@handles("createAIAgent")
def create_agent(call: Call) -> Any:
    state = call.state
    now = state.now()
    record = {
        "status": 1,
        **call.data,
        "id": state.new_id(),
        "organization_id": state.workspace_id,
        "timestamp_created": now,
        "timestamp_updated": now,
    }
    agents(state).add(record)
    return _answer("createAIAgent", record, _AGENT_FIELDS + _AGENT_STAMPS)


@handles("getAIAgent")
def get_agent(call: Call) -> Any:
    return _answer("getAIAgent", _agent(call), _AGENT_FIELDS + _AGENT_STAMPS)


@handles("patchAIAgent")
def patch_agent(call: Call) -> Any:
    record = _agent(call)
    record.update(call.data)
    record["timestamp_updated"] = call.state.now()
    return _answer("patchAIAgent", record, _AGENT_FIELDS + _AGENT_STAMPS)


@handles("deleteAIAgent")
def delete_agent(call: Call) -> Any:
    record = agents(call.state).remove(call.params["id"], "AI agent")
    return _answer("deleteAIAgent", record, _AGENT_FIELDS + _AGENT_STAMPS)


@handles("listAIAgent")
def list_agents(call: Call) -> Any:
    params = call.params
    needle = (params.get("search") or "").lower()
    status, kind = params.get("status"), params.get("type")

    def keep(record: Record) -> bool:
        return (
            (not needle or needle in str(record.get("name", "")).lower())
            and (status is None or record.get("status") == status)
            and (kind is None or record.get("type") == kind)
        )

    start = decode_cursor(params.get("starting_after"), "querystring/starting_after")
    items, cursor = page(agents(call.state).walk(start), keep, params.get("limit", DEFAULT_LIMIT))
    template = _template("listAIAgent")["items"][0]
    out: dict[str, Any] = {
        "items": [
            {
                **template,
                **{k: r[k] for k in _AGENT_FIELDS + _AGENT_STAMPS if k in template and k in r},
            }
            for r in items
        ]
    }
    if cursor is not None:
        out["next_starting_after"] = cursor
    return out


# --- domain forwarding -------------------------------------------------------------------------


def _forwarding(call: Call) -> Record:
    domain = call.params["domain"]
    found = domain_forwarding(call.state).get(domain)
    if found is not None:
        return found
    return {"domain": domain, "forwarding_domain": None, "forwarding_mode": None}


@handles("getDomainForwarding")
def get_forwarding(call: Call) -> Any:
    return dict(_forwarding(call))


@handles("updateDomainForwarding")
def set_forwarding(call: Call) -> Any:
    domain, body = call.params["domain"], call.data
    if body["forwarding_domain"].strip().lower() == domain.lower():
        raise Problem(400, "forwarding_domain must differ from the domain itself")
    record = {
        "domain": domain,
        "forwarding_domain": body["forwarding_domain"].strip(),
        "forwarding_mode": body.get("forwarding_mode", "redirect"),
    }
    domain_forwarding(call.state)[domain] = record
    return dict(record)


@handles("deleteDomainForwarding")
def remove_forwarding(call: Call) -> Any:
    # Idempotent, as the API documents: removing none succeeds and changes nothing.
    domain = call.params["domain"]
    domain_forwarding(call.state).pop(domain, None)
    return {"domain": domain, "forwarding_domain": None, "forwarding_mode": None}
