"""`python -m instantly`: a summary of what the SDK covers.

The `instantly` command (demo on the embedded mock, CSV import/export) arrives with the mock
server; until then this prints the namespaces and their operations.
"""

from __future__ import annotations

import sys
from collections import Counter

from ._generated.operations import OPERATIONS
from ._version import __version__


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    counts = Counter(op.namespace for op in OPERATIONS.values())
    print(f"instantly {__version__}: {len(OPERATIONS)} operations in {len(counts)} namespaces")
    for namespace, n in sorted(counts.items()):
        print(f"  client.{namespace:<28} {n:>3}")
    if args[:1] == ["demo"]:
        print("\nThe end-to-end demo needs the embedded mock server, which is not built yet.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
