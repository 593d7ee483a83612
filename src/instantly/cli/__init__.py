"""The `instantly` command: `main(argv)` parses the arguments, runs a command, maps errors to exit codes.

Commands: `demo`, `leads import|export|delete|delete-all`, `campaigns list|create`,
`lead-lists list|create`, `webhooks listen`, `mcp`, `mock`; run `instantly --help`. Exit codes:
0 done, 1 the API or the network failed, 2 bad arguments or bad input (nothing sent), 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from .._extras import MissingExtraError
from ..errors import InstantlyError
from ._connect import api_key
from ._errors import (
    EXIT_API,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    describe_error,
    missing_extra,
)
from ._output import Output
from ._parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `instantly` with `argv` (default: sys.argv[1:]) and return its exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if args.command == "mock":
            try:
                from ..testing import main as mock_main
            except MissingExtraError as exc:
                print(f"instantly: error: {missing_extra('mock', exc)}", file=sys.stderr)
                return EXIT_USAGE
            return int(mock_main(extra, prog="instantly mock"))
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or argparse's own usage error (code 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = Output(stdout=sys.stdout, stderr=sys.stderr, json_mode=getattr(args, "json", False))
    key = api_key(args)

    def fail(code: int, message: str) -> int:
        # Belt and braces: no message may show the key, whatever put it there.
        out.error(message.replace(key, "***") if key else message, code)
        return code

    try:
        with _sdk_log(getattr(args, "verbose", 0), sys.stderr):
            code: int = asyncio.run(args.handler(args, out))
    except UsageError as exc:
        return fail(EXIT_USAGE, str(exc))
    except MissingExtraError as exc:  # `instantly demo` runs the mock
        return fail(EXIT_USAGE, missing_extra(args.command, exc))
    except InstantlyError as exc:
        from_option = bool(getattr(args, "api_key", None))
        return fail(EXIT_API, describe_error(exc, key_from_option=from_option))
    except KeyboardInterrupt:
        return fail(EXIT_INTERRUPTED, "interrupted")
    except BrokenPipeError:
        # The reader of stdout went away (`... | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


class _ConnectionRetries(logging.Filter):
    """The transport's "retrying" warnings for a connection that failed (not a 5xx, not a 429
    pause), reworded for a person: a refused connection is otherwise seconds of silence."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            record.levelno != logging.WARNING
            or not isinstance(record.msg, str)
            or "retrying in" not in record.msg
            or not isinstance(args, tuple)
            or len(args) != 6
            or str(args[2]).startswith("HTTP")
        ):
            return False
        method, path, reason, wait, attempt, most = args
        record.msg = "instantly: %s %s: the connection failed (%s); retrying in %.1f s (%d of %d)"
        record.args = (method, path, reason, wait, attempt, most)
        return True


@contextmanager
def _sdk_log(verbose: int, stream: TextIO) -> Iterator[None]:
    """Show the SDK's log lines (429 pauses, retries, failed chunks) only when asked with -v.

    Without -v they would break into the progress bars, and the summary counts them anyway;
    only failed connections are said as they are retried. The handler also keeps Python's
    last-resort handler from printing the others.
    """
    logger = logging.getLogger("instantly")
    handler: logging.Handler
    if verbose:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(_ConnectionRetries())
    level = logger.level
    logger.addHandler(handler)
    if verbose > 1:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
