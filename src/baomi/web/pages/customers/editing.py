"""/customers/new and /customers/{id}/edit: the customer forms (C4.1.1: validated input, source
and lawful basis on every record). The service's ValidationFailed errors appear next to the
input they concern, in the reader's language; a refused form comes back with everything typed.

Editing sends only what changed. Masked fields (C4.3.2) are never put into the form: their
inputs start empty, and only a value typed in replaces the stored one.

Source and lawful basis are required and never preset: the person filing states them. A record
the service refuses as already on file (`duplicate_customer`, C4.1.3) comes back with the 查重
answer above the form — the handler and department only — and its one-click access request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.customers import service
from baomi.customers.schemas import CheckOut, CustomerIn, CustomerOut, CustomerPatch
from baomi.customers.search import DuplicateCustomer
from baomi.errors import BaomiError
from baomi.security.actor import Actor
from baomi.security.roles import Permission, permissions_of
from baomi.users.actors import department_subtree
from baomi.users.service import list_users
from baomi.web.forms import attempt
from baomi.web.levels import levels_of
from baomi.web.pages.customers import check, display
from baomi.web.pages.customers.form_data import Draft
from baomi.web.pages.customers.messages import FormErrors, form_errors
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.viewer import PageViewer, Viewer

router = page_router()


async def _submitted(request: Request) -> FormData:
    """The posted form, read before the (synchronous) route runs in its worker thread."""
    return await request.form()


Submitted = Annotated[FormData, Depends(_submitted)]


def _handler_choices(conn: Conn, actor: Actor) -> list[tuple[str, str, str]]:
    """Whom this person may make the handler: themself, or for a head anyone in their
    departments who works with customers (C1.3: every record has a named handler)."""
    departments = department_subtree(conn, actor.headed_departments)
    return [
        (u.id, u.display_name, u.department_name or "")
        for u in list_users(conn)
        if u.is_active
        and (u.id == actor.user_id or u.department_id in departments)
        and Permission.CUSTOMER_WORK in permissions_of(frozenset(u.roles))
    ]


def _form(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    draft: Draft,
    errors: FormErrors,
    customer: CustomerOut | None = None,
    status: int = 200,
    duplicate: CheckOut | None = None,
) -> Response:
    masked = frozenset(customer.masked) if customer else frozenset()
    withheld = frozenset(customer.withheld) if customer else frozenset()
    context: dict[str, Any] = {
        "draft": draft,
        "errors": errors,
        "customer": customer,
        "masked": masked,
        "withheld": withheld,
        "masked_values": customer.data if customer else {},
        "sections": display.SECTIONS,
        "labels": display.FIELD_LABELS,
        "flags": customer.flags if customer else [],
        "flag_kinds": display.FLAG_KINDS,
        "flag_fields": display.FLAG_FIELDS,
        "long_text": display.LONG_TEXT,
        "lawful_bases": display.LAWFUL_BASES,
        "payment_types": display.PAYMENT_TYPE_NAMES,
        "phone_text": display.phone_text,
        "levels": levels_of(request).in_use(),
        "handlers": _handler_choices(conn, viewer.actor),
        "action": f"/customers/{customer.id}/edit" if customer else "/customers/new",
        "check": None,
    }
    if duplicate is not None:
        context.update(check.answer(conn, viewer, found=duplicate))
    return page(request, viewer, "customers/form.html", status=status, **context)


def _status(error: BaomiError | ValidationError) -> int:
    return error.status if isinstance(error, BaomiError) else 422


@router.get("/customers/new")
def get_new(request: Request, conn: Conn, viewer: PageViewer) -> Response:
    """An empty form: the lowest level, the creator as handler; source and basis left to state."""
    lowest = levels_of(request).enabled[0]
    draft = Draft(text={"level": lowest, "handler_id": viewer.actor.user_id})
    return _form(request, conn, viewer, draft=draft, errors=FormErrors())


@router.post("/customers/new")
def post_new(
    request: Request, conn: Conn, ctx: Ctx, vault: VaultDep, viewer: PageViewer, form: Submitted
) -> Response:
    """File the customer; on any problem, the form again with every message in place."""
    draft = Draft.from_form(form)
    body = {k: v for k, v in draft.body().items() if v is not None}
    facts = {k: draft.value(k) for k in ("level", "source", "lawful_basis", "handler_id")}
    body.update({k: v for k, v in facts.items() if v})
    if draft.value("confidential_until"):
        body["confidential_until"] = draft.value("confidential_until")

    def create() -> CustomerOut:
        customer_in = CustomerIn.model_validate(body)
        return service.create(
            conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_in=customer_in
        )

    return _save(request, conn, viewer, draft=draft, customer=None, call=create)


def _save(
    request: Request,
    conn: Conn,
    viewer: Viewer,
    *,
    draft: Draft,
    customer: CustomerOut | None,
    call: Callable[[], CustomerOut],
) -> Response:
    try:
        outcome = attempt(conn, call)
    except ValidationError as invalid:  # the body's shape, before the service (not audited)
        return _form(
            request,
            conn,
            viewer,
            draft=draft,
            customer=customer,
            errors=form_errors(invalid, inputs=draft.inputs()),
            status=422,
        )
    if outcome.error is None:
        saved = outcome.value
        assert saved is not None
        done = "saved" if customer else "created"
        return redirect(request, f"/customers/{saved.id}?done={done}")
    error = outcome.error
    return _form(
        request,
        conn,
        viewer,
        draft=draft,
        customer=customer,
        errors=form_errors(error, inputs=draft.inputs()),
        status=_status(error),
        duplicate=error.found if isinstance(error, DuplicateCustomer) else None,
    )


def _editable(
    conn: Conn, ctx: Ctx, vault: VaultDep, viewer: Viewer, customer_id: str
) -> CustomerOut:
    """The record as the editor may see it (an audited read, like the detail page)."""
    return service.get(conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer_id)


@router.get("/customers/{customer_id}/edit")
def get_edit(
    request: Request, conn: Conn, ctx: Ctx, vault: VaultDep, viewer: PageViewer, customer_id: str
) -> Response:
    customer = _editable(conn, ctx, vault, viewer, customer_id)
    draft = Draft.from_customer(customer, masked=frozenset(customer.masked))
    return _form(request, conn, viewer, draft=draft, errors=FormErrors(), customer=customer)


@router.post("/customers/{customer_id}/edit")
def post_edit(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    form: Submitted,
) -> Response:
    """Save what changed; the level has its own control (raise, or request lowering: C2.2)."""
    customer = _editable(conn, ctx, vault, viewer, customer_id)
    masked = frozenset(customer.masked)
    original = Draft.from_customer(customer, masked=masked)
    draft = Draft.from_form(form)
    changed = draft.changed(original, masked=masked) - frozenset(customer.withheld)
    body: dict[str, Any] = draft.body(fields=changed)
    # Source and basis cannot be emptied: a blank one is sent, and refused as missing (C4.1.1).
    for name in ("source", "lawful_basis"):
        if name in draft.text and draft.value(name) != original.value(name):
            body[name] = draft.value(name)
    if draft.value("handler_id") and draft.value("handler_id") != original.value("handler_id"):
        body["handler_id"] = draft.value("handler_id")
    if draft.value("confidential_until") != original.value("confidential_until"):
        body["confidential_until"] = draft.value("confidential_until") or None

    def update() -> CustomerOut:
        patch = CustomerPatch.model_validate(body)
        return service.update(
            conn, actor=viewer.actor, ctx=ctx, vault=vault, customer_id=customer_id, patch=patch
        )

    return _save(request, conn, viewer, draft=draft, customer=customer, call=update)
