"""A reply bot: answers leads' replies as they arrive, by webhook.

For each `reply_received` event it reads the reply, labels the lead's interest
(`leads.update_interest_status`) and answers in the same thread (`emails.reply`). Deliveries are
answered at once and handled in the background (see `instantly.webhooks.WebhookReceiver`), so a
slow API call never makes Instantly count a delivery as failed. On SIGTERM or Ctrl-C it stops
accepting deliveries, finishes the replies in flight, and exits.

Run it:

    export INSTANTLY_API_KEY=...            # the workspace's API key
    export WEBHOOK_SECRET=$(openssl rand -hex 16)
    python examples/reply_bot.py --port 8080

and register the webhook once (with the URL where this port is reachable from the internet):

    await client.webhooks.create(target_hook_url="https://bot.example.com/instantly/webhook",
                                 event_type="reply_received",
                                 headers={"X-Instantly-Secret": WEBHOOK_SECRET})

Against the embedded mock instead (no account needed), see tests/test_reply_bot.py: the mock
delivers the webhook when `mock.state.receive_reply(...)` seeds a reply.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal

from aiohttp import web

from instantly import UNSET, AsyncInstantly
from instantly.models import LeadInterestStatus
from instantly.webhooks import BaseEvent, ReplyReceivedEvent, WebhookReceiver

log = logging.getLogger("reply_bot")

# Deliberately simple rules; a real bot would ask a model. First match wins.
RULES: list[tuple[re.Pattern[str], LeadInterestStatus]] = [
    (re.compile(r"\b(not interested|unsubscribe|remove me|stop)\b", re.I),
     LeadInterestStatus.NOT_INTERESTED),
    (re.compile(r"\b(out of (the )?office|on vacation|on leave)\b", re.I),
     LeadInterestStatus.OUT_OF_OFFICE),
    (re.compile(r"\b(interested|yes|sounds good|let'?s talk|call|demo)\b", re.I),
     LeadInterestStatus.INTERESTED),
]  # fmt: skip

ANSWERS = {
    LeadInterestStatus.INTERESTED: "Great to hear! Here is my calendar: "
    "https://example.com/book. Pick any time that suits you.",
    LeadInterestStatus.NOT_INTERESTED: "Understood, thank you for letting me know. "
    "I will not write again.",
}


def classify(text: str) -> LeadInterestStatus | None:
    """The interest a reply shows, or None when the rules cannot tell."""
    for pattern, status in RULES:
        if pattern.search(text):
            return status
    return None


class ReplyBot:
    """What the bot does with one event."""

    def __init__(self, client: AsyncInstantly) -> None:
        self.client = client
        self.answered = 0

    async def on_event(self, event: BaseEvent) -> None:
        if not isinstance(event, ReplyReceivedEvent):
            return  # subscribe the webhook to reply_received only; ignore anything else
        if not (event.email_id and event.lead_email and event.email_account):
            log.warning("a reply without email_id, lead_email or email_account: skipped")
            return
        text = event.reply_text_snippet or event.reply_text or ""
        interest = classify(text)
        log.info("reply from %s: %r -> %s", event.lead_email, text[:60], interest)
        if interest is None:
            return  # a person should read this one
        await self.client.leads.update_interest_status(
            lead_email=event.lead_email,
            interest_value=interest.value,
            campaign_id=event.campaign_id or UNSET,
        )
        answer = ANSWERS.get(interest)
        if answer is None:
            return
        subject = event.reply_subject or event.email_subject or ""
        await self.client.emails.reply(
            reply_to_uuid=event.email_id,
            eaccount=event.email_account,
            subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
            body={"text": answer},
        )
        self.answered += 1


async def serve(client: AsyncInstantly, *, secret: str, host: str, port: int, path: str) -> None:
    """Receive webhooks until SIGTERM or SIGINT, then finish the work in flight."""
    bot = ReplyBot(client)

    async def on_error(exc: BaseException, event: BaseEvent) -> None:
        # The delivery was already answered 200: log it here; Instantly will not resend it.
        log.error("could not handle the reply from %s: %s", event.lead_email, exc)

    receiver = WebhookReceiver(bot.on_event, secret=secret, on_error=on_error, concurrency=4)
    runner = web.AppRunner(receiver.app(path=path), access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0][1]
        print(f"listening on http://{host}:{bound}{path}", flush=True)
        await stop.wait()
        log.info("stopping: finishing the replies in flight")
    finally:
        await runner.cleanup()  # closes the receiver, which waits for its handlers
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    print(f"stopped; answered {bot.answered} replies", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--path", default="/instantly/webhook")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        raise SystemExit("set WEBHOOK_SECRET: the webhook must send it as X-Instantly-Secret")
    base_url = os.environ.get("INSTANTLY_BASE_URL", "https://api.instantly.ai")
    async with AsyncInstantly(base_url=base_url) as client:  # key from $INSTANTLY_API_KEY
        await serve(client, secret=secret, host=args.host, port=args.port, path=args.path)


if __name__ == "__main__":
    asyncio.run(main())
