"""`instantly webhooks listen`: receive webhook deliveries and print each event as one line.

For trying a webhook out: point a webhook (or a tunnel to this port) here, and watch what
Instantly sends. The receiver is `instantly.webhooks.WebhookReceiver`, the one a bot would use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from .._convert import unstructure
from .._json import dumps
from ..webhooks import DEFAULT_SECRET_HEADER, BaseEvent, WebhookReceiver
from ._errors import EXIT_OK, UsageError
from ._output import Output

__all__ = ["add_commands", "event_line", "run_listen"]

SECRET_ENV = "INSTANTLY_WEBHOOK_SECRET"


def add_commands(commands: Any) -> None:
    """Add `webhooks listen` to the `instantly` parser's subcommands."""
    webhooks = commands.add_parser(
        "webhooks", help="receive webhook deliveries (client.webhooks has the API's CRUD)"
    ).add_subparsers(dest="webhooks_command", metavar="COMMAND", required=True)
    listen = webhooks.add_parser(
        "listen",
        help="receive webhook deliveries and print one line per event",
        description="Listen for Instantly's webhook deliveries and print each event as a line "
        "(JSON with --json). Give the webhook the secret as a custom header "
        f"({DEFAULT_SECRET_HEADER}: <secret>). Stops on Ctrl-C or SIGTERM.",
    )
    listen.add_argument(
        "--port", type=int, default=8080, metavar="N", help="the port to listen on (8080)"
    )
    listen.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDR",
        help="the address to listen on (127.0.0.1; 0.0.0.0 for every interface)",
    )
    listen.add_argument("--path", default="/", help="the URL path deliveries come to (/)")
    listen.add_argument(
        "--secret",
        metavar="S",
        help=f"the shared secret the deliveries must carry (default: ${SECRET_ENV}; "
        "prefer the variable: options show up in the process list)",
    )
    listen.add_argument(
        "--secret-header",
        default=DEFAULT_SECRET_HEADER,
        metavar="NAME",
        help=f"the header that carries it ({DEFAULT_SECRET_HEADER})",
    )
    listen.add_argument(
        "--json", action="store_true", help="print each event as one JSON object per line"
    )
    listen.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="also log refused deliveries (wrong secret, not JSON) and failures to stderr",
    )
    listen.set_defaults(handler=run_listen)


def event_line(event: BaseEvent) -> str:
    """One event for a person: when, what, who, and the words of a reply."""
    parts = [
        event.timestamp.isoformat().replace("+00:00", "Z")
        if hasattr(event.timestamp, "isoformat")
        else str(event.timestamp),
        str(event.event_type) if event.event_type is not None else "custom_label",
    ]
    if event.lead_email:
        parts.append(event.lead_email)
    if event.campaign_name:
        parts.append(f"campaign={event.campaign_name!r}")
    value = getattr(event, "custom_interest_value", None)
    if value is not None:
        parts.append(f"interest={value:g}" if isinstance(value, float) else f"interest={value}")
    words = event.reply_text_snippet or event.reply_text
    if words:
        words = " ".join(words.split())
        parts.append(repr(words[:77] + "..." if len(words) > 80 else words))
    return " ".join(parts)


async def run_listen(args: argparse.Namespace, out: Output) -> int:
    """The `webhooks listen` command: serve until SIGTERM (or Ctrl-C)."""
    from aiohttp import web

    if not args.path.startswith("/"):
        raise UsageError(f"--path must start with '/', got {args.path!r}")
    secret = args.secret or os.environ.get(SECRET_ENV) or None
    if secret is None:
        out.note(
            f"warning: no --secret (or ${SECRET_ENV}): every delivery is accepted, "
            "from anyone who can reach this port"
        )

    def show(event: BaseEvent) -> None:
        line = dumps(unstructure(event)).decode() if out.json_mode else event_line(event)
        print(line, file=out.stdout, flush=True)

    receiver = WebhookReceiver(show, secret=secret, secret_header=args.secret_header, concurrency=1)
    runner = web.AppRunner(receiver.app(path=args.path), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        try:
            await site.start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        port = runner.addresses[0][1]
        host = f"[{args.host}]" if ":" in args.host else args.host
        guard = f", {args.secret_header} checked" if secret else ""
        out.note(f"listening on http://{host}:{port}{args.path}{guard}; Ctrl-C to stop")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
    finally:
        await runner.cleanup()  # closes the receiver: the events received are printed first
    return EXIT_OK
