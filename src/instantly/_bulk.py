"""Bulk work over the one pipeline: the chunked lead import and a bounded runner for any call.

`bulk_add_leads` (behind `client.leads.bulk_add`) reads leads lazily, refuses per lead what the
API would refuse (so one bad lead never fails a request of 1,000), sends chunks of up to 1,000
with bounded concurrency through the client's transport (rate gate, shared 429 pause), and
accounts for every input: created, skipped with a reason, failed with its error, or not sent.
`BulkRun` (behind `client.bulk`) runs `await fn(item)` for many items with bounded concurrency.

Meaning is kept across failures. The import sets no skip flag the caller did not set, so a lead
already in another campaign is added to this one. A request whose fate is unknown (a 5xx, a
dropped connection, a timeout, a garbled answer) is never sent again blindly: the import asks the
API which of its leads are now in the target (`POST /leads/list` filtered by their emails and
the campaign or list), counts those as created with their IDs, and sends only the others again.
A lead with no email cannot be looked up, so it ends `failed` with `OutcomeUnknownError` ("it may
exist") rather than risk a second copy. A request that surely did nothing (a 4xx, a connection
never made) is not looked up. A lead the lookup finds that was in the target before this import
began (its creation time is more than CLOCK_SKEW before the request was first sent) is counted
as skipped `already_present`, as the API itself would have answered.

Default concurrency is 32 for both runners. Throughput is min(limit, concurrency / latency): to
keep the API's 100 requests/s busy at a typical 200 ms per request needs 20 requests in flight;
32 leaves room for latency spikes (it still saturates the limit up to 320 ms) while holding at
most 32 x 1,000 leads in memory. The rate gate, not the concurrency, is what keeps the API happy.

Memory per lead read is about 20 bytes, whatever the input's size: an outcome byte, the created
lead's ID as 16 bytes (a UUID; any other ID is kept as a string), and a slot of the duplicate
check, which keeps a 64-bit hash of each lower-cased email instead of the email itself. Two
different emails share a hash with a chance of about n²/2⁶⁵ (10⁻⁶ for ten million leads); the
second would then be skipped as `duplicate_in_input`.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime
import logging
import math
import operator
import re
import time
import zlib
from array import array
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
    Sequence,
    Sized,
)
from itertools import chain, islice, repeat
from os import PathLike
from typing import TYPE_CHECKING, Any, Final, Generic, NamedTuple, TypeVar

import attrs

from . import _json
from ._convert import StructureError, unstructure
from ._generated.models import BulkAddLeadsRequestLead
from ._generated.operations import OPEN_ENUMS, OPERATIONS
from ._journal import Journal
from ._transport import _NOT_SENT as _NEVER_CONNECTED
from ._types import Unset
from ._validate import _check, _plain_kinds, _predicate
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BulkCancelledError,
    BulkImportError,
    ChunkCancelledError,
    InstantlyError,
    OutcomeUnknownError,
)

if TYPE_CHECKING:
    from ._resource import Resource

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_CONCURRENCY",
    "SKIP_REASONS",
    "BulkAddResult",
    "BulkResult",
    "BulkRun",
    "CreatedIds",
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
LOOKUP_PAGE: Final = 100  # the most leads one `POST /api/v2/leads/list` answers
CLOCK_SKEW: Final = 60.0
"""Seconds by which this machine's clock and the API's may differ. A lead found by a lookup
counts as created by this import if the API created it no earlier than this long before the
request was first sent; an older one was there already (`already_present`)."""
_PACK = 100  # leads are read, screened and encoded this many at a time (see _Chunk)
_MAX_REFUSED_LEADS = 20  # leads of one request the API may refuse by index before it fails whole

SKIP_REASONS: Final = (
    "already_present",  # in this campaign or list already, or skipped by a skip_if_* flag
    "blocklisted",  # on the blocklist used for the import
    "invalid_email",  # not an email address, or no email for a campaign import
    "incomplete",  # a list import lead with no email and no name
    "duplicate_in_input",  # the same email as an earlier lead of this import
    "invalid_lead",  # an unknown field, a value of the wrong type, or one JSON cannot carry
    "skipped_by_api",  # the API skipped it and gave no reason we know
)

# Per-position outcome codes, one byte per input.
_PENDING, _CREATED, _SKIPPED, _FAILED, _NOT_SENT = range(5)
_OUTCOME_NAMES: Final = ("pending", "created", "skipped", "failed", "not_sent")
_CREATED_BYTE: Final = bytes([_CREATED])

# Journal codes, one per position of a request: what a later run of the import does with it.
_J_UNKNOWN = 0  # nothing known (refused at encoding, or by the API): screen and send it again
_J_CREATED = 1
_J_RESEND = 2  # failed, surely not added: send it again
_J_MAY_EXIST = 3  # failed, may have been added, cannot be looked up: failed again, not sent
_J_LOOKUP = 4  # in flight, or its lookup failed: look it up, then send it if it is not there
_J_SKIPPED = 16  # + the index of its reason in SKIP_REASONS


def _email_ok(email: str) -> bool:
    r"""Whether `email` looks like an address: one "@" with something before it, a dot inside
    the domain, no white space or unprintable character (what `[^@\s]+@[^@\s]+\.[^@\s]+`
    matches, control characters left out), without a regex: this runs for every lead.

    Deliberately loose: the API has the final word; this only saves a request on what it would
    surely refuse.
    """
    at = email.find("@")
    return (
        at > 0
        and email.rfind(".", at + 2, -1) != -1
        and email.count("@") == 1
        and " " not in email
        and email.isprintable()
    )


def check_lead(lead: Mapping[str, Any], for_campaign: bool) -> tuple[str, str] | None:
    """Why the API would refuse this lead, as (reason, detail), or None if it may be sent.

    Args:
        lead: the lead's fields by wire name.
        for_campaign: True for an import into a campaign (an email is required), False for a
            list (an email, a first name or a last name is required).

    Returns:
        None if the lead may be sent; else `(reason, detail)`: the reason is one of
        `SKIP_REASONS` (`invalid_email`, `incomplete`), the detail says what is wrong.
    """
    email = lead.get("email")
    if email is None or email == "":
        if for_campaign:
            return "invalid_email", "no email (a campaign import needs one)"
        if not lead.get("first_name") and not lead.get("last_name"):
            return "incomplete", "no email, first_name or last_name (a list import needs one)"
        return None
    if type(email) is not str or not _email_ok(email):
        return "invalid_email", f"{email!r} is not an email address"
    return None


class Rejection(NamedTuple):
    """A lead refused before sending (or refused alone by the API)."""

    position: int
    """Its position in the input (0-based)."""
    reason: str
    """One of SKIP_REASONS."""
    detail: str
    """What is wrong, for a person."""


@attrs.define(eq=False)
class FailedChunk:
    """Leads of one request that failed for good."""

    positions: list[int]
    """Input positions of the leads."""
    error: BaseException
    """Why: an APIError or APIConnectionError the request ended with (the leads are surely not
    in the target: the request did nothing, or a lookup found them absent), or an
    OutcomeUnknownError (they may be there: look before sending them again)."""
    leads: list[dict[str, Any]] = attrs.field(repr=False)
    """The leads, as sent."""

    @property
    def may_exist(self) -> bool:
        """Whether these leads may have been added all the same (see `error`)."""
        return isinstance(self.error, OutcomeUnknownError)


def _uuid_bytes(joined: str, n: int) -> bytes | None:
    """The 16 bytes of each of n lower-case UUIDs written back to back, or None if `joined` is
    not exactly that. Whole-string operations only: it runs for every lead created."""
    if (
        len(joined) != 36 * n
        or joined.count("-") != 4 * n
        or any(joined[start::36].count("-") != n for start in (8, 13, 18, 23))
        or joined != joined.lower()
    ):
        return None
    try:
        raw = bytes.fromhex(joined.replace("-", ""))
    except ValueError:
        return None
    return raw if len(raw) == 16 * n else None  # fromhex skips white space: it must be absent


class _IdStore:
    """IDs of created leads by input position: 16 bytes each for a lower-case UUID (what the API
    hands out), a dict entry for any other string."""

    __slots__ = ("blob", "odd")

    def __init__(self) -> None:
        self.blob = bytearray()
        self.odd: dict[int, str] = {}

    def reserve(self, total: int) -> None:
        """Make room for positions below `total`."""
        missing = 16 * total - len(self.blob)
        if missing > 0:
            self.blob.extend(bytes(missing))

    def put(self, positions: Sequence[int], ids: Sequence[str]) -> None:
        """Store ids[i] for positions[i]; positions increase."""
        n = len(ids)
        if not n:
            return
        blob = self.blob
        raw = _uuid_bytes("".join(ids), n)
        if raw is not None:
            first = positions[0]
            if positions[-1] - first == n - 1:  # increasing and n apart: consecutive
                blob[16 * first : 16 * (first + n)] = raw
                return
            for j, position in enumerate(positions):
                blob[16 * position : 16 * position + 16] = raw[16 * j : 16 * j + 16]
            return
        for position, lead_id in zip(positions, ids, strict=True):
            one = _uuid_bytes(lead_id, 1)
            if one is not None:
                blob[16 * position : 16 * position + 16] = one
            else:
                self.odd[position] = lead_id

    def get(self, position: int) -> str:
        odd = self.odd.get(position)
        if odd is not None:
            return odd
        h = self.blob[16 * position : 16 * position + 16].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class CreatedIds(Mapping[int, str]):
    """`result.created_ids`: input position -> ID of the lead created from it (read-only).

    A compact view (16 bytes per lead), not a dict: `dict(result.created_ids)` makes one.
    """

    __slots__ = ("_result",)

    def __init__(self, result: BulkAddResult) -> None:
        self._result = result

    def __getitem__(self, position: int) -> str:
        result = self._result
        if (
            type(position) is not int
            or not 0 <= position < len(result._outcomes)
            or result._outcomes[position] != _CREATED
        ):
            raise KeyError(position)
        return result._ids.get(position)

    def __iter__(self) -> Iterator[int]:
        outcomes = self._result._outcomes
        position = outcomes.find(_CREATED_BYTE)
        while position != -1:
            yield position
            position = outcomes.find(_CREATED_BYTE, position + 1)

    def __len__(self) -> int:
        return self._result.created

    def __repr__(self) -> str:
        shown = dict(zip(self, self.values(), strict=False)) if len(self) <= 3 else None
        return f"CreatedIds({shown})" if shown is not None else f"<CreatedIds of {len(self)} leads>"


_REPR_ITEMS = 3  # failed requests and rejections a repr shows


@attrs.define(eq=False, repr=False)
class BulkAddResult:
    """The account of one `leads.bulk_add`: every input read ends in exactly one bucket.

    `created + skipped_total + failed_total + len(not_sent) == total`, checked when the import
    ends. `requests`, `retries` and `rate_limited` are the client's counters over the import
    (other calls made on the same client meanwhile count too).
    """

    total: int = 0
    """Inputs read from `leads`."""
    created: int = 0
    """Leads this import created (with a journal: the runs of this import together)."""
    skipped: Counter[str] = attrs.field(factory=Counter)
    """Leads not created, by reason (see SKIP_REASONS); the API's counts and the client's checks."""
    invalid: list[Rejection] = attrs.field(factory=list)
    """Leads refused before sending (invalid, incomplete, duplicate in input) or refused alone
    by the API, with the reason, in input order."""
    failed: list[FailedChunk] = attrs.field(factory=list)
    """Leads whose request failed for good, with their error, by request."""
    not_sent: list[int] = attrs.field(factory=list)
    """Positions read but never sent, because the import was cancelled or stopped."""
    cancelled: bool = False
    """Whether the import was cancelled before the end of `leads`."""
    stopped_in: str | None = None
    """Where an exception of the caller's code stopped the import ("the input", "on_progress"),
    or None (see BulkImportError)."""
    reconciled: int = 0
    """Leads counted as created because a lookup found them after their request failed
    ambiguously (they are in `created` too)."""
    lookups: int = 0
    """`POST /leads/list` requests made to look leads up (in `requests` too)."""
    resumed: int = 0
    """Inputs whose outcome was read from the journal (settled by an earlier run)."""
    requests: int = 0
    """HTTP requests sent, retries included."""
    retries: int = 0
    """Requests repeated after a 429 or a connection failure."""
    rate_limited: int = 0
    """429 answers received."""
    elapsed: float = 0.0
    """Seconds from start to end."""
    _outcomes: bytearray = attrs.field(factory=bytearray, alias="_outcomes")
    _ids: _IdStore = attrs.field(factory=_IdStore, alias="_ids")
    _unsent_leads: list[dict[str, Any]] = attrs.field(factory=list, alias="_unsent_leads")

    @property
    def created_ids(self) -> CreatedIds:
        """Input position -> ID of the lead created from it, for every created lead."""
        return CreatedIds(self)

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
        """What became of one input.

        Args:
            position: the input's position in `leads` (0-based).

        Returns:
            "created", "skipped", "failed" or "not_sent".

        Raises:
            IndexError: `position` is not below `total`.
        """
        return _OUTCOME_NAMES[self._outcomes[position]]

    def failed_leads(self) -> list[dict[str, Any]]:
        """The leads to send again: those of failed requests, then those never sent.

        Leads of a request with `may_exist` may be in the target already: look first.

        Returns:
            The leads as they were sent (dicts of wire field names), failed ones first.
        """
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
        elif self.stopped_in is not None:
            text += f", {len(self.not_sent)} not sent (stopped by an error in {self.stopped_in})"
        elif self.not_sent:
            text += f", {len(self.not_sent)} not sent"
        if self.resumed:
            text += f"; {self.resumed} settled by an earlier run"
        if self.lookups:
            text += f"; {self.reconciled} found by {self.lookups} lookups"
        return (
            f"{text}; {self.requests} requests, {self.retries} retries, "
            f"{self.rate_limited} 429s in {self.elapsed:.1f} s"
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        failed = [
            f"{len(c.positions)} at {c.positions[0]}: {type(c.error).__name__}({str(c.error)!r})"
            for c in self.failed[:_REPR_ITEMS]
        ]
        if len(self.failed) > _REPR_ITEMS:
            failed.append(f"... {len(self.failed) - _REPR_ITEMS} more requests")
        invalid = [repr(tuple(r)) for r in self.invalid[:_REPR_ITEMS]]
        if len(self.invalid) > _REPR_ITEMS:
            invalid.append(f"... {len(self.invalid) - _REPR_ITEMS} more")
        return (
            f"BulkAddResult(total={self.total}, created={self.created}, "
            f"skipped={dict(self.skipped)}, failed={self.failed_total} [{', '.join(failed)}], "
            f"invalid={len(self.invalid)} [{', '.join(invalid)}], not_sent={len(self.not_sent)}, "
            f"cancelled={self.cancelled}, requests={self.requests}, elapsed={self.elapsed:.1f})"
        )

    def _check_invariant(self) -> None:
        counts: Counter[int] = Counter(self._outcomes)
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
        ):
            raise AssertionError(  # a bug in this module, never the caller's fault
                f"bulk_add lost track of leads: {self.summary()}; per position "
                f"{ {_OUTCOME_NAMES[c]: n for c, n in sorted(counts.items())} }"
            )


class _KeySet:
    """The 64-bit hashes of the keys met so far, in an open-addressing table (8 bytes a slot).

    A set of Python ints costs about 75 bytes per key; this costs 12 to 24.
    """

    __slots__ = ("count", "limit", "mask", "table")

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.table = array("q", bytes(8 * capacity))
        self.mask = capacity - 1
        self.count = 0
        self.limit = capacity // 2

    def add(self, key: str) -> bool:
        """Add `key`; False if it (or a key with the same hash) was there already."""
        h = hash(key) or 1  # 0 marks an empty slot
        table, mask = self.table, self.mask
        i = h & mask
        while True:
            found = table[i]
            if found == h:
                return False
            if not found:
                break
            i = (i + 1) & mask
        table[i] = h
        self.count += 1
        if self.count > self.limit:
            self.grow()
        return True

    def grow(self) -> None:
        """Make the table larger (when it is half full), keeping every hash."""
        old = self.table
        # Four times larger while small (fewer rebuilds), twice once large (less memory).
        capacity = len(old) * (4 if len(old) < 1 << 22 else 2)
        table = array("q", bytes(8 * capacity))
        mask = capacity - 1
        for h in old:
            if h:
                i = h & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = h
        self.table, self.mask, self.limit = table, mask, capacity // 2


_NONE: Final = type(None)
_CUSTOM = "custom_variables"
# Field -> the exact types its value may have to be taken as it is; any other value of a known
# field (an enum member, a subclass, UNSET, NaN...) takes the full check.
_FAST_KINDS: Final = {
    name: frozenset(k for k in kinds if k is not Unset)
    for name, kinds in (
        (field.metadata.get("wire", field.name), _plain_kinds(field.type))
        for field in attrs.fields(attrs.resolve_types(BulkAddLeadsRequestLead))
    )
    if kinds
} | {_CUSTOM: frozenset({dict, _NONE})}
_FAST_GET: Final = _FAST_KINDS.get
_SCALARS: Final = frozenset({str, int, bool, _NONE})  # custom variable values; float apart


def _non_finite(value: Any) -> bool:
    return type(value) is float and value - value != 0.0  # NaN and ±inf give NaN


_FIELD_KINDS: Final = frozenset({str, _NONE, dict})
_CV_KINDS: Final = _SCALARS | {float}
_PLAIN_KEYS: Final = frozenset(k for k, kinds in _FAST_KINDS.items() if kinds <= _FIELD_KINDS)
# Over emails joined by spaces, each with one "@": a domain whose dots are all at its ends (no
# dot with something on each side). Possessive, so that a good domain fails it at once.
_NO_INNER_DOT: Final = re.compile(r"@\.?[^. @]*+\.?(?: |$)")


class _AtAndSpace(dict[int, None]):
    """A str.translate table that deletes every character but "@" and " "."""

    def __missing__(self, code: int) -> None:
        if code in (0x40, 0x20):
            raise LookupError(code)  # kept as it is
        return None


_AT_AND_SPACE: Final = _AtAndSpace({c: None for c in range(128) if c not in (0x40, 0x20)})
_ONE_AT_EACH: Final = "@ " * _PACK + "@"


def _plain_batch(batch: list[Any]) -> list[str] | None:
    """The emails of a batch of leads that passes every check of the common case, or None.

    The same checks as `LeadScreen.quick` (but for the duplicate check), over the whole batch
    at once: dicts of known fields, each a string or null but custom_variables, a dict (or
    null) of strings, numbers, booleans and nulls with no NaN or infinity; every lead with an
    email that `_email_ok` accepts. Calls into C only: no Python-level step per lead.
    """
    if set(map(type, batch)) != {dict} or not all(map(_PLAIN_KEYS.issuperset, batch)):
        return None
    kinds = list(map(type, chain.from_iterable(map(dict.values, batch))))
    if not _FIELD_KINDS.issuperset(kinds):
        return None
    customs: list[Any] = list(map(dict.get, batch, repeat(_CUSTOM)))
    custom_kinds = list(map(type, customs))
    dicts = custom_kinds.count(dict)
    if dicts + custom_kinds.count(_NONE) != len(batch) or kinds.count(dict) != dicts:
        return None  # a dict where a string belongs, or custom_variables that is not a dict
    if dicts:
        values = list(chain.from_iterable(map(dict.values, filter(None, customs))))
        value_kinds = set(map(type, values))
        if not _CV_KINDS.issuperset(value_kinds):
            return None
        if float in value_kinds and not math.isfinite(
            math.fsum(filter(float.__instancecheck__, values))
        ):
            return None  # a NaN or an infinity (or a sum too large: the slow path will see)
    emails: list[Any] = list(map(dict.get, batch, repeat("email")))
    if set(map(type, emails)) != {str}:
        return None
    # `_email_ok` of each email, on the emails joined by spaces (which no valid one holds):
    # with nothing but its "@"s and spaces left, the string must read "@ @ ... @" (one "@"
    # each), and no "@" may open an email.
    joined = " ".join(emails)
    if (
        joined.count(" ") != len(emails) - 1
        or joined.translate(_AT_AND_SPACE) != _ONE_AT_EACH[: 2 * len(emails) - 1]
        or joined.startswith("@")
        or " @" in joined
        or not joined.isprintable()
        or _NO_INNER_DOT.search(joined)
    ):
        return None
    return emails


class LeadScreen:
    """The checks `bulk_add` makes on each lead before sending, shared with the CLI's dry run.

    Shape (known fields, value types), custom variable values (string, number, boolean or
    null; no NaN or infinity), `check_lead`, and repeats of an earlier email. A screen
    remembers the emails it has seen: use one per import.
    """

    def __init__(self, for_campaign: bool, *, nan_as_null: bool = False) -> None:
        """Start a screen that has seen no lead yet.

        Args:
            for_campaign: True for an import into a campaign, False for a list.
            nan_as_null: send NaN and ±infinity (what pandas gives for blank cells) as null
                instead of refusing the lead.
        """
        self.for_campaign = for_campaign
        self.nan_as_null = nan_as_null
        self.seen = _KeySet()  # hashes of the lower-cased emails met so far
        self.fits = _predicate(BulkAddLeadsRequestLead, OPEN_ENUMS)

    def screen(self, item: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
        """Check one lead.

        Args:
            item: the lead: a dict of wire field names, a mapping or a BulkAddLeadsRequestLead.

        Returns:
            The lead as it would be sent (a dict), and why it may not be sent as
            `(reason, detail)`, or None if it may.
        """
        verdict = self.quick(item)
        return (item, None) if verdict is None else verdict

    def many(self, batch: list[Any]) -> list[tuple[int, dict[str, Any], tuple[str, str] | None]]:
        """`screen` of a batch, in one pass.

        The checks of the common case (dicts of string fields and a dict of custom variables,
        each with an address) are made over the whole batch with C-level calls; a batch that
        fails one takes `quick` lead by lead, which finds and explains the lead at fault.

        Args:
            batch: the leads, in input order.

        Returns:
            `(index, lead, why)` for each lead not to be sent as it is (`why` None: send `lead`,
            a cleaned copy, instead of the input); an empty list, the usual answer, means
            every lead of the batch may be sent as it is.
        """
        emails = _plain_batch(batch)
        if emails is None:
            quick = self.quick
            return [
                (index, *verdict)
                for index, verdict in enumerate(map(quick, batch))
                if verdict is not None
            ]
        # _KeySet.add, inlined over the batch: this runs for every lead. (A key whose hash is
        # 0, one in 2**64, is stored as "empty": only its own repeats would go unseen.)
        seen = self.seen
        while seen.count + len(emails) > seen.limit:
            seen.grow()
        table, mask = seen.table, seen.mask
        added = 0
        repeats: list[tuple[int, dict[str, Any], tuple[str, str] | None]] = []
        for index, h in enumerate(list(map(hash, map(str.lower, emails)))):
            i = h & mask
            found = table[i]
            while found:
                if found == h:
                    email = emails[index]
                    why = ("duplicate_in_input", f"{email!r} appears earlier in the input")
                    repeats.append((index, batch[index], why))
                    break
                i = (i + 1) & mask
                found = table[i]
            else:
                table[i] = h
                added += 1
        seen.count += added
        return repeats

    def quick(
        self, item: Any, shaped: bool = False
    ) -> tuple[dict[str, Any], tuple[str, str] | None] | None:
        """`screen` for the hot path, which makes no tuple for a lead that passes.

        Args:
            item: the lead, as `screen` takes it.
            shaped: the lead's fields and values were checked already (by `_slow`).

        Returns:
            None when `item` is a dict that may be sent as it is (nearly every lead);
            otherwise what `screen` returns.
        """
        if not shaped:
            if type(item) is not dict:
                return self._slow(item)
            fast = _FAST_GET
            for key, value in item.items():
                kinds = fast(key)
                if kinds is None or type(value) not in kinds:
                    return self._slow(item)
            custom = item.get(_CUSTOM)
            if custom:
                for value in custom.values():
                    if type(value) not in _SCALARS and (type(value) is not float or value - value):
                        return self._slow(item)
        email = item.get("email")
        if type(email) is not str or not email:
            why = check_lead(item, self.for_campaign)
            return None if why is None else (item, why)
        if not _email_ok(email):
            return item, ("invalid_email", f"{email!r} is not an email address")
        if not self.seen.add(email.lower()):
            return item, ("duplicate_in_input", f"{email!r} appears earlier in the input")
        return None

    def _slow(self, item: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
        """Every check, for a lead the fast path could not decide; the caller's dicts are never
        changed (a copy is made to drop UNSET values or to replace NaN)."""
        if type(item) is dict:
            lead: dict[str, Any] = item
        elif isinstance(item, BulkAddLeadsRequestLead):
            lead = unstructure(item)
        elif isinstance(item, Mapping):
            lead = dict(item)
        else:
            return {}, (
                "invalid_lead",
                f"a lead must be a dict or a BulkAddLeadsRequestLead, not {type(item).__name__}",
            )
        if any(v is Unset.UNSET for v in lead.values()):  # "not given": left out, as anywhere
            lead = {k: v for k, v in lead.items() if v is not Unset.UNSET}
        bad = [k for k, v in lead.items() if _non_finite(v)]
        if bad:
            if not self.nan_as_null:
                return lead, ("invalid_lead", _nan_detail(bad[0], lead[bad[0]]))
            lead = {**lead, **dict.fromkeys(bad)}
        if lead.get(_CUSTOM) and isinstance(lead[_CUSTOM], Mapping):
            # Before the model's check, which refuses NaN too: blank cells may become null.
            lead, why = self._custom(lead)
            if why is not None:
                return lead, why
        if not self.fits(lead):
            return lead, ("invalid_lead", _misfit(lead))
        verdict = self.quick(lead, shaped=True)
        return (lead, None) if verdict is None else verdict

    def _custom(self, lead: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str] | None]:
        custom: dict[Any, Any] = lead[_CUSTOM]
        for name, value in custom.items():
            if type(value) in _SCALARS or isinstance(value, str | int | float):
                if not _non_finite(value):
                    continue
                if self.nan_as_null:
                    continue
                return lead, ("invalid_lead", _nan_detail(f"custom_variables[{name!r}]", value))
            return lead, (
                "invalid_lead",
                f"custom_variables[{name!r}] must be a string, number, boolean or null, "
                f"not {_kind(value)}",
            )
        if self.nan_as_null:
            cleaned = {k: None if _non_finite(v) else v for k, v in custom.items()}
            lead = {**lead, _CUSTOM: cleaned}
        return lead, None


def _nan_detail(field: str, value: float) -> str:
    return (
        f"{field} is {value!r}, which JSON cannot carry (a blank cell read by pandas?); "
        "pass nan_as_null=True to send it as null"
    )


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        return (
            f"a list ({_json.dumps(list(value)).decode()[:60]})" if _jsonable(value) else "a list"
        )
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _jsonable(value: Any) -> bool:
    try:
        _json.dumps(value)
    except TypeError:
        return False
    return True


def _misfit(lead: Mapping[str, Any]) -> str:
    try:
        _check("lead", lead, BulkAddLeadsRequestLead, OPEN_ENUMS)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return "lead does not fit BulkAddLeadsRequestLead"


def _unencodable(lead: Mapping[str, Any], error: Exception) -> str:
    """Which value of a lead JSON cannot carry, and why (after `_json.dumps(lead)` failed)."""
    for key, value in lead.items():
        where = f"{key}"
        if key == _CUSTOM and isinstance(value, Mapping):
            for name, item in value.items():
                if not isinstance(name, str):
                    return f"custom_variables has a key that is not a string: {name!r}"
                if not _jsonable(item):
                    return _why_unencodable(f"custom_variables[{name!r}]", item)
            continue
        if not _jsonable(value):
            return _why_unencodable(where, value)
    return f"JSON cannot carry it ({error})"


def _why_unencodable(where: str, value: Any) -> str:
    if isinstance(value, str):
        return (
            f"{where} is not valid text: it holds a lone surrogate ({value!r}); "
            "read the source with its right encoding"
        )
    if isinstance(value, int):
        return f"{where} is an integer beyond 64 bits ({value}); send it as a string"
    try:
        _json.dumps(value)
    except TypeError as exc:
        return f"{where}: {exc}"
    return f"{where} cannot be sent"


def _sure_not_applied(error: BaseException) -> bool:
    """Whether a failed `leads/add` surely added nothing: an error answer below 500 (the API
    refused it, a 429 that outlasted the retries), or a connection that was never made."""
    if isinstance(error, APIError):
        return error.status_code < 500
    if isinstance(error, APIConnectionError):
        return isinstance(error.__cause__, _NEVER_CONNECTED)
    return False


_LEAD_INDEX = re.compile(r"\bleads[/.\[](\d+)")


def _refused_lead(error: BaseException, sent: int) -> int | None:
    """The index of the one lead a 400 names (`body/leads/17/email ...`), if it names one."""
    if not isinstance(error, APIError) or error.status_code != 400:
        return None
    found = {int(i) for i in _LEAD_INDEX.findall(str(error))}
    if len(found) != 1:
        return None
    index = found.pop()
    return index if index < sent else None


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


class _Chunk:
    """The leads of one request, and what is still to settle of them.

    Leads are kept as the JSON they are sent as, not as dicts: they are encoded 100 at a time as
    they are read (`parts`), and a chunk is sent as those parts joined (`json`). Thousands of
    live lead dicts would be promoted to the old generation of the garbage collector and set off
    full collections, which walk every object of the process (the SDK's own are ~150k): that
    costs more than the rest of the import's bookkeeping. `_leads()` decodes them again when a
    lookup, a re-send or a failure needs them: equal to what was sent.
    """

    __slots__ = (
        "codes", "first_crc", "json", "leads", "lookup_first", "parts", "pending", "positions",
        "row", "sent_at",
    )  # fmt: skip

    def __init__(self) -> None:
        self.positions: list[int] = []  # input positions, in order, of the leads it holds
        self.leads: list[dict[str, Any]] = []  # read, not yet encoded; or decoded again
        self.parts: list[bytes] = []  # encoded leads: JSON arrays of up to _PACK
        self.json: bytes | None = None  # every lead, as sent first (a JSON array)
        self.first_crc = 0  # crc32 of the first lead's JSON, for the journal
        self.pending: list[int] = []  # indexes of the leads not settled yet (set when sent)
        self.sent_at: float | None = None  # wall clock of the first send
        self.row: int | None = None  # the journal's row
        self.codes: bytearray | None = None  # journal codes by index, when journaling
        self.lookup_first = False  # in flight when an earlier run stopped: look up first

    def _leads(self) -> list[dict[str, Any]]:
        """Every lead, as dicts (decoded again from what was encoded)."""
        if self.json is not None:
            if not self.leads:
                self.leads = _json.loads(self.json)
        elif self.parts:  # not sealed yet (the import stopped while it was being read)
            self.leads = [lead for part in self.parts for lead in _json.loads(part)] + self.leads
            self.parts = []
        return self.leads

    def __len__(self) -> int:
        return len(self.positions)


class _Prior:
    """What a journal says about the inputs, by position (see the _J_ codes): later rows of the
    journal override earlier ones."""

    def __init__(self) -> None:
        self.codes = bytearray()
        self.groups: dict[int, tuple[float, int]] = {}  # row -> (sent_at, positions to look up)
        self.row_of: dict[int, int] = {}  # position to look up -> its row
        self.crc: dict[int, int] = {}  # first position of a row -> crc32 of its lead
        self.ids: list[tuple[list[int], list[str]]] = []  # created positions and their IDs

    @classmethod
    def read(cls, journal: Journal) -> _Prior:
        prior = cls()
        codes = prior.codes
        sent_at: dict[int, float] = {}
        for row in journal.rows():
            positions = row.positions
            if not positions:
                continue
            if len(codes) <= positions[-1]:
                codes.extend(bytes(positions[-1] + 1 - len(codes)))
            prior.crc[positions[0]] = row.first_crc
            sent_at[row.id] = row.sent_at
            row_codes = row.codes if row.codes is not None else bytes([_J_LOOKUP]) * len(positions)
            created: list[int] = []
            for position, code in zip(positions, row_codes, strict=True):
                codes[position] = code
                if code == _J_CREATED:
                    created.append(position)
                if code == _J_LOOKUP:
                    prior.row_of[position] = row.id
                else:
                    prior.row_of.pop(position, None)
            if created:
                prior.ids.append((created, row.ids))
        for row_id, count in Counter(prior.row_of.values()).items():
            prior.groups[row_id] = (sent_at[row_id], count)
        return prior

    @property
    def limit(self) -> int:
        return len(self.codes)


_NO_LOOKUP: Final = OutcomeUnknownError(
    "the request failed in a way that leaves unknown whether it added this lead, and a lead "
    "with no email cannot be looked up: it may exist; check the target before sending it again"
)


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
        nan_as_null: bool,
        journal: str | PathLike[str] | None,
    ) -> None:
        self.resource = resource
        self.op = OPERATIONS["bulkAddLeads"]
        self.list_op = OPERATIONS["listLeads"]
        self.body = body
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.for_campaign = "campaign_id" in body
        self.target = (
            ("campaign", body["campaign_id"]) if self.for_campaign else ("list_id", body["list_id"])
        )
        self.expected = len(leads) if isinstance(leads, Sized) else None
        # A plain iterable is read without an await per item: this loop runs for every lead.
        self.source: Iterator[Any] | AsyncIterator[Any] = (
            aiter(leads) if isinstance(leads, AsyncIterable) else iter(leads)
        )
        self.result = BulkAddResult()
        self.lead_screen = LeadScreen(self.for_campaign, nan_as_null=nan_as_null)
        self.in_flight: dict[asyncio.Task[None], _Chunk] = {}
        self.crash: BaseException | None = None  # a bug of this module in a request's task
        self.caller_error: Exception | None = None  # the caller's code raised: stop
        self.slots = asyncio.Semaphore(concurrency)
        self.max_retries: int = resource._client._transport._max_retries
        self.journal_path = journal
        self.journal: Journal | None = None
        self.prior: _Prior | None = None
        self.building = _Chunk()
        self.groups: dict[int, _Chunk] = {}  # journal row -> leads to look up, as read
        self.ready: list[_Chunk] = []  # groups read in full, to send before reading on
        self.input_done = False
        self.sent_any = False

    # -- the main loop -------------------------------------------------------------------------

    async def run(self) -> BulkAddResult:
        transport = self.resource._client._transport
        before = attrs.evolve(transport.stats)
        started = time.perf_counter()
        if self.journal_path is not None:
            self._open_journal()
        slots = self.slots
        try:
            while True:
                # A slot first, then the leads: at most `concurrency` chunks are ever held.
                await slots.acquire()
                chunk = None
                if self.crash is None and self.caller_error is None:
                    chunk = await self._next_chunk()
                if chunk is None:
                    slots.release()
                    break
                task = asyncio.create_task(self._send(chunk))
                self.in_flight[task] = chunk
                task.add_done_callback(self._settled)
            if self.in_flight:
                await asyncio.wait(list(self.in_flight))
        except asyncio.CancelledError as exc:
            await self._stop(cancel=True)
            self._finish(before, started)
            raise BulkCancelledError(self.result) from exc
        except BaseException:
            await self._stop(cancel=True)
            if self.journal is not None:
                self.journal.close()
            raise
        if self.caller_error is not None:
            await self._stop(cancel=False)
        self._finish(before, started)
        if self.crash is not None:
            raise self.crash
        if self.caller_error is not None:
            raise BulkImportError(self.result, self.caller_error) from self.caller_error
        return self.result

    async def _next_chunk(self) -> _Chunk | None:
        """The next request to send: a group of leads to look up first (resuming), or the next
        `batch_size` leads of the input; None at the end of the input."""
        while True:
            if self.ready:
                group = self.ready.pop(0)
                self._seal(group)
                if not len(group):
                    continue
                self._reserve()
                return group
            chunk = self.building
            if not self.input_done:
                try:
                    self.input_done = await self._fill(chunk)
                except _Crash:
                    raise
                except Exception as exc:  # the caller's input raised
                    self._caller_failed(exc, "the input")
                    return None
                if self.caller_error is not None:  # on_progress raised while we were reading
                    return None
                if not self.input_done and len(chunk) < self.batch_size:
                    continue  # a group to look up is complete: it is in `ready`
            elif self.groups:  # the input ended before these groups were read in full
                self.ready.extend(self.groups.values())
                self.groups.clear()
                continue
            if len(chunk):
                self._seal(chunk)
            if not len(chunk):  # empty, or every lead refused while being encoded
                if not self.input_done or self.groups:
                    continue
                return None
            self.building = _Chunk()
            self._reserve()
            return chunk

    def _reserve(self) -> None:
        self.result._ids.reserve(self.result.total)

    def _pack(self, chunk: _Chunk) -> list[tuple[int, tuple[str, str]]]:
        """Encode the leads read into `chunk` since the last pack, and drop them; a lead JSON
        cannot carry (a lone surrogate, a key that is not a string, an integer beyond 64 bits)
        is taken out of the chunk and returned with why, for `_refused` to record."""
        leads = chunk.leads
        if not leads:
            return []
        refused: list[tuple[int, tuple[str, str]]] = []
        try:
            part = _json.dumps(leads)
        except TypeError:
            positions = chunk.positions
            base = len(positions) - len(leads)
            for index in range(len(leads) - 1, -1, -1):
                if not _jsonable(leads[index]):
                    refused.append(
                        (positions[base + index],
                         ("invalid_lead", _unencodable(leads[index], TypeError())))
                    )  # fmt: skip
                    del positions[base + index]
                    del leads[index]
            refused.reverse()
            part = _json.dumps(leads)
        if self.journal is not None and not chunk.parts and leads:
            chunk.first_crc = zlib.crc32(_json.dumps(leads[0]))
        if len(part) > 2:  # not "[]"
            chunk.parts.append(part)
        leads.clear()
        return refused

    def _seal(self, chunk: _Chunk) -> None:
        """Join the chunk's encoded parts into the body it is sent with."""
        self._refused(self._pack(chunk))
        parts = chunk.parts
        chunk.json = (
            parts[0] if len(parts) == 1 else b"[" + b",".join(p[1:-1] for p in parts) + b"]"
        )
        chunk.parts = []

    def _refused(self, refused: list[tuple[int, tuple[str, str]]]) -> None:
        """Record refused leads, (position, (reason, detail)) in position order, whose outcome
        bytes exist already: skipped, in `result.invalid` (kept in position order), counted."""
        result = self.result
        invalid = result.invalid
        for position, why in refused:
            result._outcomes[position] = _SKIPPED
            rejection = Rejection(position, *why)
            if invalid and invalid[-1].position > position:
                bisect.insort(invalid, rejection)
            else:
                invalid.append(rejection)
            result.skipped[why[0]] += 1

    async def _fill(self, chunk: _Chunk) -> bool:
        """Read inputs until the chunk holds `batch_size` leads or (resuming) a group to look up
        is complete: False; or until the input ends: True. An exception from the input
        propagates; one from this module's own code is kept as the crash it is, so that it is
        never taken for the caller's."""
        source = self.source
        take = self._take
        taking = False
        try:
            if isinstance(source, AsyncIterator):
                async for item in source:
                    taking = True
                    full = take(item, chunk)
                    taking = False
                    if full:
                        return False
            elif self.prior is None:
                return self._fill_fast(source, chunk)
            else:
                for item in source:
                    taking = True
                    full = take(item, chunk)
                    taking = False
                    if full:
                        return False
        except _Crash:
            raise
        except Exception as exc:
            if taking:
                self.crash = exc
                raise _Crash from exc
            raise
        return True

    def _fill_fast(self, source: Iterator[Any], chunk: _Chunk) -> bool:
        """`_fill` of a plain iterable with no journal to consult, read and screened _PACK
        leads at a time (`LeadScreen.many`): no Python-level step per lead in the common case.
        Every item read is accounted for, even when the input raises midway."""
        many = self.lead_screen.many
        positions, leads = chunk.positions, chunk.leads
        position = first = self.result.total
        refused: list[tuple[int, tuple[str, str]]] = []
        try:
            while True:
                room = self.batch_size - len(positions)
                if room <= 0:
                    return False
                want = min(_PACK, room)
                batch: list[Any] = []
                stopped: Exception | None = None
                try:
                    batch.extend(islice(source, want))
                except Exception as exc:  # the caller's input: what it gave so far is read
                    stopped = exc
                try:
                    exceptions = many(batch)
                    if not exceptions:
                        positions.extend(range(position, position + len(batch)))
                        leads.extend(batch)
                    else:
                        special = {index: (lead, why) for index, lead, why in exceptions}
                        for index, item in enumerate(batch):
                            verdict = special.get(index)
                            if verdict is None:
                                positions.append(position + index)
                                leads.append(item)
                            elif verdict[1] is None:
                                positions.append(position + index)
                                leads.append(verdict[0])
                            else:
                                refused.append((position + index, verdict[1]))
                    position += len(batch)
                    if leads:
                        refused += self._pack(chunk)
                except Exception as exc:
                    self.crash = exc
                    raise _Crash from exc
                if stopped is not None:
                    raise stopped
                if len(batch) < want:
                    return True
        finally:
            result = self.result
            result.total = position
            result._outcomes.extend(bytes(position - first))
            refused.sort()
            self._refused(refused)

    def _take(self, item: Any, chunk: _Chunk) -> bool:
        """Account one input: into the chunk, or refused; True when the chunk is full (or,
        resuming, a group to look up is complete)."""
        result = self.result
        position = result.total
        result.total = position + 1
        lead, why = self.lead_screen.screen(item)
        result._outcomes.append(_PENDING)
        if why is not None:
            self._refused([(position, why)])
            if self.prior is not None and position < self.prior.limit:
                self._check_prior(position, lead, refused=True)
            return False
        if self.prior is not None and position < self.prior.limit:
            return self._take_prior(position, lead, chunk)
        return self._add(chunk, position, lead)

    def _add(self, chunk: _Chunk, position: int, lead: dict[str, Any]) -> bool:
        """Put a lead read into the chunk; True when the chunk is full."""
        chunk.positions.append(position)
        chunk.leads.append(lead)
        if len(chunk.leads) >= _PACK:
            self._refused(self._pack(chunk))
        return len(chunk.positions) >= self.batch_size

    # -- resuming from a journal ---------------------------------------------------------------

    def _open_journal(self) -> None:
        self.journal = Journal(self.journal_path, self.body)  # type: ignore[arg-type]
        prior = _Prior.read(self.journal)
        if prior.limit:
            self.prior = prior
            self.result._ids.reserve(prior.limit)
            for positions, ids in prior.ids:
                self.result._ids.put(positions, ids)

    def _check_prior(self, position: int, lead: dict[str, Any], refused: bool) -> None:
        prior = self.prior
        assert prior is not None
        crc = prior.crc.get(position)
        code = prior.codes[position]
        if (refused and (code or crc is not None)) or (
            crc is not None and crc != zlib.crc32(_json.dumps(lead))
        ):
            raise ValueError(
                f"the input at position {position} is not the lead the journal "
                f"{self.journal_path} recorded there: resume with the same input, or start a "
                "new journal"
            )

    def _take_prior(self, position: int, lead: dict[str, Any], chunk: _Chunk) -> bool:
        prior = self.prior
        assert prior is not None
        self._check_prior(position, lead, refused=False)
        code = prior.codes[position]
        result = self.result
        if code == _J_CREATED:
            result._outcomes[position] = _CREATED
            result.created += 1
        elif code >= _J_SKIPPED:
            result._outcomes[position] = _SKIPPED
            result.skipped[SKIP_REASONS[code - _J_SKIPPED]] += 1
        elif code == _J_MAY_EXIST:
            result._outcomes[position] = _FAILED
            failed = result.failed
            if (
                failed
                and failed[-1].error is _NO_LOOKUP
                and failed[-1].positions[-1] == position - 1
            ):
                failed[-1].positions.append(position)
                failed[-1].leads.append(lead)
            else:
                failed.append(FailedChunk([position], _NO_LOOKUP, [lead]))
        elif code == _J_LOOKUP:
            row = prior.row_of[position]
            group = self.groups.get(row)
            if group is None:
                group = self.groups[row] = _Chunk()
                group.lookup_first = True
                group.sent_at = prior.groups[row][0]
            group.positions.append(position)
            group.leads.append(lead)
            if len(group.positions) == prior.groups[row][1]:
                self.ready.append(self.groups.pop(row))
                return True
            return False
        else:  # _J_UNKNOWN, _J_RESEND: send it as a new lead
            return self._add(chunk, position, lead)
        result.resumed += 1
        return False

    # -- one request, and the lookups that keep its meaning ------------------------------------

    async def _send(self, chunk: _Chunk) -> None:
        chunk.pending = list(range(len(chunk)))
        if self.journal is not None:
            chunk.codes = bytearray([_J_LOOKUP]) * len(chunk)
        error: BaseException | None = None
        if chunk.lookup_first:
            error = OutcomeUnknownError(
                "in flight when an earlier run of this import stopped; it may or may not have "
                "been applied"
            )
        elif self.journal is not None:
            chunk.sent_at = time.time()
        if self.journal is not None:
            # Written before the request leaves: a run killed at any instant after this line
            # knows to look these leads up.
            assert chunk.sent_at is not None
            chunk.row = self.journal.sent(chunk.positions, chunk.first_crc, chunk.sent_at)
        rounds = refused = 0
        while chunk.pending:
            if error is not None:
                rounds += 1
                if not await self._reconcile(chunk, error) or not chunk.pending:
                    break
                if rounds > self.max_retries:
                    if isinstance(error, APITimeoutError):
                        # The server may still be working on a request it timed out: a lead
                        # not found now may be written later.
                        late = OutcomeUnknownError(
                            f"{len(chunk.pending)} leads were not found after their request "
                            f"timed out ({error}), but the API may still add them; check the "
                            "target before sending them again"
                        )
                        self._fail(chunk, chunk.pending, late, _J_LOOKUP)
                    else:
                        self._fail(chunk, chunk.pending, error, _J_RESEND)
                    break
                logger.warning(
                    "leads.bulk_add: sending the %d leads the lookup did not find again "
                    "(round %d of %d)",
                    len(chunk.pending),
                    rounds,
                    self.max_retries,
                )
            payload = self._encode(chunk)
            indexes = chunk.pending
            if chunk.sent_at is None:
                chunk.sent_at = time.time()
            self.sent_any = True
            try:
                data = await self.resource._send(
                    self.op, self.op.path, None, {**self.body, "leads": payload}, retry_safe=False
                )
                created = _created(data, len(indexes))
            except Exception as exc:
                if _sure_not_applied(exc):
                    index = _refused_lead(exc, len(indexes))
                    if index is not None and refused < _MAX_REFUSED_LEADS:
                        refused += 1
                        self._refuse(chunk, indexes[index], f"the API refused it: {exc}")
                        continue
                    self._fail(chunk, indexes, exc, _J_RESEND)
                    break
                error = exc
                logger.warning(
                    "leads.bulk_add: a request of %d leads failed (%s); looking up which of them "
                    "are in the %s before sending any again",
                    len(indexes),
                    exc,
                    "campaign" if self.for_campaign else "list",
                )
                continue
            skipped = self._account(chunk, indexes, data, created)
            if skipped and error is not None:
                # A re-send's "already present" may be this import's own lead: the first send
                # was applied after all (a timed-out request the server finished later).
                await self._recheck(chunk, skipped)
        self._record(chunk)
        await self._progress()

    def _encode(self, chunk: _Chunk) -> Any:
        """The pending leads as JSON, ready to send (every lead was encoded once already); only
        called while some are pending."""
        indexes = chunk.pending
        if len(indexes) == len(chunk) and chunk.json is not None:
            return _json.Fragment(chunk.json)
        every = chunk._leads()
        return _json.Fragment(_json.dumps([every[i] for i in indexes]))

    def _refuse(self, chunk: _Chunk, index: int, detail: str) -> None:
        """Skip one lead of a chunk as invalid_lead, as the API refused it."""
        position = chunk.positions[index]
        chunk.pending.remove(index)
        self._refused([(position, ("invalid_lead", detail))])
        if chunk.codes is not None:
            chunk.codes[index] = _J_UNKNOWN  # a later run checks it again

    async def _reconcile(self, chunk: _Chunk, error: BaseException) -> bool:
        """Look the pending leads up in the target and settle those found; the others stay
        pending. False if the lookup itself failed (the pending leads are failed then)."""
        leads, pending = chunk._leads(), chunk.pending
        by_key: dict[str, int] = {}
        no_email: list[int] = []
        for index in pending:
            email = leads[index].get("email")
            if email:
                by_key[email.lower()] = index
            else:
                no_email.append(index)
        if no_email:
            self._fail(chunk, no_email, _NO_LOOKUP, _J_MAY_EXIST)
        if not by_key:
            return True
        try:
            found = await self._lookup([leads[i]["email"] for i in by_key.values()], by_key)
        except Exception as exc:
            self._fail(
                chunk,
                list(by_key.values()),
                OutcomeUnknownError(
                    f"{len(by_key)} leads may or may not have been added: their request failed "
                    f"({error}) and looking them up failed too ({exc}); check the target before "
                    "sending them again"
                ),
                _J_LOOKUP,
            )
            return False
        ours, there = self._found(chunk, found)
        result = self.result
        for index in there:
            result._outcomes[chunk.positions[index]] = _SKIPPED
            if chunk.codes is not None:
                chunk.codes[index] = _J_SKIPPED + SKIP_REASONS.index("already_present")
        if there:
            result.skipped["already_present"] += len(there)
        settled = set(found)
        chunk.pending = [i for i in chunk.pending if i not in settled]
        logger.info(
            "leads.bulk_add: the lookup found %d of %d leads in the target (%d added by this "
            "import)",
            len(found),
            len(by_key),
            ours,
        )
        return True

    def _found(
        self, chunk: _Chunk, found: Mapping[int, tuple[str, float | None]]
    ) -> tuple[int, list[int]]:
        """Count the leads a lookup found that this import created (no earlier than CLOCK_SKEW
        before the request was first sent) as created, with their IDs; return how many, and the
        indexes of those that were there before."""
        assert chunk.sent_at is not None
        since = chunk.sent_at - CLOCK_SKEW
        ours = sorted(
            (i, lead_id) for i, (lead_id, ts) in found.items() if ts is None or ts >= since
        )
        there = [i for i, (_, ts) in found.items() if ts is not None and ts < since]
        if ours:
            result = self.result
            positions = [chunk.positions[i] for i, _ in ours]
            result._ids.put(positions, [lead_id for _, lead_id in ours])
            for (index, _), position in zip(ours, positions, strict=True):
                result._outcomes[position] = _CREATED
                if chunk.codes is not None:
                    chunk.codes[index] = _J_CREATED
            result.created += len(ours)
            result.reconciled += len(ours)
        return len(ours), there

    async def _lookup(
        self, emails: list[str], by_key: Mapping[str, int]
    ) -> dict[int, tuple[str, float | None]]:
        """Which of these emails have a lead in the target: chunk index -> (lead ID, creation
        time), by `POST /leads/list` (contacts + the campaign or list).

        One request asks for them all; most often its page is not full (the request had added
        nothing, or little) and that is the answer. A full page means the request was applied:
        the emails not found yet are then asked in groups of a page each, all at once, rather
        than one page after another.
        """
        found: dict[int, tuple[str, float | None]] = {}
        cursor = await self._lookup_page(emails, by_key, found, None)
        if cursor is None or len(found) == len(by_key):
            return found
        rest = [e for e in emails if by_key[e.lower()] not in found]
        groups = [rest[i : i + LOOKUP_PAGE] for i in range(0, len(rest), LOOKUP_PAGE)]
        await asyncio.gather(*(self._lookup_all(group, by_key, found) for group in groups))
        return found

    async def _lookup_all(
        self,
        emails: list[str],
        by_key: Mapping[str, int],
        found: dict[int, tuple[str, float | None]],
    ) -> None:
        keys = [by_key[e.lower()] for e in emails]
        cursor = await self._lookup_page(emails, by_key, found, None)
        while cursor is not None and not all(k in found for k in keys):
            cursor = await self._lookup_page(emails, by_key, found, cursor)

    async def _lookup_page(
        self,
        emails: list[str],
        by_key: Mapping[str, int],
        found: dict[int, tuple[str, float | None]],
        cursor: str | None,
    ) -> str | None:
        """One page of a lookup, into `found`; the cursor of the next page, or None."""
        field, target = self.target
        body: dict[str, Any] = {"contacts": emails, field: target, "limit": LOOKUP_PAGE}
        if cursor is not None:
            body["starting_after"] = cursor
        self.result.lookups += 1
        page = await self.resource._send(self.list_op, self.list_op.path, None, body)
        items = page.get("items") if isinstance(page, Mapping) else None
        if not isinstance(items, list):
            raise _bad_answer("leads/list", "it has no items list")
        for item in items:
            if not isinstance(item, Mapping) or item.get(field) != target:
                continue  # only leads of this target are this import's
            email, lead_id = item.get("email"), item.get("id")
            if not isinstance(email, str) or not isinstance(lead_id, str):
                continue
            index = by_key.get(email.lower())
            if index is None:
                continue
            when = _timestamp(item.get("timestamp_created"))
            known = found.get(index)
            # Two leads with one email in the target (made apart from this import): the
            # newer is the likelier to be this import's.
            if known is None or (when is not None and (known[1] or 0) < when):
                found[index] = (lead_id, when)
        following = page.get("next_starting_after")
        if not items or not isinstance(following, str) or not following:
            return None
        return following

    def _account(
        self, chunk: _Chunk, indexes: list[int], data: Mapping[str, Any], created: _Created
    ) -> list[int]:
        """Settle the leads of an answered request: created (with IDs) or skipped by reason.
        Returns the indexes of those skipped."""
        result = self.result
        outcomes = result._outcomes
        positions = chunk.positions
        sent = len(indexes)
        whole = sent == len(positions)
        order, ids = created
        n = len(order)
        if whole:  # the first send of a chunk: indexes are 0..n-1
            done = positions if n == sent else [positions[j] for j in order]
        else:
            done = [positions[indexes[j]] for j in order]
        result._ids.put(done, ids)
        if n and done[-1] - done[0] == n - 1:
            outcomes[done[0] : done[-1] + 1] = _CREATED_BYTE * n
        else:
            for position in done:
                outcomes[position] = _CREATED
        result.created += n
        codes = chunk.codes
        if codes is not None:
            for j in order:
                codes[indexes[j]] = _J_CREATED
        skipped: list[int] = []
        if n < sent:
            reasons = _skip_reasons(data, sent - n)
            result.skipped.update(reasons)
            labels = iter([r for r, k in sorted(reasons.items()) for _ in range(k)])
            for index in indexes:
                position = positions[index]
                if outcomes[position] == _PENDING:
                    outcomes[position] = _SKIPPED
                    skipped.append(index)
                    if codes is not None:
                        codes[index] = _J_SKIPPED + SKIP_REASONS.index(next(labels))
        chunk.pending = []
        return skipped

    async def _recheck(self, chunk: _Chunk, skipped: list[int]) -> None:
        """Look up leads a re-send skipped; those this import created before count as created."""
        leads = chunk._leads()
        by_key = {leads[i]["email"].lower(): i for i in skipped if leads[i].get("email")}
        if not by_key:
            return
        try:
            found = await self._lookup([leads[i]["email"] for i in by_key.values()], by_key)
        except Exception as exc:  # they are in the target either way; only the count is unsure
            logger.warning(
                "leads.bulk_add: could not look up %d skipped leads: %s", len(by_key), exc
            )
            return
        ours, _ = self._found(chunk, found)
        if not ours:
            return
        result = self.result
        # The API counted them as present (a duplicate, or a skip flag): take them from there.
        left = ours
        for reason in ("already_present", "skipped_by_api"):
            taken = min(left, result.skipped[reason])
            result.skipped[reason] -= taken
            left -= taken
        result.skipped += Counter()  # drops the reasons brought to zero

    def _fail(self, chunk: _Chunk, indexes: list[int], error: BaseException, code: int) -> None:
        """Fail these leads of a chunk with `error` (journal code `code`)."""
        if not indexes:
            return
        indexes = list(indexes)
        positions = [chunk.positions[i] for i in indexes]
        outcomes = self.result._outcomes
        for position in positions:
            outcomes[position] = _FAILED
        leads = chunk._leads()
        self.result.failed.append(FailedChunk(positions, error, [leads[i] for i in indexes]))
        if chunk.codes is not None:
            for index in indexes:
                chunk.codes[index] = code
        drop = set(indexes)
        chunk.pending = [i for i in chunk.pending if i not in drop]
        logger.warning("leads.bulk_add: %d leads failed: %s", len(indexes), error)

    def _record(self, chunk: _Chunk) -> None:
        """Write a settled (or stopped) chunk's codes to the journal."""
        if self.journal is None or chunk.row is None or chunk.codes is None:
            return
        result = self.result
        created = [chunk.positions[i] for i, code in enumerate(chunk.codes) if code == _J_CREATED]
        ids = [result._ids.get(p) for p in created]
        self.journal.settle(chunk.row, bytes(chunk.codes), ids)

    async def _progress(self) -> None:
        if self.on_progress is None or self.caller_error is not None:
            return
        result = self.result
        try:
            answer = self.on_progress(result.done, self.expected, result)
            if isinstance(answer, Awaitable):
                await answer
        except Exception as exc:
            self._caller_failed(exc, "on_progress")

    def _caller_failed(self, exc: Exception, where: str) -> None:
        if self.caller_error is None:
            self.caller_error = exc
            self.result.stopped_in = where

    def _settled(self, task: asyncio.Task[None]) -> None:
        del self.in_flight[task]
        self.slots.release()
        if not task.cancelled() and task.exception() is not None and self.crash is None:
            self.crash = task.exception()

    # -- the end -------------------------------------------------------------------------------

    async def _stop(self, cancel: bool) -> None:
        """Stop: cancel what is in flight (or, for an error of the caller's, let it finish) and
        mark what was read but not sent."""
        if cancel:
            self.result.cancelled = self.caller_error is None
            tasks = list(self.in_flight)
            for task in tasks:
                task.cancel()
            chunks = [self.in_flight[t] for t in tasks]
            if tasks:
                await asyncio.wait(tasks)
            for chunk in chunks:
                if chunk.pending and chunk.sent_at is not None:
                    self._fail(
                        chunk,
                        chunk.pending,
                        ChunkCancelledError(
                            f"cancelled in flight ({len(chunk.pending)} leads): the API may or "
                            "may not have added them"
                            + (
                                "; running the import again looks them up first"
                                if self.journal
                                else ""
                            )
                        ),
                        _J_LOOKUP,
                    )
                    self._record(chunk)
                elif chunk.pending:  # never sent
                    self._not_sent(chunk, chunk.pending)
        elif self.in_flight:
            await asyncio.wait(list(self.in_flight))
        for chunk in [self.building, *self.ready, *self.groups.values()]:
            self._not_sent(chunk, range(len(chunk)))
        self.building, self.ready, self.groups = _Chunk(), [], {}

    def _not_sent(self, chunk: _Chunk, indexes: Iterable[int]) -> None:
        result = self.result
        for index in indexes:
            position = chunk.positions[index]
            result._outcomes[position] = _NOT_SENT
            result.not_sent.append(position)
            result._unsent_leads.append(chunk._leads()[index])
        chunk.pending = []

    def _finish(self, before: Any, started: float) -> None:
        result = self.result
        stats = self.resource._client._transport.stats
        result.elapsed = time.perf_counter() - started
        result.requests = stats.requests_sent - before.requests_sent
        result.retries = stats.retries - before.retries
        result.rate_limited = stats.rate_limited - before.rate_limited
        result.not_sent.sort()
        if self.journal is not None:
            self.journal.close()
            if (
                self.prior is not None
                and result.total < self.prior.limit
                and not (result.cancelled or result.stopped_in)
            ):
                logger.warning(
                    "leads.bulk_add: the input ended after %d leads, but the journal %s holds "
                    "leads up to position %d: the result covers the %d read",
                    result.total,
                    self.journal_path,
                    self.prior.limit - 1,
                    result.total,
                )
        result._check_invariant()
        if not self.sent_any and not result.resumed and not result.cancelled:
            logger.warning("leads.bulk_add: nothing was sent: %s", _why_nothing(result))


class _Crash(Exception):
    """A bug of this module met while reading the input (the real one is `_Import.crash`)."""


def _why_nothing(result: BulkAddResult) -> str:
    if result.total == 0:
        return "the input held no leads"
    if result.invalid and len(result.invalid) == result.total:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(result.skipped.items()))
        first = result.invalid[0]
        return (
            f"all {result.total} leads were refused before sending ({reasons}); the first, at "
            f"position {first.position}: {first.detail}"
        )
    return result.summary()


_Created = tuple[list[int], list[str]]
_INDEX, _ID = operator.itemgetter("index"), operator.itemgetter("id")


def _created(data: Any, sent: int) -> _Created:
    """The request indexes (increasing) and IDs of the created leads, checked against what was
    sent. Written with whole-list operations: it runs for every lead."""
    entries = data.get("created_leads") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise _bad_answer("leads/add", "it has no created_leads list")
    try:
        indexes = list(map(_INDEX, entries))
        ids = list(map(_ID, entries))
    except (KeyError, TypeError):
        raise _bad_answer("leads/add", "a created_leads entry has no index or id") from None
    if not entries:
        return [], []
    if set(map(type, indexes)) != {int} or min(indexes) < 0 or max(indexes) >= sent:
        wrong = next((i for i in indexes if type(i) is not int or not 0 <= i < sent), None)
        raise _bad_answer("leads/add", f"created_leads holds index {wrong!r} for {sent} leads sent")
    if len(set(indexes)) != len(indexes):
        raise _bad_answer("leads/add", "created_leads repeats an index")
    if set(map(type, ids)) != {str}:
        raise _bad_answer("leads/add", "a created_leads id is not a string")
    if indexes != sorted(indexes):
        pairs = sorted(zip(indexes, ids, strict=True))
        indexes, ids = [i for i, _ in pairs], [x for _, x in pairs]
    return indexes, ids


def _bad_answer(operation: str, why: str) -> InstantlyError:
    return StructureError(operation, f"unusable answer to {operation}: {why}")


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
    nan_as_null: bool = False,
    journal: str | PathLike[str] | None = None,
) -> BulkAddResult:
    """Run one import (what `client.leads.bulk_add` does once it has checked its arguments).

    Args:
        resource: the namespace whose transport sends the requests (`client.leads`).
        leads: the leads, from any iterable or async iterable; read lazily.
        body: the request's fields other than `leads` (the target, the flags), already checked.
        batch_size: leads per request, 1..1000.
        concurrency: requests in flight at once.
        on_progress: called as `on_progress(done, total_or_None, result_so_far)` after each
            request is settled; plain or async.
        nan_as_null: send NaN and ±infinity as null instead of refusing the lead.
        journal: the SQLite file that makes the import resumable; None for none.

    Returns:
        The account of every input read.

    Raises:
        ValueError: a `batch_size` or `concurrency` out of range, or a journal of another
            import.
        TypeError: `leads` is not an iterable of leads.
        BulkImportError: the input or `on_progress` raised; it carries the result so far.
        BulkCancelledError: the task was cancelled; it carries the result so far.
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{MAX_BATCH}, got {batch_size}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if isinstance(leads, str | bytes | Mapping) or not isinstance(leads, Iterable | AsyncIterable):
        raise TypeError(
            f"leads must be an iterable or async iterable of leads, got {type(leads).__name__}"
        )
    run = _Import(resource, leads, body, batch_size, concurrency, on_progress, nan_as_null, journal)
    try:
        return await run.run()
    except _Crash:
        assert run.crash is not None
        raise run.crash from None


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
    """The outcomes of the items for which `fn` returned, in input order."""
    failed: list[Outcome[T, R]] = attrs.field(factory=list)
    """The outcomes of the items for which `fn` raised (each with its `error`), in input order."""

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
        """Prepare the run; nothing is called until it is iterated or awaited.

        Args:
            fn: an async function of one item (`client.leads.delete`, or a small `async def`).
            items: any iterable or async iterable of items; read lazily.
            concurrency: calls in flight at once.

        Raises:
            ValueError: `concurrency` below 1.
            TypeError: `fn` is not callable, or `items` is not an iterable (a string is not
                taken for one).
        """
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
