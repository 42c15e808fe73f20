"""Which running instances hold which master-key versions (issue 19.5, C4.2.2 managed keys).

Several `baomi serve` processes may share one database, each with its own key provider. A
rotation to a master-key version that one of them does not hold would make it fail on every
data key wrapped under the new version. So each serving instance announces itself here with the
versions its provider holds, refreshes the row every BEAT_SECONDS while it runs (a file
provider picks up a new version on its next beat; an environment provider only on a restart),
and marks it stopped on a clean stop. `baomi keys rotate` refuses a version that a live
instance lacks, and names the instance.

An instance is live while its row was refreshed within FRESH; a killed one drops out after that,
so a crash never blocks a rotation for longer.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from baomi import clock
from baomi.crypto.keys import KeyProvider
from baomi.errors import Conflict
from baomi.ids import new_id
from baomi.keystore.models import app_instances
from baomi.uow import unit_of_work

BEAT_SECONDS = 30
FRESH = timedelta(seconds=3 * BEAT_SECONDS)
# Rows of instances gone this long are removed when another one starts.
FORGOTTEN_AFTER = timedelta(days=7)

log = structlog.get_logger("baomi.keystore")


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    host: str
    pid: int
    key_versions: tuple[int, ...]
    seen_at: datetime

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}"


class KeyNotEverywhere(Conflict):
    """A running instance does not hold the master-key version a rotation would move to."""

    code = "key_not_on_every_instance"


def announce(engine: Engine, provider: KeyProvider) -> str:
    """Record this process as a running instance; return its id."""
    now = clock.utcnow()
    instance_id = new_id()
    with unit_of_work(engine) as conn:
        conn.execute(
            delete(app_instances).where(
                or_(
                    app_instances.c.stopped_at < now - FORGOTTEN_AFTER,
                    app_instances.c.seen_at < now - FORGOTTEN_AFTER,
                )
            )
        )
        conn.execute(
            insert(app_instances).values(
                id=instance_id,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                key_versions=sorted(provider.versions()),
                started_at=now,
                seen_at=now,
            )
        )
    return instance_id


def beat(engine: Engine, instance_id: str, provider: KeyProvider) -> None:
    """Refresh this instance's row with the versions its provider holds now."""
    with unit_of_work(engine) as conn:
        conn.execute(
            update(app_instances)
            .where(app_instances.c.id == instance_id)
            .values(seen_at=clock.utcnow(), key_versions=sorted(provider.versions()))
        )


def leave(engine: Engine, instance_id: str) -> None:
    """Mark this instance stopped (a clean stop; a killed one simply stops beating)."""
    with unit_of_work(engine) as conn:
        conn.execute(
            update(app_instances)
            .where(app_instances.c.id == instance_id)
            .values(stopped_at=clock.utcnow())
        )


def live(conn: Connection, now: datetime | None = None) -> list[Instance]:
    """Return the instances running now (refreshed within FRESH, not stopped)."""
    now = now or clock.utcnow()
    rows = conn.execute(
        select(app_instances)
        .where(app_instances.c.stopped_at.is_(None), app_instances.c.seen_at >= now - FRESH)
        .order_by(app_instances.c.host, app_instances.c.pid)
    )
    return [
        Instance(r.id, r.host, r.pid, tuple(int(v) for v in r.key_versions), r.seen_at)
        for r in rows
    ]


def require_everywhere(conn: Connection, version: int, now: datetime | None = None) -> None:
    """Refuse, naming them, when a live instance does not hold master-key `version`."""
    lacking = [i for i in live(conn, now) if version not in i.key_versions]
    if not lacking:
        return
    named = ", ".join(
        f"{i.name} (holds {', '.join(map(str, i.key_versions)) or 'none'})" for i in lacking
    )
    raise KeyNotEverywhere(
        f"master key version {version} is not held by every running instance: {named}. Give "
        "each of them the new version (BAOMI_MASTER_KEYS or the key file) and restart it, wait "
        f"for its next heartbeat ({BEAT_SECONDS} s), then rotate again"
    )


class Heartbeat(threading.Thread):
    """Announce this instance, refresh it every BEAT_SECONDS, and mark it stopped at the end."""

    def __init__(self, engine: Engine, provider: KeyProvider) -> None:
        super().__init__(name="baomi-instance-heartbeat", daemon=True)
        self.engine, self.provider = engine, provider
        self.instance_id = announce(engine, provider)
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(BEAT_SECONDS):
            try:
                beat(self.engine, self.instance_id, self.provider)
            except SQLAlchemyError as error:
                # The database is away: the row goes stale, which is what a stopped one does.
                log.warning("instance_heartbeat_failed", error_type=type(error).__name__)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
        try:
            leave(self.engine, self.instance_id)
        except SQLAlchemyError as error:
            log.warning("instance_leave_failed", error_type=type(error).__name__)
