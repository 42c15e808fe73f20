"""Changing a customer's level from its page (C2.2): a higher level is set at once
(customers.service.update), a lower one becomes a level-change request that the approvers its
current level names decide (access.level_change)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baomi.access.level_change import request_level_change
from baomi.access.schemas import LevelChangeIn
from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.customers import service
from baomi.customers.schemas import CustomerPatch
from baomi.errors import BaomiError, ValidationFailed
from baomi.notifications.api import mail_on
from baomi.security.levels import Levels
from baomi.web.forms import attempt
from baomi.web.levels import vault_of
from baomi.web.pages.customers.detail import detail_page
from baomi.web.pages.customers.messages import form_errors
from baomi.web.routing import page_router, redirect
from baomi.web.viewer import PageViewer

router = page_router()


def _lower(levels: Levels, level: str, *, than: str) -> bool:
    return levels.rule_of(level).rank < levels.rule_of(than).rank


@router.post("/customers/{customer_id}/level")
def post_level(
    request: Request,
    conn: Conn,
    ctx: Ctx,
    vault: VaultDep,
    viewer: PageViewer,
    customer_id: str,
    level: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    from_level: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Raise, or ask to lower. `from_level` (the level the page showed) only picks the path:
    the services refuse a lowering by update and a raise by request whatever the form says."""
    levels = vault.levels
    error: BaomiError | ValidationError | None = None
    if level not in levels.enabled:
        error = ValidationFailed(
            [{"field": "level", "code": "level_unknown", "message": "unknown level"}]
        )
    elif level == from_level:
        error = ValidationFailed(
            [{"field": "level", "code": "level_unchanged", "message": "the same level as now"}]
        )
    elif from_level in levels.enabled and _lower(levels, level, than=from_level):
        try:
            change = LevelChangeIn.model_validate({"level": level, "reason": reason})
        except ValidationError as invalid:
            error = invalid
        else:
            lowered = attempt(
                conn,
                lambda: request_level_change(
                    conn,
                    actor=viewer.actor,
                    ctx=ctx,
                    vault=vault_of(request),
                    mail=mail_on(request),
                    customer_id=customer_id,
                    change_in=change,
                ),
            )
            if lowered.error is None:
                return redirect(request, f"/customers/{customer_id}?done=level_requested")
            error = lowered.error
    else:
        raised = attempt(
            conn,
            lambda: service.update(
                conn,
                actor=viewer.actor,
                ctx=ctx,
                vault=vault,
                customer_id=customer_id,
                patch=CustomerPatch(level=level),
            ),
        )
        if raised.error is None:
            return redirect(request, f"/customers/{customer_id}?done=level_raised")
        error = raised.error
    return detail_page(
        request,
        conn,
        ctx,
        vault,
        viewer,
        customer_id,
        status=error.status if isinstance(error, BaomiError) else 422,
        level_form={"level": level, "reason": reason},
        level_errors=form_errors(error, inputs=("level", "reason")),
    )
