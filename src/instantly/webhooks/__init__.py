"""Webhooks for bots: typed events, and a receiver that answers Instantly at once.

    from instantly.webhooks import ReplyReceivedEvent, WebhookReceiver, parse_event

    async def on_event(event):
        if isinstance(event, ReplyReceivedEvent):
            print(event.lead_email, event.reply_text)

    receiver = WebhookReceiver(on_event, secret="s3cret")   # checks X-Instantly-Secret
    app = receiver.app(path="/instantly/webhook")           # an aiohttp.web.Application

The event models (one per event type, all on BaseEvent) are generated from the spec's `webhooks`
section; `client.webhooks` keeps the API's webhook operations (create, list, resume, ...).
"""

from __future__ import annotations

from .._generated.models import UnknownEvent
from .._generated.webhooks import *  # noqa: F403 - the event models, one per event type
from .._generated.webhooks import EVENT_MODELS
from .._generated.webhooks import __all__ as _event_models
from ._events import WebhookPayloadError, event_model, parse_event
from ._receiver import DEFAULT_SECRET_HEADER, ReceiverStats, WebhookReceiver

__all__ = [
    "DEFAULT_SECRET_HEADER",
    "EVENT_MODELS",
    "ReceiverStats",
    "UnknownEvent",
    "WebhookPayloadError",
    "WebhookReceiver",
    "event_model",
    "parse_event",
]
__all__ += _event_models
