"""A user's program of the second version's surface: per-call options, `with_options`, raw
responses, pages, and the blocking client.

`tests/test_surface_types.py` checks it with `mypy --strict` (annotations spell out what the
checker must infer), then runs it against the embedded mock: what type-checks also runs.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator, Iterator

from instantly import (
    AsyncInstantly,
    Instantly,
    Page,
    RawResponse,
    RequestOptions,
    SyncPage,
    models,
)


async def with_the_async_client(client: AsyncInstantly, lead_id: str) -> dict[str, object]:
    # A raw response knows what `parse()` gives: the method's own result.
    raw: RawResponse[models.Lead] = await client.leads.with_raw_response.get(lead_id, timeout=5.0)
    lead: models.Lead = raw.parse()
    status: int = raw.status
    request_id: str | None = raw.request_id
    elapsed: datetime.timedelta = raw.elapsed
    content_type: str | None = raw.headers.get("Content-Type")
    # A page's raw response parses to the Page; the Page fetches the next one.
    page: Page[models.Lead] = (await client.leads.with_raw_response.list_page(limit=1)).parse()
    while page.has_next_page():
        page = await page.get_next_page()
    # Options per call, kept in a typed dict, or per client.
    options: RequestOptions = {"extra_headers": {"X-Trace": "1"}, "max_retries": 1}
    fast = client.with_options(timeout=2.0, max_retries=0, headers={"X-Workspace": "acme"})
    again: models.Lead = await fast.leads.get(lead_id, **options)
    return {
        "email": lead.email,
        "status": status,
        "request_id": request_id,
        "elapsed": elapsed.total_seconds() >= 0,
        "content_type": content_type,
        "last_page": len(page.items),
        "again": again.id == lead.id,
    }


def with_the_blocking_client(client: Instantly, lead_id: str, list_id: str) -> dict[str, object]:
    lead: models.Lead = client.leads.get(lead_id, extra_query={"debug": "1"})
    leads: Iterator[models.Lead] = client.leads.list(limit=2)
    emails: list[str | None] = [each.email for each in leads]
    page: SyncPage[models.Lead] = client.leads.list_page(limit=1)
    while page.has_next_page():
        page = page.get_next_page()
    raw: RawResponse[models.Lead] = client.leads.with_raw_response.get(lead_id)
    added = client.leads.bulk_add([{"email": "grace@example.com"}], list_id=list_id)
    created: int = added.created
    # Made lazily: nothing is polled until it is iterated.
    watcher: Generator[models.Email, None, None] = client.emails.watch(poll_interval=60)
    watcher.close()
    fast: Instantly = client.with_options(timeout=5.0)
    return {
        "email": lead.email,
        "emails": sorted(e or "" for e in emails),
        "raw": raw.parse().id == lead.id,
        "created": created,
        "fast": fast.leads.get(lead_id).id == lead_id,
    }
