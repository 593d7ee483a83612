"""Small shared types: the UNSET sentinel for request fields, and tolerant enums.

`UNSET` means "not given": the field is left out of the request. `None` means JSON null, which
the API uses to clear a value (`interest_value: null`). Request models default to `UNSET`.
"""

from __future__ import annotations

import enum
from typing import Any, Final, Literal, TypeVar

__all__ = ["UNSET", "MethodProxy", "Unset", "is_unknown", "unknown_member"]


class Unset(enum.Enum):
    """Type of `UNSET`, the "not given" marker (an enum so that type checkers can narrow it)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = Unset.UNSET

E = TypeVar("E", bound=enum.Enum)


def unknown_member(cls: type[E], value: object) -> E | None:
    """Make a member for a value the spec does not list, so that reading never fails.

    The API documents values beyond some enums (custom interest statuses, new job types). The
    pseudo-member keeps the raw value (`.value`, and equality with it for int/str enums) and
    is named `UNKNOWN_<value>`; it is cached, so `LeadStatus(7) is LeadStatus(7)`.
    """
    if issubclass(cls, int):
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
    elif issubclass(cls, str):
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
    else:
        return None
    member._name_ = f"UNKNOWN_{value}"
    member._value_ = value
    # Registering the pseudo-member makes later lookups hit the fast path and keeps identity.
    return cls._value2member_map_.setdefault(value, member)


def is_unknown(member: enum.Enum) -> bool:
    """True for a value the spec does not list (made by `unknown_member`)."""
    return member._name_.startswith("UNKNOWN_") and member._name_ not in type(member).__members__


class MethodProxy:
    """The base of descriptors that stand, in a class, for the method of the same name of
    another object (a namespace's raw twin, a blocking namespace's async one).

    It keeps the method's docstring (for `help()` and IDEs) and learns its own name from the
    class it is set in, so that a subclass's override of the method is the one called.
    """

    def __init__(self, method: Any) -> None:
        self._name: str = getattr(method, "__name__", "") or getattr(method, "_name", "")
        self.__doc__ = method.__doc__
        self.__wrapped__ = method

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
