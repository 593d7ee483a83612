"""Errors of the `instantly` command, and its exit codes."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from .._extras import MissingExtraError
from ..errors import APIConnectionError, APIError, AuthenticationError

__all__ = [
    "EXIT_API",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "describe_error",
    "missing_extra",
    "one_line",
]

EXIT_OK: Final = 0
EXIT_API: Final = 1  # the API (or the network) refused or failed
EXIT_USAGE: Final = 2  # bad arguments or bad input: nothing was sent
EXIT_INTERRUPTED: Final = 130  # Ctrl-C, as a shell reports SIGINT


class UsageError(Exception):
    """Bad arguments or bad input, found before anything was sent; the message is one line."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (server messages may hold newlines)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def describe_error(exc: BaseException, *, key_from_option: bool) -> str:
    """An SDK error as the command's user should read it, on one line.

    Args:
        exc: the error a command raised.
        key_from_option: whether the key came from --api-key (else from $INSTANTLY_API_KEY), so
            that a 401 says which one to check.
    """
    text = one_line(exc)
    if isinstance(exc, APIConnectionError):
        return text.replace(" base_url,", " the base URL (--base-url or $INSTANTLY_BASE_URL),")
    if not isinstance(exc, APIError):
        return text
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if phrase:
        # A server message that starts with the status phrase ("Unauthorized: ...") would
        # repeat it after the SDK's "401 Unauthorized: ".
        text = text.replace(f"{phrase}: {phrase}: ", f"{phrase}: ", 1)
    if isinstance(exc, AuthenticationError) and exc.hint:
        where = "--api-key" if key_from_option else "$INSTANTLY_API_KEY"
        text = text.replace(
            exc.hint,
            f"Check the key in {where}: it may be mistyped, revoked, or from another workspace",
        )
    return text


def missing_extra(command: str, exc: MissingExtraError) -> str:
    """The one line for a command that needs a package the `cli` extra brings (the mock's)."""
    return str(MissingExtraError(f"instantly {command}", "cli", exc.name or "?"))
