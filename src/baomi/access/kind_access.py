"""The access kind (C4.3.1): time-bound access to customers, for a stated work need.

A salesperson asks for customers' records or named fields, stating purpose and duration; the
approvers each customer's level names in `access_approvers` decide (access.routing); the last
approval creates one time-bound grant per customer, which expires by itself (C4.2.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from baomi.access.events import refuse
from baomi.access.kinds import Effect, Filed, Filing, Target
from baomi.access.schemas import AccessRequestIn, KindCode
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.consent.records import coverage
from baomi.customers.facts import customer_facts
from baomi.customers.fields import COMMUNICATIONS, FIELDS, SENSITIVITY, fields_of_kinds
from baomi.customers.vault import Vault
from baomi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from baomi.grants.service import insert_grant
from baomi.ids import is_id
from baomi.security.actor import Actor
from baomi.security.levels import Approver, LevelRule
from baomi.security.policy import Reason, purpose_refused, standing
from baomi.security.roles import Permission
from baomi.users.actors import load_actor


def _fields(asked: list[str] | None) -> list[str] | None:
    """Return the field names asked for, sorted and once each; None: the whole record."""
    if asked is None:
        return None
    unknown = sorted(set(asked) - set(SENSITIVITY))
    if unknown or not asked:
        raise ValidationFailed(
            [
                {
                    "field": "fields",
                    "code": "fields_unknown",
                    "message": f"unknown or empty field list: {unknown}",
                }
            ]
        )
    return sorted(set(asked))


def _check_length(hours: int, rules: Iterable[LevelRule]) -> None:
    """Refuse access asked for longer than the highest level in the request allows (C4.2.1)."""
    longest = min((rule.max_grant_hours for rule in rules), default=hours)
    if hours > longest:
        raise ValidationFailed(
            [
                {
                    "field": "duration_hours",
                    "code": "grant_too_long",
                    "message": f"access to these customers lasts at most {longest} hours",
                }
            ]
        )


def _check_purpose(
    conn: Connection,
    ctx: RequestContext,
    actor: Actor,
    customer_id: str,
    purpose: str,
    fields: list[str] | None,
    now: datetime,
) -> None:
    """C4.3.4: access is asked for a purpose the customer's consents and bases in force cover
    for the fields asked (the whole record: every kind of data); else refused, audited."""
    covered = fields_of_kinds(coverage(conn, customer_id, now).get(purpose, frozenset()))
    asked = set(fields) if fields is not None else {*FIELDS, COMMUNICATIONS}
    if purpose_refused(asked, covered):
        refuse(
            Forbidden(
                f"this customer's consents and lawful bases do not cover the purpose {purpose!r} "
                "for the fields asked (C4.3.4)",
                code=Reason.PURPOSE_NOT_CONSENTED.value,
            ),
            ctx,
            actor,
            Action.ACCESS_REQUEST_CREATE,
            customer_id=customer_id,
            details={"purpose_code": purpose},
        )


class AccessKind:
    """Access to customers for a number of hours; the approval grants it (C4.3.1)."""

    code = KindCode.ACCESS.value

    def approvers(self, rule: LevelRule) -> Iterable[Approver]:
        return rule.access_approvers

    def check(
        self,
        conn: Connection,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        request_in: AccessRequestIn,
        now: datetime,
    ) -> Filing:
        action = Action.ACCESS_REQUEST_CREATE
        if not actor.can(Permission.CUSTOMER_WORK):
            refuse(
                Forbidden(
                    "your role cannot hold customer data", code="role_without_customer_access"
                ),
                ctx,
                actor,
                action,
            )
        fields = _fields(request_in.fields)
        [purpose_code] = vault.purposes.check([request_in.purpose_code], field="purpose_code")
        targets: list[Target] = []
        for customer_id in sorted(set(request_in.customer_ids)):
            facts = customer_facts(conn, customer_id)
            if facts is None:
                # Answered exactly like any customer the requester may not see (no probing).
                refuse(
                    NotFound("no such customer"),
                    ctx,
                    actor,
                    action,
                    customer_id=customer_id if is_id(customer_id) else None,
                )
            if standing(actor, facts) is not None:
                refuse(
                    Conflict("you already have access to this customer", code="already_has_access"),
                    ctx,
                    actor,
                    action,
                    customer_id=customer_id,
                )
            _check_purpose(conn, ctx, actor, customer_id, purpose_code, fields, now)
            targets.append(Target(customer_id, facts.level, facts.department_id))
        hours = request_in.duration_hours
        _check_length(hours, [vault.levels.rule_of(t.level) for t in targets])
        return Filing(
            targets=targets,
            purpose=request_in.purpose,
            details={"fields": fields, "hours": hours, "purpose_code": purpose_code},
            audit_details={"hours": hours, "purpose_code": purpose_code},
            audit_fields=fields,
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
        """Create one grant per customer, valid in [now, now + hours), by the last approver."""
        requester = load_actor(conn, request.requester_id)
        if requester is None or not requester.can(Permission.CUSTOMER_WORK):
            raise Conflict(
                "the requester may no longer hold customer data", code="requester_inactive"
            )
        ends_at = now + timedelta(hours=self.hours(request.details))
        grant_ids = [
            insert_grant(
                conn,
                actor=actor,
                ctx=ctx,
                user_id=request.requester_id,
                customer_id=customer_id,
                fields=request.details["fields"],
                starts_at=now,
                ends_at=ends_at,
                purpose=request.purpose,
                now=now,
                tags=vault.tags,
                request_id=request.id,
            )
            for customer_id in request.customer_ids
        ]
        return Effect(grant_ids=grant_ids)

    def reject(
        self, conn: Connection, *, actor: Actor, ctx: RequestContext, request: Filed, now: datetime
    ) -> None:
        """Nothing was held: a refused request grants nothing."""

    def shown(self, details: Mapping[str, Any]) -> dict[str, Any]:
        return {"fields": details["fields"], "duration_hours": details["hours"]}

    def hours(self, details: Mapping[str, Any]) -> int:
        return int(details["hours"])
