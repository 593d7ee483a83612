"""One request as a stateful handler sees it, and the table of those handlers.

A handler gets a `Call` whose parameters and body the server has already checked against the
spec, changes the state, and returns the answer's body (the operation's success status is the
spec's). It raises `Problem` for any other answer. Handlers never await: one request is applied
whole, so a fault injected around it can never leave half a write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ._state import MockState, Record

__all__ = ["HANDLERS", "Call", "handles", "visible"]


@attrs.define(slots=True)
class Call:
    """What a handler needs to answer one request."""

    state: MockState
    params: dict[str, Any]  # path and query parameters by name, typed
    body: Any  # the parsed JSON body, None when there is none
    job_seconds: float  # how long a background job runs (event loop time)

    @property
    def data(self) -> dict[str, Any]:
        """The body as a dict ({} when there is none)."""
        return self.body if isinstance(self.body, dict) else {}


Handler = Callable[[Call], Any]

HANDLERS: dict[str, Handler] = {}
"""Stateful handlers by operationId; every other operation answers its spec example."""


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of these operations."""

    def register(fn: Handler) -> Handler:
        for operation_id in operation_ids:
            HANDLERS[operation_id] = fn
        return fn

    return register


def visible(record: Record) -> dict[str, Any]:
    """A record without the server's bookkeeping keys (those starting with "_")."""
    return {k: v for k, v in record.items() if k[0] != "_"}
