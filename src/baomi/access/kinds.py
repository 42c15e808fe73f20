"""What a kind of request is: the seam of the one approval machine (C4.3.1, C2.2).

Access requests, level changes, and the kinds to come (exports C4.3.3, internal shares C4.4.1,
external provision C4.4.3, destruction C4.5.1, handover C4.5.2) share one machine (service):
filing, routing, one decision per approver, nobody approving their own request, any rejection
ending it, notices and audit. What differs is said by the kind, in one module registered in
access.catalog:

* `approvers`: which approvers the rule of each named customer's level asks for (routing);
* `check`: who may ask and what a valid request is; it refuses with an audited error or returns
  a `Filing` (the customers, with what routing needs, and the details the machine stores);
  it and `approve` are given the company's level rules (C2.2), which the machine is given;
* `approve` / `reject`: what happens once the last approver agrees, or someone refuses;
* `shown` / `hours`: how the stored details read in the API shape and in the notices.

A kind's details are stored as one JSON object (`access_requests.details`), so a new kind needs
no migration. An approved request's end (expired, revoked) is derived from the grants it gave,
whatever its kind (access.queries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.customers.vault import Vault
from baomi.security.actor import Actor
from baomi.security.levels import Approver, LevelRule

In = TypeVar("In", contravariant=True)


@dataclass(frozen=True, slots=True)
class Target:
    """A customer a request names, with what routing needs: its level and its department."""

    customer_id: str
    level: str
    department_id: str | None


@dataclass(frozen=True, slots=True)
class Filing:
    """A request its kind has checked, ready for the machine to store, route and announce."""

    targets: list[Target]
    # The work need (C4.3.1, C4.3.4); for a level change, the reason.
    purpose: str
    # The kind's own facts, stored as JSON and handed back to `approve`, `shown` and `hours`.
    details: dict[str, Any]
    # What the filing's audit events record besides the approvers (never customer data).
    audit_details: dict[str, Any] = field(default_factory=dict)
    audit_fields: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Filed:
    """A stored request, as the machine hands it to its kind on the final decision."""

    id: str
    requester_id: str
    purpose: str
    customer_ids: list[str]
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Effect:
    """What an approval did: the grants it gave (C4.2.1), and more for the decision's event."""

    grant_ids: list[str] = field(default_factory=list)
    audit_details: dict[str, Any] = field(default_factory=dict)


class RequestKind(Protocol[In]):
    """One kind of request; `In` is the input shape its own route takes."""

    # Stored in access_requests.kind (at most 16 characters) and sent to the notices.
    code: str

    def approvers(self, rule: LevelRule) -> Iterable[Approver]:
        """Return whom a customer's level rule names to approve a request of this kind."""
        ...

    def check(
        self,
        conn: Connection,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        request_in: In,
        now: datetime,
    ) -> Filing:
        """Authorize and validate a request; raise the (audited) refusal, or return it filed."""
        ...

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
        """Do what the request asked, on its last approval, as `actor` (the last approver)."""
        ...

    def reject(
        self, conn: Connection, *, actor: Actor, ctx: RequestContext, request: Filed, now: datetime
    ) -> None:
        """Undo or release whatever filing the request held, now that it is refused."""
        ...

    def shown(self, details: Mapping[str, Any]) -> dict[str, Any]:
        """Return the kind's facts in the API shape (fields, duration_hours, levels)."""
        ...

    def hours(self, details: Mapping[str, Any]) -> int:
        """Return the hours of access the request asks for (0: it gives none), for notices."""
        ...
