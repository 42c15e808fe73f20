"""Access requests in the browser (C4.3.1, C2.2): ask, decide, watch my grants run out.

/access shows, to whoever works with customers or approves their requests: a new-request form
(prefilled from a `?customer=` link, e.g. the 查重 answer), the requests waiting for my decision
(approve or reject with a comment), my own requests with their approvals so far, and my grants
with the time they have left. Level-change requests (C2.2) run through the same lists and show
the level asked for. Approvers see ids, levels, fields and the purpose, never customer data: an
approver may not be allowed to see the record they decide on (the requester's head, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from baomi import clock
from baomi.access import queries, service
from baomi.access.queries import ListRole
from baomi.access.schemas import AccessRequestOut
from baomi.api.deps import Conn, Ctx
from baomi.errors import BaomiError, ValidationFailed
from baomi.grants.review import emergency_grants, review_emergency_grant
from baomi.grants.service import list_own_grants, revoke_grant
from baomi.notifications.api import mail_on
from baomi.security.roles import Permission
from baomi.users.service import list_users
from baomi.web import access_forms
from baomi.web.access_forms import PurposeText, RequestForm
from baomi.web.forms import attempt
from baomi.web.levels import vault_of
from baomi.web.nav import mounted
from baomi.web.permits import AccessViewer
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

NOTICES = {
    "requested": N_("Your request has been sent to its approvers."),
    "approved": N_("Your approval has been recorded."),
    "rejected": N_("The request has been rejected."),
    "revoked": N_("The grant has ended; the access is gone now."),
    "reviewed": N_("Your review of the emergency grant has been recorded."),
}
# Refusals by the services' stable codes, said for the person in front of the form.
ERRORS = {
    "not_found": N_(
        "No customer or request with that id can be used here. Check the ids; the duplicate "
        "check (查重) finds a customer's handler."
    ),
    "already_has_access": N_(
        "You already see this customer: you handle it or head its department."
    ),
    "role_without_customer_access": N_("Your role does not work with customer data."),
    "self_approval": N_("Nobody approves their own request."),
    "not_an_approver": N_("You are not one of this request's approvers."),
    "request_not_pending": N_("This request has already been decided."),
    "already_decided": N_("You have already decided on this request."),
    "requester_inactive": N_("The requester's account no longer works with customer data."),
    "level_changed_since_request": N_(
        "The customer's level has changed since this request was made. Reject it; the "
        "requester can ask again."
    ),
    "not_allowed_to_revoke": N_(
        "Only the security officer, the grantee or the request's approvers may end this grant."
    ),
    "grant_already_revoked": N_("This grant has already ended."),
    "not_allowed_to_review": N_("Only a head of the customer's department reviews this grant."),
    "grant_already_reviewed": N_("This emergency grant has already been reviewed."),
    "validation_failed": N_("Some of the form is not right; see the messages below."),
    "purpose_not_consented": N_(
        "A customer's consents do not cover this purpose of use for the fields asked. Ask its "
        "handler to record the customer's consent first, or choose the purpose it agreed to."
    ),
}
OTHER_ERROR = N_("The action was refused (code %(code)s).")
STATUS_LABELS = {
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}
SLOT_LABELS = {"department_head": N_("Department head"), "security_officer": N_("Security officer")}
DECISION_LABELS = {"approved": N_("Approved"), "rejected": N_("Rejected")}


@dataclass(frozen=True, slots=True)
class RequestView:
    """One request as the lists show it: the request, its purpose read back, its levels."""

    request: AccessRequestOut
    purpose: PurposeText
    # customer id → level code (to-approve list only; empty elsewhere).
    levels: dict[str, str]


def _views(conn: Conn, requests: list[AccessRequestOut], *, with_levels: bool) -> list[RequestView]:
    return [
        RequestView(
            request=r,
            purpose=access_forms.purpose_of(r.purpose),
            levels=queries.customer_levels(conn, r.customer_ids) if with_levels else {},
        )
        for r in requests
    ]


def _access_page(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    form: RequestForm | None = None,
    status: int = 200,
    notice: str | None = None,
    error: BaomiError | None = None,
    review_note: str = "",
) -> Response:
    actor = viewer.actor
    now = clock.utcnow()
    works = actor.can(Permission.CUSTOMER_WORK)
    context: dict[str, Any] = {
        "works": works,
        "now": now,
        "names": {u.id: u for u in list_users(conn)},
        "notice": notice,
        "error": ERRORS.get(error.code, OTHER_ERROR) if error else None,
        "error_code": error.code if error else "",
        "to_approve": _views(
            conn,
            queries.list_requests(conn, actor=actor, role=ListRole.TO_APPROVE, now=now),
            with_levels=True,
        ),
        "mine": [],
        "my_grants": [],
        "active_grant_ids": frozenset(),
        "form": form or access_forms.prefilled(request.query_params.get("customer")),
        "purposes": access_forms.PURPOSE_LABELS,
        "field_groups": access_forms.FIELD_GROUPS,
        "field_labels": access_forms.FIELD_LABELS,
        "durations": access_forms.DURATIONS,
        "status_labels": STATUS_LABELS,
        "slot_labels": SLOT_LABELS,
        "decision_labels": DECISION_LABELS,
        "time_left": access_forms.time_left,
        "customer_links": mounted(request, "/customers/{customer_id}"),
        # C3.2 / C4.3.1: a head reviews the emergency grants given in their departments.
        "emergency": emergency_grants(conn, actor=actor) if actor.headed_departments else [],
        "review_note": review_note,
    }
    if works:
        mine = queries.list_requests(conn, actor=actor, role=ListRole.MINE, now=now)
        grants = list_own_grants(conn, actor=actor)
        context.update(
            mine=_views(conn, mine, with_levels=False),
            my_grants=grants,
            active_grant_ids=frozenset(g.id for g in grants),
        )
    return page(request, viewer, "access.html", status=status, **context)


@router.get("/access")
def get_access(
    request: Request, conn: Conn, viewer: AccessViewer, done: str | None = None
) -> Response:
    return _access_page(request, conn, viewer, notice=NOTICES.get(done or ""))


@router.post("/access/requests")
def post_request(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AccessViewer,
    customer_ids: Annotated[str, Form(max_length=4000)] = "",
    scope: Annotated[str, Form(max_length=16)] = "record",
    fields: Annotated[list[str] | None, Form()] = None,
    purpose_code: Annotated[str, Form(max_length=32)] = "",
    processing_purpose: Annotated[str, Form(max_length=32)] = "",
    purpose_text: Annotated[str, Form(max_length=2000)] = "",
    duration_hours: Annotated[int, Form(ge=0, le=100_000)] = 0,
) -> Response:
    """File a request (C4.3.1); a refusal shows the form again with what was typed."""
    form = RequestForm(
        customer_ids=customer_ids,
        scope=scope,
        fields=list(fields or [])[:50],
        purpose_code=purpose_code,
        processing_purpose=processing_purpose,
        purpose_text=purpose_text,
        duration_hours=duration_hours,
    )
    request_in = access_forms.read(form)
    if request_in is None:
        return _access_page(request, conn, viewer, form=form, status=422)
    outcome = attempt(
        conn,
        lambda: service.create_request(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            vault=vault_of(request),
            mail=mail_on(request),
            request_in=request_in,
        ),
    )
    if outcome.error is None:
        return redirect(request, "/access?done=requested#mine")
    form.errors.update(outcome.field_errors())
    return _access_page(
        request, conn, viewer, form=form, status=outcome.error.status, error=outcome.error
    )


@router.post("/access/requests/{request_id}/decision")
def post_decision(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AccessViewer,
    request_id: str,
    decision: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Approve or reject as one of the request's approvers, with an optional comment."""
    if decision not in ("approve", "reject"):
        return _access_page(request, conn, viewer, status=422, error=ValidationFailed([]))
    outcome = attempt(
        conn,
        lambda: service.decide_request(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            vault=vault_of(request),
            mail=mail_on(request),
            request_id=request_id,
            approve=decision == "approve",
            comment=comment.strip() or None,
        ),
    )
    if outcome.error is None:
        done = "approved" if decision == "approve" else "rejected"
        return redirect(request, f"/access?done={done}#to-approve")
    return _access_page(request, conn, viewer, status=outcome.error.status, error=outcome.error)


@router.post("/access/grants/{grant_id}/revoke")
def post_revoke(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AccessViewer,
    grant_id: str,
    back: Annotated[str, Form(max_length=32)] = "grants",
) -> Response:
    """End a grant early: one of mine (C4.2.1 least privilege), or, for a head, an emergency
    grant on a customer of my department."""
    outcome = attempt(
        conn,
        lambda: revoke_grant(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            grant_id=grant_id,
            mail=mail_on(request),
            tags=vault_of(request).tags,
        ),
    )
    if outcome.error is None:
        anchor = "emergency-grants" if back == "emergency-grants" else "grants"
        return redirect(request, f"/access?done=revoked#{anchor}")
    return _access_page(request, conn, viewer, status=outcome.error.status, error=outcome.error)


@router.post("/access/grants/{grant_id}/review")
def post_review(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: AccessViewer,
    grant_id: str,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Review an emergency grant given on a customer of my department (C3.2, C4.3.1)."""
    if len(note.strip()) < 2:
        error = ValidationFailed(
            [{"field": "note", "code": "note_required", "message": "say what you found"}]
        )
        return _access_page(request, conn, viewer, status=422, error=error, review_note=note)
    outcome = attempt(
        conn,
        lambda: review_emergency_grant(
            conn, actor=viewer.actor, ctx=ctx, grant_id=grant_id, note=note.strip()
        ),
    )
    if outcome.error is None:
        return redirect(request, "/access?done=reviewed#emergency-grants")
    return _access_page(
        request, conn, viewer, status=outcome.error.status, error=outcome.error, review_note=note
    )
