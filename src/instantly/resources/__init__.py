"""Namespaces of the client: the generated ones, with hand-written additions where needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._generated.resources import NAMESPACES
from .._resource import Resource
from .background_jobs import BackgroundJobs
from .emails import Emails
from .leads import Leads

if TYPE_CHECKING:
    from .._client import AsyncInstantly

__all__ = ["BackgroundJobs", "Emails", "Leads", "build_namespaces"]

# Namespaces that need more than their generated operations.
_EXTENDED: dict[str, type[Resource]] = {
    "background_jobs": BackgroundJobs,
    "emails": Emails,
    "leads": Leads,
}


def build_namespaces(client: AsyncInstantly) -> dict[str, Resource]:
    """One instance of every namespace, bound to `client`."""
    return {name: _EXTENDED.get(name, cls)(client) for name, cls in NAMESPACES.items()}
