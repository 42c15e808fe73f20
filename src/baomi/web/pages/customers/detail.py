"""/customers/{id}: the five kinds of customer data (C2.1), sensitive fields masked until revealed
(C4.3.2), the communication timeline with its attachments (downloads audited and streamed), and
the level with its change (raise directly, lower by request: C2.2). Every read goes through
customers.service and customers.timeline, exactly as the API's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from baomi import clock
from baomi.api.deps import Conn, Ctx, EngineDep, VaultDep
from baomi.customers import service, timeline
from baomi.customers.fields import COMMUNICATIONS
from baomi.customers.schemas import CommunicationIn
from baomi.errors import BaomiError
from baomi.web.forms import attempt
from baomi.web.i18n import DISPLAY_TIMEZONE, N_
from baomi.web.pages.customers import display
from baomi.web.pages.customers.consent_view import ConsentForm, consent_context
from baomi.web.pages.customers.messages import FormErrors, form_errors
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.viewer import PageViewer, Viewer

router = page_router()

NOTICES = {
    "created": N_("The customer has been filed."),
    "saved": N_("The changes have been saved."),
    "communication": N_("The communication record has been added."),
    "level_raised": N_("The level has been raised."),
    "level_requested": N_("The request to lower the level has been sent for approval."),
    "consent": N_("The consent has been recorded."),
    "withdrawn": N_("The withdrawal has been recorded."),
}
EDITING_ACCESS = frozenset({"handler", "department_head"})


def _local_input(moment: datetime) -> str:
    """A time as a datetime-local input shows it, in Beijing time."""
    return moment.astimezone(DISPLAY_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def detail_page(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: Viewer,
    customer_id: str,
    *,
    status: int = 200,
    revealed: Mapping[str, Any] | None = None,
    notice: str | None = None,
    **forms: Any,
) -> Response:
    """Render the record; `revealed` holds fields just revealed with a reason (this page only)."""
    customer = service.get(conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer_id)
    entries = None
    if COMMUNICATIONS not in customer.withheld:
        entries = timeline.list_communications(
            conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer_id
        )
    levels = vault.levels
    current = levels.rule_of(customer.level)
    values: dict[str, Any] = {
        "customer": customer,
        "entries": entries,
        "revealed": dict(revealed or {}),
        "masked": frozenset(customer.masked) - set(revealed or {}),
        "sections": display.SECTIONS,
        "labels": display.FIELD_LABELS,
        "flags": customer.flags,
        "flag_kinds": display.FLAG_KINDS,
        "flag_fields": display.FLAG_FIELDS,
        "long_text": display.LONG_TEXT,
        "timeline_title": display.TIMELINE_TITLE,
        "access_reasons": display.ACCESS_REASONS,
        "lawful_bases": display.LAWFUL_BASES,
        "payment_types": display.PAYMENT_TYPE_NAMES,
        "channels": display.CHANNEL_NAMES,
        "phone_text": display.phone_text,
        "reasons": display.reveal_reasons(viewer.locale),
        "can_edit": customer.access in EDITING_ACCESS,
        "levels": levels.in_use(),
        "current_rank": current.rank,
        "reveal_needs_code": current.reveal_requires_mfa,
        "notice": notice,
        "communication": {
            "occurred_at": _local_input(clock.utcnow()),
            "channel": "phone",
            "text": "",
        },
        "communication_errors": FormErrors(),
        "level_form": {"level": "", "reason": ""},
        "level_errors": FormErrors(),
        "consent_form": ConsentForm(),
        **consent_context(conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer.id),
        **forms,
    }
    return page(request, viewer, "customers/detail.html", status=status, **values)


@router.get("/customers/{customer_id}")
def get_customer(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    done: str | None = None,
) -> Response:
    return detail_page(
        request, conn, ctx, vault, viewer, customer_id, notice=NOTICES.get(done or "")
    )


@router.get("/customers/{customer_id}/attachments/{attachment_id}")
def download_attachment(
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    engine: EngineDep,
    viewer: PageViewer,
    customer_id: str,
    attachment_id: str,
) -> StreamingResponse:
    """Stream a file, decrypted a chunk at a time; the download is audited first (C4.3.2).

    Always `attachment`: a stored file is never rendered as a page of this site."""
    download = timeline.open_attachment(
        conn,
        engine=engine,
        actor=viewer.actor,
        ctx=ctx,
        vault=vault,
        customer_id=customer_id,
        attachment_id=attachment_id,
    )
    return StreamingResponse(
        download.chunks,
        media_type=download.meta.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(download.meta.filename)}",
            "Content-Length": str(download.meta.size_bytes),
        },
    )


def _occurred_at(value: str) -> datetime | str:
    """A datetime-local value read as Beijing time; unparseable text is passed on to fail."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment if moment.tzinfo else moment.replace(tzinfo=DISPLAY_TIMEZONE)


@router.post("/customers/{customer_id}/communications")
def post_communication(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    occurred_at: Annotated[str, Form(max_length=40)] = "",
    channel: Annotated[str, Form(max_length=16)] = "",
    text: Annotated[str, Form(max_length=60_000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add a timeline entry (C2.1 (e)), with a file if one was chosen; both or neither."""
    typed = {"occurred_at": occurred_at, "channel": channel, "text": text}
    error: BaomiError | ValidationError | None = None
    try:
        entry = CommunicationIn.model_validate(
            {"occurred_at": _occurred_at(occurred_at), "channel": channel, "text": text.strip()}
        )
    except ValidationError as invalid:
        error = invalid
    else:
        upload = file if file is not None and file.filename else None

        def add() -> None:
            entry_id = timeline.add_communication(
                conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer_id, entry=entry
            )
            if upload is not None:
                timeline.add_attachment(
                    conn,
                    actor=viewer.actor,
                    ctx=ctx,
                    vault=vault,
                    customer_id=customer_id,
                    communication_id=entry_id,
                    filename=upload.filename or "attachment",
                    content_type=upload.content_type or "application/octet-stream",
                    chunks=iter(lambda: upload.file.read(timeline.CHUNK_BYTES), b""),
                )

        outcome = attempt(conn, add)
        if outcome.error is None:
            return redirect(request, f"/customers/{customer_id}?done=communication#timeline")
        error = outcome.error
    return detail_page(
        request,
        conn,
        ctx,
        vault,
        viewer,
        customer_id,
        status=error.status if isinstance(error, BaomiError) else 422,
        communication=typed,
        communication_errors=form_errors(
            error, inputs=("occurred_at", "channel", "text", "file", "filename")
        ),
    )
