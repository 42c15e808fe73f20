"""Auditor routes: search events, sealing status, inclusion proofs (C1.3, C6).

Reading the log gives no customer data (events hold ids, tags and codes), and every read of the
log is itself an audit event (audit:search, audit:verify).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Path, Query, Request

from baomi.api.deps import Conn, Ctx, EngineDep, require_permission
from baomi.api.inputs import Moment
from baomi.api.unit import api_router
from baomi.audit import proofs, runner, search, service
from baomi.audit.checkpoint import MissingSigningKey
from baomi.audit.context import RequestContext
from baomi.audit.sealing import seal
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action, Decision
from baomi.errors import BaomiError
from baomi.security.actor import Actor
from baomi.security.roles import Permission


class AuditKeyMissing(BaomiError):
    """The log's signing key file is gone (issue 18): nothing is sealed until it is restored."""

    status = 503
    code = "audit_key_missing"
    title = "The audit log cannot be sealed"


router = api_router(prefix="/api/v1/audit", tags=["audit"])
# Event ids are positive 64-bit integers; a larger one would overflow the database's integer.
EVENT_ID_MAX = 2**63 - 1
Auditor = Annotated[Actor, Depends(require_permission(Permission.AUDIT_READ))]


def audit_settings(request: Request) -> AuditSettings:
    """Audit settings under the app's own BAOMI_HOME."""
    return AuditSettings(home=request.app.state.settings.home)


AuditSettingsDep = Annotated[AuditSettings, Depends(audit_settings)]


def _record(conn: Conn, ctx: RequestContext, actor: Actor, action: Action, **kw: Any) -> None:
    service.record(
        conn,
        ctx=ctx,
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        decision=Decision.ALLOW,
        reason="auditor",
        **kw,
    )


@router.get("/events")
def get_events(
    conn: Conn,
    ctx: Ctx,
    actor: Auditor,
    actor_filter: Annotated[str | None, Query(alias="actor")] = None,
    customer_id: str | None = None,
    action: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=EVENT_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Search events by actor, customer, action and time, newest first, with their ids."""
    page = search.search(
        conn,
        actor=actor_filter,
        customer_id=customer_id,
        action=action,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
    _record(conn, ctx, actor, Action.AUDIT_SEARCH, customer_id=customer_id)
    return page


@router.get("/events/{event_id}/proof")
def get_proof(
    event_id: Annotated[int, Path(ge=1, le=EVENT_ID_MAX)],
    conn: Conn,
    ctx: Ctx,
    actor: Auditor,
    engine: EngineDep,
    settings: AuditSettingsDep,
    tasks: BackgroundTasks,
) -> dict[str, Any]:
    """Return the inclusion proof of an event; an event not yet sealed is sealed first."""
    deadline = time.monotonic() + settings.checkpoint_seconds + 5
    while True:
        try:
            doc = proofs.inclusion(conn, event_id)
            break
        except proofs.NotSealed:
            # Seal inside this request's transaction (on SQLite it already holds the write
            # lock); if another sealer holds the lock, its commit shows up on the next read.
            try:
                signer = runner.log_signer(settings)
            except MissingSigningKey as missing:
                raise AuditKeyMissing(
                    "the audit log's signing key is missing on the server, so this event "
                    "cannot be sealed: the system administrator restores it from the key backup"
                ) from missing
            trusted = runner.newest_kept(signer.verifier, settings)
            if seal(conn, signer, trusted=trusted) is not None:
                tasks.add_task(
                    runner.publish_latest, engine, runner.log_verifier(settings), settings
                )
                continue
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    _record(conn, ctx, actor, Action.AUDIT_VERIFY, object_id=str(event_id))
    return doc


@router.get("/status")
def get_status(
    conn: Conn, ctx: Ctx, actor: Auditor, engine: EngineDep, settings: AuditSettingsDep
) -> dict[str, Any]:
    """Return the sealing status and the check against the checkpoints kept outside."""
    doc = search.status(conn)
    doc["startupCheck"] = runner.startup_check(engine, settings) or "ok"
    _record(conn, ctx, actor, Action.AUDIT_VERIFY, details={"status": True})
    return doc
