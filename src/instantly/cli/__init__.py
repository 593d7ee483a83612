"""The `instantly` command: `main(argv)` parses the arguments, runs a command, maps errors to exit codes.

Commands: `demo`, `leads import|export|delete|delete-all`, `campaigns list`, `mock`; run
`instantly --help`. Exit codes: 0 done, 1 the API or the network failed, 2 bad arguments or bad
input (nothing sent), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from ..errors import InstantlyError
from ._connect import api_key
from ._errors import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, one_line
from ._output import Output
from ._parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `instantly` with `argv` (default: sys.argv[1:]) and return its exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if args.command == "mock":
            from ..testing import main as mock_main

            return int(mock_main(extra))
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or argparse's own usage error (code 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = Output(stdout=sys.stdout, stderr=sys.stderr, json_mode=getattr(args, "json", False))
    key = api_key(args)

    def fail(code: int, message: str) -> int:
        # Belt and braces: no message may show the key, whatever put it there.
        out.error(message.replace(key, "***") if key else message)
        return code

    try:
        code: int = asyncio.run(args.handler(args, out))
    except UsageError as exc:
        return fail(EXIT_USAGE, str(exc))
    except InstantlyError as exc:
        return fail(EXIT_API, one_line(exc))
    except KeyboardInterrupt:
        return fail(EXIT_INTERRUPTED, "interrupted")
    except BrokenPipeError:
        # The reader of stdout went away (`... | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code
