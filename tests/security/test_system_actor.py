"""Issue 11 §6, C1.3, C4.2.1: the system acts as a typed actor with its own, explicit
permissions and its own name in the audit log, never as "no actor, all rights"."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.auth import lockout
from baomi.errors import Forbidden
from baomi.grants import service as grants
from baomi.security.actor import SEEDER, console_operator
from baomi.security.roles import (
    CUSTOMER_ROLES,
    ROLE_PERMISSIONS,
    SYSTEM_PERMISSIONS,
    Permission,
    SystemKind,
)
from baomi.uow import unit_of_work
from baomi.users import service as users
from tests.support.org import Org

# What gives or opens access, or watches: only ever a person's (三员分立, C4.2.1, C4.3.1).
PERSONS_ONLY = {
    Permission.CUSTOMER_WORK,
    Permission.CUSTOMER_CHECK,
    Permission.GRANT_MANAGE,
    Permission.ACCOUNT_APPROVE,
    Permission.AUDIT_READ,
    Permission.KEY_MANAGE,
}


def _events(engine: Engine, action: str) -> list[tuple[str | None, str | None, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.actor_id, audit_events.c.actor_username, audit_events.c.decision)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.actor_id, r.actor_username, r.decision) for r in rows]


def test_no_system_actor_holds_all_rights() -> None:
    all_of_the_roles = frozenset().union(*ROLE_PERMISSIONS.values())
    customer_permissions = frozenset().union(*(ROLE_PERMISSIONS[r] for r in CUSTOMER_ROLES))
    for kind in SystemKind:
        held = SYSTEM_PERMISSIONS[kind]
        assert held < frozenset(Permission) and held <= all_of_the_roles
        assert not held & PERSONS_ONLY and not held & customer_permissions, kind
    console = console_operator("root")
    assert console.username == "os:root" and console.user_id is None
    assert console.can(Permission.USER_UNLOCK) and not console.can(Permission.GRANT_MANAGE)
    assert SEEDER.username == "system:seed" and not SEEDER.can(Permission.USER_UNLOCK)


def test_seeding_is_audited_as_the_seeder(engine: Engine) -> None:
    """The test company was built by the seeder: every event names it, with no user id."""
    for action in ("department:create", "user:create", "department:head_change"):
        events = _events(engine, action)
        assert events and set(events) == {(None, "system:seed", "allow")}, action


def test_the_console_acts_within_its_permissions_under_its_own_name(
    engine: Engine, org: Org
) -> None:
    """The OS account at the console may unlock, disable and list grants (audited as
    os:<account>); the seeder may not unlock, and its refusal is on record too."""
    console = console_operator("ops")
    lisi = org.user_ids["lisi"]
    with pytest.raises(Forbidden), unit_of_work(engine) as conn:
        lockout.unlock(conn, actor=SEEDER, ctx=CLI_CONTEXT, user_id=lisi)
    with unit_of_work(engine) as conn:
        assert lockout.unlock(conn, actor=console, ctx=CLI_CONTEXT, user_id=lisi) is False
        assert grants.list_grants(conn, actor=console, ctx=CLI_CONTEXT) == []
        users.disable_user(conn, actor=console, ctx=CLI_CONTEXT, user_id=lisi)
    assert _events(engine, "auth:unlock") == [
        (None, "system:seed", "deny"),
        (None, "os:ops", "allow"),
    ]
    assert _events(engine, "user:disable") == [(None, "os:ops", "allow")]
