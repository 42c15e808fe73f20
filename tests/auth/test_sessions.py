"""Server-side sessions (ASVS V7; C4.2.4 screen lock): fixation, logout, idle and absolute
timeouts, ending sessions on password or MFA change and on disabling, and the own-sessions list.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.auth import sessions as auth_sessions
from baomi.auth.models import sessions
from baomi.auth.sessions import Kind, Lifetimes
from baomi.auth.totp import code_at, step_at
from baomi.uow import unit_of_work
from tests.auth.conftest import START, FakeClock
from tests.support.api import login, one_time_code
from tests.support.org import PASSWORD, Org

AUTH = "/api/v1/auth"
NEW_PASSWORD = "violet-harbour-lantern-2026"
NIL_ID = "00000000-0000-0000-0000-000000000000"


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    body = {"username": username, "password": password}
    if (otp := one_time_code(client, username)) is not None:
        body["otp"] = otp
    response = client.post(f"{AUTH}/login", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _bearer(issued: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued['access_token']}"}


def _me(client: TestClient, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.get(f"{AUTH}/me", headers=headers)
    return response.status_code, response.json()


def _code(client: TestClient, headers: dict[str, str]) -> str | None:
    status, body = _me(client, headers)
    return None if status == 200 else str(body["code"])


def _ends(engine: Engine, session_id: str) -> list[tuple[str, str | None]]:
    """The audited ends of one session: (reason, actor username)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.reason, audit_events.c.actor_username).where(
                audit_events.c.action == "auth:session_end",
                audit_events.c.object_id == session_id,
            )
        )
        return [(r.reason, r.actor_username) for r in rows]


def _end_reason(engine: Engine, session_id: str) -> str | None:
    with engine.connect() as conn:
        reason = conn.execute(select(sessions.c.end_reason).where(sessions.c.id == session_id))
        return reason.scalar_one()


def test_login_answer_stays_compatible_and_names_the_session(
    client: TestClient, clock: FakeClock
) -> None:
    issued = _login(client, "zhangsan")
    assert set(issued) == {
        "access_token",
        "token_type",
        "expires_at",
        "mfa_enrolment_required",
        "session_id",
        "device_token",  # issue 17.7: sent back with the next login (auth/devices.py)
    }
    assert issued["token_type"] == "bearer"
    # ASVS V7.3.2: the absolute end is 12 hours after login by default.
    assert issued["expires_at"].startswith((START + timedelta(hours=12)).strftime("%Y-%m-%dT%H"))
    assert len(issued["access_token"]) >= 43  # 256 bits, URL-safe base64
    assert issued["session_id"] not in issued["access_token"]


def test_every_login_is_a_new_session_and_the_secret_is_stored_hashed(
    client: TestClient, engine: Engine
) -> None:
    """Fixation defence (ASVS V7.2.4): a new id and a new secret on every login."""
    first, second = _login(client, "zhangsan"), _login(client, "zhangsan")
    assert first["session_id"] != second["session_id"]
    assert first["access_token"] != second["access_token"]
    with engine.connect() as conn:
        stored = conn.execute(select(sessions.c.token_hash, sessions.c.kind)).all()
    hashes = {h for h, _ in stored}
    assert first["access_token"] not in hashes and second["access_token"] not in hashes
    assert {k for _, k in stored} == {"api"}
    # Both stay live side by side until one ends.
    assert _code(client, _bearer(first)) is None and _code(client, _bearer(second)) is None


def test_a_token_is_dead_after_logout(client: TestClient, engine: Engine) -> None:
    issued = _login(client, "zhangsan")
    headers = _bearer(issued)
    assert client.post(f"{AUTH}/logout", headers=headers).status_code == 204
    assert _code(client, headers) == "invalid_token"
    assert client.post(f"{AUTH}/logout", headers=headers).status_code == 401
    assert _end_reason(engine, issued["session_id"]) == "logout"
    assert _ends(engine, issued["session_id"]) == [("logout", "zhangsan")]


def test_idle_session_expires_after_fifteen_minutes(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    """C4.2.4 screen lock / ASVS V7.3.1: activity keeps a session alive; 15 idle minutes end it."""
    issued = _login(client, "zhangsan")
    headers = _bearer(issued)
    clock.advance(10)
    assert _code(client, headers) is None
    with engine.connect() as conn:
        seen = conn.execute(select(sessions.c.last_seen_at, sessions.c.created_at)).one()
    assert seen.last_seen_at == seen.created_at  # touched at most every 30 s: no write yet
    clock.advance(14 * 60 - 10)
    assert _code(client, headers) is None  # 14 minutes: alive, and the idle clock restarts
    clock.advance(14 * 60 + 59)
    assert _code(client, headers) is None  # 14:59 since the last activity
    clock.advance(15 * 60)
    assert _code(client, headers) == "session_expired"
    assert _code(client, headers) == "session_expired"  # and it stays over
    assert _end_reason(engine, issued["session_id"]) == "idle"
    assert [reason for reason, _ in _ends(engine, issued["session_id"])] == ["idle"]
    # A new login is a new session.
    assert _code(client, _bearer(_login(client, "zhangsan"))) is None


def test_absolute_expiry_despite_activity(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    """ASVS V7.3.2: however busy, a session ends 12 hours after login."""
    issued = _login(client, "zhangsan")
    headers = _bearer(issued)
    for _ in range(12 * 6 - 1):
        clock.advance(10 * 60)
        assert _code(client, headers) is None
    clock.advance(10 * 60)
    assert _code(client, headers) == "session_expired"
    assert _end_reason(engine, issued["session_id"]) == "expired"


def test_password_change_ends_every_other_session(
    client: TestClient, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """ASVS V7.4.3: after a password change only the session that made it is still alive."""
    current, other, third = (_login(client, "zhangsan") for _ in range(3))
    lisi = login(client, "lisi")
    url = f"{AUTH}/password"

    wrong = client.post(
        url,
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        headers=_bearer(current),
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    weak = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "zhangsan123"},
        headers=_bearer(current),
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    same = client.post(
        url, json={"current_password": PASSWORD, "new_password": PASSWORD}, headers=_bearer(current)
    )
    assert same.status_code == 422
    assert _code(client, _bearer(other)) is None  # refusals end nothing

    changed = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=_bearer(current),
    )
    assert changed.status_code == 204, changed.text
    assert _code(client, _bearer(current)) is None
    assert _code(client, _bearer(other)) == "invalid_token"
    assert _code(client, _bearer(third)) == "invalid_token"
    assert _code(client, lisi) is None  # someone else's sessions are untouched
    assert _end_reason(engine, other["session_id"]) == "password_changed"
    old = client.post(f"{AUTH}/login", json={"username": "zhangsan", "password": PASSWORD})
    assert old.status_code == 401
    assert _login(client, "zhangsan", NEW_PASSWORD)["session_id"]

    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.details)
            .where(audit_events.c.action == "auth:password_change")
            .order_by(audit_events.c.id)
        ).all()
    assert [(e.decision, e.reason) for e in events] == [
        ("deny", "bad_password"),
        ("deny", "rejected_new_password"),
        ("deny", "rejected_new_password"),
        ("allow", "ok"),
    ]
    assert events[-1].details == {"sessions_ended": 2}
    assert all(NEW_PASSWORD not in str(e) and PASSWORD not in str(e) for e in events)


def test_wrong_current_password_counts_like_a_failed_login(
    client: TestClient, clock: FakeClock
) -> None:
    """A stolen session is no oracle for guessing the password (ASVS V6.3.1)."""
    headers = _bearer(_login(client, "qianba"))
    for n in range(5):
        response = client.post(
            f"{AUTH}/password",
            json={"current_password": f"guess-{n}-wrong", "new_password": NEW_PASSWORD},
            headers=headers,
        )
        assert response.status_code == 401
    throttled = client.post(
        f"{AUTH}/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert (
        client.post(f"{AUTH}/login", json={"username": "qianba", "password": PASSWORD}).status_code
        == 429
    )


def test_mfa_enrolment_ends_other_sessions(
    client: TestClient, clock: FakeClock, engine: Engine
) -> None:
    current, other = _login(client, "zhangsan"), _login(client, "zhangsan")
    headers = _bearer(current)
    assert _me(client, headers)[1]["mfa_verified_at"] is None
    secret = client.post(f"{AUTH}/mfa/enrol", headers=headers).json()["secret"]
    assert _code(client, _bearer(other)) is None  # not yet: MFA is not active until confirmed
    code = code_at(secret, step_at(clock()))
    confirmed = client.post(f"{AUTH}/mfa/confirm", json={"otp": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert _code(client, _bearer(other)) == "invalid_token"
    assert _end_reason(engine, other["session_id"]) == "mfa_changed"
    status, me = _me(client, headers)
    assert status == 200 and me["mfa_verified_at"] is not None  # it has just passed TOTP


def test_disabling_a_user_ends_all_their_sessions(
    client: TestClient, engine: Engine, org: Org
) -> None:
    """C4.5.2: a leaver's sessions end at once, not at their next timeout."""
    first, second = _login(client, "zhaoliu"), _login(client, "zhaoliu")
    admin = login(client, "admin")
    disabled = client.post(f"/api/v1/users/{org.user_ids['zhaoliu']}/disable", headers=admin)
    assert disabled.status_code == 204
    for issued in (first, second):
        assert _code(client, _bearer(issued)) == "invalid_token"
        assert _end_reason(engine, issued["session_id"]) == "user_disabled"
        assert _ends(engine, issued["session_id"]) == [("user_disabled", "admin")]
    assert _code(client, admin) is None


def test_list_and_end_own_sessions(client: TestClient, engine: Engine) -> None:
    """ASVS V7.5.2: see your sessions and end any of them; never the secret or its hash."""
    here, there = _login(client, "zhangsan"), _login(client, "zhangsan")
    listed = client.get(f"{AUTH}/sessions", headers=_bearer(here))
    assert listed.status_code == 200
    rows = listed.json()
    assert [r["id"] for r in rows] == [there["session_id"], here["session_id"]]  # newest first
    assert [r["current"] for r in rows] == [False, True]
    assert set(rows[0]) == {
        "id",
        "kind",
        "created_at",
        "last_seen_at",
        "expires_at",
        "client_addr",
        "user_agent",
        "current",
    }
    assert rows[0]["kind"] == "api" and rows[0]["user_agent"] == "testclient"
    assert here["access_token"] not in listed.text and there["access_token"] not in listed.text

    ended = client.delete(f"{AUTH}/sessions/{there['session_id']}", headers=_bearer(here))
    assert ended.status_code == 204
    assert _code(client, _bearer(there)) == "invalid_token"
    assert _ends(engine, there["session_id"]) == [("ended_by_user", "zhangsan")]
    again = client.delete(f"{AUTH}/sessions/{there['session_id']}", headers=_bearer(here))
    assert again.status_code == 404
    assert [r["id"] for r in client.get(f"{AUTH}/sessions", headers=_bearer(here)).json()] == [
        here["session_id"]
    ]

    extra = [_login(client, "zhangsan") for _ in range(2)]
    others = client.post(f"{AUTH}/sessions/end-others", headers=_bearer(here))
    assert others.status_code == 200 and others.json() == {"ended": 2}
    assert all(_code(client, _bearer(e)) == "invalid_token" for e in extra)
    assert _code(client, _bearer(here)) is None


def test_another_users_session_can_be_neither_seen_nor_ended(
    client: TestClient, engine: Engine
) -> None:
    mine, theirs = _login(client, "zhangsan"), _login(client, "lisi")
    listed = client.get(f"{AUTH}/sessions", headers=_bearer(mine)).json()
    assert theirs["session_id"] not in {r["id"] for r in listed}
    for target in (theirs["session_id"], NIL_ID, "not-an-id"):
        refused = client.delete(f"{AUTH}/sessions/{target}", headers=_bearer(mine))
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert _code(client, _bearer(theirs)) is None
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.object_id)
            .where(audit_events.c.action == "auth:session_end", audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    assert [d.object_id for d in denied] == [theirs["session_id"], NIL_ID, None]


def test_login_with_mfa_marks_the_session_verified(client: TestClient, clock: FakeClock) -> None:
    """C4.2.4: a login that passed TOTP counts as a fresh second factor; a password-only one
    does not."""
    head = _bearer(_login(client, "wangwu"))
    assert _me(client, head)[1]["mfa_verified_at"].startswith(START.strftime("%Y-%m-%dT%H:%M"))
    sales = _bearer(_login(client, "zhangsan"))
    assert _me(client, sales)[1]["mfa_verified_at"] is None


def test_resolve_touches_a_live_session_and_ends_an_idle_one(
    engine: Engine, clock: FakeClock, org: Org
) -> None:
    """The service door without HTTP: resolve() ends a timed-out session in the caller's
    transaction (reason idle), so it is over for good."""
    lifetimes = Lifetimes(idle=timedelta(minutes=15), absolute=timedelta(hours=12))
    ctx = RequestContext(request_id="test", client_addr="192.0.2.1")
    with unit_of_work(engine) as conn:
        started = auth_sessions.start(
            conn,
            ctx=ctx,
            user_id=org.user_ids["zhangsan"],
            kind=Kind.API,
            lifetimes=lifetimes,
            user_agent="agent\x07/1.0 " + "x" * 300,
        )
    resolve = partial(auth_sessions.resolve, ctx=ctx, secret=started.secret, lifetimes=lifetimes)
    clock.advance(60)
    with unit_of_work(engine) as conn:
        live = resolve(conn, kind=Kind.API)
        assert live is not None and live.id == started.session_id
        assert live.client_addr == "192.0.2.1"
        assert live.user_agent is not None and live.user_agent.startswith("agent/1.0 x")
        assert len(live.user_agent) == auth_sessions.USER_AGENT_LENGTH
        assert resolve(conn, kind=Kind.BROWSER) is None  # an API secret is no cookie
    clock.advance(15 * 60 - 1)
    with unit_of_work(engine) as conn:
        assert resolve(conn, kind=Kind.API) is not None  # last seen 14:59 ago
    clock.advance(15 * 60)
    with unit_of_work(engine) as conn:
        assert resolve(conn, kind=Kind.API) is None
    assert _end_reason(engine, started.session_id) == "idle"
    with unit_of_work(engine) as conn:
        assert resolve(conn, kind=Kind.API) is None
    assert [reason for reason, _ in _ends(engine, started.session_id)] == ["idle"]
