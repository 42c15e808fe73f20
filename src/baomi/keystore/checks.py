"""Key check values on record: a wrong master or index key is refused by name (issue 17).

A key given to the process that is not the one the database was written with used to pass every
check: each read then failed as if the data had been tampered with, and 查重 answered "no such
customer" for customers on file (C4.1.3, C4.2.2). Now the database keeps each key's check value
(crypto/keycheck.py) in `key_check_values`, and start-up and `baomi doctor` compare.

When a value is recorded:
- a master-key version: when its row is first written (`ensure_master_versions`: `baomi init`,
  the first data key, `baomi keys rotate` adding a version). Nothing is wrapped under a version
  before its row exists, so whatever key the provider holds then is, by definition, the key.
- a version on record from before check values existed: on the first start (`baomi init`,
  `serve`, `demo`), once the key has opened one of the data keys wrapped under it. An AES-GCM
  unwrap that authenticates is proof the key is the one; a version with no data key under it
  has nothing to be wrong about and is recorded as it is.
- the index key: the customers room proves it (customers/keycheck.py) by recomputing stored
  blind indexes, the only thing written under it that a key can be checked against; an index
  with no entries yet records it as it is.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Row

from baomi import clock
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keycheck import INDEX, master_name
from baomi.crypto.keys import KeyProvider
from baomi.crypto.wrapping import rewrap_data_key
from baomi.errors import BaomiError
from baomi.keystore.models import data_keys, key_check_values, master_key_versions

# Data keys tried to prove a master version that has no check value yet: one that opens is
# proof; three that all fail are not three damaged records but a wrong key.
PROOF_TRIES = 3


class KeyMismatch(BaomiError):
    """A key the process was given is not the one the database was written with."""

    status = 503
    code = "key_mismatch"
    title = "Wrong key"


class Finding(StrEnum):
    MATCHES = "matches"  # the recorded check value is the key's
    DIFFERS = "differs"  # a wrong key: refused
    PROVEN = "proven"  # none recorded; what was written under the key opens with it
    FIRST_USE = "first_use"  # none recorded and nothing written under the key yet
    UNPROVEN = "unproven"  # none recorded; data under the key, none of it could be read


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """One key's finding, with what proved it (data key or customer ids, never a value)."""

    name: str
    finding: Finding
    detail: str
    # The key's check value, to record when proven: never printed.
    value: bytes = field(repr=False)
    witnesses: tuple[str, ...] = ()

    @property
    def to_record(self) -> bool:
        return self.finding in (Finding.PROVEN, Finding.FIRST_USE)


def key_label(name: str) -> str:
    """How a message names a key: "master key version 2", "the index key"."""
    return "the index key" if name == INDEX else f"master key version {name.split(':', 1)[1]}"


def recorded(conn: Connection) -> dict[str, bytes]:
    """The check values on record, by key name."""
    rows = conn.execute(select(key_check_values.c.key_name, key_check_values.c.check_value))
    return {name: bytes(value) for name, value in rows}


def compare(name: str, value: bytes, stored: dict[str, bytes]) -> KeyCheck | None:
    """The finding from a recorded value, or None when none is recorded for `name`."""
    kept = stored.get(name)
    if kept is None:
        return None
    if hmac.compare_digest(kept, value):
        return KeyCheck(name, Finding.MATCHES, f"{key_label(name)} matches its check value", value)
    return KeyCheck(
        name,
        Finding.DIFFERS,
        f"{key_label(name)} does not match the key this database was written with",
        value,
    )


def check_master_keys(conn: Connection, provider: KeyProvider) -> list[KeyCheck]:
    """Check every version both on record (not retired) and held by the provider; read-only.

    Versions only one side knows are the `key versions` check's business (cli/doctor.py).
    """
    held = set(provider.versions())
    on_record = conn.execute(
        select(master_key_versions.c.version)
        # keystore.service.VersionState.RETIRED (which imports this module).
        .where(master_key_versions.c.status != "retired")
        .order_by(master_key_versions.c.version)
    ).scalars()
    stored = recorded(conn)
    checks = []
    for version in (v for v in on_record if v in held):
        name = master_name(version)
        value = provider.check_value(version)
        checks.append(compare(name, value, stored) or _prove_master(conn, provider, version, value))
    return checks


def _prove_master(conn: Connection, provider: KeyProvider, version: int, value: bytes) -> KeyCheck:
    name = master_name(version)
    rows = wrapped_under(conn, version=version, limit=PROOF_TRIES)
    if not rows:
        return KeyCheck(name, Finding.FIRST_USE, "no data key under it yet", value)
    for row in rows:
        if opens(provider, row, version=version):
            return KeyCheck(name, Finding.PROVEN, f"opens data key {row.id}", value, (row.id,))
    return KeyCheck(
        name,
        Finding.DIFFERS,
        f"{key_label(name)} does not match the key this database was written with "
        f"(it opens none of the {len(rows)} data keys tried)",
        value,
    )


def record(conn: Connection, checks: Iterable[KeyCheck]) -> list[str]:
    """Record the check values of the keys found proven or first used; return their names."""
    fresh = [c for c in checks if c.to_record]
    if fresh:
        now = clock.utcnow()
        conn.execute(
            insert(key_check_values),
            [{"key_name": c.name, "check_value": c.value, "created_at": now} for c in fresh],
        )
    return [c.name for c in fresh]


def record_new_version(conn: Connection, provider: KeyProvider, version: int) -> None:
    """A version's first row: its key is the one from now on (ensure_master_versions)."""
    name = master_name(version)
    if name not in recorded(conn):
        value = provider.check_value(version)
        conn.execute(
            insert(key_check_values).values(
                key_name=name, check_value=value, created_at=clock.utcnow()
            )
        )


def mismatch(checks: Iterable[KeyCheck]) -> KeyMismatch | None:
    """The refusal naming every wrong key, or None when none is wrong."""
    wrong = [c for c in checks if c.finding is Finding.DIFFERS]
    if not wrong:
        return None
    return KeyMismatch(
        "; ".join(c.detail for c in wrong)
        + ". Check BAOMI_KEY_PROVIDER and the keys it reads (master.key, or BAOMI_MASTER_KEYS "
        "and BAOMI_INDEX_KEY): with a wrong key every read would fail as if tampered with and "
        "查重 would miss customers on file, so nothing is started with it",
        keys=[c.name for c in wrong],
    )


def wrapped_under(conn: Connection, *, version: int, limit: int) -> Sequence[Row[Any, Any, Any]]:
    """The first `limit` live data keys wrapped under `version` (id, owner_id, wrapped)."""
    return conn.execute(
        select(data_keys.c.id, data_keys.c.owner_id, data_keys.c.wrapped)
        .where(data_keys.c.master_version == version, data_keys.c.wrapped.is_not(None))
        .order_by(data_keys.c.id)
        .limit(limit)
    ).all()


def opens(provider: KeyProvider, row: Row[Any, Any, Any], *, version: int) -> bool:
    """Whether master key `version` opens this wrapped data key. It is unwrapped and wrapped
    again inside crypto/: the data key never reaches this module."""
    try:
        rewrap_data_key(
            provider,
            owner_id=row.owner_id,
            version=version,
            wrapped=row.wrapped,
            to_version=version,
        )
    except DecryptionError:
        return False
    return True
