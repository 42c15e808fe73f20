"""Online, resumable master-key rotation and retirement (C4.2.2 managed keys).

Rotation adds a master version (or resumes the unfinished rotation in key_rotations), then
rewraps data keys from older versions in batches, each batch its own short transaction. Readers
never stop: a row holds either its old wrapping or its new one, and both versions unwrap until
the old one is retired. A crash loses at most one uncommitted batch; running again continues.
Only the data keys are rewrapped; field ciphertexts stay as they are, under the same data keys.

A wrapped key that fails authentication (tampered with or corrupted in the database) is damaged,
not a reason to stop (issue 17): the rotation goes on past it, rewraps the others, and names the
damaged ones (data key and owner ids) in its audit event and in a notice to the security
officers. It then stays unfinished, since those keys are still under the old version, and that
version cannot be retired while they are: a damaged key is unreadable now, but the copy of its
row in a database backup is wrapped under the old version too, and retiring it would erase the
only key that could open the restored copy. Restore the rows and rotate again, or destroy those
records by the destruction procedure (crypto-shredding, C4.5.1); then the version can go.
A wrong master key is refused by name before anything is rewrapped (keystore/checks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import CLI_CONTEXT, RequestContext
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.crypto.errors import DecryptionError, KeyProviderReadOnly, KeyUnavailable
from baomi.crypto.keys import KeyProvider
from baomi.crypto.wrapping import rewrap_data_key
from baomi.errors import Conflict, NotFound
from baomi.ids import new_id
from baomi.keystore import checks, instances
from baomi.keystore.errors import KeyInUse
from baomi.keystore.models import data_keys, key_rotations, master_key_versions
from baomi.keystore.service import DamagedKey, VersionState, damaged_under, ensure_master_versions
from baomi.notifications import triggers
from baomi.uow import unit_of_work

Progress = Callable[[int, int], None]


class NothingToRotate(Conflict):
    """A read-only provider offers no newer master key than the one every data key is under."""

    code = "nothing_to_rotate"


@dataclass(frozen=True, slots=True)
class Rotation:
    id: str
    target_version: int
    rewrapped: int
    # Wrapped keys that failed authentication: left under their old version (issue 17).
    damaged: tuple[DamagedKey, ...] = ()

    @property
    def finished(self) -> bool:
        return not self.damaged


_REWRAP = (
    update(data_keys)
    .where(data_keys.c.id == bindparam("b_id"))
    .values(
        master_version=bindparam("b_version"),
        wrapped=bindparam("b_wrapped"),
        rewrapped_at=bindparam("b_at"),
    )
)


def _live_under(conn: Connection, *, older_than: int | None = None) -> int:
    query = select(func.count()).select_from(data_keys).where(data_keys.c.wrapped.is_not(None))
    if older_than is not None:
        query = query.where(data_keys.c.master_version < older_than)
    return int(conn.execute(query).scalar_one())


def start_rotation(engine: Engine, provider: KeyProvider) -> Rotation:
    """Resume the unfinished rotation, or add a new master version and record a rotation.

    A master key that is not the one its data keys were wrapped with is refused by name first
    (KeyMismatch): rotating with it would call every data key damaged.
    """
    with unit_of_work(engine) as conn:
        if refusal := checks.mismatch(checks.check_master_keys(conn, provider)):
            raise refusal
        row = conn.execute(
            select(key_rotations)
            .where(key_rotations.c.finished_at.is_(None))
            .order_by(key_rotations.c.started_at.desc())
            .limit(1)
        ).first()
        if row is not None:
            ensure_master_versions(conn, provider)
            return Rotation(id=row.id, target_version=row.target_version, rewrapped=row.rewrapped)
        try:
            target = provider.add_version()
        except KeyProviderReadOnly:
            # The operator added the version where the keys live; rewrap onto the active one.
            target = provider.active_version()
            if not _live_under(conn, older_than=target):
                # Issue 19: this said "0 rewrapped" and succeeded, rotating nothing.
                raise NothingToRotate(
                    f"every data key is already under master key version {target}, the newest "
                    "in BAOMI_MASTER_KEYS: add a new version there (`baomi keys new` prints "
                    "one), restart every instance with it, then rotate"
                ) from None
        ensure_master_versions(conn, provider)
        rotation = Rotation(id=new_id(), target_version=target, rewrapped=0)
        conn.execute(
            insert(key_rotations).values(
                id=rotation.id, target_version=target, started_at=clock.utcnow(), rewrapped=0
            )
        )
        return rotation


def rewrap_batch(
    engine: Engine,
    provider: KeyProvider,
    *,
    rotation: Rotation,
    batch_size: int,
    damaged: list[DamagedKey] | None = None,
) -> int:
    """Rewrap up to `batch_size` data keys from older versions in one transaction.

    A key that fails authentication is left as it is and added to `damaged`, and the keys
    already there are not tried again; returns how many keys were looked at (rewrapped or found
    damaged), so 0 means there is nothing left to try.
    """
    target = rotation.target_version
    skipped = [key.data_key_id for key in damaged or ()]
    with unit_of_work(engine) as conn:
        query = (
            select(
                data_keys.c.id,
                data_keys.c.owner_id,
                data_keys.c.master_version,
                data_keys.c.wrapped,
            )
            .where(data_keys.c.master_version < target, data_keys.c.wrapped.is_not(None))
            .order_by(data_keys.c.id)
            .limit(batch_size)
            .with_for_update()
        )
        if skipped:
            query = query.where(data_keys.c.id.not_in(skipped))
        rows = conn.execute(query).all()
        if not rows:
            return 0
        now = clock.utcnow()
        params = []
        for row in rows:
            try:
                wrapped = rewrap_data_key(
                    provider,
                    owner_id=row.owner_id,
                    version=row.master_version,
                    wrapped=row.wrapped,
                    to_version=target,
                )
            except DecryptionError:
                if damaged is None:
                    raise
                damaged.append(DamagedKey(row.id, row.owner_id, row.master_version))
                continue
            params.append({"b_id": row.id, "b_version": target, "b_wrapped": wrapped, "b_at": now})
        if params:
            conn.execute(_REWRAP, params)
            conn.execute(
                update(key_rotations)
                .where(key_rotations.c.id == rotation.id)
                .values(rewrapped=key_rotations.c.rewrapped + len(params))
            )
        return len(rows)


def finish_rotation(
    engine: Engine,
    *,
    rotation: Rotation,
    actor_id: str | None = None,
    actor_username: str | None = None,
    ctx: RequestContext = CLI_CONTEXT,
) -> Rotation:
    """Close the rotation once no live data key is older than its target, and audit it."""
    with unit_of_work(engine) as conn:
        remaining = _live_under(conn, older_than=rotation.target_version)
        if remaining:
            raise Conflict(f"{remaining} data keys still need rewrapping; run the rotation again")
        rewrapped = int(
            conn.execute(
                select(key_rotations.c.rewrapped).where(key_rotations.c.id == rotation.id)
            ).scalar_one()
        )
        conn.execute(
            update(key_rotations)
            .where(key_rotations.c.id == rotation.id)
            .values(finished_at=clock.utcnow())
        )
        record(
            conn,
            ctx=ctx,
            actor_id=actor_id,
            actor_username=actor_username,
            action=Action.KEY_ROTATE,
            decision=Decision.ALLOW,
            reason="rotation_completed",
            object_id=rotation.id,
            details={"target_version": rotation.target_version, "rewrapped": rewrapped},
        )
    return Rotation(id=rotation.id, target_version=rotation.target_version, rewrapped=rewrapped)


def rotate(
    engine: Engine,
    provider: KeyProvider,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    actor_id: str | None = None,
    actor_username: str | None = None,
    ctx: RequestContext = CLI_CONTEXT,
    mail: bool = False,
) -> Rotation:
    """Rotate (or resume rotating) to a new master version; report progress as (done, total).

    Damaged wrapped keys are passed over and returned in `Rotation.damaged`; the rotation then
    stays unfinished (audited, the security officers told: `mail` says whether by mail too).
    """
    rotation = start_rotation(engine, provider)
    with engine.connect() as conn:
        # Issue 19.5: not while a running instance would fail on the new version's keys.
        instances.require_everywhere(conn, rotation.target_version)
        total = _live_under(conn)
        done = total - _live_under(conn, older_than=rotation.target_version)
    if progress is not None:
        progress(done, total)
    damaged: list[DamagedKey] = []
    while count := rewrap_batch(
        engine, provider, rotation=rotation, batch_size=batch_size, damaged=damaged
    ):
        done = min(done + count, total)
        if progress is not None:
            progress(done, total)
    if damaged:
        return _left_damaged(
            engine,
            rotation=rotation,
            damaged=damaged,
            actor_id=actor_id,
            actor_username=actor_username,
            ctx=ctx,
            mail=mail,
        )
    return finish_rotation(
        engine, rotation=rotation, actor_id=actor_id, actor_username=actor_username, ctx=ctx
    )


def _left_damaged(
    engine: Engine,
    *,
    rotation: Rotation,
    damaged: Sequence[DamagedKey],
    actor_id: str | None,
    actor_username: str | None,
    ctx: RequestContext,
    mail: bool,
) -> Rotation:
    """Record a rotation that had to leave damaged keys behind; it stays unfinished (C5)."""
    with unit_of_work(engine) as conn:
        rewrapped = int(
            conn.execute(
                select(key_rotations.c.rewrapped).where(key_rotations.c.id == rotation.id)
            ).scalar_one()
        )
        record(
            conn,
            ctx=ctx,
            actor_id=actor_id,
            actor_username=actor_username,
            action=Action.KEY_ROTATE,
            decision=Decision.DENY,
            reason="damaged_data_keys",
            object_id=rotation.id,
            # Ids only: which data keys, whose (their owners are customers), under which version.
            details={
                "target_version": rotation.target_version,
                "rewrapped": rewrapped,
                "damaged": [key.as_detail() for key in damaged],
            },
        )
        triggers.damaged_data_keys(
            conn,
            data_key_ids=[key.data_key_id for key in damaged],
            owner_ids=[key.owner_id for key in damaged],
            target_version=rotation.target_version,
            now=clock.utcnow(),
            mail=mail,
        )
    return Rotation(
        id=rotation.id,
        target_version=rotation.target_version,
        rewrapped=rewrapped,
        damaged=tuple(damaged),
    )


def retire(
    engine: Engine,
    provider: KeyProvider,
    *,
    version: int,
    actor_id: str | None = None,
    actor_username: str | None = None,
    ctx: RequestContext = CLI_CONTEXT,
) -> None:
    """Erase a master version that is neither active nor wrapping any live data key."""
    with unit_of_work(engine) as conn:
        ensure_master_versions(conn, provider)
        status = conn.execute(
            select(master_key_versions.c.status).where(master_key_versions.c.version == version)
        ).scalar_one_or_none()
        if status is None or status == VersionState.RETIRED:
            raise NotFound(f"master key version {version} is unknown or already retired")
        if status == VersionState.ACTIVE:
            raise KeyInUse(f"master key version {version} is active; rotate before retiring it")
        in_use = int(
            conn.execute(
                select(func.count())
                .select_from(data_keys)
                .where(data_keys.c.master_version == version, data_keys.c.wrapped.is_not(None))
            ).scalar_one()
        )
        if in_use:
            raise KeyInUse(_still_in_use(conn, provider, version=version, in_use=in_use))
        conn.execute(
            update(master_key_versions)
            .where(master_key_versions.c.version == version)
            .values(status=VersionState.RETIRED, retired_at=clock.utcnow())
        )
        record(
            conn,
            ctx=ctx,
            actor_id=actor_id,
            actor_username=actor_username,
            action=Action.KEY_RETIRE,
            decision=Decision.ALLOW,
            reason="version_retired",
            details={"version": version},
        )
        # Last: if erasing fails, the row and the audit event roll back with it.
        provider.retire_version(version)


def _still_in_use(conn: Connection, provider: KeyProvider, *, version: int, in_use: int) -> str:
    """Why a version cannot be retired yet, naming the damaged keys that keep it (issue 17)."""
    message = f"{in_use} data keys still use master key version {version}"
    try:
        found = damaged_under(conn, provider, version=version)
    except KeyUnavailable:
        found = []
    if not found:
        return message + "; run `baomi keys rotate` first"
    named = ", ".join(key.describe() for key in found)
    more = "" if len(found) == in_use else "; run `baomi keys rotate` for the others"
    return (
        f"{message}, {len(found)} of them damaged (their wrapped key fails authentication): "
        f"{named}. Retiring version {version} would erase the only key that opens a backup "
        "copy of them: restore their rows of data_keys from a database backup and run "
        "`baomi keys rotate` again, or destroy those records by the destruction procedure "
        f"(C4.5.1){more}"
    )
