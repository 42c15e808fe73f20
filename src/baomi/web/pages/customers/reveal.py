"""Revealing masked fields with a reason (C4.3.2), and the one-time code that 机密 needs (C4.2.4).

The reveal dialog asks for the processing purpose (which the customer's consents must cover,
C4.3.4), a reason code (the list the API exposes) and the person's own words.
When the level's rule wants a recent second factor the service answers `step_up_required`; the
dialog then asks for the one-time code, and its next submission confirms the code (the same
step-up as POST /api/v1/auth/step-up) and retries the reveal. The values come back in that one
answer only: reloading the page shows them masked again.

Without JavaScript the reveal link opens the same form as a page, which answers with the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import Response

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.auth import reauth
from baomi.auth.lockout import Policy
from baomi.customers import service
from baomi.customers.fields import FIELDS
from baomi.errors import BaomiError, ValidationFailed
from baomi.web.forms import attempt
from baomi.web.pages.customers import display
from baomi.web.pages.customers.detail import detail_page
from baomi.web.pages.customers.messages import FormErrors, form_errors
from baomi.web.render import page
from baomi.web.routing import is_htmx, page_router
from baomi.web.viewer import PageViewer, Viewer

router = page_router()

_INPUTS = ("field", "purpose", "reason_code", "reason", "otp")
_ASKS_FOR_CODE = frozenset({"step_up_required", "invalid_otp", "throttled"})


@dataclass(frozen=True, slots=True)
class RevealForm:
    customer_id: str
    fields: tuple[str, ...]
    purpose: str = ""
    reason_code: str = ""
    reason: str = ""
    needs_code: bool = False
    error_code: str = ""
    errors: FormErrors = field(default_factory=FormErrors)


def _known(fields: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for f in fields if f in FIELDS))


def _form_page(
    request: Request, viewer: Viewer, form: RevealForm, *, status: int = 200
) -> Response:
    context: dict[str, Any] = {
        "form": form,
        "labels": display.FIELD_LABELS,
        "reasons": display.reveal_reasons(viewer.locale),
    }
    if is_htmx(request):
        # htmx swaps only 2xx answers: a refused reveal is shown in the dialog all the same.
        return page(request, viewer, "customers/_reveal_form.html", **context)
    return page(request, viewer, "customers/reveal.html", status=status, **context)


@router.get("/customers/{customer_id}/reveal")
def get_reveal(
    request: Request,
    viewer: PageViewer,
    customer_id: str,
    field: Annotated[list[str], Query(max_length=len(FIELDS))] = [],  # noqa: B006
) -> Response:
    """The reveal form for some masked fields (the dialog's body, or a page without JS)."""
    form = RevealForm(customer_id=customer_id, fields=_known(field))
    return _form_page(request, viewer, form)


@router.post("/customers/{customer_id}/reveal")
def post_reveal(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    field: Annotated[list[str], Form(max_length=len(FIELDS))] = [],  # noqa: B006
    purpose: Annotated[str, Form(max_length=32)] = "",
    reason_code: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    otp: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Reveal with a reason; with a code, confirm it first (step-up), then reveal."""
    form = RevealForm(
        customer_id=customer_id,
        fields=_known(field),
        purpose=purpose,
        reason_code=reason_code,
        reason=reason,
    )
    actor = viewer.actor
    if otp.strip():
        policy = Policy.from_settings(request.app.state.settings)
        stepped = attempt(
            conn,
            lambda: reauth.step_up(
                conn, ctx=ctx, actor=actor, provider=vault.provider, policy=policy, otp=otp
            ),
        )
        if stepped.error is not None:
            return _refused(request, viewer, form, stepped.error)
        actor = replace(actor, mfa_verified_at=stepped.value)
    if not form.fields:
        refusal = ValidationFailed(
            [{"field": "fields", "code": "fields_required", "message": "choose fields"}]
        )
        return _refused(request, viewer, form, refusal)
    outcome = attempt(
        conn,
        lambda: service.reveal(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            customer_id=customer_id,
            fields=list(form.fields),
            reason_code=reason_code,
            reason=reason,
            purpose=purpose,
        ),
    )
    if outcome.error is not None:
        return _refused(request, viewer, form, outcome.error)
    assert outcome.value is not None
    data = outcome.value.data
    if not is_htmx(request):
        return detail_page(request, conn, ctx, vault, viewer, customer_id, revealed=data)
    return page(
        request,
        viewer,
        "customers/_revealed.html",
        revealed=data,
        labels=display.FIELD_LABELS,
        long_text=display.LONG_TEXT,
        payment_types=display.PAYMENT_TYPE_NAMES,
        phone_text=display.phone_text,
    )


def _refused(request: Request, viewer: Viewer, form: RevealForm, error: BaomiError) -> Response:
    """Show the form again with what went wrong; ask for the code when that is what is missing."""
    again = replace(
        form,
        needs_code=error.code in _ASKS_FOR_CODE,
        error_code=error.code,
        errors=form_errors(error, inputs=_INPUTS),
    )
    return _form_page(request, viewer, again, status=error.status)
