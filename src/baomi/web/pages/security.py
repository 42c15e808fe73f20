"""The security officer's pages (保密员): grants, levels and their rules, locked accounts, keys.

/security            grants: list (active or all, per person) and revoke now (C4.2.1, C4.3.1)
/security/levels     the per-level rules in force (the app vault's), read-only (C2.2)
/security/accounts   accounts locked by failed logins, and unlock (C4.2.4, ASVS V6.3)
/security/keys       master-key versions, data keys per version, rewrap progress (C4.2.2)

No customer data: grants name customers by id only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from baomi import clock
from baomi.api.deps import Conn, Ctx, VaultDep
from baomi.auth import lockout
from baomi.errors import BaomiError
from baomi.grants.service import list_grants, revoke_grant
from baomi.keystore.service import KeyStatus, key_status
from baomi.notifications.api import mail_on
from baomi.security.levels import Approver
from baomi.security.roles import Permission, permissions_of
from baomi.users.service import list_users
from baomi.web import access_forms, activity
from baomi.web.forms import attempt
from baomi.web.levels import levels_of, vault_of
from baomi.web.nav import mounted
from baomi.web.permits import GrantsViewer, KeysViewer, OfficerViewer, UnlockViewer
from baomi.web.render import page
from baomi.web.routing import page_router, redirect
from baomi.web.templating import N_
from baomi.web.viewer import Viewer

router = page_router()

TABS = (
    ("/security", N_("Grants"), Permission.GRANT_MANAGE),
    ("/security/levels", N_("Levels and rules"), None),
    ("/security/accounts", N_("Locked accounts"), Permission.USER_UNLOCK),
    ("/security/account-changes", N_("Account changes"), Permission.ACCOUNT_APPROVE),
    ("/security/keys", N_("Keys"), Permission.KEY_MANAGE),
)
NOTICES = {
    "revoked": N_("The grant has ended; the access is gone now."),
    "unlocked": N_("The account is unlocked. The person can sign in again."),
}
ERRORS = {
    "grant_already_revoked": N_("This grant has already ended."),
    "not_found": N_("There is no such grant or account."),
}
OTHER_ERROR = N_("The action was refused (code %(code)s).")
APPROVER_LABELS = {
    Approver.CUSTOMER_HEAD: N_("the customer's department head"),
    Approver.REQUESTER_HEAD: N_("the requester's department head"),
    Approver.SECURITY_OFFICER: N_("a security officer"),
}
VERSION_LABELS = {
    "active": N_("Active"),
    "previous": N_("Previous (still unwraps)"),
    "retired": N_("Retired (erased)"),
}


def _tabs(viewer: Viewer) -> list[tuple[str, str]]:
    return [(path, label) for path, label, p in TABS if p is None or viewer.actor.can(p)]


def security_page(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    tab: str,
    status: int = 200,
    **context: Any,
) -> Response:
    done = request.query_params.get("done", "")
    context.setdefault("notice", NOTICES.get(done))
    context.setdefault("error", None)
    context.setdefault("error_code", "")
    return page(
        request,
        viewer,
        template,
        status=status,
        tabs=_tabs(viewer),
        tab_current=tab,
        **context,
    )


def _error(error: BaomiError) -> dict[str, Any]:
    return {"error": ERRORS.get(error.code, OTHER_ERROR), "error_code": error.code}


# --- Grants -------------------------------------------------------------------------------


def _grants_page(
    request: Request, conn: Conn, ctx: Ctx, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    params = request.query_params
    show_all = params.get("show") == "all"
    everyone = list_users(conn)
    # Only people who work with customers ever hold grants (C4.2.1, 三员分立).
    people = [u for u in everyone if Permission.CUSTOMER_WORK in permissions_of(frozenset(u.roles))]
    person = params.get("user", "")
    if person not in {u.id for u in people}:
        person = ""
    grants = list_grants(
        conn, actor=viewer.actor, ctx=ctx, user_id=person or None, active_only=not show_all
    )
    return security_page(
        request,
        viewer,
        "security_grants.html",
        tab="/security",
        status=status,
        grants=grants,
        people=people,
        person=person,
        show_all=show_all,
        names={u.id: u for u in everyone},
        now=clock.utcnow(),
        time_left=access_forms.time_left,
        purpose_of=access_forms.purpose_of,
        field_labels=access_forms.FIELD_LABELS,
        customer_links=mounted(request, "/customers/{customer_id}"),
        **context,
    )


@router.get("/security")
def get_grants(request: Request, conn: Conn, ctx: Ctx, viewer: GrantsViewer) -> Response:
    return _grants_page(request, conn, ctx, viewer)


@router.post("/security/grants/{grant_id}/revoke")
def post_revoke(
    request: Request, conn: Conn, ctx: Ctx, viewer: GrantsViewer, grant_id: str
) -> Response:
    """End a grant now: the next decision no longer sees it (C4.2.1)."""
    outcome = attempt(
        conn,
        lambda: revoke_grant(
            conn,
            actor=viewer.actor,
            ctx=ctx,
            grant_id=grant_id,
            mail=mail_on(request),
            tags=vault_of(request).tags,
        ),
    )
    if outcome.error is None:
        return redirect(request, "/security?done=revoked")
    error = outcome.error
    return _grants_page(request, conn, ctx, viewer, status=error.status, **_error(error))


# --- Levels -------------------------------------------------------------------------------


@router.get("/security/levels")
def get_levels(request: Request, viewer: OfficerViewer) -> Response:
    """The per-level rules in force: the configuration the door applies, shown as is (C2.2)."""
    return security_page(
        request,
        viewer,
        "security_levels.html",
        tab="/security/levels",
        rules=levels_of(request).in_use(),
        approver_labels=APPROVER_LABELS,
        field_labels=access_forms.FIELD_LABELS,
    )


# --- Locked accounts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockedRow:
    user_id: str
    account: activity.LockedAccount


def _accounts_page(
    request: Request, conn: Conn, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    ids = {u.username: u.id for u in list_users(conn)}
    locked = [
        LockedRow(ids[a.username], a)
        for a in activity.locked_accounts(conn, viewer.actor)
        if a.username in ids
    ]
    return security_page(
        request,
        viewer,
        "security_accounts.html",
        tab="/security/accounts",
        status=status,
        locked=locked,
        **context,
    )


@router.get("/security/accounts")
def get_accounts(request: Request, conn: Conn, viewer: UnlockViewer) -> Response:
    return _accounts_page(request, conn, viewer)


@router.post("/security/accounts/{user_id}/unlock")
def post_unlock(
    request: Request, conn: Conn, ctx: Ctx, viewer: UnlockViewer, user_id: str
) -> Response:
    """Unlock an account locked by failed logins and forget its failures (audited)."""
    outcome = attempt(
        conn, lambda: lockout.unlock(conn, actor=viewer.actor, ctx=ctx, user_id=user_id)
    )
    if outcome.error is None:
        return redirect(request, "/security/accounts?done=unlocked")
    return _accounts_page(
        request, conn, viewer, status=outcome.error.status, **_error(outcome.error)
    )


# --- Keys ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rewrap:
    """How far the data keys are wrapped by the version they should be (C4.2.2 rotation)."""

    target: int
    done: int
    total: int
    in_progress: bool

    @property
    def percent(self) -> float:
        return self.done / self.total if self.total else 1.0


def rewrap_progress(status: KeyStatus) -> Rewrap:
    target = status.rotation_target or status.active_version
    per_version = {v.version: v.data_keys for v in status.versions}
    return Rewrap(
        target=target,
        done=per_version.get(target, 0),
        total=sum(per_version.values()),
        in_progress=status.rotation_target is not None,
    )


@router.get("/security/keys")
def get_keys(request: Request, conn: Conn, vault: VaultDep, viewer: KeysViewer) -> Response:
    status = key_status(conn, vault.provider)
    return security_page(
        request,
        viewer,
        "security_keys.html",
        tab="/security/keys",
        keys=status,
        rewrap=rewrap_progress(status),
        version_labels=VERSION_LABELS,
    )
