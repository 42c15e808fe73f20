"""Narrow views of the organisation that other rooms join against, instead of our tables.

A customer row names its handler and department; the customers door shows their names and the
timeline its authors'. Each view here carries the columns such a join needs and nothing else
(no password hash, no second-factor secret, no lock state).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Subquery, select
from sqlalchemy.engine import Connection

from baomi.users.models import departments, users


def people() -> Subquery:
    """A joinable view of every user: id, username, display_name."""
    return select(users.c.id, users.c.username, users.c.display_name).subquery("people")


def department_names() -> Subquery:
    """A joinable view of every department: id, name."""
    return select(departments.c.id, departments.c.name).subquery("department_names")


def locked_accounts(conn: Connection) -> list[tuple[str, str, datetime]]:
    """(username, display name, locked at) of the active accounts locked by failed logins,
    most recently locked first."""
    rows = conn.execute(
        select(users.c.username, users.c.display_name, users.c.locked_at)
        .where(users.c.locked_at.is_not(None), users.c.is_active.is_(True))
        .order_by(users.c.locked_at.desc())
    )
    return [(r.username, r.display_name, r.locked_at) for r in rows]
