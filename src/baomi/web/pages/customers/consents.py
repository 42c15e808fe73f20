"""The consents and lawful bases of a customer on its page (C4.1.2, C4.3.4): the record of what
it agreed to, a form to record a new consent, and a withdrawal per record in force.

Everything goes through consent.service, exactly as the API's routes; the page shows the
history (withdrawn, expired and superseded records too) and never deletes one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.consent import service
from baomi.consent.schemas import ConsentIn, WithdrawIn
from baomi.errors import BaomiError
from baomi.web.forms import attempt
from baomi.web.i18n import DISPLAY_TIMEZONE
from baomi.web.pages.customers.consent_view import INPUTS, ConsentForm
from baomi.web.pages.customers.detail import detail_page
from baomi.web.pages.customers.messages import form_errors
from baomi.web.routing import page_router, redirect
from baomi.web.viewer import PageViewer

router = page_router()


def _moment(value: str) -> datetime | None:
    """A date input read as the start of that day in Beijing; empty is None."""
    if not value.strip():
        return None
    try:
        day = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if day.tzinfo else day.replace(tzinfo=DISPLAY_TIMEZONE)


@router.post("/customers/{customer_id}/consents")
def post_consent(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    purposes: Annotated[list[str] | None, Form()] = None,
    scope: Annotated[list[str] | None, Form()] = None,
    method: Annotated[str, Form(max_length=16)] = "",
    given_at: Annotated[str, Form(max_length=40)] = "",
    expires_at: Annotated[str, Form(max_length=40)] = "",
    evidence_attachment_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Record the customer's consent; a refusal shows the form again with what was chosen."""
    form = ConsentForm(
        purposes=list(purposes or [])[:32],
        scope=list(scope or [])[:8],
        method=method,
        given_at=given_at,
        expires_at=expires_at,
        evidence_attachment_id=evidence_attachment_id,
    )
    error: BaomiError | ValidationError | None = None
    try:
        consent = ConsentIn.model_validate(
            {
                "purposes": form.purposes,
                "scope": form.scope,
                "method": method or None,
                "given_at": _moment(given_at),
                "expires_at": _moment(expires_at),
                "evidence_attachment_id": evidence_attachment_id or None,
            }
        )
    except ValidationError as invalid:
        error = invalid
    else:
        outcome = attempt(
            conn,
            lambda: service.record_consent(
                conn,
                actor=viewer.actor,
                ctx=ctx,
                vault=vault,
                customer_id=customer_id,
                consent=consent,
            ),
        )
        if outcome.error is None:
            return redirect(request, f"/customers/{customer_id}?done=consent#consents")
        error = outcome.error
    form.errors = form_errors(error, inputs=INPUTS)
    status = error.status if isinstance(error, BaomiError) else 422
    return detail_page(
        request, conn, ctx, vault, viewer, customer_id, status=status, consent_form=form
    )


@router.post("/customers/{customer_id}/consents/{consent_id}/withdraw")
def post_withdraw(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    consent_id: str,
    channel: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Write the customer's withdrawal on the record (today, through the channel chosen)."""
    error: BaomiError | ValidationError | None = None
    try:
        withdrawal = WithdrawIn.model_validate({"channel": channel})
    except ValidationError as invalid:
        error = invalid
    else:
        outcome = attempt(
            conn,
            lambda: service.withdraw(
                conn,
                actor=viewer.actor,
                ctx=ctx,
                vault=vault,
                customer_id=customer_id,
                consent_id=consent_id,
                withdrawal=withdrawal,
            ),
        )
        if outcome.error is None:
            return redirect(request, f"/customers/{customer_id}?done=withdrawn#consents")
        error = outcome.error
    form = ConsentForm(errors=form_errors(error, inputs=("channel",)))
    status = error.status if isinstance(error, BaomiError) else 422
    return detail_page(
        request, conn, ctx, vault, viewer, customer_id, status=status, consent_form=form
    )
