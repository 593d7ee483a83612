"""AI agents and domain forwarding in the mock: stateful where a user's test needs them.

One table holds every AI agent, whichever route made it: `/api/v2/ai-agents` (create, get, list,
update, delete), the lead finder's (create, get, list, update, pause, resume), the inbox
manager's and the sales agent's (create, get, update). `/api/v2/domains/{domain}/forwarding`
(get, set, remove) keeps the forwarding of each domain. Every other new operation answers its
spec example. An answer is the spec's example with the record's own fields laid over it, so it
has every field the spec requires and what the test wrote.
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
_AGENT_FIELDS = (
    "id",
    "organization_id",
    "workspace_id",
    "name",
    "status",
    "type",
    "description",
    "payload",
    "config",
    "input",
    "agent_type",
)
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
    _overlay(out, record, fields, lambda value: check_response(operation_id, value), out)
    return out


def _overlay(
    target: dict[str, Any],
    record: Record,
    fields: tuple[str, ...],
    check: Any,
    whole: Any,
) -> None:
    """Lay the record's fields over `target` where `check(whole)` still passes.

    An agent's `type` is its kind's code (`_type`) in the answers about agents in general, and
    the sales agent's own `type` (what it learns from) in that agent's answers: whichever fits.
    """
    for name in fields:
        if name not in target:
            continue
        candidates = [record[name]] if name in record else []
        if name == "type" and "_type" in record:
            candidates.append(record["_type"])
        before = target[name]
        for value in candidates:
            target[name] = value
            try:
                check(whole)
                break
            except SpecViolation:
                target[name] = before


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


# The agent type codes of the routes that make one kind (AiAgentType).
_LEAD_FINDER, _INBOX_MANAGER, _SALES = 6, 1, 2
_TYPED = {
    "createLeadFinderAgent": _LEAD_FINDER,
    "createInboxManagerAgent": _INBOX_MANAGER,
    "createSalesAgent": _SALES,
}


def _new_agent(call: Call, fields: dict[str, Any], agent_type: int) -> Record:
    state = call.state
    now = state.now()
    record: Record = {"status": 1, **fields}
    record.update(
        id=state.new_id(),
        organization_id=state.workspace_id,
        workspace_id=state.workspace_id,
        timestamp_created=now,
        timestamp_updated=now,
        _type=agent_type,
    )
    return agents(state).add(record)


def _of_kind(call: Call, agent_type: int) -> Record:
    record = _agent(call)
    if record.get("_type") != agent_type:
        raise Problem(404, f"AI agent {call.params['id']} not found")
    return record


def _lead_finder_fields(body: dict[str, Any]) -> dict[str, Any]:
    # The lead finder's settings are its payload; name and description are the agent's own.
    own: dict[str, Any] = {k: body[k] for k in ("name", "description") if k in body}
    return {**own, "payload": {k: v for k, v in body.items() if k not in own}}


def _made(operation_id: str) -> Any:
    def create(call: Call) -> Any:
        body = call.data
        fields = _lead_finder_fields(body) if operation_id == "createLeadFinderAgent" else body
        record = _new_agent(call, fields, _TYPED[operation_id])
        return _answer(operation_id, record, _AGENT_FIELDS + _AGENT_STAMPS)

    return create


def _read(operation_id: str, agent_type: int) -> Any:
    def read(call: Call) -> Any:
        record = _of_kind(call, agent_type)
        return _answer(operation_id, record, _AGENT_FIELDS + _AGENT_STAMPS)

    return read


def _changed(operation_id: str, agent_type: int, status: int | None = None) -> Any:
    def change(call: Call) -> Any:
        record = _of_kind(call, agent_type)
        body = call.data
        if agent_type == _LEAD_FINDER:
            fields = _lead_finder_fields(body)
            record["payload"] = {**record.get("payload", {}), **fields.pop("payload")}
            record.update(fields)
        else:
            record.update(body)
        if status is not None:
            record["status"] = status
        record["timestamp_updated"] = call.state.now()
        return _answer(operation_id, record, _AGENT_FIELDS + _AGENT_STAMPS)

    return change


for _op in _TYPED:
    handles(_op)(_made(_op))
handles("getLeadFinderAgentById")(_read("getLeadFinderAgentById", _LEAD_FINDER))
handles("updateLeadFinderAgent")(_changed("updateLeadFinderAgent", _LEAD_FINDER))
handles("pauseLeadFinderAgentById")(_changed("pauseLeadFinderAgentById", _LEAD_FINDER, 0))
handles("resumeLeadFinderAgentById")(_changed("resumeLeadFinderAgentById", _LEAD_FINDER, 1))
handles("getInboxManagerAgent")(_read("getInboxManagerAgent", _INBOX_MANAGER))
handles("patchInboxManagerAgent")(_changed("patchInboxManagerAgent", _INBOX_MANAGER))
handles("getSalesAgent")(_read("getSalesAgent", _SALES))
handles("patchSalesAgent")(_changed("patchSalesAgent", _SALES))


@handles("listLeadFinderAgents")
def list_lead_finders(call: Call) -> Any:
    return _page_of(call, "listLeadFinderAgents", lambda r: r.get("_type") == _LEAD_FINDER)


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

    return _page_of(call, "listAIAgent", keep)


def _page_of(call: Call, operation_id: str, keep: Any) -> dict[str, Any]:
    """One page of agents, each answered as the page's item (the example's, with the record's
    fields that the item has)."""
    params = call.params
    start = decode_cursor(params.get("starting_after"), "querystring/starting_after")
    items, cursor = page(agents(call.state).walk(start), keep, params.get("limit", DEFAULT_LIMIT))
    template = _template(operation_id)["items"][0]
    out: dict[str, Any] = {"items": []}
    for record in items:
        item = copy.deepcopy(template)
        _overlay(
            item,
            record,
            _AGENT_FIELDS + _AGENT_STAMPS,
            lambda page: check_response(operation_id, page),
            {"items": [item]},
        )
        out["items"].append(item)
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
