"""Role checks of whole pages: a page for the auditor, the security officer or the administrator
refuses everyone else with 403, and the refusal is audited like any other (C1.3, C4.2.1).

The navigation hides these pages from the wrong roles already (nav.py); this is the door itself,
so that a typed-in URL gets no further than a link would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from baomi.api.deps import Ctx
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event
from baomi.audit.tags import Action
from baomi.errors import Forbidden
from baomi.security.roles import Permission
from baomi.web.viewer import PageViewer, Viewer


def _route_path(request: Request) -> str:
    """The route's template ("/access/grants/{grant_id}/revoke"): no ids in the audit event."""
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def refuse(
    request: Request, ctx: RequestContext, viewer: Viewer, permissions: tuple[Permission, ...]
) -> Forbidden:
    """The audited 403 of a page this person's roles do not open, naming the permission it
    needs (any one of several is written "a|b"), as the API's refusal does (C1.3)."""
    error = Forbidden("your role does not give access to this page")
    event = actor_event(
        ctx=ctx,
        actor=viewer.actor,
        action=Action.PAGE_OPEN,
        allowed=False,
        reason="role_lacks_permission",
        details={
            "page": _route_path(request),
            "method": request.method,
            "permission": "|".join(p.value for p in permissions),
        },
    )
    error.with_audit(event)
    return error


def needs(*permissions: Permission) -> Callable[..., Awaitable[Viewer]]:
    """A page dependency: the viewer, if their roles carry any of `permissions`; else 403."""

    # async: it only reads the viewer, so FastAPI need not send it to the thread pool.
    async def check(request: Request, ctx: Ctx, viewer: PageViewer) -> Viewer:
        if any(viewer.actor.can(p) for p in permissions):
            return viewer
        raise refuse(request, ctx, viewer, permissions)

    return check


# The pages' doors, by who works there (三员分立: each of the three roles has its own).
AccessViewer = Annotated[Viewer, Depends(needs(Permission.CUSTOMER_WORK, Permission.GRANT_MANAGE))]
AuditorViewer = Annotated[Viewer, Depends(needs(Permission.AUDIT_READ))]
OfficerViewer = Annotated[
    Viewer,
    Depends(needs(Permission.GRANT_MANAGE, Permission.KEY_MANAGE, Permission.USER_UNLOCK)),
]
GrantsViewer = Annotated[Viewer, Depends(needs(Permission.GRANT_MANAGE))]
KeysViewer = Annotated[Viewer, Depends(needs(Permission.KEY_MANAGE))]
UnlockViewer = Annotated[Viewer, Depends(needs(Permission.USER_UNLOCK))]
AdminViewer = Annotated[Viewer, Depends(needs(Permission.USER_MANAGE))]
ApproverViewer = Annotated[Viewer, Depends(needs(Permission.ACCOUNT_APPROVE))]
