"""Errors of the `instantly` command, and its exit codes."""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError", "one_line"]

EXIT_OK: Final = 0
EXIT_API: Final = 1  # the API (or the network) refused or failed
EXIT_USAGE: Final = 2  # bad arguments or bad input: nothing was sent
EXIT_INTERRUPTED: Final = 130  # Ctrl-C, as a shell reports SIGINT


class UsageError(Exception):
    """Bad arguments or bad input, found before anything was sent; the message is one line."""


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (server messages may hold newlines)."""
    return " ".join(str(exc).split()) or type(exc).__name__
