"""Running the sealer: on demand (CLI), in the background (server), and the start-up check.

`seal_now` seals in one transaction, then exports and witnesses the checkpoint after commit, so
a slow or absent witness never holds business writes. The start-up check compares the database
with the checkpoints kept outside it (export directory, witness), so a database restored to an
older copy is refused loudly instead of quietly forking the log (C1.3).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import structlog
from sqlalchemy import Engine, create_engine

from baomi import clock
from baomi.audit import coverage, export, merkle, publish, store, witness_client
from baomi.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    Ed25519Signer,
    MissingSigningKey,
    Verifier,
    create_key,
    load_key,
)
from baomi.audit.sealing import Sealed, seal
from baomi.audit.settings import AuditSettings

log = structlog.get_logger(__name__)
_readers: dict[str, Engine] = {}


def reader(engine: Engine) -> Engine:
    """Return an engine for long reads that must not hold SQLite's write lock.

    The product's SQLite engine takes the write lock at BEGIN so writers queue; a full
    verification reading a million events must not stall the business meanwhile. Plain pysqlite
    reads run without a write lock (WAL gives each statement a consistent snapshot).
    """
    if engine.dialect.name != "sqlite":
        return engine
    url = engine.url.render_as_string(hide_password=False)
    if url not in _readers:
        _readers[url] = create_engine(url, connect_args={"check_same_thread": False})
    return _readers[url]


def log_signer(settings: AuditSettings) -> Ed25519Signer:
    """Return the log's signing key from its key file; MissingSigningKey when there is none."""
    return load_key(settings.resolved_key_file)


def create_log_key(settings: AuditSettings) -> bool:
    """Create the log's signing key unless it exists (`baomi init`); return whether it did."""
    if settings.resolved_key_file.exists():
        log_signer(settings)  # an existing key must still be readable and well-formed
        return False
    create_key(settings.resolved_key_file)
    return True


def log_verifier(settings: AuditSettings) -> Verifier:
    """Return the log's public key (the .vkey beside the key file, else from the key)."""
    vkey = settings.resolved_key_file.with_suffix(".vkey")
    return Verifier.parse(vkey.read_text()) if vkey.exists() else log_signer(settings).verifier


def external_checkpoints(
    log_key: Verifier, settings: AuditSettings
) -> list[tuple[str, Checkpoint]]:
    """Return the newest checkpoints kept outside the database, each checked by the log key."""
    out: list[tuple[str, Checkpoint]] = []
    # Sources read "<source> checkpoint <size>" in messages: "exported checkpoint 830".
    for kind, source in (("checkpoint", "exported"), ("witnessed", "exported witnessed")):
        cp = export.latest(settings.resolved_export_dir, log_key, kind)
        if cp is not None:
            out.append((source, cp))
    target = witness_client.client(settings, log_key)
    if target is not None:
        cp = witness_client.latest_checkpoint(target, log_key)
        if cp is not None:
            out.append(("witness", cp))
    return out


def newest_kept(log_key: Verifier, settings: AuditSettings) -> Checkpoint | None:
    """Return the largest checkpoint kept outside the database (the sealer must not fall behind
    it)."""
    kept = external_checkpoints(log_key, settings)
    return max((cp for _, cp in kept), key=lambda cp: cp.size, default=None)


def seal_now(
    engine: Engine, settings: AuditSettings, signer: Ed25519Signer | None = None
) -> Sealed | None:
    """Seal waiting events, then export and witness the new checkpoint."""
    signer = signer or log_signer(settings)
    trusted = newest_kept(signer.verifier, settings)
    # Not a unit of work (baomi.uow records refusals in the log, so it sits above audit/): the
    # sealer writes only the log's own tree, under the lock `seal` takes.
    with engine.begin() as conn:
        sealed = seal(conn, signer, trusted=trusted)
    publish_latest(engine, signer.verifier, settings)
    return sealed


def publish_latest(engine: Engine, log_key: Verifier, settings: AuditSettings) -> None:
    """Export (and witness) the latest checkpoint unless it is already kept outside."""
    kind = "witnessed" if settings.witness_configured else "checkpoint"
    kept = export.latest(settings.resolved_export_dir, log_key, kind)
    # Not a unit of work either (see seal_now): it records the log's own publication.
    with engine.begin() as conn:
        last = store.last_checkpoint(conn)
        if last is not None and (kept is None or kept.size < last[0]):
            publish.publish(conn, last[2], log_key, settings)


def startup_check(engine: Engine, settings: AuditSettings) -> str | None:
    """Return why the database disagrees with the checkpoints kept outside it, or None."""
    try:
        log_key = log_verifier(settings)
    except MissingSigningKey as exc:
        return str(exc)
    with reader(engine).connect() as conn:
        try:
            kept = external_checkpoints(log_key, settings)
            paired = coverage.assess(conn, log_key, settings)
        except (CheckpointError, OSError) as exc:
            return f"cannot read the kept checkpoints: {exc}"
        if paired.problem is not None:
            return paired.problem
        last = store.last_checkpoint(conn)
        size = last[0] if last else 0
        for source, cp in kept:
            if cp.size > size:
                return (
                    f"the {source} checkpoint covers {cp.size} events but the database only "
                    f"{size}: this database is an older copy (restored backup?)"
                )
            try:
                root = merkle.root(store.DbNodes(conn), cp.size)
            except store.MissingNode as exc:
                return f"the stored tree is damaged: {exc}"
            if root != cp.root:
                return f"the database's tree disagrees with the {source} checkpoint {cp.size}"
    return None


def ensure_local_witness(
    engine: Engine, settings: AuditSettings, directory: Path
) -> tuple[witness_client.LocalWitness, bool]:
    """Open the local witness in `directory`, making it only for a log never witnessed; return
    it and whether it was made (`baomi init`, `baomi demo`).

    A new witness starts from whatever the log holds now, so it is never made for a log that
    some witness already co-signed: that one's state is what catches an older copy.
    """
    log_key = log_verifier(settings)
    if (directory / "witness.key").exists():
        return witness_client.open_local(directory, log_key, settings), False
    with reader(engine).connect() as conn:
        received = publish.witnessed_size(conn)
    if received:
        raise witness_client.WitnessUnavailable(
            f"a witness co-signed this log up to {received}, but there is none in {directory}: "
            "restore the witness's directory; a new witness would accept an older copy of the log"
        )
    return witness_client.create_local(directory, log_key, settings), True


def due(engine: Engine, settings: AuditSettings) -> bool:
    """Return whether enough events wait, or the oldest waited long enough, to seal now."""
    with reader(engine).connect() as conn:
        count, oldest = store.unsealed(conn)
    if not count:
        return False
    age = clock.utcnow() - oldest if oldest else timedelta(0)
    return bool(
        count >= settings.checkpoint_events or age.total_seconds() >= settings.checkpoint_seconds
    )


def can_sign(settings: AuditSettings) -> bool:
    """Return whether this process holds the log's signing key (never creates one to find out).

    A new key would sign checkpoints no verifier of the existing log trusts, so only a key file
    that already exists counts; a fresh home gets its key from `baomi init`, and only there.
    """
    return settings.resolved_key_file.exists()


def seal_all(engine: Engine, settings: AuditSettings, *, rounds: int = 100) -> int:
    """Seal until nothing waits (each round signs a checkpoint); return how many were sealed.

    Stops early when another sealer holds the lock: that sealer's checkpoint covers the rest.
    """
    signer = log_signer(settings)
    total = 0
    for _ in range(rounds):
        sealed = seal_now(engine, settings, signer)
        if sealed is None:
            break
        total += sealed.new_leaves
    return total


def seal_waiting(engine: Engine, settings: AuditSettings, *, moment: str) -> int:
    """Seal what waits at a server's start (after a crash) or stop (before the process ends).

    A refusal is evidence of tampering: it is logged and the server goes on, as the background
    sealer does; `baomi audit verify` names the damage.
    """
    try:
        sealed = seal_all(engine, settings)
    except Exception:
        log.exception("audit.seal_failed", moment=moment)
        return 0
    log.info("audit.sealed_waiting", moment=moment, new=sealed)
    return sealed


class BackgroundSealer(threading.Thread):
    """Seal every N events or T seconds in the server process; stop() ends it."""

    def __init__(self, engine: Engine, settings: AuditSettings) -> None:
        super().__init__(name="baomi-audit-sealer", daemon=True)
        self.engine, self.settings = engine, settings
        self._stop_event = threading.Event()

    def run(self) -> None:
        # Poll at a quarter of the interval, so an event waits at most ~1.25x the interval.
        poll = min(1.0, self.settings.checkpoint_seconds / 4)
        while not self._stop_event.wait(poll):
            try:
                if due(self.engine, self.settings):
                    sealed = seal_now(self.engine, self.settings)
                    if sealed:
                        log.info("audit.sealed", size=sealed.size, new=sealed.new_leaves)
            except Exception:  # keep sealing later; verification reports the gap meanwhile
                log.exception("audit.seal_failed")

    def stop(self) -> None:
        self._stop_event.set()
