"""The MFA gate (C4.2.4, issue 10 F2): a role that must use a second factor reaches nothing but
its enrolment until it has one, over the API as in the browser.

The browser's pages send such a person to the enrolment page (web/viewer.py); an API request
gets 403 `mfa_enrolment_required`, audited, except on the few routes that enrol, say who is
logged in, or log out. The CLI's `--as` refuses such a person the same way (auth/service.py).
"""

from __future__ import annotations

from fastapi import Request

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.auth.mfa import mfa_expected
from baomi.errors import Forbidden
from baomi.security.actor import Actor

API_PREFIX = "/api/"
# What an API client may do before enrolling: enrol, confirm, see itself, leave.
OPEN_BEFORE_ENROLMENT = frozenset(
    {
        "/api/v1/auth/mfa/enrol",
        "/api/v1/auth/mfa/confirm",
        "/api/v1/auth/me",
        "/api/v1/auth/logout",
    }
)


def must_enrol(actor: Actor) -> bool:
    """Whether the person's roles need a second factor they have not enrolled."""
    return not actor.mfa_enrolled and mfa_expected(actor.roles)


def check(request: Request, ctx: RequestContext, actor: Actor) -> None:
    """Refuse an API request of a person who must enrol first (pages redirect instead)."""
    # The person first: almost nobody must enrol, and the URL costs more to build than the
    # actor costs to ask (every API request passes here, benchmarks/bench_http.py).
    if not must_enrol(actor):
        return
    path = request.url.path
    if not path.startswith(API_PREFIX) or path in OPEN_BEFORE_ENROLMENT:
        return
    refusal = actor_event(
        ctx=ctx,
        actor=actor,
        action=Action.AUTH_MFA_ENROL,
        allowed=False,
        reason="mfa_enrolment_required",
        details={"path": str(getattr(request.scope.get("route"), "path", path))},
    )
    raise Forbidden(
        "this role must enrol a second factor first: POST /api/v1/auth/mfa/enrol, then "
        "/api/v1/auth/mfa/confirm with a code from the app",
        code="mfa_enrolment_required",
    ).with_audit(refusal)
