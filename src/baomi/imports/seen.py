"""The identifiers of a file's rows read so far: the same customer twice in one file.

Duplicates within the file are found on the identifiers 查重 uses across the company (the ID
number or credit code, phones, e-mails; not names, which two customers may share): a row one of
whose own identifiers an earlier row holds (its own, or one of its contacts') is the same
customer, and the earlier row is the one filed. A million rows hold some three million
identifiers, more than the memory an import may take (issue 12: under 300 MB) as Python
strings, so they are kept in a private temporary SQLite file, which SQLite deletes when it is
closed, each as a 64-bit keyed hash: the key lives in this process only, so the file tells
nothing of the values even while it exists. Two different values share a hash about once in
10^12 imports of a million rows.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

# Keys bound in one statement, under SQLite's limit.
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class Where:
    """A row of the file: its sheet's name and its number there."""

    sheet: str
    row: int


class Seen:
    """Rows' identifiers, by keyed hash, mapped to the first row that held each."""

    def __init__(self) -> None:
        # "" is a private temporary database on disk, deleted on close; its cache is bounded.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA cache_size=-8192")
        self._db.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY, sheet INTEGER, row INTEGER)")
        self._key = os.urandom(32)
        self._sheets: list[str] = []

    def close(self) -> None:
        self._db.close()

    def _hash(self, term: tuple[str, str]) -> int:
        digest = hashlib.blake2b(
            f"{term[0]}\x00{term[1]}".encode(), digest_size=8, key=self._key
        ).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _sheet(self, name: str) -> int:
        if not self._sheets or self._sheets[-1] != name:
            self._sheets.append(name)
        return len(self._sheets) - 1

    def check(
        self,
        rows: Sequence[tuple[Where, Sequence[tuple[str, str]], Sequence[tuple[str, str]]]],
    ) -> list[tuple[Where, str] | None]:
        """For each (where, own identifiers, all identifiers) in reading order: the earlier row
        holding one of its own identifiers and which kind it is, or None; then remember all of
        its identifiers (a duplicate's too: a third row holding only its new phone is the same
        customer as well)."""
        hashed = [
            ([self._hash(t) for t in own], [self._hash(t) for t in every]) for _, own, every in rows
        ]
        known = self._lookup({h for own, _ in hashed for h in own})
        added: list[tuple[int, int, int]] = []
        answers: list[tuple[Where, str] | None] = []
        for (where, own, _), (own_hashes, every_hashes) in zip(rows, hashed, strict=True):
            first = next(
                ((known[h], own[i][0]) for i, h in enumerate(own_hashes) if h in known), None
            )
            answers.append(None if first is None else (self._where(first[0]), first[1]))
            origin = (self._sheet(where.sheet), where.row) if first is None else first[0]
            for h in every_hashes:
                if h not in known:
                    known[h] = origin
                    added.append((h, *origin))
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", added)
        return answers

    def _where(self, origin: tuple[int, int]) -> Where:
        return Where(self._sheets[origin[0]], origin[1])

    def _lookup(self, hashes: set[int]) -> dict[int, tuple[int, int]]:
        ordered = list(hashes)
        found: dict[int, tuple[int, int]] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, sheet, row FROM seen WHERE key IN ({marks})"  # noqa: S608 - marks only
            for key, sheet, row in self._db.execute(query, chunk):
                found[key] = (sheet, row)
        return found
