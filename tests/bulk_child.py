"""A child process for tests/test_bulk_mock.py: one journaled import, to be killed midway.

python tests/bulk_child.py URL API_KEY CAMPAIGN_ID JOURNAL COUNT
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

from instantly import AsyncInstantly


def leads(count: int) -> Iterator[dict[str, Any]]:
    """The same leads every time: the resumed run must read the same input."""
    for i in range(count):
        yield {"email": f"kill{i}@example.com", "first_name": f"K{i}"}


async def main(url: str, key: str, campaign: str, journal: str, count: int) -> None:
    async with AsyncInstantly(api_key=key, base_url=url, rate_limit=None) as client:
        await client.leads.bulk_add(
            leads(count), campaign_id=campaign, journal=journal, batch_size=500, concurrency=4
        )


if __name__ == "__main__":
    url, key, campaign, journal, count = sys.argv[1:]
    asyncio.run(main(url, key, campaign, journal, int(count)))
