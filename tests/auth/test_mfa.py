"""TOTP MFA (C4.2.4; ASVS V6.5): enrolment, login with a code, replay, drift, recovery codes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.auth.totp import code_at, step_at
from baomi.users.models import users
from tests.auth.conftest import FakeClock
from tests.support.api import NEW_PERSON_PASSWORD, add_person, login
from tests.support.org import PASSWORD, TOTP_SECRETS, Org, recovery_codes

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, username: str, otp: str | None = None) -> tuple[int, dict[str, str]]:
    body = {"username": username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    response = client.post(LOGIN, json=body)
    return response.status_code, response.json()


def _code(clock: FakeClock, username: str, offset: int = 0) -> str:
    return code_at(TOTP_SECRETS[username], step_at(clock()) + offset)


def test_enrol_confirm_then_login_needs_the_code(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    """A salesperson enrols: secret, otpauth URI and SVG QR; confirming returns 10 codes."""
    headers = login(client, "zhangsan")
    enrolled = client.post("/api/v1/auth/mfa/enrol", headers=headers)
    assert enrolled.status_code == 200, enrolled.text
    body = enrolled.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/baomi:zhangsan?secret=")
    assert body["qr_svg"].startswith("<svg") and "<path" in body["qr_svg"]
    secret = body["secret"]
    with engine.connect() as conn:
        sealed = conn.execute(select(users.c.totp_secret_ct).where(users.c.username == "zhangsan"))
        stored = sealed.scalar_one()
    assert secret.encode() not in stored  # sealed at rest, never in plaintext

    # Not active yet: a login without a code still works.
    assert _login(client, "zhangsan")[0] == 200
    wrong = client.post("/api/v1/auth/mfa/confirm", json={"otp": "000000"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "otp"
    now_code = code_at(secret, step_at(clock()))
    confirmed = client.post("/api/v1/auth/mfa/confirm", json={"otp": now_code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10

    status, problem = _login(client, "zhangsan")
    assert status == 401 and problem["code"] == "mfa_required"
    # The code used to confirm was spent; the next step's code works, once.
    assert _login(client, "zhangsan", now_code)[1]["code"] == "invalid_credentials"
    assert _login(client, "zhangsan", code_at(secret, step_at(clock()) + 1))[0] == 200
    again = client.post("/api/v1/auth/mfa/enrol", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "mfa_already_enabled"


def test_replay_is_refused_and_one_step_of_drift_is_accepted(
    client: TestClient, clock: FakeClock
) -> None:
    """ASVS V6.5.1/V6.5.5: a code is accepted once; ±1 step passes, ±2 steps do not."""
    assert _login(client, "admin", _code(clock, "admin", -2))[1]["code"] == "invalid_credentials"
    assert _login(client, "admin", _code(clock, "admin", +2))[1]["code"] == "invalid_credentials"
    assert _login(client, "admin", _code(clock, "admin", -1))[0] == 200
    replay = _login(client, "admin", _code(clock, "admin", -1))
    assert replay[0] == 401 and replay[1]["code"] == "invalid_credentials"
    assert _login(client, "admin", _code(clock, "admin", 0))[0] == 200
    assert _login(client, "admin", _code(clock, "admin", +1))[0] == 200
    assert _login(client, "admin", _code(clock, "admin", 0))[0] == 401  # older than the last
    clock.advance(30)
    assert _login(client, "admin", _code(clock, "admin", +1))[0] == 200
    assert _login(client, "admin", "12345")[0] == 401  # malformed


def test_recovery_code_works_once(client: TestClient, clock: FakeClock) -> None:
    code = recovery_codes("baomiyuan")[3]
    assert _login(client, "baomiyuan", code.upper())[0] == 200  # case and dashes are forgiven
    spent = _login(client, "baomiyuan", code)
    assert spent[0] == 401 and spent[1]["code"] == "invalid_credentials"
    assert _login(client, "baomiyuan", recovery_codes("wangwu")[0])[0] == 401  # someone else's


def test_wrong_password_with_right_code_is_generic(client: TestClient, clock: FakeClock) -> None:
    response = client.post(
        LOGIN,
        json={"username": "sunqi", "password": "not-the-password", "otp": _code(clock, "sunqi")},
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    # The code was not spent by the failed attempt.
    assert _login(client, "sunqi", _code(clock, "sunqi"))[0] == 200


def test_roles_that_need_mfa_are_told_to_enrol(
    client: TestClient, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """Heads, the security officer and the administrator must use MFA (C4.2.4)."""
    login(client, "admin")
    add_person(
        client,
        username="newhead",
        display_name="新负责人",
        department_id=org.departments["华南销售部"],  # C1.3: a head belongs to a department
        roles=["department_head"],
    )
    first = client.post(LOGIN, json={"username": "newhead", "password": "a-long-passphrase-2026"})
    assert first.status_code == 200 and first.json()["mfa_enrolment_required"] is True
    sales = client.post(LOGIN, json={"username": "zhangsan", "password": PASSWORD})
    assert sales.json()["mfa_enrolment_required"] is False
    with engine.connect() as conn:
        factors = conn.execute(
            select(audit_events.c.actor_username, audit_events.c.details).where(
                audit_events.c.action == "auth:login", audit_events.c.decision == "allow"
            )
        ).all()
    assert {"admin": "totp", "zhangsan": "password"}.items() <= {
        name: details["factor"] for name, details in factors
    }.items()


def test_an_unenrolled_head_reaches_only_enrolment_over_the_api(
    client: TestClient, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """Issue 10 F2: a role that must use MFA gets a token, but until it enrols every API call
    but enrolment, /me and logout is 403 `mfa_enrolment_required`, and each refusal is audited."""
    login(client, "admin")
    add_person(
        client,
        username="newhead",
        display_name="新负责人",
        department_id=org.departments["华南销售部"],  # C1.3: a head belongs to a department
        roles=["department_head"],
    )
    token = client.post(LOGIN, json={"username": "newhead", "password": NEW_PERSON_PASSWORD})
    assert token.status_code == 200 and token.json()["mfa_enrolment_required"] is True
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for method, path in (
        ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/access-requests"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/auth/password"),
        ("GET", "/api/v1/customers/check?phone=13912345678"),
    ):
        refused = client.request(method, path, headers=headers, json={})
        assert refused.status_code == 403, path
        assert refused.json()["code"] == "mfa_enrolment_required", path
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    enrolled = client.post("/api/v1/auth/mfa/enrol", headers=headers)
    assert enrolled.status_code == 200
    code = code_at(enrolled.json()["secret"], step_at(clock()))
    confirmed = client.post("/api/v1/auth/mfa/confirm", json={"otp": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    with engine.connect() as conn:
        refusals = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "auth:mfa_enrol",
                audit_events.c.decision == "deny",
                audit_events.c.actor_username == "newhead",
            )
        ).all()
    assert len(refusals) == 5 and {r.reason for r in refusals} == {"mfa_enrolment_required"}


def test_recovery_codes_are_replaced_after_a_fresh_code(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    """ASVS V6.5: new codes need a fresh second factor; the old ones stop working at once."""
    status, body = _login(client, "baomiyuan", _code(clock, "baomiyuan"))
    assert status == 200
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    url = "/api/v1/auth/mfa/recovery-codes"
    wrong = client.post(url, json={"otp": "000000"}, headers=headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_otp"
    clock.advance(60)
    fresh = client.post(url, json={"otp": _code(clock, "baomiyuan")}, headers=headers)
    assert fresh.status_code == 200, fresh.text
    codes = fresh.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert not set(codes) & set(recovery_codes("baomiyuan"))
    clock.advance(60)
    assert _login(client, "baomiyuan", recovery_codes("baomiyuan")[0])[0] == 401
    assert _login(client, "baomiyuan", codes[0])[0] == 200
    with engine.connect() as conn:
        reasons = conn.execute(
            select(audit_events.c.reason).where(audit_events.c.action == "auth:recovery_codes")
        ).scalars()
        assert list(reasons) == ["regenerated"]
