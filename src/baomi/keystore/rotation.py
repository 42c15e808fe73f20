"""Online, resumable master-key rotation and retirement (C4.2.2 managed keys).

Rotation adds a master version (or resumes the unfinished rotation in key_rotations), then
rewraps data keys from older versions in batches, each batch its own short transaction. Readers
never stop: a row holds either its old wrapping or its new one, and both versions unwrap until
the old one is retired. A crash loses at most one uncommitted batch; running again continues.
Only the data keys are rewrapped; field ciphertexts stay as they are, under the same data keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import CLI_CONTEXT, RequestContext
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.crypto.errors import KeyProviderReadOnly
from baomi.crypto.keys import KeyProvider
from baomi.crypto.wrapping import rewrap_data_key
from baomi.errors import Conflict, NotFound
from baomi.ids import new_id
from baomi.keystore.errors import KeyInUse
from baomi.keystore.models import data_keys, key_rotations, master_key_versions
from baomi.keystore.service import VersionState, ensure_master_versions
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
    """Resume the unfinished rotation, or add a new master version and record a rotation."""
    with unit_of_work(engine) as conn:
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
    engine: Engine, provider: KeyProvider, *, rotation: Rotation, batch_size: int
) -> int:
    """Rewrap up to `batch_size` data keys from older versions in one transaction; return count."""
    target = rotation.target_version
    with unit_of_work(engine) as conn:
        rows = conn.execute(
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
        ).all()
        if not rows:
            return 0
        now = clock.utcnow()
        params = []
        for row in rows:
            wrapped = rewrap_data_key(
                provider,
                owner_id=row.owner_id,
                version=row.master_version,
                wrapped=row.wrapped,
                to_version=target,
            )
            params.append({"b_id": row.id, "b_version": target, "b_wrapped": wrapped, "b_at": now})
        conn.execute(_REWRAP, params)
        conn.execute(
            update(key_rotations)
            .where(key_rotations.c.id == rotation.id)
            .values(rewrapped=key_rotations.c.rewrapped + len(rows))
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
) -> Rotation:
    """Rotate (or resume rotating) to a new master version; report progress as (done, total)."""
    rotation = start_rotation(engine, provider)
    with engine.connect() as conn:
        total = _live_under(conn)
        done = total - _live_under(conn, older_than=rotation.target_version)
    if progress is not None:
        progress(done, total)
    while count := rewrap_batch(engine, provider, rotation=rotation, batch_size=batch_size):
        done = min(done + count, total)
        if progress is not None:
            progress(done, total)
    return finish_rotation(
        engine, rotation=rotation, actor_id=actor_id, actor_username=actor_username, ctx=ctx
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
            raise KeyInUse(
                f"{in_use} data keys still use master key version {version}; "
                "run `baomi keys rotate` first"
            )
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
