"""A path parameter can never change which endpoint is called.

Every operation of the operation table that has path parameters is called through its public
method with ids that a URL library would read as structure (`.`, `..`, `/`, `?`, `#`, `%2F`,
empty), against a real server on 127.0.0.1 that records the raw path it got: each call is either
refused before anything is sent, or arrives as the operation's own path with the id as one
percent-encoded segment.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import types
import uuid
from collections.abc import AsyncIterator
from typing import Any, Union, get_args, get_origin
from urllib.parse import quote

import attrs
import pytest
from local_server import LocalServer

from instantly import AsyncInstantly
from instantly._generated.operations import OPEN_ENUMS, OPERATIONS
from instantly._operation import Operation, Param
from instantly._types import Unset
from instantly._validate import _predicate

KEY = "sk-paths-test-KEY-246810"
# Refused before sending: no encoding can make these one opaque segment (servers and URL
# libraries resolve `%2E` as a dot), and an empty one drops the segment.
REFUSED = ["", ".", ".."]
# Sent, percent-encoded, as one segment.
ENCODED = ["a/b", "a?b", "a#b", "a%2Fb", "%2E%2E", "a b", "é/..", "../leads"]

WITH_PATH_PARAMS = sorted(op_id for op_id, op in OPERATIONS.items() if op.path_params)


def sample(tp: Any, param: Param | None = None, depth: int = 0) -> Any:
    """A value that passes the argument checks for type `tp` (for the required arguments)."""
    if get_origin(tp) in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m not in (type(None), Unset)]
        return sample(members[0], param, depth)
    if get_origin(tp) is list:
        (item,) = get_args(tp) or (str,)
        count = max(1, (param.min_items or 1) if param else 1)
        return [sample(item, None, depth) for _ in range(count)]
    if get_origin(tp) is dict or tp is dict:
        return {}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return next(iter(tp))
    if isinstance(tp, type) and attrs.has(tp):
        attrs.resolve_types(tp)
        return {
            a.metadata.get("wire", a.name): sample(a.type, None, depth + 1)
            for a in attrs.fields(tp)
            if a.default is attrs.NOTHING and depth < 4
        }
    if tp is bool:
        return True
    if tp in (int, float):
        low = param.minimum if param and param.minimum is not None else 1
        return tp(low)
    if tp is datetime.datetime:
        return datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    if tp is datetime.date:
        return datetime.date(2026, 1, 2)
    if tp is uuid.UUID:
        return uuid.UUID(int=1)
    return "x"


def method_of(client: AsyncInstantly, op: Operation) -> Any:
    name = op.name
    if op.pagination:
        name = "list_page" if name == "list" else f"{name}_page"
    return getattr(getattr(client, op.namespace), name)


def arguments(op: Operation, value: str) -> tuple[list[Any], dict[str, Any]]:
    args = [value for _ in op.path_params]
    kwargs: dict[str, Any] = {}
    for param in (*op.query_params, *op.body_fields):
        if param.required and param.wire != "starting_after":
            kwargs[param.name] = sample(param.type, param)
    # A body rule across fields (a PATCH must set something; one of these groups) is met with
    # the first field or group it names, so the request is sent and its path can be seen.
    fields = {param.wire: param for param in op.body_fields}
    for rule in op.body_rules:
        if rule.path:
            continue
        wanted = rule.required_any_of[0] if rule.required_any_of else rule.fields[:1]
        for wire in wanted:
            if fields[wire].name not in kwargs:
                kwargs[fields[wire].name] = sample(fields[wire].type, fields[wire])
    return args, kwargs


def expected_path(op: Operation, value: str) -> str:
    path = op.path
    for param in op.path_params:
        path = path.replace("{" + param.wire + "}", quote(value, safe=""))
    return path


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as running:
        yield running


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncInstantly]:
    async with AsyncInstantly(
        api_key=KEY, base_url=server.url, rate_limit=None, max_retries=0
    ) as made:
        yield made


def test_the_table_has_operations_with_path_parameters() -> None:
    assert len(WITH_PATH_PARAMS) >= 60


@pytest.mark.parametrize("op_id", WITH_PATH_PARAMS)
async def test_an_id_never_reaches_another_endpoint(
    op_id: str, server: LocalServer, client: AsyncInstantly
) -> None:
    op = OPERATIONS[op_id]
    method = method_of(client, op)
    if not all(_predicate(p.type, OPEN_ENUMS)("x") for p in op.path_params):
        # A parameter that takes no string (an integer id): every such value is refused.
        for value in REFUSED + ENCODED:
            args, kwargs = arguments(op, value)
            with pytest.raises((TypeError, ValueError)):
                await method(*args, **kwargs)
        assert server.seen == []
        return
    for value in REFUSED:
        server.seen.clear()
        args, kwargs = arguments(op, value)
        with pytest.raises(ValueError) as refused:
            await method(*args, **kwargs)
        assert server.seen == [], f"{op_id}({value!r}) was sent"
        assert op.path_params[0].name in str(refused.value)
    for value in ENCODED:
        server.seen.clear()
        args, kwargs = arguments(op, value)
        # The empty answer need not fit the operation's model: not the point here.
        with contextlib.suppress(Exception):
            await method(*args, **kwargs)
        assert len(server.seen) == 1, f"{op_id}({value!r}) sent {len(server.seen)} requests"
        (seen,) = server.seen
        assert seen.method == op.method
        assert seen.raw_path.split("?", 1)[0] == expected_path(op, value), (op_id, value)


async def test_a_uuid_id_is_sent_as_its_string(server: LocalServer, client: AsyncInstantly) -> None:
    server.seen.clear()
    lead_id = uuid.UUID("3f2b8c1e-0d4a-4e5b-9c6d-7e8f9a0b1c2d")
    with contextlib.suppress(Exception):
        await client.leads.delete(lead_id)
    assert server.seen[0].raw_path == f"/api/v2/leads/{lead_id}"
    assert server.seen[0].method == "DELETE"
