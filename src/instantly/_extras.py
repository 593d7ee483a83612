"""Optional dependencies: a feature whose extra is not installed says which extra to install.

Without this, `from instantly.testing import MockInstantly` on a plain install fails with a bare
`ModuleNotFoundError: No module named 'fastjsonschema'`, which names a package the user never
asked for. `needs_extra` turns that into a `MissingExtraError` (still a `ModuleNotFoundError`,
so code catching either keeps working) that names the feature, the extra and the command to run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

__all__ = ["MissingExtraError", "needs_extra"]

DISTRIBUTION = "instantly-sdk"


class MissingExtraError(ModuleNotFoundError):
    """A feature of the SDK needs a package of an extra that is not installed.

    `name` is the missing module, `extra` the extra that brings it, `feature` what needed it.
    """

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the {module!r} package, which comes with the {extra!r} extra: "
            f"pip install '{DISTRIBUTION}[{extra}]' (from a checkout: pip install -e '.[{extra}]')",
            name=module,
        )
        self.feature = feature
        self.extra = extra


@contextmanager
def needs_extra(feature: str, extra: str, modules: Collection[str]) -> Iterator[None]:
    """Around the imports of `feature`: a missing one of `modules` raises MissingExtraError.

    Args:
        feature: what the user tried to use, as they would name it (`instantly.testing`).
        extra: the extra that installs `modules`.
        modules: the top-level modules the extra brings; any other missing module is a broken
            install, not a missing extra, and is raised as it is.
    """
    try:
        yield
    except MissingExtraError:
        raise
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in modules:
            raise
        raise MissingExtraError(feature, extra, top) from exc
