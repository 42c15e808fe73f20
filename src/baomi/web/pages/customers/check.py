"""查重 (C4.1.3) and the one-click access request that follows a hit (C4.3.1).

The check looks through the company's blind indexes and answers only whether the customer
exists and who handles it (customers.search.check_duplicate, as in the API). When someone else
handles it, the answer carries a prefilled request — the customer, a purpose, a duration —
which one click files with the access service (access.service.create_request).

The lookup is a POST: the value looked for (a phone number, an ID number) stays out of URLs,
browser history and server logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baomi.access import service as access_service
from baomi.access.schemas import AccessRequestIn, AccessRequestOut
from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.customers import search
from baomi.customers.schemas import CheckOut
from baomi.errors import BaomiError
from baomi.ids import is_id
from baomi.notifications.api import mail_on
from baomi.security.roles import Permission
from baomi.users.service import list_users
from baomi.web.forms import attempt
from baomi.web.i18n import N_
from baomi.web.levels import vault_of
from baomi.web.pages.customers.messages import FormErrors, form_errors
from baomi.web.render import page
from baomi.web.routing import is_htmx, page_router
from baomi.web.templating import translate
from baomi.web.viewer import PageViewer, Viewer

router = page_router()

# What a person may look for; a credit code goes through the same index as an ID number.
CHECK_KINDS = (
    ("phone", N_("Phone number")),
    ("email", N_("E-mail address")),
    ("id_number", N_("Resident ID number")),
    ("credit_code", N_("Unified social credit code")),
    ("name", N_("Customer name")),
)
_INDEX_OF = {"credit_code": "id_number"}
DURATIONS = (
    (8, N_("8 hours")),
    (24, N_("1 day")),
    (72, N_("3 days")),
    (168, N_("1 week")),
)
DEFAULT_HOURS = 24
DEFAULT_PURPOSE = N_("Follow up on a customer found by the duplicate check")
CHECK_TARGET = "check-result"
APPROVER_ROLES = {
    "department_head": N_("department head"),
    "security_officer": N_("security officer"),
}


@dataclass(frozen=True, slots=True)
class CheckView:
    """A 查重 answer as the page shows it."""

    kind: str
    value: str
    found: CheckOut | None = None
    handler_name: str = ""
    mine: bool = False
    errors: FormErrors = field(default_factory=FormErrors)


@dataclass(frozen=True, slots=True)
class RequestForm:
    """The prefilled access request under a hit, and what became of it."""

    customer_id: str
    purpose: str
    hours: int
    # C4.3.4: the processing purpose the customer's consents must cover.
    purpose_code: str = ""
    errors: FormErrors = field(default_factory=FormErrors)
    filed: AccessRequestOut | None = None


def _names(conn: Conn) -> dict[str, tuple[str, str]]:
    """username and user id → (display name, department), for the answer and the approvers."""
    out: dict[str, tuple[str, str]] = {}
    for user in list_users(conn):
        out[user.username] = out[user.id] = (user.display_name, user.department_name or "")
    return out


def answer_context(
    conn: Conn,
    *,
    check: CheckView | None,
    ask: RequestForm | None = None,
    names: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """What customers/_check_result.html needs: the answer, the request, names and choices."""
    return {
        "check": check,
        "ask": ask,
        "check_kinds": CHECK_KINDS,
        "durations": DURATIONS,
        "names": names if names is not None else _names(conn),
        "approver_roles": APPROVER_ROLES,
    }


def answer(
    conn: Conn, viewer: Viewer, *, found: CheckOut, kind: str = "phone", value: str = ""
) -> dict[str, Any]:
    """The context of a 查重 answer: the handler by name and, when someone else handles the
    customer, the prefilled one-click access request (also under a refused customer form)."""
    names = _names(conn)
    handler = (found.handler or {}).get("username", "")
    view = CheckView(
        kind=kind,
        value=value,
        found=found,
        handler_name=names.get(handler, (handler, ""))[0],
        mine=handler == viewer.username,
    )
    ask = None
    if (
        found.exists
        and not view.mine
        and found.customer_id
        and viewer.can(Permission.CUSTOMER_WORK)
    ):
        ask = RequestForm(
            customer_id=found.customer_id,
            purpose=translate(viewer.locale, DEFAULT_PURPOSE),
            hours=DEFAULT_HOURS,
        )
    return answer_context(conn, check=view, ask=ask, names=names)


def _render(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    check: CheckView | None,
    ask: RequestForm | None = None,
    status: int = 200,
    context: dict[str, Any] | None = None,
) -> Response:
    context = context or answer_context(conn, check=check, ask=ask)
    if is_htmx(request):
        # htmx swaps only 2xx answers: a refusal is shown in the box all the same.
        return page(request, viewer, "customers/_check_result.html", **context)
    return page(request, viewer, "customers/check.html", status=status, **context)


@router.get("/customers/check")
def get_check(request: Request, conn: Conn, viewer: PageViewer) -> Response:
    """The 查重 box on its own page (for roles without the customer list, and without JS)."""
    return _render(request, conn, viewer, check=None)


@router.post("/customers/check")
def post_check(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    kind: Annotated[str, Form(max_length=16)] = "phone",
    value: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Does a customer with this exact value exist anywhere in the company, and who handles it?"""
    kind = kind if kind in dict(CHECK_KINDS) else "phone"
    outcome = attempt(
        conn,
        lambda: search.check_duplicate(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            vault=vault,
            kind=_INDEX_OF.get(kind, kind),
            value=value,
        ),
    )
    if outcome.error is not None:
        errors = form_errors(outcome.error)
        # The service names the index ("id_number"); the box has one input.
        view = CheckView(kind=kind, value=value, errors=FormErrors(general=_all(errors)))
        return _render(request, conn, viewer, check=view, status=outcome.error.status)
    found = outcome.value
    assert found is not None
    context = answer(conn, viewer, found=found, kind=kind, value=value)
    return _render(request, conn, viewer, check=None, context=context)


def _all(errors: FormErrors) -> list[Any]:
    return [*errors.general, *(m for messages in errors.by_slot.values() for m in messages)]


@router.post("/customers/{customer_id}/access-request")
def post_access_request(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    viewer: PageViewer,
    customer_id: str,
    purpose: Annotated[str, Form(max_length=2000)] = "",
    purpose_code: Annotated[str, Form(max_length=32)] = "",
    duration_hours: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """File the prefilled request: whole record, the purpose and duration given (C4.3.1)."""
    hours = int(duration_hours) if duration_hours.isdigit() else 0
    ask = RequestForm(
        customer_id=customer_id,
        purpose=purpose,
        hours=hours or DEFAULT_HOURS,
        purpose_code=purpose_code,
    )
    error: BaomiError | ValidationError | None = None
    try:
        body = AccessRequestIn.model_validate(
            {
                "customer_ids": [customer_id] if is_id(customer_id) else [],
                "purpose": purpose.strip(),
                "purpose_code": purpose_code,
                "duration_hours": hours,
            }
        )
    except ValidationError as invalid:
        error = invalid
    else:
        outcome = attempt(
            conn,
            lambda: access_service.create_request(
                conn,
                actor=viewer.actor,
                ctx=ctx,
                vault=vault_of(request),
                mail=mail_on(request),
                request_in=body,
            ),
        )
        if outcome.value is not None:
            filed = RequestForm(
                customer_id=customer_id,
                purpose=purpose,
                hours=hours,
                purpose_code=purpose_code,
                filed=outcome.value,
            )
            return _render(request, conn, viewer, check=None, ask=filed)
        error = outcome.error
    ask = RequestForm(
        customer_id=customer_id,
        purpose=purpose,
        hours=hours or DEFAULT_HOURS,
        purpose_code=purpose_code,
        errors=form_errors(error, inputs=("purpose", "purpose_code", "duration_hours")),
    )
    status = error.status if isinstance(error, BaomiError) else 422
    return _render(request, conn, viewer, check=None, ask=ask, status=status)
