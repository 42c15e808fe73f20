"""Data-subject request routes (issue 12 item 4), thin over subject_requests.service."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

from baomi.api.deps import Conn, Ctx, CurrentActor, VaultDep
from baomi.api.unit import api_router
from baomi.subject_requests import service
from baomi.subject_requests.access_copy import access_copy
from baomi.subject_requests.schemas import CloseIn, Status, SubjectRequestIn, SubjectRequestOut

router = api_router(prefix="/api/v1/subject-requests", tags=["subject-requests"])


@router.post("", response_model=SubjectRequestOut, status_code=201)
def post_request(
    body: SubjectRequestIn, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> SubjectRequestOut:
    """Record a customer's request (access copy, correction, deletion, withdrawal of consent):
    when and how it came, the identity check done, the days to answer (default 15, at most
    30: GB/T 35273). The customer's handler answers it; a security officer is assigned."""
    return service.create(conn, actor=actor, ctx=ctx, vault=vault, request_in=body)


@router.get("", response_model=list[SubjectRequestOut])
def get_requests(
    conn: Conn, actor: CurrentActor, status: Status | None = None
) -> list[SubjectRequestOut]:
    """The requests one may see (an officer: all; others: theirs and their departments'),
    soonest due first; `overdue` marks the open ones past their due date."""
    return service.list_requests(conn, actor=actor, status=status)


@router.get("/{request_id}", response_model=SubjectRequestOut)
def get_request(request_id: str, conn: Conn, actor: CurrentActor) -> SubjectRequestOut:
    return service.get(conn, actor=actor, request_id=request_id)


@router.post("/{request_id}/close", response_model=SubjectRequestOut)
def post_close(
    request_id: str, body: CloseIn, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> SubjectRequestOut:
    """Complete or reject a request with its outcome; completing a withdrawal names the
    consent record withdrawn, which is then withdrawn as of the day it was asked."""
    return service.close(
        conn, actor=actor, ctx=ctx, vault=vault, request_id=request_id, close_in=body
    )


@router.get(
    "/{request_id}/access-copy",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the copy, a PDF"}},
)
def get_access_copy(
    request_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> Response:
    """The access copy (PIPL art. 45) as a PDF in Chinese: what the company holds about the
    person, read through the batch door for the purpose subject_access, audited."""
    name, body = access_copy(conn, actor=actor, ctx=ctx, vault=vault, request_id=request_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )
