"""Data keys through the database: create, shred, and the bookkeeping of master versions.

Functions take a `Connection` inside the caller's transaction and never commit. Rotation and
retirement, which run their own transactions, live in `baomi.keystore.rotation`. No function
here hands out a stored data key in plaintext: the customers door joins `wrapped_keys` to the
row it reads and opens the key itself, audited with the read (C4.3.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Subquery, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.crypto.errors import CryptoError
from baomi.crypto.keys import KeyProvider
from baomi.crypto.wrapping import new_data_key, rewrap_data_key, wrap_data_key
from baomi.db_direct import DirectStatement
from baomi.errors import NotFound
from baomi.ids import new_id
from baomi.keystore.checks import opens, record_new_version, wrapped_under
from baomi.keystore.models import data_keys, key_rotations, master_key_versions


class VersionState(StrEnum):
    ACTIVE = "active"
    PREVIOUS = "previous"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    status: str
    data_keys: int
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyStatus:
    active_version: int
    versions: list[VersionInfo]
    shredded: int
    # Target version of an unfinished rotation, if one is waiting to be resumed.
    rotation_target: int | None


@dataclass(frozen=True, slots=True)
class DamagedKey:
    """A stored data key whose wrapping fails authentication (issue 17): ids, never material."""

    data_key_id: str
    owner_id: str
    version: int

    def describe(self) -> str:
        return f"data key {self.data_key_id} (owner {self.owner_id})"

    def as_detail(self) -> dict[str, str | int]:
        return {"data_key_id": self.data_key_id, "owner_id": self.owner_id, "version": self.version}


_EXISTS = select(data_keys.c.id).where(data_keys.c.id == bindparam("data_key_id"))
_INSERT = insert(data_keys)
_INSERT_MANY = DirectStatement(
    insert(data_keys), insert_keys=("id", "owner_id", "master_version", "wrapped", "created_at")
)
_VERSION_STATUS = select(master_key_versions.c.status).where(
    master_key_versions.c.version == bindparam("version")
)


def ensure_master_versions(conn: Connection, provider: KeyProvider) -> None:
    """Mirror the provider's versions into master_key_versions: active, previous or retired."""
    active = provider.active_version()
    usable = set(provider.versions())
    known = {
        row.version: row.status
        for row in conn.execute(select(master_key_versions.c.version, master_key_versions.c.status))
    }
    if known and max(known) > active:
        # This process was not given the newest version yet (a rolling restart, or a rotation
        # begun elsewhere): it changes no record. Mirroring its view would mark the newer
        # version retired, for good, while its key still exists (issue 19).
        return
    now = clock.utcnow()
    for version in sorted(usable | known.keys()):
        if version == active:
            wanted = VersionState.ACTIVE
        elif version in usable:
            wanted = VersionState.PREVIOUS
        else:
            wanted = VersionState.RETIRED
        current = known.get(version)
        # Retirement is final: the material was erased, so nothing may bring the row back.
        if current == wanted or current == VersionState.RETIRED:
            continue
        retired_at = now if wanted == VersionState.RETIRED else None
        if current is None:
            conn.execute(
                insert(master_key_versions).values(
                    version=version, status=wanted, created_at=now, retired_at=retired_at
                )
            )
            if version in usable:
                # Nothing is wrapped under a version before its row exists: this is its key
                # from now on, and a different one given later is refused by name (issue 17).
                record_new_version(conn, provider, version)
        else:
            conn.execute(
                update(master_key_versions)
                .where(master_key_versions.c.version == version)
                .values(status=wanted, retired_at=retired_at)
            )


def create_data_key(conn: Connection, provider: KeyProvider, *, owner_id: str) -> tuple[str, bytes]:
    """Create the owner's data key wrapped under the active version; return (id, plaintext)."""
    version = provider.active_version()
    status = conn.execute(_VERSION_STATUS, {"version": version}).scalar_one_or_none()
    if status != VersionState.ACTIVE:
        ensure_master_versions(conn, provider)
    data_key_id = new_id()
    key = new_data_key()
    conn.execute(
        _INSERT,
        {
            "id": data_key_id,
            "owner_id": owner_id,
            "master_version": version,
            "wrapped": wrap_data_key(provider, owner_id=owner_id, version=version, data_key=key),
            "created_at": clock.utcnow(),
        },
    )
    return data_key_id, key


def create_data_keys(
    conn: Connection, provider: KeyProvider, *, owner_ids: Sequence[str]
) -> list[tuple[str, bytes]]:
    """`create_data_key` for many owners at once (bulk filing: one insert for all of them)."""
    if not owner_ids:
        return []
    version = provider.active_version()
    status = conn.execute(_VERSION_STATUS, {"version": version}).scalar_one_or_none()
    if status != VersionState.ACTIVE:
        ensure_master_versions(conn, provider)
    now = clock.utcnow()
    made: list[tuple[str, bytes]] = []
    rows: list[dict[str, object]] = []
    for owner_id in owner_ids:
        data_key_id, key = new_id(), new_data_key()
        wrapped = wrap_data_key(provider, owner_id=owner_id, version=version, data_key=key)
        made.append((data_key_id, key))
        rows.append(
            {
                "id": data_key_id,
                "owner_id": owner_id,
                "master_version": version,
                "wrapped": wrapped,
                "created_at": now,
            }
        )
    _INSERT_MANY.execute_many(conn, rows)
    return made


def wrapped_keys() -> Subquery:
    """A joinable view of the data keys as stored: id, master_version, wrapped (None: shredded).

    For the customers door, which reads a record and its wrapped key in one statement.
    """
    return select(data_keys.c.id, data_keys.c.master_version, data_keys.c.wrapped).subquery(
        "wrapped_keys"
    )


def key_is_live(data_key_id: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether the data key `data_key_id` names still exists (not crypto-shredded): a clause
    for listing, where a destroyed customer is as if it never was (C4.5.1)."""
    return (
        select(data_keys.c.id)
        .where(data_keys.c.id == data_key_id, data_keys.c.wrapped.is_not(None))
        .exists()
    )


def recorded_versions(conn: Connection) -> int:
    """How many master versions the database has on record (none before `baomi init`)."""
    return int(conn.execute(select(func.count()).select_from(master_key_versions)).scalar_one())


def shred_data_key(conn: Connection, *, data_key_id: str) -> None:
    """C4.5.1 crypto-shredding: erase the wrapped key so every copy of the data is unreadable."""
    result = conn.execute(
        update(data_keys)
        .where(data_keys.c.id == data_key_id, data_keys.c.shredded_at.is_(None))
        .values(wrapped=None, shredded_at=clock.utcnow())
    )
    # Shredding twice is fine; shredding a key that never existed is a mistake worth saying.
    if result.rowcount == 0 and conn.execute(_EXISTS, {"data_key_id": data_key_id}).first() is None:
        raise NotFound(f"data key {data_key_id} does not exist")


def key_status(conn: Connection, provider: KeyProvider) -> KeyStatus:
    """Report every known master version with the number of live data keys under it."""
    counts: dict[int, int] = {
        version: count
        for version, count in conn.execute(
            select(data_keys.c.master_version, func.count())
            .where(data_keys.c.wrapped.is_not(None))
            .group_by(data_keys.c.master_version)
        )
    }
    shredded = conn.execute(
        select(func.count()).select_from(data_keys).where(data_keys.c.wrapped.is_(None))
    ).scalar_one()
    versions = [
        VersionInfo(
            version=row.version,
            status=row.status,
            data_keys=counts.get(row.version, 0),
            created_at=row.created_at,
            retired_at=row.retired_at,
        )
        for row in conn.execute(select(master_key_versions).order_by(master_key_versions.c.version))
    ]
    target = conn.execute(
        select(key_rotations.c.target_version)
        .where(key_rotations.c.finished_at.is_(None))
        .order_by(key_rotations.c.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return KeyStatus(
        active_version=provider.active_version(),
        versions=versions,
        shredded=shredded,
        rotation_target=target,
    )


def unwrap_probe(conn: Connection, provider: KeyProvider) -> dict[int, str | None]:
    """Open one live data key per master version and discard it: None where it opened, else why.

    For `baomi doctor` (issue 19): key material that loads but is not the one the data keys were
    wrapped with (a wrong BAOMI_MASTER_KEYS entry, a key file from another installation) shows
    here, not at a customer's first read. Only the keystore touches the key; nothing is kept.
    """
    found: dict[int, str | None] = {}
    rows = conn.execute(
        select(data_keys.c.master_version, func.min(data_keys.c.id))
        .where(data_keys.c.wrapped.is_not(None))
        .group_by(data_keys.c.master_version)
    ).all()
    for version, data_key_id in rows:
        row = conn.execute(
            select(data_keys.c.owner_id, data_keys.c.wrapped).where(data_keys.c.id == data_key_id)
        ).one()
        try:
            rewrap_data_key(
                provider,
                owner_id=row.owner_id,
                version=version,
                wrapped=row.wrapped,
                to_version=version,
            )
        except CryptoError as error:
            found[version] = f"{type(error).__name__}: {error}"
        else:
            found[version] = None
    return found


# How many live keys of a version `damaged_under` tries: it names what keeps a version from
# retirement, which is a handful of keys after a rotation, not the whole table before one.
DAMAGE_PROBE_LIMIT = 100


def damaged_under(
    conn: Connection, provider: KeyProvider, *, version: int, limit: int = DAMAGE_PROBE_LIMIT
) -> list[DamagedKey]:
    """The live data keys under `version` that fail authentication; none tried past `limit`."""
    return [
        DamagedKey(row.id, row.owner_id, version)
        for row in wrapped_under(conn, version=version, limit=limit)
        if not opens(provider, row, version=version)
    ]
