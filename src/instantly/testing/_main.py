"""`python -m instantly.testing`: the mock as a standalone server.

Prints one line, `listening on URL`, on stdout once it accepts requests (scripts wait for it),
and runs until SIGINT or SIGTERM, then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

from ._faults import Faults
from ._server import MockInstantly

__all__ = ["main"]


def _rate_limit(text: str) -> tuple[int | None, int | None] | None:
    if text.strip().lower() == "none":
        return None
    parts = [p.strip().lower() for p in text.split(",")]
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f"expected PER_SECOND,PER_MINUTE (e.g. 100,6000; either may be none) or none, got {text!r}"
        )
    try:
        limits = tuple(None if p == "none" else int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"limits must be whole numbers or none, got {text!r}"
        ) from None
    if any(v is not None and v < 1 for v in limits):
        raise argparse.ArgumentTypeError(f"limits must be at least 1, got {text!r}")
    return limits[0], limits[1]


PROG = "python -m instantly.testing"


def _parser(prog: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Run the stateful mock of the Instantly V2 API until interrupted.",
    )
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    ap.add_argument("--api-key", default="test", help="the one API key accepted (default: test)")
    ap.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=(100, 6000),
        metavar="PER_SECOND,PER_MINUTE",
        help="workspace rate limit, e.g. 100,6000 (the default); none turns limits off",
    )
    ap.add_argument(
        "--rate-limit-leeway",
        action="store_true",
        help="forgive arrival jitter (0.5 s on a new connection, 0.1 s of queueing) instead of "
        "counting arrivals strictly as the API does",
    )
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    ap.add_argument("--seed", type=int, default=0, help="seed of ids and injected faults")
    ap.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 5xx")
    ap.add_argument("--drop-rate", type=float, default=0.0, help="share of connections dropped")
    ap.add_argument(
        "--after-commit-rate",
        type=float,
        default=0.0,
        help="share of requests applied, then answered 5xx or dropped",
    )
    ap.add_argument("--job-seconds", type=float, default=1.0, help="how long background jobs run")
    ap.add_argument(
        "--validate-responses",
        action="store_true",
        help="check every answer against the spec (slower)",
    )
    return ap


async def _serve(
    args: argparse.Namespace,
    *,
    on_stop: Callable[[MockInstantly], None] | None = None,
    **options: Any,
) -> None:
    """Serve until SIGINT/SIGTERM; `options` go to MockInstantly, `on_stop` sees it at the end."""
    faults = None
    if args.error_rate or args.drop_rate or args.after_commit_rate:
        faults = Faults(
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            after_commit_rate=args.after_commit_rate,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows: Ctrl-C still works
            loop.add_signal_handler(sig, stop.set)
    async with MockInstantly(
        args.api_key,
        rate_limit=args.rate_limit,
        rate_limit_leeway=args.rate_limit_leeway,
        latency=args.latency,
        faults=faults,
        seed=args.seed,
        host=args.host,
        port=args.port,
        validate_responses=args.validate_responses,
        job_seconds=args.job_seconds,
        **options,
    ) as mock:
        print(f"listening on {mock.url}", flush=True)
        await stop.wait()
        if on_stop is not None:
            on_stop(mock)


def main(argv: list[str] | None = None, *, prog: str = PROG) -> int:
    """Run the mock until SIGINT/SIGTERM (`python -m instantly.testing`, `instantly mock`).

    It prints `listening on URL` on stdout once it accepts requests; `--help` lists the
    options (`--port`, `--api-key`, `--rate-limit`, `--error-rate`, ...).

    Args:
        argv: command-line arguments (without the program name); None reads sys.argv.
        prog: the command's name in its usage line and messages (`instantly mock` runs this
            with its own name).

    Returns:
        The exit status: 0 after SIGINT or SIGTERM, 1 if it cannot listen (e.g. the port is
        taken), 2 for a bad argument.
    """
    args = _parser(prog).parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    return 0
