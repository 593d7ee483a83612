"""The client a command talks to: its key and base URL from the options or the environment."""

from __future__ import annotations

import argparse
import os

from .._client import DEFAULT_BASE_URL, AsyncInstantly
from .._client import _check_base_url as check_base_url
from ._errors import UsageError

__all__ = ["api_key", "make_client"]

KEY_ENV = "INSTANTLY_API_KEY"
BASE_URL_ENV = "INSTANTLY_BASE_URL"


def api_key(args: argparse.Namespace) -> str | None:
    """The key from --api-key, else $INSTANTLY_API_KEY; None if neither is set."""
    key: str | None = getattr(args, "api_key", None) or os.environ.get(KEY_ENV)
    return key or None


def make_client(args: argparse.Namespace) -> AsyncInstantly:
    """A client for the API (or whatever --base-url names); refuses early without a key."""
    key = api_key(args)
    if key is None:
        raise UsageError(f"no API key: set {KEY_ENV} or pass --api-key")
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
