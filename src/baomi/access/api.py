"""Access-request routes (C4.3.1): thin wrappers over access.service and access.queries."""

from __future__ import annotations

from fastapi import Request

from baomi.access import queries, service
from baomi.access.queries import ListRole
from baomi.access.schemas import AccessRequestIn, AccessRequestOut, DecisionIn
from baomi.api.deps import Conn, Ctx, CurrentActor, VaultDep
from baomi.api.unit import api_router
from baomi.notifications.api import mail_on

router = api_router(prefix="/api/v1/access-requests", tags=["access-requests"])


@router.post("", response_model=AccessRequestOut, status_code=201)
def post_request(
    request: Request,
    body: AccessRequestIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> AccessRequestOut:
    """Ask for time-bound access to customers, stating purpose and duration."""
    return service.create_request(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail_on(request),
        request_in=body,
    )


@router.get("", response_model=list[AccessRequestOut])
def get_requests(
    conn: Conn, actor: CurrentActor, role: ListRole = ListRole.MINE
) -> list[AccessRequestOut]:
    """My requests (`mine`), or those waiting for my decision (`to_approve`)."""
    return queries.list_requests(conn, actor=actor, role=role)


@router.get("/{request_id}", response_model=AccessRequestOut)
def get_request(request_id: str, conn: Conn, actor: CurrentActor) -> AccessRequestOut:
    return queries.get_request(conn, actor=actor, request_id=request_id)


@router.post("/{request_id}/approve", response_model=AccessRequestOut)
def post_approve(
    request: Request,
    request_id: str,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
    body: DecisionIn | None = None,
) -> AccessRequestOut:
    """Approve as one of the request's approvers; the last approval creates the grants."""
    comment = body.comment if body else None
    return service.decide_request(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail_on(request),
        request_id=request_id,
        approve=True,
        comment=comment,
    )


@router.post("/{request_id}/reject", response_model=AccessRequestOut)
def post_reject(
    request: Request,
    request_id: str,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
    body: DecisionIn | None = None,
) -> AccessRequestOut:
    """Reject as one of the request's approvers; the request ends."""
    comment = body.comment if body else None
    return service.decide_request(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail_on(request),
        request_id=request_id,
        approve=False,
        comment=comment,
    )
