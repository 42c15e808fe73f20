"""A refused customer action carries its deny event, written even though the work is rolled back.

The unit of work writes a refusal's audit events after the rollback (baomi.uow), so the record
shows who was refused what and why (C1.3) while nothing of the refused work remains.
"""

from __future__ import annotations

from typing import Any

from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers.access import denial
from baomi.errors import BaomiError
from baomi.security.actor import Actor


def refused(
    error: BaomiError,
    *,
    ctx: RequestContext,
    actor: Actor,
    action: Action,
    reason: str | None = None,
    **event: Any,
) -> BaomiError:
    """Attach the deny event of a refusal (its reason: the error's code unless given)."""
    return error.with_audit(
        denial(ctx=ctx, actor=actor, action=action, reason=reason or error.code, **event)
    )
