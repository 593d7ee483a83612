"""Names built on first use: the generated models, and tables whose entries name them.

Building the ~600 model classes took most of the SDK's import time, and a program uses a few of
them. So codegen writes the classes into ordinary modules under `_generated/_models/` (a class
with those only it names, and the classes of a reference cycle together), each importing the
modules of the other classes it names, and `_generated/models.py` is a facade that imports a
part on first use of one of its names (PEP 562). Type checkers and IDEs read the facade's
`if TYPE_CHECKING:` imports, so they see every class as it is defined; the facade's
`__getattr__` is hidden from them, so a misspelt name stays an error.

The facade adopts each class it loads, and every class that one names, all the way down: it sets
their `__module__` to the facade's and puts them in its namespace. So a class is where it was
before the split (`instantly._generated.models.Lead`: its repr, pickles, the documentation), and
`typing.get_type_hints` / `attrs.resolve_types`, which evaluate the string annotations in the
namespace `__module__` names, find every class an annotation mentions. (One thing does not
follow: `inspect.getsource(Lead)` looks for the class in the facade's file and fails; the
class's code objects, hence tracebacks, name the part's file.)
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["LazyTable", "lazy_models"]

K = TypeVar("K")
V = TypeVar("V")


def lazy_models(
    namespace: dict[str, Any], parts: Mapping[str, str], package: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of a facade module whose classes live in parts.

    namespace: the facade's globals; parts: class name -> the module (under `package`) that
    defines it.
    """
    facade = namespace["__name__"]
    adopted: set[str] = set()
    lock = threading.RLock()

    def adopt(part: str) -> None:
        # The parts a part imports first, then its own classes: a class is in the namespace only
        # once everything its annotations name is, even for another thread that reads it then.
        if part in adopted:
            return
        adopted.add(part)
        module = sys.modules[f"{package}.{part}"]
        own = []
        for key in list(vars(module)):
            home = parts.get(key)
            if home == part:
                own.append(key)
            elif home is not None:
                adopt(home)
        for key in own:
            cls = vars(module)[key]
            cls.__module__ = facade
            namespace[key] = cls

    def __getattr__(name: str) -> Any:
        part = parts.get(name)
        if part is None:
            raise AttributeError(f"module {facade!r} has no attribute {name!r}")
        importlib.import_module(f"{package}.{part}")
        with lock:
            adopt(part)
        return namespace[name]

    def __dir__() -> list[str]:
        return sorted({*namespace, *parts})

    return __getattr__, __dir__


class LazyTable(Mapping[K, V]):
    """A read-only mapping whose values are made on first lookup, by a function per key.

    The operation table is one: an `Operation` names its model classes, so making all 240 at
    import would build every model. Iterating over the keys, `len` and `in` make nothing;
    `values()` and `items()` make every entry.
    """

    __slots__ = ("_factories", "_made")

    def __init__(self, factories: Mapping[K, Callable[[], V]]) -> None:
        self._factories = dict(factories)
        self._made: dict[K, V] = {}

    def __getitem__(self, key: K) -> V:
        try:
            return self._made[key]
        except KeyError:
            value = self._factories[key]()  # an unknown key raises KeyError here
            # Two threads may both make it: both get the first one kept.
            return self._made.setdefault(key, value)

    def __contains__(self, key: object) -> bool:
        return key in self._factories

    def __iter__(self) -> Iterator[K]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def __repr__(self) -> str:
        return f"<LazyTable: {len(self._factories)} entries, {len(self._made)} made>"
