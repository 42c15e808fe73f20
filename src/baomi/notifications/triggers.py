"""Who is told what, when the approval process moves (C4.3.1, C3.2): one function per event.

The access and grant services call these in their own transaction. Each takes ids, counts and
the people involved, never a customer's data; `kinds` refuses anything else. `mail` says whether
notices also go out by mail: the caller's edge knows (outbox.mail_enabled of its settings).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from baomi.notifications.kinds import Kind, Param, time_param
from baomi.notifications.service import notify, told_about_since, told_since
from baomi.security.actor import Actor
from baomi.security.roles import Role
from baomi.users.service import active_user_ids_with_role, heads_of

# Where a head reviews the emergency grants given in their departments (the web UI's /access).
EMERGENCY_REVIEW_LINK = "/access#emergency-grants"


def request_link(request_id: str) -> str:
    """Where the web UI shows an access request."""
    return f"/access-requests/{request_id}"


def request_filed(
    conn: Connection,
    *,
    request_id: str,
    requester: Actor,
    approver_ids: Iterable[str],
    needs_officer: bool,
    customer_count: int,
    hours: int,
    now: datetime,
    mail: bool,
    request_kind: str = "access",
) -> None:
    """Tell every approver who must decide; for the officer's slot, every active officer."""
    recipients = set(approver_ids)
    if needs_officer:
        recipients |= set(active_user_ids_with_role(conn, Role.SECURITY_OFFICER))
    # Nobody approves their own request (routing already ensures it); never tell them to.
    recipients.discard(requester.user_id)
    notify(
        conn,
        user_ids=recipients,
        kind=Kind.REQUEST_TO_APPROVE,
        params={
            "request_id": request_id,
            "request_kind": request_kind,
            "requester": requester.username,
            "requester_name": requester.display_name,
            "customer_count": customer_count,
            "hours": hours,
        },
        link=request_link(request_id),
        now=now,
        mail=mail,
    )


def request_decided(
    conn: Connection,
    *,
    request_id: str,
    requester_id: str,
    decider: Actor,
    approved: bool,
    customer_count: int,
    hours: int,
    ends_at: datetime | None,
    now: datetime,
    mail: bool,
    request_kind: str = "access",
) -> None:
    """Tell the requester the final outcome: approved (until when) or rejected, and by whom."""
    notify(
        conn,
        user_ids=[requester_id],
        kind=Kind.REQUEST_DECIDED,
        params={
            "request_id": request_id,
            "request_kind": request_kind,
            "outcome": "approved" if approved else "rejected",
            "by": decider.username,
            "by_name": decider.display_name,
            "customer_count": customer_count,
            "hours": hours,
            "ends_at": time_param(ends_at) if ends_at else None,
        },
        link=request_link(request_id),
        now=now,
        mail=mail,
    )


def grant_revoked(
    conn: Connection,
    *,
    grant_id: str,
    grantee_id: str,
    customer_id: str,
    request_id: str | None,
    revoker: Actor,
    ends_at: datetime,
    now: datetime,
    mail: bool,
) -> None:
    """Tell the grantee their access ended early, unless they ended it themselves (or it had
    already ended: the expiry notice said so)."""
    if revoker.user_id == grantee_id or ends_at <= now:
        return
    notify(
        conn,
        user_ids=[grantee_id],
        kind=Kind.GRANT_REVOKED,
        params={
            "grant_id": grant_id,
            "customer_id": customer_id,
            "request_id": request_id,
            "by": revoker.username,
            "by_name": revoker.display_name,
        },
        link=request_link(request_id) if request_id else None,
        now=now,
        mail=mail,
    )


def grants_ending(
    conn: Connection,
    *,
    kind: Kind,
    user_id: str,
    grant_ids: list[str],
    request_id: str | None,
    ends_at: datetime,
    now: datetime,
    mail: bool,
) -> None:
    """Tell a grantee that grants (of one request, ending together) end soon, or have ended."""
    assert kind in (Kind.GRANT_EXPIRING, Kind.GRANT_EXPIRED)
    notify(
        conn,
        user_ids=[user_id],
        kind=kind,
        params={
            "grant_ids": sorted(grant_ids),
            "request_id": request_id,
            "grant_count": len(grant_ids),
            "ends_at": time_param(ends_at),
        },
        link=request_link(request_id) if request_id else None,
        now=now,
        mail=mail,
    )


def emergency_grant(
    conn: Connection,
    *,
    grant_id: str,
    customer_id: str,
    recipients: Iterable[str],
    grantee: Actor,
    officer: Actor,
    hours: int,
    now: datetime,
    mail: bool,
) -> None:
    """Tell the customer's handler and heads at once of an emergency grant (C3.2, C4.3.1)."""
    notify(
        conn,
        user_ids=set(recipients) - {officer.user_id},
        kind=Kind.EMERGENCY_GRANT,
        params={
            "grant_id": grant_id,
            "customer_id": customer_id,
            "grantee": grantee.username,
            "grantee_name": grantee.display_name,
            "by": officer.username,
            "by_name": officer.display_name,
            "hours": hours,
        },
        link=EMERGENCY_REVIEW_LINK,
        now=now,
        mail=mail,
    )


ACCOUNT_CHANGES_LINK = "/security/account-changes"


def password_reset(conn: Connection, *, user_id: str, by: Actor, now: datetime, mail: bool) -> None:
    """Tell the person their password was reset (a reset they did not ask for is a warning)."""
    notify(
        conn,
        user_ids=[user_id],
        kind=Kind.PASSWORD_RESET,
        params={"by": by.username, "by_name": by.display_name},
        link=None,
        now=now,
        mail=mail,
    )


def account_change_filed(
    conn: Connection,
    *,
    change_id: str,
    kind: str,
    username: str | None,
    requester: Actor,
    heads: Iterable[str],
    now: datetime,
    mail: bool,
    department: str | None = None,
) -> None:
    """Tell every security officer (who decides) and the heads of the departments concerned.
    The change is about a person (`username`) or, when a department moves, the `department`."""
    params: dict[str, Param] = {
        "change_id": change_id,
        "change_kind": kind,
        "by": requester.username,
        "by_name": requester.display_name,
        **_subject(username, department),
    }
    officers = set(active_user_ids_with_role(conn, Role.SECURITY_OFFICER))
    notify(
        conn,
        user_ids=officers,
        kind=Kind.ACCOUNT_CHANGE_TO_APPROVE,
        params=params,
        link=ACCOUNT_CHANGES_LINK,
        now=now,
        mail=mail,
    )
    notify(
        conn,
        user_ids=set(heads) - officers,
        kind=Kind.ACCOUNT_CHANGE_NOTICE,
        params=params,
        link=None,
        now=now,
        mail=mail,
    )


def _subject(username: str | None, department: str | None) -> dict[str, Param]:
    """Whom an account change is about: a person, or a department that moves (kind parent)."""
    return {"department": department} if department is not None else {"username": username or ""}


def account_change_decided(
    conn: Connection,
    *,
    change_id: str,
    kind: str,
    username: str | None,
    requester_id: str | None,
    decider: Actor,
    approved: bool,
    now: datetime,
    mail: bool,
    department: str | None = None,
) -> None:
    """Tell the administrator who asked how the officer decided."""
    if requester_id is None:
        return
    notify(
        conn,
        user_ids=[requester_id],
        kind=Kind.ACCOUNT_CHANGE_DECIDED,
        params={
            "change_id": change_id,
            "change_kind": kind,
            "outcome": "approved" if approved else "rejected",
            "by": decider.username,
            "by_name": decider.display_name,
            **_subject(username, department),
        },
        link=None,
        now=now,
        mail=mail,
    )


# Where a security officer looks at keys, data keys and rotations (the web UI's /security/keys).
KEYS_LINK = "/security/keys"
# One notice per damaged record per hour: one broken record read a thousand times is one thing
# to repair, not a thousand notices (every read is in the audit log all the same).
INTEGRITY_NOTICE_INTERVAL = timedelta(hours=1)


def integrity_failure(
    conn: Connection,
    *,
    customer_id: str,
    field: str,
    during: str,
    now: datetime,
    mail: bool,
) -> bool:
    """Tell the active security officers that a customer's stored data failed its integrity
    check (C5), at most once per record per hour; return whether they were told now."""
    since = now - INTEGRITY_NOTICE_INTERVAL
    if told_since(conn, kind=Kind.INTEGRITY_FAILURE, customer_id=customer_id, since=since):
        return False
    notify(
        conn,
        user_ids=active_user_ids_with_role(conn, Role.SECURITY_OFFICER),
        kind=Kind.INTEGRITY_FAILURE,
        params={"customer_id": customer_id, "field": field, "during": during},
        link=KEYS_LINK,
        now=now,
        mail=mail,
    )
    return True


def damaged_data_keys(
    conn: Connection,
    *,
    data_key_ids: list[str],
    owner_ids: list[str],
    target_version: int,
    now: datetime,
    mail: bool,
) -> None:
    """Tell the active security officers that a key rotation passed over damaged data keys."""
    notify(
        conn,
        user_ids=active_user_ids_with_role(conn, Role.SECURITY_OFFICER),
        kind=Kind.DAMAGED_DATA_KEYS,
        params={
            "data_key_ids": sorted(data_key_ids),
            "owner_ids": sorted(owner_ids),
            "key_count": len(data_key_ids),
            "target_version": target_version,
        },
        link=KEYS_LINK,
        now=now,
        mail=mail,
    )


def check_limit_reached(
    conn: Connection,
    *,
    person: Actor,
    limit: int,
    period: str,
    since: datetime,
    now: datetime,
    mail: bool,
) -> None:
    """Tell a person's heads and the security officers that they reached the 查重 limit of the
    `period` ("hour" or "day") that began at `since`; once per period (issue 17.4, C3.2)."""
    kind = Kind.CHECK_LIMIT_REACHED
    if told_about_since(conn, kind=kind, param="username", value=person.username, since=since):
        return
    heads = [h for h in heads_of(conn, person.department_id) if h != person.user_id]
    notify(
        conn,
        user_ids={*heads, *active_user_ids_with_role(conn, Role.SECURITY_OFFICER)},
        kind=kind,
        params={
            "username": person.username,
            "display_name": person.display_name,
            "limit": limit,
            "period": period,
        },
        link=None,
        now=now,
        mail=mail,
    )
