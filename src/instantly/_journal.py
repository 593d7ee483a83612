"""The journal of a bulk import: an SQLite file recording what each request carried and became.

`leads.bulk_add(..., journal=path)` writes a row per request *before* it is sent (the input
positions it carries, when it was first sent, a check value of its first lead) and updates the
row when the request's leads are settled (one outcome code per position, and the IDs of the
leads created). A run of the same import that finds the file reads it back: what is settled is
counted as it was, what was in flight when the last run stopped is looked up in the target before
anything is sent again, and the rest is sent. The file is SQLite in WAL mode with
`synchronous=NORMAL`: each write is in the file once the call returns, so a process killed at any
instant (SIGKILL, OOM, a deploy) leaves every row written before it; only a power cut can lose
the last ones.

This module only stores; `_bulk` decides what the codes mean.
"""

from __future__ import annotations

import os
import sqlite3
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from . import _json

__all__ = ["Journal", "JournalRow"]

_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    positions BLOB NOT NULL,   -- array('q') of input positions, in input order
    first_crc INTEGER NOT NULL, -- crc32 of the first lead as sent: is the input the same?
    sent_at REAL NOT NULL,      -- wall-clock time of the first send (seconds since the epoch)
    codes BLOB,                 -- one outcome code per position; NULL while in flight
    ids TEXT                    -- IDs of the created leads, in position order, one per line
);
"""


class JournalRow(NamedTuple):
    """One request as the journal holds it."""

    id: int
    """The row's id, in the order requests were first sent."""
    positions: array[int]
    """The input positions of the request's leads, in input order."""
    first_crc: int
    """The CRC-32 of the first lead as sent: a later run checks that its input is the same."""
    sent_at: float
    """When the request was first sent (seconds since the epoch)."""
    codes: bytes | None
    """One outcome code per position; None: it was in flight when the run that wrote it
    stopped."""
    ids: list[str]
    """The IDs of the leads created, in position order."""


class Journal:
    """The journal file of one import (see the module's docstring)."""

    def __init__(self, path: str | os.PathLike[str], params: Mapping[str, Any]) -> None:
        """Open (or create) the journal at `path` for the import described by `params`.

        Args:
            path: the SQLite file; created if it does not exist.
            params: what makes the import the same import (its target and flags); a journal
                written for other params is refused, so that one import's record is never
                read as another's.

        Raises:
            ValueError: the file cannot be opened, is not a journal, was written by another
                version of the SDK, or is the record of another import.
        """
        self.path = os.fspath(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit
        except sqlite3.Error as exc:
            raise ValueError(f"journal {self.path}: cannot open it ({exc})") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check(dict(params))
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(
                f"journal {self.path}: not a journal of leads.bulk_add ({exc})"
            ) from None
        except BaseException:
            self._db.close()
            raise

    def _check(self, params: dict[str, Any]) -> None:
        stored = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        wanted = {"version": str(_VERSION), "params": _json.dumps(params).decode()}
        if not stored:
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
            return
        if stored.get("version") != wanted["version"]:
            raise ValueError(
                f"journal {self.path} was written by another version of the SDK "
                f"(format {stored.get('version')}, this one reads {_VERSION})"
            )
        if stored.get("params") != wanted["params"]:
            raise ValueError(
                f"journal {self.path} is the record of another import ({stored.get('params')}), "
                f"not of this one ({wanted['params']}); use a new journal file for a new import"
            )

    def rows(self) -> Iterator[JournalRow]:
        """Every request recorded, in the order they were first sent."""
        cursor = self._db.execute(
            "SELECT id, positions, first_crc, sent_at, codes, ids FROM requests ORDER BY id"
        )
        for row_id, blob, crc, sent_at, codes, ids in cursor:
            positions = array("q")
            positions.frombytes(blob)
            yield JournalRow(row_id, positions, crc, sent_at, codes, ids.split("\n") if ids else [])

    def sent(self, positions: Sequence[int], first_crc: int, sent_at: float) -> int:
        """Record a request about to be sent.

        Args:
            positions: the input positions of its leads.
            first_crc: the CRC-32 of its first lead as sent.
            sent_at: the wall-clock time of the first send (seconds since the epoch).

        Returns:
            The row's id, for `settle`.
        """
        cursor = self._db.execute(
            "INSERT INTO requests (positions, first_crc, sent_at) VALUES (?, ?, ?)",
            (array("q", positions).tobytes(), first_crc, sent_at),
        )
        row_id = cursor.lastrowid
        assert row_id is not None
        return row_id

    def settle(self, row_id: int, codes: bytes, ids: Sequence[str]) -> None:
        """Record the outcome of a request's leads.

        Args:
            row_id: what `sent` returned for the request.
            codes: one outcome code per position (their meaning is `_bulk`'s).
            ids: the IDs of the leads created, in position order.
        """
        self._db.execute(
            "UPDATE requests SET codes = ?, ids = ? WHERE id = ?",
            (codes, "\n".join(ids), row_id),
        )

    def close(self) -> None:
        """Close the file (what was written stays written)."""
        self._db.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"
