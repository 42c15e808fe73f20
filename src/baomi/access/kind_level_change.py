"""The level-change kind (C2.2): lowering a customer's level is an approved, recorded action.

Whoever may edit the customer asks for a lower level with a reason; the approvers the rule of
the customer's current level names in `lowering_approvers` (its head, and at 机密 and above also
a security officer) decide; one such request at a time per customer. The last approval lowers
the level through the customer side (customers.level_changes), audited `customer:level_change`
with from and to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.access.events import event
from baomi.access.kinds import Effect, Filed, Filing, Target
from baomi.access.models import access_request_customers as request_customers
from baomi.access.models import access_requests as requests
from baomi.access.schemas import KindCode, LevelChangeIn, RequestStatus
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.customers.level_changes import apply_lowering, check_lowering
from baomi.customers.vault import Vault
from baomi.errors import Conflict
from baomi.security.actor import Actor
from baomi.security.levels import Approver, LevelRule


def _pending_for(conn: Connection, customer_id: str) -> str | None:
    """Return the id of a level-change request still open for this customer, if any."""
    return conn.execute(
        select(requests.c.id)
        .join(request_customers, request_customers.c.request_id == requests.c.id)
        .where(
            request_customers.c.customer_id == customer_id,
            requests.c.kind == KindCode.LEVEL_CHANGE.value,
            requests.c.status == RequestStatus.PENDING.value,
        )
    ).scalar()


class LevelChangeAsked(NamedTuple):
    """The input of a level-change request: the customer (from the route) and the change."""

    customer_id: str
    change_in: LevelChangeIn


class LevelChangeKind:
    """Lowering one customer's level, routed by the rule of the level it has (C2.2)."""

    code = KindCode.LEVEL_CHANGE.value

    def approvers(self, rule: LevelRule) -> Iterable[Approver]:
        return rule.lowering_approvers

    def check(
        self,
        conn: Connection,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        request_in: LevelChangeAsked,
        now: datetime,
    ) -> Filing:
        customer_id, change_in = request_in
        lowering = check_lowering(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            tag=Action.ACCESS_REQUEST_CREATE,
            customer_id=customer_id,
            level=change_in.level,
            now=now,
        )
        if (open_id := _pending_for(conn, lowering.customer_id)) is not None:
            raise Conflict(
                f"a level-change request for this customer is already open ({open_id})",
                code="level_change_pending",
                request_id=open_id,
            ).with_audit(
                event(
                    ctx,
                    actor,
                    Action.ACCESS_REQUEST_CREATE,
                    allowed=False,
                    reason="level_change_pending",
                    customer_id=lowering.customer_id,
                    object_id=open_id,
                )
            )
        current, target = lowering.current.code, lowering.target.code
        return Filing(
            # Routed by the level it has now; approve() lowers it only if it still has it.
            targets=[Target(lowering.customer_id, current, lowering.department_id)],
            purpose=change_in.reason,
            details={"from_level": current, "target_level": target},
            audit_details={"kind": self.code, "from": current, "to": target},
        )

    def approve(
        self,
        conn: Connection,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        request: Filed,
        now: datetime,
    ) -> Effect:
        """Lower the customer's level; the approval is the authority (C2.2)."""
        [customer_id] = request.customer_ids
        apply_lowering(
            conn,
            actor=actor,
            ctx=ctx,
            vault=vault,
            customer_id=customer_id,
            from_level=request.details["from_level"],
            to_level=request.details["target_level"],
            request_id=request.id,
            now=now,
        )
        return Effect()

    def reject(
        self, conn: Connection, *, actor: Actor, ctx: RequestContext, request: Filed, now: datetime
    ) -> None:
        """The level stays; a new request may be made (only a pending one blocks it)."""

    def shown(self, details: Mapping[str, Any]) -> dict[str, Any]:
        return {"from_level": details["from_level"], "target_level": details["target_level"]}

    def hours(self, details: Mapping[str, Any]) -> int:
        # A level change grants no access, so it lasts no hours.
        return 0
