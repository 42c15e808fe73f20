"""Throttling and lockout of failed logins (ASVS V6.3.1; C4.2.4), state kept in the database."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.auth.conftest import FakeClock, Verifications
from tests.support.api import login
from tests.support.org import PASSWORD, Org

LOGIN = "/api/v1/auth/login"


def _attempt(client: TestClient, username: str, password: str) -> tuple[int, str, str | None]:
    response = client.post(LOGIN, json={"username": username, "password": password})
    return (
        response.status_code,
        response.json().get("code", ""),
        response.headers.get("Retry-After"),
    )


def _fail(client: TestClient, clock: FakeClock, username: str, times: int) -> None:
    """Fail `times` logins, each as soon as the back-off allows."""
    for _ in range(times):
        status, code, retry = _attempt(client, username, "wrong-password-1")
        if status == 429:
            clock.advance(int(retry or 0))
            status, code, _ = _attempt(client, username, "wrong-password-1")
        assert status == 401 and code == "invalid_credentials"


def test_back_off_after_five_failures(client: TestClient, clock: FakeClock) -> None:
    _fail(client, clock, "zhangsan", 5)
    status, code, retry = _attempt(client, "zhangsan", PASSWORD)
    assert (status, code, retry) == (429, "throttled", "1")
    clock.advance(1)
    _fail(client, clock, "zhangsan", 1)
    assert _attempt(client, "zhangsan", PASSWORD)[2] == "2"  # 2^(6-5) seconds
    clock.advance(2)
    assert _attempt(client, "zhangsan", PASSWORD)[0] == 200  # a success clears the account
    assert _attempt(client, "zhangsan", "wrong-password-1")[0] == 401


def test_unknown_names_are_throttled_alike(client: TestClient, clock: FakeClock) -> None:
    """No enumeration: an unknown name backs off exactly like a real one."""
    other = TestClient(client.app, client=("192.0.2.7", 50000))
    for name in ("nobody", "zhangsan"):
        for _ in range(5):
            assert _attempt(other, name, "wrong-password-1")[:2] == (401, "invalid_credentials")
        assert _attempt(other, name, "wrong-password-1")[:3] == (429, "throttled", "1")
        clock.advance(3600 * 2)  # the address is forgotten, the names are not


def test_locked_account_stays_locked_until_the_officer_unlocks(
    client: TestClient, clock: FakeClock, org: Org, engine: Engine, verifications: Verifications
) -> None:
    _fail(client, clock, "lisi", 10)
    hashed_before = verifications.total
    clock.advance(24 * 3600)
    status, code, _ = _attempt(client, "lisi", PASSWORD)
    assert (status, code) == (401, "invalid_credentials")  # generic, even with the password
    assert verifications.total == hashed_before  # refused before argon2 ran
    lisi = org.user_ids["lisi"]
    officer, admin = login(client, "baomiyuan"), login(client, "admin")
    assert client.post(f"/api/v1/users/{lisi}/unlock", headers=admin).status_code == 403
    assert client.post(f"/api/v1/users/{lisi}/unlock", headers=officer).status_code == 204
    assert _attempt(client, "lisi", PASSWORD)[0] == 200
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.action, audit_events.c.reason).where(
                audit_events.c.action.in_(["auth:lockout", "auth:unlock", "auth:login"]),
                audit_events.c.actor_id.in_([lisi, org.user_ids["baomiyuan"]])
                | (audit_events.c.object_id == lisi),
            )
        ).all()
    seen = {(a, r) for a, r in events}
    assert {
        ("auth:lockout", "too_many_failures"),
        ("auth:login", "locked"),
        ("auth:unlock", "unlocked"),
        ("auth:login", "ok"),
    } <= seen


def test_unlock_of_an_unknown_user_is_404(client: TestClient, clock: FakeClock) -> None:
    officer = login(client, "baomiyuan")
    assert client.post("/api/v1/users/nope/unlock", headers=officer).status_code == 404


def test_address_back_off_spans_accounts(app: FastAPI, clock: FakeClock, org: Org) -> None:
    """One address spraying many names is slowed down even though no name has five failures."""
    sprayer = TestClient(app, client=("198.51.100.9", 50000))
    names = list(org.user_ids)
    for n in range(5):
        assert _attempt(sprayer, names[n], "wrong-password-1")[0] == 401
    status, _, retry = _attempt(sprayer, names[5], "wrong-password-1")
    assert status == 429 and retry == "1"
    # Another address is not affected.
    elsewhere = TestClient(app, client=("198.51.100.10", 50000))
    assert _attempt(elsewhere, names[5], "wrong-password-1")[0] == 401


def test_a_few_failures_cost_no_wait_on_the_real_clock(client: TestClient) -> None:
    """Below the free failures, the right password works at once (no rounding up to 1 s)."""
    assert _attempt(client, "qianba", "wrong-password-1")[0] == 401
    assert _attempt(client, "qianba", PASSWORD)[0] == 200
