"""Bulk work over the one pipeline: the chunked lead import and a bounded runner for any call.

`bulk_add_leads` (behind `client.leads.bulk_add`) reads leads lazily, refuses what the API would
refuse without spending a request on it, sends chunks of up to 1,000 with bounded concurrency
through the client's transport (so the rate gate, the shared 429 pause and the retry rules all
apply), and accounts for every input: created, skipped with a reason, failed with its error, or
(after a cancellation) not sent. `BulkRun` (behind `client.bulk`) runs `await fn(item)` for many
items with bounded concurrency and reports each outcome.

Default concurrency is 32 for both. Throughput is min(limit, concurrency / latency): to keep the
API's 100 requests/s busy at a typical 200 ms per request needs 20 requests in flight; 32 leaves
room for latency spikes (it still saturates the limit up to 320 ms) while holding at most
32 x 1,000 leads in memory. The rate gate, not the concurrency, is what keeps the API happy.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sized,
)
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, TypeVar

import attrs

from ._convert import StructureError, unstructure
from ._generated.models import BulkAddLeadsRequestLead
from ._generated.operations import OPEN_ENUMS, OPERATIONS
from ._types import Unset
from ._validate import _check, _predicate
from .errors import BulkCancelledError, ChunkCancelledError, InstantlyError

if TYPE_CHECKING:
    from ._resource import Resource

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SKIP_REASONS",
    "BulkAddResult",
    "BulkResult",
    "BulkRun",
    "FailedChunk",
    "LeadScreen",
    "Outcome",
    "Rejection",
    "bulk_add_leads",
    "check_lead",
]

logger = logging.getLogger("instantly")

DEFAULT_CONCURRENCY: Final = 32
MAX_BATCH: Final = 1000  # the API's limit per `POST /api/v2/leads/add`

SKIP_REASONS: Final = (
    "already_present",  # in this campaign or list already, or skipped by a skip_if_* flag
    "blocklisted",  # on the blocklist used for the import
    "invalid_email",  # not an email address, or no email for a campaign import
    "incomplete",  # a list import lead with no email and no name
    "duplicate_in_input",  # the same email as an earlier lead of this import
    "invalid_lead",  # an unknown field or a value of the wrong type
    "skipped_by_api",  # the API skipped it and gave no reason we know
)

# Deliberately loose: one "@", something on each side, a dot in the domain, no spaces. The API
# has the final word; this only saves a request on what it would surely refuse.
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Per-position outcome codes, one byte per input.
_PENDING, _CREATED, _SKIPPED, _FAILED, _NOT_SENT = range(5)
_OUTCOME_NAMES: Final = ("pending", "created", "skipped", "failed", "not_sent")


def check_lead(lead: Mapping[str, Any], for_campaign: bool) -> tuple[str, str] | None:
    """Why the API would refuse this lead, as (reason, detail), or None if it may be sent.

    lead: the lead's fields by wire name.
    for_campaign: True for an import into a campaign (an email is required), False for a list
        (an email, a first name or a last name is required).
    """
    email = lead.get("email")
    if email is None or email == "":
        if for_campaign:
            return "invalid_email", "no email (a campaign import needs one)"
        if not lead.get("first_name") and not lead.get("last_name"):
            return "incomplete", "no email, first_name or last_name (a list import needs one)"
        return None
    if not isinstance(email, str) or _EMAIL.fullmatch(email) is None:
        return "invalid_email", f"{email!r} is not an email address"
    return None


class Rejection(NamedTuple):
    """A lead refused before sending."""

    position: int
    """Its position in the input (0-based)."""
    reason: str
    """One of SKIP_REASONS."""
    detail: str
    """What is wrong, for a person."""


@attrs.define(eq=False)
class FailedChunk:
    """A request of the import that failed for good (after its retries)."""

    positions: list[int]
    """Input positions of the leads it carried."""
    error: BaseException
    """Why it failed: an APIError, APIConnectionError, ChunkCancelledError, ..."""
    leads: list[dict[str, Any]] = attrs.field(repr=False)
    """The leads it carried, as sent."""


@attrs.define(eq=False)
class BulkAddResult:
    """The account of one `leads.bulk_add`: every input read ends in exactly one bucket.

    `created + skipped_total + failed_total + len(not_sent) == total`, checked when the import
    ends. `requests`, `retries` and `rate_limited` are the client's counters over the import
    (other calls made on the same client meanwhile count too).
    """

    total: int = 0
    """Inputs read from `leads`."""
    created: int = 0
    """Leads the API created."""
    created_ids: dict[int, str] = attrs.field(factory=dict, repr=False)
    """Input position -> ID of the lead created from it."""
    skipped: Counter[str] = attrs.field(factory=Counter)
    """Leads not created, by reason (see SKIP_REASONS); the API's counts and the client's checks."""
    invalid: list[Rejection] = attrs.field(factory=list, repr=False)
    """Leads refused before sending (invalid, incomplete, duplicate in input), with the reason."""
    failed: list[FailedChunk] = attrs.field(factory=list, repr=False)
    """Requests that failed for good, with their leads and error."""
    not_sent: list[int] = attrs.field(factory=list, repr=False)
    """Positions read but never sent, because the import was cancelled."""
    cancelled: bool = False
    """Whether the import was cancelled before the end of `leads`."""
    requests: int = 0
    """HTTP requests sent, retries included."""
    retries: int = 0
    """Requests repeated after a 429, a 5xx or a dropped connection."""
    rate_limited: int = 0
    """429 answers received."""
    elapsed: float = 0.0
    """Seconds from start to end."""
    _outcomes: bytearray = attrs.field(factory=bytearray, repr=False, alias="_outcomes")
    _unsent_leads: list[dict[str, Any]] = attrs.field(
        factory=list, repr=False, alias="_unsent_leads"
    )

    @property
    def skipped_total(self) -> int:
        """Leads not created, whatever the reason."""
        return sum(self.skipped.values())

    @property
    def failed_total(self) -> int:
        """Leads whose request failed for good."""
        return sum(len(chunk.positions) for chunk in self.failed)

    @property
    def done(self) -> int:
        """Inputs settled so far: created, skipped or failed."""
        return self.created + self.skipped_total + self.failed_total

    @property
    def rate(self) -> float:
        """Requests per second over the import."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def outcome(self, position: int) -> str:
        """What became of the input at `position`: created, skipped, failed or not_sent."""
        return _OUTCOME_NAMES[self._outcomes[position]]

    def failed_leads(self) -> list[dict[str, Any]]:
        """The leads to send again: those of failed requests, then those never sent."""
        leads = [lead for chunk in self.failed for lead in chunk.leads]
        return leads + self._unsent_leads

    def summary(self) -> str:
        """One line for a log."""
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        text = (
            f"{self.total} read: {self.created} created, {self.skipped_total} skipped"
            f"{f' ({skipped})' if skipped else ''}, {self.failed_total} failed"
        )
        if self.cancelled:
            text += f", {len(self.not_sent)} not sent (cancelled)"
        return (
            f"{text}; {self.requests} requests, {self.retries} retries, "
            f"{self.rate_limited} 429s in {self.elapsed:.1f} s"
        )

    def __str__(self) -> str:
        return self.summary()

    def _check_invariant(self) -> None:
        counts = Counter(self._outcomes)
        expected = {
            _CREATED: self.created,
            _SKIPPED: self.skipped_total,
            _FAILED: self.failed_total,
            _NOT_SENT: len(self.not_sent),
        }
        if (
            counts[_PENDING]
            or len(self._outcomes) != self.total
            or any(counts[code] != n for code, n in expected.items())
            or len(self.created_ids) != self.created
        ):
            raise AssertionError(  # a bug in this module, never the caller's fault
                f"bulk_add lost track of leads: {self.summary()}; per position "
                f"{ {_OUTCOME_NAMES[c]: n for c, n in sorted(counts.items())} }"
            )


class LeadScreen:
    """The checks `bulk_add` makes before sending, for one import: shape, `check_lead`, repeats.

    for_campaign: True for an import into a campaign, False for a list.
    """

    def __init__(self, for_campaign: bool) -> None:
        self.for_campaign = for_campaign
        self.seen: set[str] = set()  # lower-cased emails met so far
        self.fits = _predicate(BulkAddLeadsRequestLead, OPEN_ENUMS)

    def screen(self, item: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
        """The lead as it would be sent, and why it may not be (reason, detail), or None."""
        if type(item) is dict or (
            isinstance(item, Mapping) and not isinstance(item, BulkAddLeadsRequestLead)
        ):
            lead: dict[str, Any] = item if type(item) is dict else dict(item)
            if not self.fits(lead):
                return lead, ("invalid_lead", _misfit(lead))
            if Unset.UNSET in lead.values():  # "not given" is left out, as for any request
                lead = {k: v for k, v in lead.items() if v is not Unset.UNSET}
        elif isinstance(item, BulkAddLeadsRequestLead):
            lead = unstructure(item)
        else:
            return {}, (
                "invalid_lead",
                f"a lead must be a dict or a BulkAddLeadsRequestLead, not {type(item).__name__}",
            )
        why = check_lead(lead, self.for_campaign)
        if why is not None:
            return lead, why
        email = lead.get("email")
        if email:
            key = email.strip().lower()
            if key in self.seen:
                return lead, ("duplicate_in_input", f"{email!r} appears earlier in the input")
            self.seen.add(key)
        return lead, None


@attrs.define(eq=False, slots=True)
class _Chunk:
    positions: list[int]
    leads: list[dict[str, Any]]
    settled: bool = False  # accounted for: created/skipped, or failed


class _Import:
    """The state of one bulk import; `run` drives it."""

    def __init__(
        self,
        resource: Resource,
        leads: Iterable[Any] | AsyncIterable[Any],
        body: dict[str, Any],
        batch_size: int,
        concurrency: int,
        on_progress: Callable[[int, int | None, BulkAddResult], Any] | None,
    ) -> None:
        self.resource = resource
        self.op = OPERATIONS["bulkAddLeads"]
        self.body = body
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.on_progress = on_progress
        self.for_campaign = "campaign_id" in body
        self.expected = len(leads) if isinstance(leads, Sized) else None
        # A plain iterable is read without an await per item: this loop runs for every lead.
        self.source: Iterator[Any] | AsyncIterator[Any] = (
            aiter(leads) if isinstance(leads, AsyncIterable) else iter(leads)
        )
        self.result = BulkAddResult()
        self.screen = LeadScreen(self.for_campaign).screen
        self.in_flight: dict[asyncio.Task[None], _Chunk] = {}
        self.crash: BaseException | None = None
        self.slots = asyncio.Semaphore(concurrency)

    async def run(self) -> BulkAddResult:
        transport = self.resource._client._transport
        before = attrs.evolve(transport.stats)
        started = time.perf_counter()
        slots = self.slots
        building: _Chunk | None = None
        try:
            while True:
                # A slot first, then the leads: at most `concurrency` chunks are ever held.
                await slots.acquire()
                if self.crash is not None:
                    slots.release()
                    break
                building = _Chunk([], [])
                await self._fill(building)
                if not building.leads:
                    slots.release()
                    break
                task = asyncio.create_task(self._send(building))
                self.in_flight[task] = building
                building = None
                task.add_done_callback(self._settled)
            if self.in_flight:
                await asyncio.wait(list(self.in_flight))
        except asyncio.CancelledError as exc:
            await self._stop(building)
            self._finish(before, started)
            raise BulkCancelledError(self.result) from exc
        except BaseException:
            await self._stop(building)
            raise
        self._finish(before, started)
        if self.crash is not None:
            raise self.crash
        return self.result

    async def _fill(self, chunk: _Chunk) -> None:
        """Read inputs until the chunk holds `batch_size` leads or the input ends."""
        source = self.source
        if isinstance(source, AsyncIterator):
            async for item in source:
                if self._take(item, chunk):
                    return
        else:
            for item in source:
                if self._take(item, chunk):
                    return

    def _take(self, item: Any, chunk: _Chunk) -> bool:
        """Account one input: into the chunk, or skipped; True when the chunk is full."""
        result = self.result
        position = result.total
        result.total += 1
        lead, reason = self.screen(item)
        if reason is not None:
            result._outcomes.append(_SKIPPED)
            result.invalid.append(Rejection(position, *reason))
            result.skipped[reason[0]] += 1
            return False
        result._outcomes.append(_PENDING)
        chunk.positions.append(position)
        chunk.leads.append(lead)
        return len(chunk.leads) >= self.batch_size

    async def _send(self, chunk: _Chunk) -> None:
        try:
            data = await self.resource._send(
                self.op, self.op.path, None, {**self.body, "leads": chunk.leads}
            )
            created = _created(data, len(chunk.leads))
        except Exception as exc:  # an API error, or a lead value JSON cannot carry: this chunk's
            self._fail(chunk, exc)
        else:
            self._account(chunk, data, created)
        if self.on_progress is not None:
            answer = self.on_progress(self.result.done, self.expected, self.result)
            if isinstance(answer, Awaitable):
                await answer

    def _settled(self, task: asyncio.Task[None]) -> None:
        del self.in_flight[task]
        self.slots.release()
        if not task.cancelled() and task.exception() is not None and self.crash is None:
            self.crash = task.exception()

    def _account(
        self, chunk: _Chunk, data: Mapping[str, Any], created: list[tuple[int, str]]
    ) -> None:
        chunk.settled = True
        result = self.result
        outcomes = result._outcomes
        positions = chunk.positions
        for index, lead_id in created:
            position = positions[index]
            result.created_ids[position] = lead_id
            outcomes[position] = _CREATED
        result.created += len(created)
        not_created = len(positions) - len(created)
        if not_created:
            for position in positions:
                if outcomes[position] == _PENDING:
                    outcomes[position] = _SKIPPED
            result.skipped.update(_skip_reasons(data, not_created))

    def _fail(self, chunk: _Chunk, error: BaseException) -> None:
        chunk.settled = True
        for position in chunk.positions:
            self.result._outcomes[position] = _FAILED
        self.result.failed.append(FailedChunk(chunk.positions, error, chunk.leads))
        logger.warning("leads.bulk_add: a request of %d leads failed: %s", len(chunk.leads), error)

    async def _stop(self, building: _Chunk | None) -> None:
        """Cancel what is in flight and mark what was read but not sent."""
        self.result.cancelled = True
        tasks = list(self.in_flight)
        for task in tasks:
            task.cancel()
        chunks = [self.in_flight[t] for t in tasks]
        if tasks:
            await asyncio.wait(tasks)
        for chunk in chunks:
            if not chunk.settled:
                self._fail(
                    chunk,
                    ChunkCancelledError(
                        f"cancelled in flight ({len(chunk.leads)} leads): the API may or may not "
                        "have added them; resending with a skip flag set is harmless"
                    ),
                )
        if building is not None:
            for position, lead in zip(building.positions, building.leads, strict=True):
                self.result._outcomes[position] = _NOT_SENT
                self.result.not_sent.append(position)
                self.result._unsent_leads.append(lead)

    def _finish(self, before: Any, started: float) -> None:
        result = self.result
        stats = self.resource._client._transport.stats
        result.elapsed = time.perf_counter() - started
        result.requests = stats.requests_sent - before.requests_sent
        result.retries = stats.retries - before.retries
        result.rate_limited = stats.rate_limited - before.rate_limited
        result._check_invariant()


def _created(data: Any, sent: int) -> list[tuple[int, str]]:
    """(index in the request, lead ID) of each created lead, checked against what was sent."""
    entries = data.get("created_leads") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise _bad_answer("it has no created_leads list")
    try:
        created = [(entry["index"], entry["id"]) for entry in entries]
    except (KeyError, TypeError):
        raise _bad_answer("a created_leads entry has no index or id") from None
    indexes = {index for index, _ in created}
    if len(indexes) != len(created) or not all(type(i) is int and 0 <= i < sent for i in indexes):
        wrong = next((i for i in indexes if type(i) is not int or not 0 <= i < sent), None)
        raise _bad_answer(
            f"created_leads holds index {wrong!r} for {sent} leads sent"
            if wrong is not None
            else "created_leads repeats an index"
        )
    if not all(type(lead_id) is str for _, lead_id in created):
        raise _bad_answer("a created_leads id is not a string")
    return created


def _bad_answer(why: str) -> InstantlyError:
    return StructureError("BulkAddLeadsResult", f"unusable answer to leads/add: {why}")


# The API's counts of leads it did not create, in the order they are trusted.
_API_SKIP_COUNTS: Final = (
    ("in_blocklist", "blocklisted"),
    ("duplicated_leads", "already_present"),
    ("skipped_count", "already_present"),
    ("invalid_email_count", "invalid_email"),
    ("incomplete_count", "incomplete"),
    ("duplicate_email_count", "duplicate_in_input"),
)


def _skip_reasons(data: Mapping[str, Any], not_created: int) -> Counter[str]:
    """Split `not_created` leads by the API's reasons; what no count explains is skipped_by_api."""
    reasons: Counter[str] = Counter()
    left = not_created
    for field, reason in _API_SKIP_COUNTS:
        count = data.get(field)
        if type(count) is int and count > 0 and left > 0:
            taken = min(count, left)
            reasons[reason] += taken
            left -= taken
    if left:
        reasons["skipped_by_api"] += left
    return reasons


def _misfit(lead: Mapping[str, Any]) -> str:
    try:
        _check("lead", lead, BulkAddLeadsRequestLead, OPEN_ENUMS)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return "lead does not fit BulkAddLeadsRequestLead"


async def _items(source: Iterable[Any] | AsyncIterable[Any]) -> AsyncGenerator[Any, None]:
    """One async iterator over a sync or async iterable, read one item at a time."""
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def bulk_add_leads(
    resource: Resource,
    leads: Iterable[Any] | AsyncIterable[Any],
    *,
    body: dict[str, Any],
    batch_size: int,
    concurrency: int,
    on_progress: Callable[[int, int | None, BulkAddResult], Any] | None,
) -> BulkAddResult:
    """Run one import; `body` holds the request's fields other than `leads`, already checked."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH}, got {batch_size}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if isinstance(leads, str | bytes | Mapping) or not isinstance(leads, Iterable | AsyncIterable):
        raise TypeError(
            f"leads must be an iterable or async iterable of leads, got {type(leads).__name__}"
        )
    return await _Import(resource, leads, body, batch_size, concurrency, on_progress).run()


# -- the runner for any call -------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen(slots=True)
class Outcome(Generic[T, R]):
    """What one item of a bulk run came to."""

    index: int
    """Its position in the input (0-based)."""
    item: T
    """The item itself."""
    value: R | None = None
    """What `fn(item)` returned, if it succeeded."""
    error: Exception | None = None
    """What `fn(item)` raised, if it failed."""

    @property
    def ok(self) -> bool:
        """Whether `fn(item)` returned without raising."""
        return self.error is None


@attrs.define(eq=False)
class BulkResult(Generic[T, R]):
    """Every outcome of a bulk run, in input order: `succeeded` and `failed`."""

    succeeded: list[Outcome[T, R]] = attrs.field(factory=list)
    failed: list[Outcome[T, R]] = attrs.field(factory=list)

    @property
    def total(self) -> int:
        """Items run."""
        return len(self.succeeded) + len(self.failed)

    def __repr__(self) -> str:
        return f"BulkResult(succeeded={len(self.succeeded)}, failed={len(self.failed)})"


class BulkRun(Generic[T, R]):
    """`await fn(item)` for every item, at most `concurrency` at a time.

    Iterate it (`async for outcome in run`) to get each outcome as it finishes, or await it for
    a `BulkResult`. Items are read lazily (at most `concurrency` ahead); one item that raises
    never stops the others. Breaking out of the loop cancels the calls still running. A run can
    be consumed once.
    """

    def __init__(
        self,
        fn: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if not callable(fn):
            raise TypeError(f"fn must be an async function taking one item, got {fn!r}")
        if isinstance(items, str | bytes) or not isinstance(items, Iterable | AsyncIterable):
            raise TypeError(
                f"items must be an iterable or async iterable, got {type(items).__name__}"
            )
        self._fn = fn
        self._items = items
        self._concurrency = concurrency
        self._started = False

    def __repr__(self) -> str:
        return f"<BulkRun of {getattr(self._fn, '__qualname__', self._fn)!r}, concurrency={self._concurrency}>"

    def __aiter__(self) -> AsyncIterator[Outcome[T, R]]:
        return self._outcomes()

    def __await__(self) -> Generator[Any, None, BulkResult[T, R]]:
        return self._collect().__await__()

    async def _collect(self) -> BulkResult[T, R]:
        result: BulkResult[T, R] = BulkResult()
        async for outcome in self._outcomes():
            (result.succeeded if outcome.ok else result.failed).append(outcome)
        result.succeeded.sort(key=lambda o: o.index)
        result.failed.sort(key=lambda o: o.index)
        return result

    async def _outcomes(self) -> AsyncIterator[Outcome[T, R]]:
        if self._started:
            raise RuntimeError("this bulk run was already consumed; call client.bulk(...) again")
        self._started = True
        done: asyncio.Queue[Outcome[T, R] | None] = asyncio.Queue()
        source = _items(self._items)
        reading = asyncio.Lock()  # an async generator may not be advanced by two tasks at once
        counter = 0

        async def worker() -> None:
            nonlocal counter
            try:
                while True:
                    async with reading:
                        try:
                            item = await anext(source)
                        except StopAsyncIteration:
                            return
                        index = counter
                        counter += 1
                    try:
                        value = await self._fn(item)
                    except Exception as exc:  # one item's failure is its outcome, not the run's
                        done.put_nowait(Outcome(index, item, error=exc))
                    else:
                        done.put_nowait(Outcome(index, item, value))
            finally:
                done.put_nowait(None)

        workers = [asyncio.create_task(worker()) for _ in range(self._concurrency)]
        running = len(workers)
        try:
            while running:
                outcome = await done.get()
                if outcome is None:
                    running -= 1
                else:
                    yield outcome
            for task in workers:
                task.result()  # a worker's own crash (the input raising) surfaces here
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await source.aclose()
