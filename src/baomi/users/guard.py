"""Who may change accounts: the administrator requests, the security officer approves (三员分立).

A refusal is audited with the permission it lacked (C1.3): a probe of the account functions by
the wrong role leaves a trace, as a probe of customer data does.
"""

from __future__ import annotations

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.errors import Forbidden
from baomi.security.actor import Actor
from baomi.security.roles import Permission


def require(
    actor: Actor, ctx: RequestContext, permission: Permission, action: Action, message: str
) -> None:
    """Refuse, with an audited deny event, an actor that lacks the permission."""
    if actor.can(permission):
        return
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=action,
        allowed=False,
        reason="missing_permission",
        details={"permission": permission.value},
    )
    raise Forbidden(message, code="missing_permission").with_audit(refusal)


def require_manager(actor: Actor, ctx: RequestContext, action: Action) -> None:
    """Only the system administrator manages accounts."""
    require(
        actor,
        ctx,
        Permission.USER_MANAGE,
        action,
        "only the system administrator manages users and departments",
    )


def require_approver(actor: Actor, ctx: RequestContext, action: Action) -> None:
    """Only the security officer approves account changes."""
    require(
        actor,
        ctx,
        Permission.ACCOUNT_APPROVE,
        action,
        "only the security officer approves account changes",
    )
