"""The security officer's account changes (三员分立, C4.2.1): what the administrator asked for
that would let an account reach customer data, approved or rejected here (dual control). A
department's move under another parent is one too (C1.3: its heads change).

/security/account-changes   pending changes first, with approve and reject; decided ones below
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx
from baomi.audit.context import RequestContext
from baomi.errors import BaomiError
from baomi.notifications.api import mail_on
from baomi.users import changes
from baomi.users.schemas import ChangeStatus
from baomi.users.service import list_departments, list_users
from baomi.web import admin_forms
from baomi.web.forms import attempt
from baomi.web.pages.security import security_page
from baomi.web.permits import ApproverViewer
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

PATH = "/security/account-changes"
NOTICES = {
    "approved": N_("Approved: the change is in effect and the person's sessions have ended."),
    "rejected": N_("Rejected: nothing has changed."),
}
ERRORS = {
    "own_change": N_("Nobody approves a change of their own account or one they asked for."),
    "change_not_pending": N_("This change has already been decided."),
    "not_found": N_("There is no such account change."),
    "validation_failed": N_("三员分立: the roles asked for may not be held together."),
    "department_cycle": N_(
        "Approving would put the department under itself: the tree has changed since the "
        "request. Reject it."
    ),
    "department_required": N_(
        "Whoever works with customers (salesperson, department head) belongs to a department: "
        "the account has none now. Reject it."
    ),
    "already_active": N_("The account is already enabled."),
}
OTHER_ERROR = N_("The action was refused (code %(code)s).")
KIND_LABELS = {
    "roles": N_("Roles"),
    "head": N_("Head of department"),
    "department": N_("Move to another department"),
    "parent": N_("Department moved under another"),
    "enable": N_("Account enabled again"),
}
STATUS_LABELS = {
    "pending": N_("Waiting"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Replaced by a newer request"),
}


def _changes_page(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    status: int = 200,
    error: BaomiError | None = None,
) -> Response:
    ctx = RequestContext(request_id=getattr(request.state, "request_id", None))
    found = changes.list_changes(conn, actor=viewer.actor, ctx=ctx)
    context: dict[str, Any] = {
        "pending": [c for c in found if c.status == ChangeStatus.PENDING],
        "decided": [c for c in found if c.status != ChangeStatus.PENDING][:50],
        "names": {u.id: u for u in list_users(conn)},
        "departments": {d.id: d.name for d in list_departments(conn)},
        "role_labels": admin_forms.ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    if error is not None:
        context.update(error=ERRORS.get(error.code, OTHER_ERROR), error_code=error.code)
    return security_page(
        request, viewer, "security_account_changes.html", tab=PATH, status=status, **context
    )


@router.get(PATH)
def get_changes(request: Request, conn: Conn, viewer: ApproverViewer) -> Response:
    return _changes_page(request, conn, viewer)


@router.post(PATH + "/{change_id}/decision")
def post_decision(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: ApproverViewer,
    change_id: str,
    decision: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Approve (the change applies now) or reject, with an optional comment."""
    approve = decision == "approve"
    outcome = attempt(
        conn,
        lambda: changes.decide(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            change_id=change_id,
            approve=approve,
            mail=mail_on(request),
            comment=comment.strip() or None,
        ),
    )
    if outcome.error is None:
        return redirect(request, f"{PATH}?done={'approved' if approve else 'rejected'}")
    return _changes_page(request, conn, viewer, status=outcome.error.status, error=outcome.error)
