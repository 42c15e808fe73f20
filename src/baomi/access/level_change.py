"""Level-change requests (C2.2): lowering a customer's level is an approved, recorded action.

The entry of the level-change kind (access.kind_level_change) into the one approval machine
(access.service): filed here, decided through the same approve / reject endpoints as every
request; nobody approves their own request and any rejection ends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from baomi.access.catalog import LEVEL_CHANGE
from baomi.access.kind_level_change import LevelChangeAsked
from baomi.access.schemas import AccessRequestOut, LevelChangeIn
from baomi.access.service import submit
from baomi.audit.context import RequestContext
from baomi.customers.vault import Vault
from baomi.security.actor import Actor


def request_level_change(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    mail: bool,
    customer_id: str,
    change_in: LevelChangeIn,
    now: datetime | None = None,
) -> AccessRequestOut:
    """File a request to lower a customer's level, routed by the rule of its current level."""
    return submit(
        conn,
        kind=LEVEL_CHANGE,
        actor=actor,
        ctx=ctx,
        vault=vault,
        mail=mail,
        request_in=LevelChangeAsked(customer_id, change_in),
        now=now,
    )
