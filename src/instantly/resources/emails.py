"""`client.emails`, plus `watch`: every new Unibox email once, in the order the API created them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .._generated import models
from .._generated.operations import OPEN_ENUMS, OPERATIONS
from .._generated.resources import EmailsResource
from .._pagination import Page
from .._validate import check_param
from ..errors import APIConnectionError, RateLimitError, ServerError

__all__ = ["DEFAULT_POLL_INTERVAL", "RESUME_MARGIN", "Emails"]

logger = logging.getLogger("instantly.emails")

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between two `GET /emails` of one watcher: at most 12 a minute, so 8 of the endpoint's
20 a minute stay for the rest of the program."""
RESUME_MARGIN = 5.0
"""Seconds each query reaches back behind the newest email seen (see `Emails.watch`)."""
_PAGE = 100
_MAX_BACKOFF = 300.0

Position = tuple[datetime, str]
Since = datetime | models.Email | tuple[datetime | str, str]


class Emails(EmailsResource):
    """`client.emails`: every generated Unibox operation, and `watch`."""

    def watch(
        self,
        *,
        email_type: models.ListEmailType | str | None = "received",
        campaign_id: str | None = None,
        since: Since | None = None,
        poll_interval: float | None = None,
    ) -> AsyncGenerator[models.Email, None]:
        """Every new email, once each, in the order the API created them; for ever.

        ```python
        async for email in client.emails.watch(since=last_seen):
            await handle(email)
            last_seen = email      # or persist (email.timestamp_created, email.id)
        ```

        How: each poll asks for the emails created since RESUME_MARGIN seconds before the newest
        one seen, oldest first, and drops the ones already yielded, so an email that shows up a
        moment late is still yielded once (whether the API counts an email exactly at
        `min_timestamp_created` is not documented; the margin makes it not matter). Emails that
        share a timestamp are yielded in the order of their ids. A 429, a 5xx or a dropped
        connection (once the client's own retries are spent) pauses the watcher, for the
        server's Retry-After or twice the interval, doubling up to 5 minutes, and it goes on;
        other errors (a bad key, a bad argument) are raised.

        Polling happens only while you iterate: breaking out of the loop stops it, and
        cancelling the task that iterates stops it at once.

        Args:
            email_type: "received" (replies from leads; the default), "sent", "manual", or
                None for every kind.
            campaign_id: only the emails of this campaign.
            since: where to start. None: the emails that arrive from now on. A datetime: every
                email created at or after it. The last Email a previous watcher yielded (or
                its `(timestamp_created, id)`): every email after that one, so a restarted bot
                neither repeats nor misses one, even among emails that share its timestamp.
            poll_interval: the least seconds between two requests of this watcher (pages of a
                backlog included); None for DEFAULT_POLL_INTERVAL (5 s: at most 12 of the 20
                `GET /emails` a minute the API allows, leaving 8 to the rest of the program).

        Returns:
            An async iterator of the new emails, oldest first; it polls only while iterated.

        Raises:
            TypeError: an argument of the wrong type (a `since` that is not a datetime, an
                Email or a (timestamp, id) pair); raised by the call, before any request.
            ValueError: an `email_type` the API does not list, a `poll_interval` that is not
                positive, or a `since` timestamp that is not ISO 8601; raised by the call,
                before any request.
        """
        interval = DEFAULT_POLL_INTERVAL if poll_interval is None else poll_interval
        if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
            raise ValueError(
                f"poll_interval must be a positive number of seconds, got {interval!r}"
            )
        query: dict[str, Any] = {"email_type": email_type, "campaign_id": campaign_id}
        for param in OPERATIONS["listEmail"].query_params:
            if query.get(param.wire) is not None:
                check_param(param, query[param.wire], OPEN_ENUMS)
        floor, after = _start(since)
        return self._watch(
            {k: v for k, v in query.items() if v is not None}, float(interval), floor, after
        )

    async def _watch(
        self,
        query: dict[str, Any],
        interval: float,
        floor: datetime | None,
        after: Position | None,
    ) -> AsyncGenerator[models.Email, None]:
        loop = asyncio.get_running_loop()
        margin = timedelta(seconds=RESUME_MARGIN)
        next_request = loop.time()
        backoff = 0.0

        async def fetch(**more: Any) -> Page[models.Email]:
            nonlocal next_request, backoff
            while True:
                wait = next_request - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                next_request = loop.time() + interval
                try:
                    page = await self.list_page(**query, **more, limit=_PAGE)
                except (RateLimitError, ServerError, APIConnectionError) as exc:
                    backoff = min(max(backoff * 2, interval * 2), _MAX_BACKOFF)
                    pause = backoff
                    if isinstance(exc, RateLimitError) and exc.retry_after:
                        pause = max(pause, exc.retry_after)
                    logger.warning("emails.watch: %s; polling again in %.0f s", _reason(exc), pause)
                    next_request = max(next_request, loop.time() + pause)
                    continue
                backoff = 0.0
                return page

        seen: dict[str, datetime | None] = {}  # ids yielded (or old) in the window
        newest: datetime | None = None
        if floor is None and after is None:
            newest = await self._baseline(fetch, seen, margin)

        def is_new(email: models.Email) -> bool:
            if email.id in seen:
                return False
            at = _timestamp(email)
            if at is None:  # unreadable: yielded once, by id
                return True
            if floor is not None and at < floor:
                return False
            if after is not None and (at, email.id) <= after:
                return False
            return newest is None or at >= newest - margin

        while True:
            low = newest - margin if newest is not None else (floor - margin if floor else None)
            cursor: str | None = None
            held: list[models.Email] = []
            while True:
                more: dict[str, Any] = {"sort_order": "asc", "starting_after": cursor}
                if low is not None:
                    more["min_timestamp_created"] = _iso(low)
                page = await fetch(**more)
                batch = _ordered({e.id: e for e in [*held, *filter(is_new, page.items)]}.values())
                last_page = not page.items or not page.next_starting_after
                held = []
                if not last_page and batch:
                    # The next page may hold more emails of the same second: keep those back,
                    # so that emails sharing a timestamp come out in id order.
                    edge = _timestamp(batch[-1])
                    held = [e for e in batch if _timestamp(e) == edge]
                    batch = batch[: len(batch) - len(held)]
                for email in batch:
                    at = _timestamp(email)
                    seen[email.id] = at
                    if at is not None and (newest is None or at > newest):
                        newest = at
                    yield email
                if last_page:
                    break
                cursor = page.next_starting_after
            if newest is not None:
                # Out of the window, an email is dropped anyway: forget it.
                edge = newest - margin
                for key in [k for k, at in seen.items() if at is not None and at < edge]:
                    del seen[key]

    async def _baseline(
        self,
        fetch: Callable[..., Awaitable[Page[models.Email]]],
        seen: dict[str, datetime | None],
        margin: timedelta,
    ) -> datetime | None:
        """Mark what is in the Unibox now as seen; returns the newest timestamp, if any."""
        newest: datetime | None = None
        cursor: str | None = None
        while True:
            page = await fetch(sort_order="desc", starting_after=cursor)
            stamps = [t for t in map(_timestamp, page.items) if t is not None]
            if newest is None and stamps:
                newest = max(stamps)
            for email in page.items:
                seen[email.id] = _timestamp(email)
            # Enough once a page reaches back past the window the next poll asks for.
            if newest is None or not page.next_starting_after or min(stamps) < newest - margin:
                return newest
            cursor = page.next_starting_after


def _aware(when: datetime) -> datetime:
    """`when`, taken to be in UTC if it names no time zone."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _timestamp(email: models.Email) -> datetime | None:
    value: Any = email.timestamp_created
    if isinstance(value, datetime):
        return _aware(value)
    return None


def _ordered(emails: Iterable[models.Email]) -> list[models.Email]:
    """Oldest first; ids order emails of the same timestamp; unreadable timestamps last."""
    return sorted(emails, key=lambda e: (_timestamp(e) is None, _timestamp(e) or _OLDEST, e.id))


_OLDEST = datetime.min.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _start(since: Since | None) -> tuple[datetime | None, Position | None]:
    """(the oldest timestamp to yield, the position to yield after) of a `since` argument."""
    if since is None:
        return None, None
    if isinstance(since, datetime):
        return _aware(since), None
    at: Any
    email_id: Any
    if isinstance(since, models.Email):
        at, email_id = since.timestamp_created, since.id
    elif isinstance(since, tuple) and len(since) == 2:
        at, email_id = since
    else:
        raise TypeError(
            "since must be a datetime, an Email, or a (timestamp_created, id) pair; "
            f"got {type(since).__name__}"
        )
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            raise ValueError(f"since: {at!r} is not an ISO 8601 timestamp") from None
    if not isinstance(at, datetime) or not isinstance(email_id, str) or not email_id:
        raise TypeError("since: expected (timestamp_created, id) with a datetime and an id")
    at = _aware(at)
    return at, (at, email_id)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RateLimitError):
        return "429 from GET /api/v2/emails"
    if isinstance(exc, ServerError):
        return f"{exc.status_code} from GET /api/v2/emails"
    return f"connection failed ({type(exc).__name__})"
