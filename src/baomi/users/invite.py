"""The administrator adds a person (三员分立, C4.2.1): an account with no password and no role yet.

The answer carries a one-time activation code for the person (users/activation.py); the roles
asked for wait for the security officer (users/changes.py), except the roles without customer
data on a fresh installation that has no officer yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.security.actor import Actor
from baomi.security.roles import Role
from baomi.users import activation, changes
from baomi.users.guard import require_manager
from baomi.users.schemas import AccountChangeOut, EmploymentType
from baomi.users.service import create_user


@dataclass(frozen=True, slots=True)
class Invitation:
    user_id: str
    activation: activation.Activation
    pending_change: AccountChangeOut | None


def invite_user(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    username: str,
    display_name: str,
    employment_type: EmploymentType,
    department_id: str | None,
    roles: Iterable[Role],
    mail: bool,
    email: str | None = None,
) -> Invitation:
    """Create the account, give it an activation code, and file its roles for approval (the
    officers hear of it, by mail too when `mail`)."""
    require_manager(actor, ctx, Action.USER_CREATE)
    role_set = set(roles)
    changes.check_roles(actor, ctx, role_set)
    user_id = create_user(
        conn,
        actor=actor,
        ctx=ctx,
        username=username,
        display_name=display_name,
        employment_type=employment_type,
        department_id=department_id,
        roles=role_set,
        email=email,
        grant_roles=False,
    )
    code = activation.issue(
        conn, actor=actor, user_id=user_id, purpose=activation.Purpose.ACTIVATE, now=clock.utcnow()
    )
    pending = changes.submit_roles(
        conn, actor=actor, ctx=ctx, user_id=user_id, roles=role_set, mail=mail
    )
    return Invitation(user_id=user_id, activation=code, pending_change=pending)
