"""The client a command talks to: its key and base URL from the options or the environment."""

from __future__ import annotations

import argparse
import os

from .._client import DEFAULT_BASE_URL, AsyncInstantly
from .._client import _check_base_url as check_base_url
from ..errors import BadRequestError, NotFoundError
from ._errors import UsageError, one_line

__all__ = ["api_key", "check_target", "make_client", "require_key"]

KEY_ENV = "INSTANTLY_API_KEY"
BASE_URL_ENV = "INSTANTLY_BASE_URL"


def api_key(args: argparse.Namespace) -> str | None:
    """The key from --api-key, else $INSTANTLY_API_KEY; None if neither is set."""
    key: str | None = getattr(args, "api_key", None) or os.environ.get(KEY_ENV)
    return key or None


def require_key(args: argparse.Namespace) -> str:
    """The key, or a UsageError saying how to give one (checked before any other work)."""
    key = api_key(args)
    if key is None:
        raise UsageError(f"no API key: set {KEY_ENV} or pass --api-key")
    return key


def make_client(args: argparse.Namespace) -> AsyncInstantly:
    """A client for the API (or whatever --base-url names); refuses early without a key."""
    key = require_key(args)
    base_url = getattr(args, "base_url", None) or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    allow_insecure = bool(getattr(args, "allow_insecure", False))
    try:
        return AsyncInstantly(api_key=key, base_url=base_url, allow_insecure=allow_insecure)
    except ValueError as exc:  # a bad base URL; the message names the URL, never the key
        if not allow_insecure and _only_insecure(base_url):
            # The SDK's message names its keyword argument; a shell user has an option instead.
            raise UsageError(
                f"base URL {base_url!r} is plain http: the API key would travel in clear. Use "
                "https, a loopback address (127.0.0.1, localhost, ::1), or pass --allow-insecure"
            ) from None
        raise UsageError(str(exc)) from None


def _only_insecure(base_url: str) -> bool:
    """Whether plain http is all that is wrong with `base_url`."""
    try:
        check_base_url(base_url, True)
    except ValueError:
        return False
    return True


async def check_target(client: AsyncInstantly, args: argparse.Namespace) -> None:
    """Refuse (exit 2) the --campaign-id or --list-id of a campaign or list that does not
    exist, before any other request."""
    kind, target = ("campaign", args.campaign_id) if args.campaign_id else ("list", args.list_id)
    try:
        if args.campaign_id:
            await client.campaigns.get(target)
        else:
            await client.lead_lists.get(target)
    except NotFoundError:
        hint = "instantly campaigns list" if kind == "campaign" else "instantly lead-lists list"
        raise UsageError(
            f"{kind} {target} does not exist in this workspace (check the ID: {hint} shows them)"
        ) from None
    except BadRequestError as exc:
        raise UsageError(f"{kind} {target}: the API refused the ID ({one_line(exc)})") from None
