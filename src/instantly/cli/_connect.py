"""The client a command talks to: its key and base URL from the options or the environment."""

from __future__ import annotations

import argparse
import os

from .._client import DEFAULT_BASE_URL, AsyncInstantly
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
    try:
        return AsyncInstantly(api_key=key, base_url=base_url)
    except ValueError as exc:  # a bad base URL; the message names the URL, never the key
        raise UsageError(str(exc)) from None
