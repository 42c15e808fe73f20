"""/subject-requests: data-subject requests (issue 12 item 4; PIPL art. 44-47, GB/T 35273).

The list (soonest due first, overdue ones marked) with a form to record a new request, and a
page per request with its answer and, for an access request, the PDF copy. Everything goes
through subject_requests.service, exactly as the API's routes.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.subject_requests import service
from baomi.subject_requests.access_copy import access_copy
from baomi.subject_requests.schemas import (
    DEFAULT_DUE_DAYS,
    CloseIn,
    IdentityMethod,
    RequestKind,
    SubjectRequestIn,
)
from baomi.web.forms import attempt
from baomi.web.i18n import N_
from baomi.web.pages.customers.messages import FormErrors, form_errors
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.viewer import PageViewer, Viewer

router = page_router()

KINDS = {
    RequestKind.ACCESS.value: N_("Access copy"),
    RequestKind.CORRECTION.value: N_("Correction"),
    RequestKind.DELETION.value: N_("Deletion"),
    RequestKind.WITHDRAWAL.value: N_("Withdrawal of consent"),
}
CHANNELS = {
    "phone": N_("Phone"),
    "visit": N_("Visit"),
    "email": N_("E-mail"),
    "wechat": N_("WeChat"),
    "letter": N_("Letter"),
    "other": N_("Other"),
}
IDENTITY = {
    IdentityMethod.ID_DOCUMENT.value: N_("Identity document checked"),
    IdentityMethod.KNOWN_CONTACT.value: N_("Called back on a contact on file"),
    IdentityMethod.SIGNED_LETTER.value: N_("Signed and stamped letter"),
    IdentityMethod.OTHER.value: N_("Other check"),
}
STATUSES = {"open": N_("Open"), "completed": N_("Completed"), "rejected": N_("Rejected")}
INPUTS = ("customer_id", "kind", "channel", "identity_method", "identity_note", "due_days")
_DEFAULTS = {"due_days": str(DEFAULT_DUE_DAYS), "kind": "access", "channel": "phone"}


def _labels() -> dict[str, Any]:
    return {"kinds": KINDS, "channels": CHANNELS, "identity": IDENTITY, "statuses": STATUSES}


def _list_page(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        viewer,
        "subject_requests.html",
        status=status,
        requests=service.list_requests(conn, actor=viewer.actor),
        form=form or {**dict.fromkeys(INPUTS, ""), **_DEFAULTS},
        errors=errors or FormErrors(),
        can_record=not service.is_officer(viewer.actor),
        **_labels(),
    )


@router.get("/subject-requests")
def get_requests(request: Request, conn: Conn, viewer: PageViewer) -> Response:
    return _list_page(request, conn, viewer)


@router.post("/subject-requests")
def post_request(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    channel: Annotated[str, Form(max_length=16)] = "",
    identity_method: Annotated[str, Form(max_length=24)] = "",
    identity_note: Annotated[str, Form(max_length=500)] = "",
    due_days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Record the request; a refusal shows the form again with every message in place."""
    form = {
        "customer_id": customer_id.strip(),
        "kind": kind,
        "channel": channel,
        "identity_method": identity_method,
        "identity_note": identity_note,
        "due_days": due_days or str(DEFAULT_DUE_DAYS),
    }
    try:
        request_in = SubjectRequestIn.model_validate(form)
    except ValidationError as invalid:
        errors = form_errors(invalid, inputs=INPUTS)
        return _list_page(request, conn, viewer, form=form, errors=errors, status=422)
    outcome = attempt(
        conn,
        lambda: service.create(
            conn, actor=viewer.actor, ctx=ctx, vault=vault, request_in=request_in
        ),
    )
    if outcome.error is not None:
        errors = form_errors(outcome.error, inputs=INPUTS)
        status = outcome.error.status
        return _list_page(request, conn, viewer, form=form, errors=errors, status=status)
    assert outcome.value is not None
    return redirect(request, f"/subject-requests/{outcome.value.id}")


def _detail(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    request_id: str,
    *,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = service.get(conn, actor=viewer.actor, request_id=request_id)
    return page(
        request,
        viewer,
        "subject_request.html",
        status=status,
        item=found,
        errors=errors or FormErrors(),
        form=form or {"status": "completed", "outcome": "", "consent_id": ""},
        **_labels(),
    )


@router.get("/subject-requests/{request_id}")
def get_request(request: Request, conn: Conn, viewer: PageViewer, request_id: str) -> Response:
    return _detail(request, conn, viewer, request_id)


@router.post("/subject-requests/{request_id}/close")
def post_close(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    request_id: str,
    status: Annotated[str, Form(max_length=16)] = "",
    outcome: Annotated[str, Form(max_length=2000)] = "",
    consent_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    form = {"status": status, "outcome": outcome, "consent_id": consent_id}
    inputs = ("status", "outcome", "consent_id")
    try:
        close_in = CloseIn.model_validate({**form, "consent_id": consent_id.strip() or None})
    except ValidationError as invalid:
        errors = form_errors(invalid, inputs=inputs)
        return _detail(request, conn, viewer, request_id, errors=errors, form=form, status=422)
    done = attempt(
        conn,
        lambda: service.close(
            conn, actor=viewer.actor, ctx=ctx, vault=vault, request_id=request_id, close_in=close_in
        ),
    )
    if done.error is not None:
        errors = form_errors(done.error, inputs=inputs)
        code = done.error.status
        return _detail(request, conn, viewer, request_id, errors=errors, form=form, status=code)
    return redirect(request, f"/subject-requests/{request_id}")


@router.get("/subject-requests/{request_id}/access-copy")
def get_access_copy(
    conn: Conn, ctx: Ctx, vault: VaultDep, viewer: PageViewer, request_id: str
) -> Response:
    """The PDF copy (PIPL art. 45), read through the batch door and audited."""
    name, body = access_copy(conn, actor=viewer.actor, ctx=ctx, vault=vault, request_id=request_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )
