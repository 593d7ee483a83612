"""`python -m instantly.testing`: run the mock alone (see `instantly.testing.main`)."""

from ._main import main

raise SystemExit(main())
