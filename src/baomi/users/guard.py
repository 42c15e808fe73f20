"""Who may change accounts: the administrator requests, the security officer approves (三员分立).

A refusal is audited with the permission it lacked (C1.3): a probe of the account functions by
the wrong role leaves a trace, as a probe of customer data does. So is a role set that breaks
三员分立, naming the rule. The system (a SystemActor) is checked like anyone: it holds the
permissions of its kind, never all of them.
"""

from __future__ import annotations

from typing import Any

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.errors import Forbidden
from baomi.security.actor import AnyActor
from baomi.security.roles import Permission, Role, separation_violation


def require(
    actor: AnyActor,
    ctx: RequestContext,
    permission: Permission,
    action: Action,
    message: str,
    *,
    code: str = "missing_permission",
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
    raise Forbidden(message, code=code).with_audit(refusal)


def require_manager(actor: AnyActor, ctx: RequestContext, action: Action) -> None:
    """Only the system administrator manages accounts."""
    require(
        actor,
        ctx,
        Permission.USER_MANAGE,
        action,
        "only the system administrator manages users and departments",
    )


def require_approver(actor: AnyActor, ctx: RequestContext, action: Action) -> None:
    """Only the security officer approves account changes."""
    require(
        actor,
        ctx,
        Permission.ACCOUNT_APPROVE,
        action,
        "only the security officer approves account changes",
    )


def separation_refusal(
    actor: AnyActor, ctx: RequestContext, action: Action, roles: set[Role], **kwargs: Any
) -> dict[str, Any] | None:
    """The deny event of a role set that breaks 三员分立 (MLPS 2.0, C4.2.1), or None if allowed:
    the reason names the rule, the details the roles asked for."""
    if separation_violation(roles) is None:
        return None
    return actor_event(
        ctx=ctx,
        actor=actor,
        action=action,
        allowed=False,
        reason="separation_of_duties",
        details={"roles": sorted(r.value for r in roles)},
        **kwargs,
    )
