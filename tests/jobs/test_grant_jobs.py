"""grants.remind and grants.expire tell the grantee exactly once (C4.3.1: time-bound access
ends by itself, and its holder knows); auth.purge_throttles forgets only what is forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.auth import lockout
from baomi.auth.models import login_throttles
from baomi.config import Settings
from baomi.customers.vault import Vault
from baomi.jobs.catalog import default_registry
from baomi.jobs.runner import JobRunner
from baomi.notifications.models import notifications
from baomi.uow import unit_of_work
from tests.support.api import create_customer, login
from tests.support.org import Org


def _runner(engine: Engine, vault: Vault) -> JobRunner:
    return JobRunner(engine, default_registry(Settings(), vault))


def _notes(engine: Engine, kind: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            select(notifications)
            .where(notifications.c.kind == kind)
            .order_by(notifications.c.created_at)
        ).all()


def _grant(client: TestClient, officer: dict[str, str], org: Org, hours: int) -> dict[str, Any]:
    customer = create_customer(client, login(client, "zhangsan"))
    body = {
        "user_id": org.user_ids["zhaoliu"],
        "customer_id": customer["id"],
        "duration_hours": hours,
        "purpose": "协助跟进",
    }
    response = client.post("/api/v1/grants", json=body, headers=officer)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_reminder_a_day_before_the_end_and_only_once(
    client: TestClient, engine: Engine, vault: Vault, org: Org
) -> None:
    officer = login(client, "baomiyuan")
    grant = _grant(client, officer, org, hours=24)
    ends_at = datetime.fromisoformat(grant["ends_at"])
    runner = _runner(engine, vault)
    assert runner.run_one("grants.remind", now=ends_at - timedelta(hours=25)).counts == {
        "grants": 0,
        "notifications": 0,
    }
    outcome = runner.run_one("grants.remind", now=ends_at - timedelta(hours=23))
    assert outcome.counts == {"grants": 1, "notifications": 1}
    (note,) = _notes(engine, "grant_expiring")
    assert note.user_id == org.user_ids["zhaoliu"]
    assert note.params == {
        "grant_ids": [grant["id"]],
        "request_id": None,
        "grant_count": 1,
        "ends_at": ends_at.isoformat(),
    }
    for hours_left in (22, 1):
        runner.run_one("grants.remind", now=ends_at - timedelta(hours=hours_left))
    assert len(_notes(engine, "grant_expiring")) == 1


def test_expiry_is_told_once_and_audited(
    client: TestClient, engine: Engine, vault: Vault, org: Org
) -> None:
    officer = login(client, "baomiyuan")
    grant = _grant(client, officer, org, hours=2)
    revoked = _grant(client, officer, org, hours=2)
    assert client.post(f"/api/v1/grants/{revoked['id']}/revoke", headers=officer).status_code == 200
    ends_at = datetime.fromisoformat(grant["ends_at"])
    runner = _runner(engine, vault)
    assert runner.run_one("grants.expire", now=ends_at - timedelta(seconds=1)).counts == {
        "grants": 0,
        "notifications": 0,
    }
    assert runner.run_one("grants.expire", now=ends_at).counts == {
        "grants": 1,
        "notifications": 1,
    }
    runner.run_one("grants.expire", now=ends_at + timedelta(days=1))
    (note,) = _notes(engine, "grant_expired")
    assert note.user_id == org.user_ids["zhaoliu"] and note.params["grant_ids"] == [grant["id"]]
    with engine.connect() as conn:
        (event,) = conn.execute(
            select(audit_events).where(audit_events.c.action == "grant:expired")
        ).all()
    assert event.object_id == grant["id"] and event.customer_id == grant["customer_id"]
    assert event.actor_username == "system:grants.expire" and event.actor_id is None
    assert event.details == {"grantee": org.user_ids["zhaoliu"], "ended_at": ends_at.isoformat()}
    # The revoked grant was told of its revocation, never of an expiry or a reminder.
    runner.run_one("grants.remind", now=ends_at - timedelta(hours=1))
    assert [n.params["grant_ids"] for n in _notes(engine, "grant_expiring")] == [[grant["id"]]]


def test_grants_of_one_request_are_told_together(
    client: TestClient, engine: Engine, vault: Vault, org: Org
) -> None:
    zhangsan = login(client, "zhangsan")
    customers = [create_customer(client, zhangsan)["id"] for _ in range(3)]
    filed = client.post(
        "/api/v1/access-requests",
        json={
            "purpose_code": "contract",
            "customer_ids": customers,
            "purpose": "季度回访",
            "duration_hours": 48,
        },
        headers=login(client, "zhaoliu"),
    ).json()
    approved = client.post(
        f"/api/v1/access-requests/{filed['id']}/approve", headers=login(client, "wangwu")
    ).json()
    decided = next(n for n in _notes(engine, "request_decided"))
    ends_at = datetime.fromisoformat(decided.params["ends_at"])
    runner = _runner(engine, vault)
    runner.run_one("grants.remind", now=ends_at - timedelta(hours=12))
    runner.run_one("grants.expire", now=ends_at + timedelta(minutes=5))
    for kind in ("grant_expiring", "grant_expired"):
        (note,) = _notes(engine, kind)
        assert note.params["grant_count"] == 3 and note.params["request_id"] == filed["id"]
        assert note.params["grant_ids"] == sorted(approved["grant_ids"])
        assert note.link == f"/access-requests/{filed['id']}"


def test_purge_forgets_old_addresses_but_keeps_account_counts(engine: Engine, vault: Vault) -> None:
    policy = lockout.Policy()
    start = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    with unit_of_work(engine) as conn:
        lockout.record_failure(
            conn, policy=policy, username="ghost", client_addr="10.0.0.1", now=start
        )
        lockout.record_failure(
            conn,
            policy=policy,
            username="ghost",
            client_addr="10.0.0.2",
            now=start + timedelta(minutes=50),
        )
    now = start + timedelta(seconds=policy.address_window_seconds + 60)
    outcome = _runner(engine, vault).run_one("auth.purge_throttles", now=now)
    assert outcome.counts == {"deleted": 1}
    with engine.connect() as conn:
        keys = set(conn.execute(select(login_throttles.c.key)).scalars())
    # The address still inside its window stays; the account's consecutive failures stay.
    assert keys == {"addr:10.0.0.2", "account:ghost"}
