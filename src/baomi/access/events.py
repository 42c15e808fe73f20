"""The audit events of requests, allowed or refused, for the machine and its kinds (C1.3)."""

from __future__ import annotations

from typing import Any, NoReturn

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.errors import BaomiError
from baomi.security.actor import Actor


def event(ctx: RequestContext, actor: Actor, action: Action, **kwargs: Any) -> dict[str, Any]:
    """Return the event of something `actor` did to a request."""
    return actor_event(ctx=ctx, actor=actor, action=action, **kwargs)


def refuse(
    error: BaomiError, ctx: RequestContext, actor: Actor, action: Action, **kw: Any
) -> NoReturn:
    """Raise `error` carrying the audit event of the refusal (written after the rollback)."""
    raise error.with_audit(event(ctx, actor, action, allowed=False, reason=error.code, **kw))
