"""Page through the leads of a campaign: all of them with `async for`, then one page at a time.

    export INSTANTLY_API_KEY=...
    python examples/page_leads.py --campaign-id <campaign uuid> [--page-size 100]

`client.leads.list(...)` is an async iterator over every lead of every page, fetching the next
page only when the previous one is used up. `client.leads.list_page(...)` fetches one page and
hands you its cursor (`next_starting_after`), for when you keep your place yourself (a job that
resumes later, a "next page" button).

Without an account: run `instantly mock --port 8080` in another shell, then
`INSTANTLY_API_KEY=test python examples/page_leads.py --campaign-id <id>
--base-url http://127.0.0.1:8080`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from instantly import DEFAULT_BASE_URL, AsyncInstantly


def page_size(text: str) -> int:
    """--page-size: a whole number of leads per page, 1 to 100 (the API's bounds)."""
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be 1 to 100, got {value}")
    return value


async def every_lead(client: AsyncInstantly, campaign_id: str, page_size: int) -> None:
    """All the leads, page after page, as one loop."""
    count = 0
    async for lead in client.leads.list(campaign=campaign_id, limit=page_size):
        count += 1
        name = " ".join(part for part in (lead.first_name, lead.last_name) if part)
        print(f"  {lead.email}  {name}".rstrip())
    print(f"{count} leads")


async def page_by_page(client: AsyncInstantly, campaign_id: str, page_size: int) -> None:
    """The same leads, one page per request, carrying the cursor by hand."""
    cursor: str | None = None  # None asks for the first page
    pages = leads = 0
    while True:
        page = await client.leads.list_page(
            campaign=campaign_id, limit=page_size, starting_after=cursor
        )
        if page.items:
            pages += 1
            leads += len(page.items)
            more = f"next cursor {page.next_starting_after}" if page.has_more else "last page"
            print(f"page {pages}: {len(page.items)} leads, {more}")
        if not page.has_more:
            break
        cursor = page.next_starting_after
    print(f"{leads} leads in {pages} pages")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaign-id", required=True, help="the campaign whose leads to list")
    parser.add_argument(
        "--page-size", type=page_size, default=100, help="leads per page, 1 to 100 (default 100)"
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the API's origin")
    args = parser.parse_args()

    try:
        client = AsyncInstantly(base_url=args.base_url)  # the key from $INSTANTLY_API_KEY
    except ValueError as exc:  # no key, or a base URL it refuses
        parser.error(str(exc))
    async with client:
        print("every lead (async for):")
        await every_lead(client, args.campaign_id, args.page_size)
        print("one page at a time (list_page):")
        await page_by_page(client, args.campaign_id, args.page_size)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
