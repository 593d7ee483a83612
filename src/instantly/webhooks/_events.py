"""`parse_event`: one webhook delivery's body -> the model of its event type.

The model comes from the table codegen writes from the spec's `webhooks` section
(`_generated/webhooks.py`); decoding goes through the one converter (`instantly._convert`),
so a delivery is read exactly as tolerantly as an API response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .. import _json
from .._convert import structure
from .._generated.models import BaseEvent, UnknownEvent
from .._generated.webhooks import EVENT_MODELS, EXTRA_KEYS
from ..errors import InstantlyError

__all__ = ["WebhookPayloadError", "event_model", "parse_event"]

Body = bytes | bytearray | memoryview | str | Mapping[str, Any]


class WebhookPayloadError(InstantlyError, ValueError):
    """A delivery's body is not a JSON object, so it holds no event (a receiver answers 400)."""


def event_model(event_type: Any) -> type[BaseEvent]:
    """The model a delivery with this `event_type` decodes to.

    Args:
        event_type: the delivery's `event_type` value, as it came.

    Returns:
        The event's model (`ReplyReceivedEvent` for "reply_received", ...): CustomLabelEvent
        for None (a lead given a custom label), UnknownEvent for a type this SDK has not seen
        or a value that is not a string.
    """
    if event_type is None or isinstance(event_type, str):
        return EVENT_MODELS.get(event_type, UnknownEvent)
    return UnknownEvent


_WIRE_NAMES: dict[type[BaseEvent], frozenset[str]] = {}


def _wire_names(cls: type[BaseEvent]) -> frozenset[str]:
    """The top-level keys the model's own fields read (custom_variables is not one of them)."""
    names = _WIRE_NAMES.get(cls)
    if names is None:
        names = frozenset(
            a.metadata.get("wire", a.name) for a in attrs.fields(cls) if a.name != EXTRA_KEYS
        )
        _WIRE_NAMES[cls] = names
    return names


def parse_event(body: Body) -> BaseEvent:
    """Decode one webhook delivery into the model of its event type.

    It decodes as an API response does: a missing field or an odd value never raises (see
    `instantly.mismatches`).

    ```python
    event = parse_event(await request.read())
    if isinstance(event, ReplyReceivedEvent):
        print(event.lead_email, event.reply_text_snippet, event.custom_variables)
    ```

    Args:
        body: the request body as bytes or str (JSON), or an already decoded mapping.

    Returns:
        An instance of the event's model (ReplyReceivedEvent, ...; CustomLabelEvent when
        `event_type` is null; UnknownEvent for a type this SDK does not know). Every top-level
        key that no field of the model names goes to `custom_variables` (the lead's custom
        variables, and fields newer than this SDK). `timestamp` is a timezone-aware datetime.

    Raises:
        WebhookPayloadError: the body is not JSON, or not a JSON object.
    """
    data: Any = body
    if isinstance(body, bytes | bytearray | memoryview | str):
        try:
            data = _json.loads(body)
        except _json.JSONDecodeError:
            raise WebhookPayloadError("the webhook body is not JSON") from None
    if not isinstance(data, Mapping):
        raise WebhookPayloadError(
            f"the webhook body is JSON but not an object (got a {type(data).__name__})"
        )
    cls = event_model(data.get("event_type", ...))
    known = _wire_names(cls)
    fields = {k: v for k, v in data.items() if k in known}
    fields[EXTRA_KEYS] = {k: v for k, v in data.items() if k not in known}
    return structure(fields, cls)
