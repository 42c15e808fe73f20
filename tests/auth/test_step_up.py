"""Step-up: a fresh second factor inside a session (C4.2.4; ASVS V6.5), seen as
`mfa_verified_at` on GET /api/v1/auth/me, which the 机密 reveal rule reads (C4.3.2)."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.auth.models import login_throttles
from tests.auth.conftest import FakeClock
from tests.support.api import login, one_time_code
from tests.support.org import recovery_codes

AUTH = "/api/v1/auth"


def _verified_at(client: TestClient, headers: dict[str, str]) -> datetime | None:
    me = client.get(f"{AUTH}/me", headers=headers)
    assert me.status_code == 200, me.text
    value = me.json()["mfa_verified_at"]
    return datetime.fromisoformat(value) if value else None


def test_step_up_sets_mfa_verified_at(client: TestClient, clock: FakeClock, engine: Engine) -> None:
    headers = login(client, "wangwu")
    assert _verified_at(client, headers) == clock()  # the login passed TOTP
    clock.advance(10 * 60)
    code = one_time_code(client, "wangwu")
    stepped = client.post(f"{AUTH}/step-up", json={"otp": code}, headers=headers)
    assert stepped.status_code == 200, stepped.text
    assert datetime.fromisoformat(stepped.json()["mfa_verified_at"]) == clock()
    assert _verified_at(client, headers) == clock()
    # A recovery code works too, once.
    clock.advance(60)
    spare = recovery_codes("wangwu")[9]
    assert client.post(f"{AUTH}/step-up", json={"otp": spare}, headers=headers).status_code == 200
    assert _verified_at(client, headers) == clock()
    again = client.post(f"{AUTH}/step-up", json={"otp": spare}, headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "invalid_otp"
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.details)
            .where(audit_events.c.action == "auth:step_up")
            .order_by(audit_events.c.id)
        ).all()
    assert [(e.decision, e.reason) for e in events] == [
        ("allow", "ok"),
        ("allow", "ok"),
        ("deny", "bad_otp"),
    ]
    assert [e.details for e in events[:2]] == [{"factor": "totp"}, {"factor": "recovery_code"}]


def test_step_up_is_per_session(client: TestClient, clock: FakeClock) -> None:
    first, second = login(client, "sunqi"), login(client, "sunqi")
    at_login = clock()
    clock.advance(5 * 60)
    code = one_time_code(client, "sunqi")
    assert client.post(f"{AUTH}/step-up", json={"otp": code}, headers=first).status_code == 200
    assert _verified_at(client, first) == clock()
    assert _verified_at(client, second) == at_login  # the other session did not step up


def test_a_wrong_code_is_refused_and_counted(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    headers = login(client, "baomiyuan")
    before = _verified_at(client, headers)
    wrong = client.post(f"{AUTH}/step-up", json={"otp": "000000"}, headers=headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_otp"
    assert _verified_at(client, headers) == before  # and the session is still alive
    with engine.connect() as conn:
        failures = conn.execute(
            select(login_throttles.c.failures).where(login_throttles.c.key == "account:baomiyuan")
        ).scalar_one()
    assert failures == 1
    for _ in range(4):
        client.post(f"{AUTH}/step-up", json={"otp": "000000"}, headers=headers)
    throttled = client.post(f"{AUTH}/step-up", json={"otp": "000000"}, headers=headers)
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"


def test_step_up_without_mfa_is_a_conflict(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    response = client.post(f"{AUTH}/step-up", json={"otp": "123456"}, headers=headers)
    assert response.status_code == 409 and response.json()["code"] == "mfa_not_enabled"
    assert _verified_at(client, headers) is None
