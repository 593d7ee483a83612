"""Filling a fresh mock with leads through the API itself, before anything is measured."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from ._clients import sdk_client
from ._leads import new_leads

__all__ = ["Seeded", "seed_leads"]


class Seeded(NamedTuple):
    list_id: str
    """The lead list that holds the seeded leads."""
    first_lead_id: str | None
    """The id of the first lead created, None if none were."""


def seed_leads(url: str, count: int, *, rate_limit: tuple[int, int] | None = None) -> Seeded:
    """Create a lead list on the mock at url and bulk add `count` leads to it.

    Runs in the benchmark's own process (not measured), with no client-side limit unless the
    mock enforces one.
    """
    return asyncio.run(_seed(url, count, rate_limit))


async def _seed(url: str, count: int, rate_limit: tuple[int, int] | None) -> Seeded:
    async with sdk_client(url, rate_limit=rate_limit) as client:
        target = await client.lead_lists.create(name=f"bench seed of {count}")
        if not count:
            return Seeded(target.id, None)
        result = await client.leads.bulk_add(new_leads(count), list_id=target.id)
        if result.created != count:
            raise RuntimeError(f"seeding created {result.created} of {count} leads: {result}")
        return Seeded(target.id, result.created_ids.get(0))
