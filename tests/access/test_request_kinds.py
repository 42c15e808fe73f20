"""Request kinds are a seam (issue 11): a new kind is one registered module, not a new machine.

A made-up kind, registered only inside these tests, asks a security officer to pin a note on
customers. It says who approves (the officer, whatever the level), what a valid request is and
what approval and rejection do; filing, routing, the approve / reject endpoints, the lists,
notices and audit are the machine's (access.service), untouched. C4.3.1: nobody approves their
own request, nobody but the routed approvers approves at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from baomi.access import catalog
from baomi.access.kinds import Effect, Filed, Filing, Target
from baomi.access.schemas import AccessRequestOut
from baomi.access.service import submit
from baomi.audit.context import CLI_CONTEXT, RequestContext
from baomi.audit.models import audit_events
from baomi.customers.facts import customer_facts
from baomi.customers.vault import Vault
from baomi.errors import NotFound, ValidationFailed
from baomi.security.actor import Actor
from baomi.security.levels import Approver, LevelRule
from baomi.uow import unit_of_work
from tests.support.api import create_customer, login
from tests.support.org import Org
from tests.support.org import actor as load

URL = "/api/v1/access-requests"


@dataclass(frozen=True)
class PinIn:
    customer_ids: list[str]
    note: str


class PinKind:
    """Pin a note on customers once a security officer agrees; a refusal releases the pin."""

    code = "test_pin"

    def __init__(self) -> None:
        self.pinned: list[tuple[str, list[str], dict[str, Any], str]] = []
        self.released: list[str] = []

    def approvers(self, rule: LevelRule) -> Iterable[Approver]:
        return {Approver.SECURITY_OFFICER}

    def check(
        self,
        conn: Connection,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        request_in: PinIn,
        now: datetime,
    ) -> Filing:
        if not request_in.note.strip():
            raise ValidationFailed([{"field": "note", "code": "note_required", "message": "?"}])
        targets = []
        for customer_id in sorted(set(request_in.customer_ids)):
            facts = customer_facts(conn, customer_id)
            if facts is None:
                raise NotFound("no such customer")
            targets.append(Target(customer_id, facts.level, facts.department_id))
        return Filing(
            targets=targets,
            purpose=request_in.note,
            details={"note": request_in.note, "colour": "red"},
            audit_details={"kind": self.code},
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
        self.pinned.append((request.id, request.customer_ids, dict(request.details), actor.user_id))
        return Effect(audit_details={"pinned": len(request.customer_ids)})

    def reject(
        self, conn: Connection, *, actor: Actor, ctx: RequestContext, request: Filed, now: datetime
    ) -> None:
        self.released.append(request.id)

    def shown(self, details: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def hours(self, details: Mapping[str, Any]) -> int:
        return 0


@pytest.fixture
def pin(monkeypatch: pytest.MonkeyPatch) -> PinKind:
    """Register the kind for this test only: the shipped catalog is left as it was."""
    monkeypatch.setattr(catalog, "_KINDS", dict(catalog._KINDS))
    return catalog.register(PinKind())


def _file(
    engine: Engine, vault: Vault, org: Org, pin: PinKind, customer_ids: list[str]
) -> AccessRequestOut:
    zhangsan = load(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        return submit(
            conn,
            kind=pin,
            actor=zhangsan,
            ctx=CLI_CONTEXT,
            request_in=PinIn(customer_ids=customer_ids, note="重点客户，请勿外传"),
            mail=False,
            vault=vault,
        )


def _events(engine: Engine, request_id: str) -> list[tuple[str, str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.decision, audit_events.c.details)
            .where(audit_events.c.object_id == request_id)
            .order_by(audit_events.c.id)
        )
        return [(r.action, r.decision, r.details) for r in rows]


def test_a_registered_kind_runs_through_the_one_machine(
    client: TestClient, engine: Engine, vault: Vault, org: Org, pin: PinKind
) -> None:
    zhangsan, wangwu = login(client, "zhangsan"), login(client, "wangwu")
    officer = login(client, "baomiyuan")
    customer = create_customer(client, zhangsan, level="secret")

    filed = _file(engine, vault, org, pin, [customer["id"]])
    # Routed by the kind's rule: the officer only, where an access request needs two heads.
    assert (filed.kind, filed.status, filed.purpose) == (
        "test_pin",
        "pending",
        "重点客户，请勿外传",
    )
    assert [(a.role, a.approver) for a in filed.approvals] == [("security_officer", None)]
    assert (filed.fields, filed.duration_hours, filed.target_level) == (None, 0, None)

    waiting = client.get(URL, params={"role": "to_approve"}, headers=officer).json()
    assert filed.id in [r["id"] for r in waiting]
    approve = f"{URL}/{filed.id}/approve"
    own = client.post(approve, headers=zhangsan)
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    head = client.post(approve, headers=wangwu)
    assert head.status_code == 403 and head.json()["code"] == "not_an_approver"
    assert pin.pinned == []

    done = client.post(approve, headers=officer, json={"comment": "同意"})
    assert done.status_code == 200, done.text
    assert (done.json()["kind"], done.json()["status"]) == ("test_pin", "approved")
    assert done.json()["grant_ids"] == []
    officer_id = org.user_ids["baomiyuan"]
    details = {"note": "重点客户，请勿外传", "colour": "red"}
    assert pin.pinned == [(filed.id, [customer["id"]], details, officer_id)]
    late = client.post(approve, headers=officer)
    assert late.status_code == 409 and late.json()["code"] == "request_not_pending"
    assert pin.released == []

    assert _events(engine, filed.id)[:1] == [
        ("access_request:create", "allow", {"kind": "test_pin", "approvers": ["security_officer"]})
    ]
    decisions = [e for e in _events(engine, filed.id) if e[0] == "access_request:approve"]
    # Refused (self, not an approver), the decision with what the kind did, refused (late).
    assert [d for _, d, _ in decisions] == ["deny", "deny", "allow", "deny"]
    assert decisions[2][2] == {"final": True, "slot": "security_officer", "grants": [], "pinned": 1}
    mine = client.get(URL, headers=zhangsan).json()
    assert [(r["id"], r["kind"], r["status"]) for r in mine] == [(filed.id, "test_pin", "approved")]


def test_a_rejection_runs_the_kinds_own_release(
    client: TestClient, engine: Engine, vault: Vault, org: Org, pin: PinKind
) -> None:
    customer = create_customer(client, login(client, "zhangsan"), level="normal")
    filed = _file(engine, vault, org, pin, [customer["id"]])
    rejected = client.post(f"{URL}/{filed.id}/reject", headers=login(client, "baomiyuan"))
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (pin.released, pin.pinned) == ([filed.id], [])


def test_the_kind_checks_what_a_request_must_be(
    engine: Engine, vault: Vault, org: Org, pin: PinKind
) -> None:
    zhangsan = load(engine, org, "zhangsan")
    with pytest.raises(ValidationFailed), unit_of_work(engine) as conn:
        submit(
            conn,
            kind=pin,
            actor=zhangsan,
            ctx=CLI_CONTEXT,
            request_in=PinIn(customer_ids=[], note=" "),
            mail=False,
            vault=vault,
        )


def test_a_kind_is_registered_once_under_a_code_that_fits(pin: PinKind) -> None:
    assert catalog.kind_of("test_pin") is pin
    with pytest.raises(ValueError, match="already registered"):
        catalog.register(PinKind())
    unknown = PinKind()
    unknown.code = "not_registered"
    with pytest.raises(LookupError):
        catalog.kind_of(unknown.code)
    unknown.code = "x" * 17
    with pytest.raises(ValueError, match="1 to 16"):
        catalog.register(unknown)
