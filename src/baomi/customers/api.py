"""Customer routes: thin wrappers over the one door (customers.service, search, timeline)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter

from baomi.access.level_change import request_level_change
from baomi.access.schemas import AccessRequestOut, LevelChangeIn
from baomi.api.deps import Conn, Ctx, CurrentActor, EngineDep, VaultDep
from baomi.api.inputs import NOT_BLANK, Id, LevelText
from baomi.api.unit import api_router
from baomi.customers import flags, search, service, timeline
from baomi.customers.reasons import LABELS
from baomi.customers.schemas import (
    AttachmentOut,
    CheckOut,
    CommunicationCreated,
    CommunicationIn,
    CommunicationOut,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    Email,
    LevelOut,
    Phone,
    RevealIn,
    RevealOut,
    RevealReasonOut,
)
from baomi.errors import ValidationFailed
from baomi.notifications.api import mail_on

router = api_router(prefix="/api/v1/customers", tags=["customers"])
# What forms need to offer: the levels in use and the reveal reasons (read-only, logged in).
reference_router = api_router(prefix="/api/v1", tags=["customers"])


@reference_router.get("/reveal-reasons", response_model=list[RevealReasonOut])
def list_reveal_reasons(_actor: CurrentActor) -> list[RevealReasonOut]:
    """The reason codes a reveal takes (C4.3.2), with Chinese and English labels."""
    return [
        RevealReasonOut(code=code, label_zh=zh, label_en=en) for code, (zh, en) in LABELS.items()
    ]


@reference_router.get("/levels", response_model=list[LevelOut])
def list_levels(_actor: CurrentActor, vault: VaultDep) -> list[LevelOut]:
    """The classification levels in use, lowest first, each with its rule (C2.2)."""
    return [
        LevelOut(
            code=rule.code,
            label_zh=rule.label_zh,
            label_en=rule.label_en,
            rank=rule.rank,
            access_approvers=sorted(rule.access_approvers),
            lowering_approvers=sorted(rule.lowering_approvers),
            masked_fields=sorted(rule.masked_fields),
            export_allowed=rule.export_allowed,
            reveal_requires_mfa=rule.reveal_requires_mfa,
            retention_days=rule.retention_days,
            lapses_to=rule.lapses_to,
        )
        for rule in vault.levels.in_use()
    ]


@router.get("", response_model=CustomerPage)
def list_customers(
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    # Empty: any level (a form's "all").
    level: LevelText | Literal[""] | None = None,
    handler_id: Id | None = None,
    page: Annotated[int, Query(ge=1, le=search.MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=search.MAX_PAGE_SIZE)] = 50,
) -> CustomerPage:
    """Customers I may see, newest first; `q` searches name, contacts and phones."""
    return search.list_customers(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        query=q,
        level=level,
        handler_id=handler_id,
        page=page,
        page_size=page_size,
    )


@router.post(
    "",
    response_model=CustomerOut,
    status_code=201,
    responses={409: {"description": "`duplicate_customer` or `period_requires_approval`"}},
)
def create_customer(
    body: CustomerIn, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> CustomerOut:
    """File a customer, stating its source and lawful basis (C4.1.1).

    One that 查重 finds already on file, by its ID number or credit code, a phone or an e-mail,
    is refused with 409 `duplicate_customer`, naming only the handler and department (C4.1.3).
    A confidentiality period is not set at filing (409 `period_requires_approval`, C2.2).
    """
    return service.create(conn, actor=actor, ctx=ctx, vault=vault, customer_in=body)


def _one_term() -> dict[str, Any]:
    """The query of 查重 as one exploded object, which OpenAPI can hold to exactly one term."""
    terms: dict[str, Any] = {
        "phone": {**_schema_of(Phone), "maxLength": 64},
        "email": _schema_of(Email),
        "id_number": {"type": "string", "maxLength": 64, "pattern": NOT_BLANK},
        "name": {"type": "string", "maxLength": 200, "pattern": NOT_BLANK},
    }
    return {
        "name": "term",
        "in": "query",
        "required": True,
        "style": "form",
        "explode": True,
        "description": "exactly one of phone, email, id_number, name (422 `one_search_term`)",
        "schema": {
            "type": "object",
            "properties": terms,
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        },
    }


def _schema_of(annotation: Any) -> dict[str, Any]:
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    return schema


# The four terms are read as FastAPI query parameters; the document shows them as `term`.
@router.get("/check", response_model=CheckOut, openapi_extra={"parameters": [_one_term()]})
def check_customer(
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
    phone: Annotated[str | None, Query(max_length=64, include_in_schema=False)] = None,
    email: Annotated[str | None, Query(max_length=254, include_in_schema=False)] = None,
    id_number: Annotated[str | None, Query(max_length=64, include_in_schema=False)] = None,
    name: Annotated[str | None, Query(max_length=200, include_in_schema=False)] = None,
) -> CheckOut:
    """查重 (C4.1.3): exists anywhere in the company? who handles it? never its data."""
    given = {
        k: v
        for k, v in (("phone", phone), ("email", email), ("id_number", id_number), ("name", name))
        if v is not None
    }
    if len(given) != 1:
        raise ValidationFailed(
            [
                {
                    "field": "query",
                    "code": "one_search_term",
                    "message": "give exactly one of phone, email, id_number, name",
                }
            ]
        )
    [(kind, value)] = given.items()
    return search.check_duplicate(conn, actor=actor, ctx=ctx, vault=vault, kind=kind, value=value)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> CustomerOut:
    return service.get(conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id)


@router.patch(
    "/{customer_id}",
    response_model=CustomerOut,
    responses={
        409: {
            "description": "`duplicate_customer`, `level_lowering_requires_approval` or "
            "`period_requires_approval`"
        }
    },
)
def patch_customer(
    customer_id: str,
    body: CustomerPatch,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> CustomerOut:
    return service.update(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id, patch=body
    )


@router.delete(
    "/{customer_id}",
    status_code=204,
    responses={409: {"description": "`destruction_requires_approval`: always, for now"}},
)
def delete_customer(
    customer_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> None:
    """Nobody deletes a customer alone (C4.5.1): 409 `destruction_requires_approval`, audited.

    Destruction goes through the approved destruction procedure; a record that only needs
    correcting is edited with PATCH.
    """
    service.remove(conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id)


@router.post("/{customer_id}/reveal", response_model=RevealOut)
def reveal_fields(
    customer_id: str,
    body: RevealIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> RevealOut:
    """Show masked fields in the clear for a reason code and text, both audited (C4.3.2).

    At levels whose rule requires it (机密 and above by default), the session must have passed a
    second factor within `step_up_window_minutes`: else 401 `step_up_required` (confirm a code
    with POST /api/v1/auth/step-up), or 403 `mfa_enrolment_required` without MFA (C4.2.4).
    """
    return service.reveal(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        fields=body.fields,
        reason_code=body.reason_code,
        reason=body.reason,
        purpose=body.purpose,
    )


@router.post(
    "/{customer_id}/level-change-requests", response_model=AccessRequestOut, status_code=201
)
def post_level_change_request(
    request: Request,
    customer_id: str,
    body: LevelChangeIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> AccessRequestOut:
    """Ask to lower the customer's level (C2.2); decided via /api/v1/access-requests/{id}."""
    return request_level_change(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail_on(request),
        customer_id=customer_id,
        change_in=body,
    )


@router.get("/{customer_id}/communications", response_model=list[CommunicationOut])
def list_communications(
    customer_id: str, conn: Conn, ctx: Ctx, actor: CurrentActor, vault: VaultDep
) -> list[CommunicationOut]:
    return timeline.list_communications(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id
    )


@router.post("/{customer_id}/communications", response_model=CommunicationCreated, status_code=201)
def add_communication(
    customer_id: str,
    body: CommunicationIn,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> CommunicationCreated:
    """Add a timeline entry; `flags` warns of identifiers typed into its text (issue 12)."""
    entry_id = timeline.add_communication(
        conn, actor=actor, ctx=ctx, vault=vault, customer_id=customer_id, entry=body
    )
    return CommunicationCreated(id=entry_id, flags=flags.in_text(flags.TEXT, body.text))


@router.post(
    "/{customer_id}/communications/{communication_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
)
def add_attachment(
    customer_id: str,
    communication_id: str,
    file: UploadFile,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
) -> AttachmentOut:
    """Upload a file; it is encrypted chunk by chunk as it is read."""

    def pieces() -> Iterator[bytes]:
        while piece := file.file.read(timeline.CHUNK_BYTES):
            yield piece

    return timeline.add_attachment(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        communication_id=communication_id,
        filename=file.filename or "attachment",
        content_type=file.content_type or "application/octet-stream",
        chunks=pieces(),
    )


@router.get(
    "/{customer_id}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the file, with the content type it was uploaded with",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def download_attachment(
    customer_id: str,
    attachment_id: str,
    conn: Conn,
    ctx: Ctx,
    actor: CurrentActor,
    vault: VaultDep,
    engine: EngineDep,
) -> StreamingResponse:
    """Stream a file back, decrypting one chunk at a time (the download is audited)."""
    download = timeline.open_attachment(
        conn,
        engine=engine,
        actor=actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        attachment_id=attachment_id,
    )
    disposition = f"attachment; filename*=UTF-8''{quote(download.meta.filename)}"
    return StreamingResponse(
        download.chunks,
        media_type=download.meta.content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(download.meta.size_bytes),
        },
    )
