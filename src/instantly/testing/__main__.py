"""`python -m instantly.testing`: run the mock alone (see `instantly.testing.main`)."""

import sys

from .._extras import MissingExtraError

try:
    from . import main
except MissingExtraError as exc:
    print(f"python -m instantly.testing: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

raise SystemExit(main())
