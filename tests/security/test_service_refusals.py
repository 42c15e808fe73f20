"""Issue 11 §2, C1.3: every refusal is on record, also when a service refuses by itself.

The API, the pages and the CLI check a role at their door (tests/security/
test_authorization_matrix.py, tests/web, tests/cli); behind the door each service checks again
and a refusal there leaves a deny event naming the permission lacked, or the rule broken
(三员分立), written after the rollback of the refused work (baomi.uow).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.auth import lockout
from baomi.crypto.row_tags import RowTagger
from baomi.errors import BaomiError, Forbidden, ValidationFailed
from baomi.grants import service as grants
from baomi.grants.schemas import GrantIn
from baomi.ids import new_id
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import actors, changes
from baomi.users import service as users
from baomi.users.schemas import ChangeStatus, EmploymentType
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import PASSWORD, Org, actor


def _denials(engine: Engine) -> list[tuple[str, str | None, str | None, str, dict[str, Any]]]:
    """(action, actor id, actor name, reason, details) of every deny event, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.action,
                audit_events.c.actor_id,
                audit_events.c.actor_username,
                audit_events.c.reason,
                audit_events.c.details,
            )
            .where(audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    return [
        (
            r.action,
            r.actor_id,
            r.actor_username,
            r.reason,
            (json.loads(r.details) if isinstance(r.details, str) else r.details) or {},
        )
        for r in rows
    ]


def _refused(engine: Engine, call: Callable[[Connection], object]) -> BaomiError:
    with pytest.raises(BaomiError) as refused, unit_of_work(engine) as conn:
        call(conn)
    return refused.value


def test_the_officers_and_administrators_services_refuse_a_salesperson_on_record(
    engine: Engine, org: Org
) -> None:
    """Called past any door, each service refuses zhangsan with 403 and a deny event naming the
    permission (grants keep their code `not_security_officer`); nothing is changed."""
    seller = actor(engine, org, "zhangsan")
    lisi = org.user_ids["lisi"]
    grant_in = GrantIn(user_id=lisi, customer_id=new_id(), duration_hours=2, purpose="核对")
    ctx = CLI_CONTEXT
    calls: list[tuple[Callable[[Connection], object], str, str]] = [
        (
            lambda c: users.create_department(c, actor=seller, ctx=ctx, name="私设部门"),
            "department:create",
            "user:manage",
        ),
        (
            lambda c: users.disable_user(c, actor=seller, ctx=ctx, user_id=lisi),
            "user:disable",
            "user:manage",
        ),
        (
            lambda c: lockout.unlock(c, actor=seller, ctx=ctx, user_id=lisi),
            "auth:unlock",
            "user:unlock",
        ),
        (
            lambda c: grants.create_emergency_grant(
                c,
                actor=seller,
                ctx=ctx,
                grant_in=grant_in,
                levels=DEFAULT_LEVELS,
                tags=RowTagger(bytes(32)),
                max_hours=24,
                mail=False,
            ),
            "grant:create",
            "grant:manage",
        ),
        (
            lambda c: grants.revoke_grant(
                c, actor=seller, ctx=ctx, grant_id=new_id(), mail=False, tags=RowTagger(bytes(32))
            ),
            "grant:revoke",
            "grant:manage",
        ),
        (lambda c: grants.list_grants(c, actor=seller, ctx=ctx), "grant:list", "grant:read"),
    ]
    errors = [_refused(engine, call) for call, _, _ in calls]
    assert all(isinstance(e, Forbidden) for e in errors)
    assert [e.code for e in errors[3:]] == ["not_security_officer"] * 3
    assert _denials(engine) == [
        (action, seller.user_id, "zhangsan", "missing_permission", {"permission": permission})
        for _, action, permission in calls
    ]
    with engine.connect() as conn:
        assert "私设部门" not in {d.name for d in users.list_departments(conn)}
        assert next(u for u in users.list_users(conn) if u.id == lisi).is_active


def test_separation_of_duties_refusals_are_on_record(engine: Engine, org: Org) -> None:
    """三员分立 refused when an account is created, when roles are asked for, and again when an
    officer approves a change that would break it; nobody changes their own roles."""
    admin, officer = actor(engine, org, "admin"), actor(engine, org, "baomiyuan")
    zhangsan = org.user_ids["zhangsan"]
    mixed = {Role.AUDITOR, Role.SALESPERSON}
    created = _refused(
        engine,
        lambda c: users.create_user(
            c,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            username="hunhe",
            display_name="混合",
            employment_type=EmploymentType.FULL_TIME,
            department_id=None,
            roles={Role.ADMINISTRATOR, Role.SALESPERSON},
            password=PASSWORD,
        ),
    )
    asked = _refused(
        engine,
        lambda c: changes.request_roles(
            c, actor=admin, ctx=CLI_CONTEXT, user_id=zhangsan, roles=mixed, mail=False
        ),
    )
    # A change filed around the request's check is refused again when the officer approves.
    with unit_of_work(engine) as conn:
        change = changes.submit_roles(
            conn, actor=admin, ctx=CLI_CONTEXT, user_id=zhangsan, roles=mixed, mail=False
        )
    assert change is not None
    approved = _refused(
        engine,
        lambda c: changes.decide(
            c, actor=officer, ctx=CLI_CONTEXT, change_id=change.id, approve=True, mail=False
        ),
    )
    own = _refused(
        engine,
        lambda c: changes.request_roles(
            c,
            actor=admin,
            ctx=CLI_CONTEXT,
            user_id=admin.user_id,
            roles={Role.ADMINISTRATOR},
            mail=False,
        ),
    )
    assert [type(e) for e in (created, asked, approved, own)] == [
        ValidationFailed,
        ValidationFailed,
        ValidationFailed,
        Forbidden,
    ]
    assert [(a, name, reason, d) for a, _, name, reason, d in _denials(engine)] == [
        (
            "user:create",
            "system:seed",
            "separation_of_duties",
            {"roles": ["administrator", "salesperson"]},
        ),
        (
            "account_change:request",
            "admin",
            "separation_of_duties",
            {"roles": ["auditor", "salesperson"]},
        ),
        (
            "account_change:approve",
            "baomiyuan",
            "separation_of_duties",
            {"roles": ["auditor", "salesperson"]},
        ),
        ("account_change:request", "admin", "own_account", {}),
    ]
    with engine.connect() as conn:
        assert actors.roles_of(conn, zhangsan) == {Role.SALESPERSON}
        assert changes.get_change(conn, change.id).status == ChangeStatus.PENDING


def test_only_the_system_gives_a_new_account_its_roles_directly(engine: Engine, org: Org) -> None:
    """Issue 10 F1: the administrator's new account waits for the officer for its roles; asked
    to grant them at once, the service refuses on record and creates nothing."""
    admin = actor(engine, org, "admin")
    refused = _refused(
        engine,
        lambda c: users.create_user(
            c,
            actor=admin,
            ctx=CLI_CONTEXT,
            username="kuilei",
            display_name="傀儡",
            employment_type=EmploymentType.FULL_TIME,
            department_id=None,
            roles={Role.DEPARTMENT_HEAD},
            grant_roles=True,
        ),
    )
    assert isinstance(refused, Forbidden) and refused.code == "roles_need_approval"
    action, actor_id, _name, reason, details = _denials(engine)[-1]
    assert (action, actor_id, reason) == (
        "user:create",
        org.user_ids["admin"],
        "roles_need_approval",
    )
    assert details == {"username": "kuilei"}
    with engine.connect() as conn:
        assert "kuilei" not in {u.username for u in users.list_users(conn)}
