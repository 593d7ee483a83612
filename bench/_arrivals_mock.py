"""`python -m bench._arrivals_mock ... --arrivals-out PATH`: the mock, keeping its arrival log.

The same command line as `python -m instantly.testing` plus `--arrivals-out`: on SIGTERM it
writes, as a JSON list, the loop time at which every request arrived (the monotonic clock, so a
client process on the same machine can compare its own `time.monotonic()` with it), so the rate
benchmarks measure the server's view of a run, not the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from instantly.testing._main import _parser
from instantly.testing._server import MockInstantly


async def _serve(args: argparse.Namespace) -> list[float]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with MockInstantly(
        args.api_key,
        rate_limit=args.rate_limit,
        rate_limit_leeway=args.rate_limit_leeway,
        latency=args.latency,
        seed=args.seed,
        host=args.host,
        port=args.port,
        record_arrivals=True,
    ) as mock:
        print(f"listening on {mock.url}", flush=True)
        await stop.wait()
        return mock.arrivals


def main(argv: list[str]) -> int:
    parser = _parser()
    parser.add_argument("--arrivals-out", required=True, help="where to write the arrival times")
    args = parser.parse_args(argv)
    arrivals = asyncio.run(_serve(args))
    Path(args.arrivals_out).write_text(json.dumps(arrivals))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
