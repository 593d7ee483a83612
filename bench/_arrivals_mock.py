"""`python -m bench._arrivals_mock ... --arrivals-out PATH`: the mock, keeping its arrival log.

The same command line as `python -m instantly.testing` plus `--arrivals-out`: on SIGTERM it
writes, as a JSON list, the loop time at which every request arrived (the monotonic clock, so a
client process on the same machine can compare its own `time.monotonic()` with it), so the rate
benchmarks measure the server's view of a run, not the client's.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from instantly.testing._main import _parser, _serve
from instantly.testing._server import MockInstantly


def main(argv: list[str]) -> int:
    parser = _parser("python -m bench._arrivals_mock")
    parser.add_argument("--arrivals-out", required=True, help="where to write the arrival times")
    args = parser.parse_args(argv)

    def write(mock: MockInstantly) -> None:
        Path(args.arrivals_out).write_text(json.dumps(mock.arrivals))

    asyncio.run(_serve(args, on_stop=write, record_arrivals=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
