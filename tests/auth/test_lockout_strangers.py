"""Issue 17.7: failed logins must not let a stranger lock anyone out (C4.2.4; ASVS V6.3).

Found: anyone could lock any named account, the only security officer included, in ten tries,
and the per-address back-off refused correct passwords for minutes. Now (auth/lockout.py):

* a known device (its device token, given after a login with every factor) is held back by its
  own failures only, so the officer logs in from it whatever a stranger did elsewhere;
* the account's lock holds back unknown clients only, and its owner lifts it by giving the
  password with a valid one-time code (self-unlock, audited as theirs: C1.3); the security
  officer can still unlock;
* checks inside a session (step-up) are held back by the session's own failures only.

Guessing stays infeasible: against one account, unknown clients get ten wrong passwords, then
none; a locked account checks a password only beside a valid code (3 in 10^6 at a time), and
every wrong code is a counted failure of its address (5 free, then 1, 2, 4 … s apart, capped at
15 minutes: about 4 an hour per address); a stolen device token adds at most ten guesses.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.users.models import users
from tests.auth.conftest import FakeClock, Verifications
from tests.support.api import one_time_code
from tests.support.org import PASSWORD, Org
from tests.web.forms import csrf_token, pending_token, submit_login

LOGIN = "/api/v1/auth/login"
OFFICER = "baomiyuan"
STRANGER = ("203.0.113.5", 50000)  # address A: the guesser
OFFICE = ("198.51.100.20", 50000)  # address B: the officer's usual desk
ELSEWHERE = ("192.0.2.44", 50000)  # a device the officer never used before


def _client(app: FastAPI, address: tuple[str, int]) -> TestClient:
    """A client at `address`, on https so that the browser cookies are the real site's."""
    return TestClient(app, client=address, base_url="https://testserver", follow_redirects=False)


def _api_login(
    client: TestClient,
    username: str = OFFICER,
    *,
    password: str = PASSWORD,
    otp: str | None = "fresh",
    device_token: str | None = None,
) -> Response:
    body: dict[str, Any] = {"username": username, "password": password}
    if otp == "fresh":
        otp = one_time_code(client, username)
    if otp is not None:
        body["otp"] = otp
    if device_token is not None:
        body["device_token"] = device_token
    return client.post(LOGIN, json=body)


def _guess(client: TestClient, clock: FakeClock, username: str, times: int, **body: str) -> None:
    """`times` wrong passwords over the API, each as soon as the back-off allows."""
    for n in range(times):
        wrong = {"username": username, "password": f"wrong-guess-{n:04d}", **body}
        response = client.post(LOGIN, json=wrong)
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
            response = client.post(LOGIN, json=wrong)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_credentials"


def _web_guess(client: TestClient, clock: FakeClock, username: str, times: int) -> None:
    """`times` wrong passwords through the login form, waiting out the back-off."""
    for n in range(times):
        response = submit_login(client, username, password=f"wrong-guess-{n:04d}")
        if response.status_code == 429:
            clock.advance(900)
            response = submit_login(client, username, password=f"wrong-guess-{n:04d}")
        assert response.status_code == 401, response.text


def _locked(engine: Engine, user_id: str) -> bool:
    with engine.connect() as conn:
        row = conn.execute(select(users.c.locked_at).where(users.c.id == user_id)).one()
    return row.locked_at is not None


def _events(engine: Engine, action: str) -> list[tuple[str | None, str, dict[str, Any] | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.actor_id, audit_events.c.reason, audit_events.c.details)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        ).all()
    return [(r.actor_id, r.reason, r.details) for r in rows]


def _lock_the_officer_out(app: FastAPI, clock: FakeClock, engine: Engine, org: Org) -> None:
    """The finding: a stranger at address A fails twelve times against the officer's name."""
    _guess(_client(app, STRANGER), clock, OFFICER, 12)
    assert _locked(engine, org.user_ids[OFFICER])
    lockouts = _events(engine, "auth:lockout")
    assert (org.user_ids[OFFICER], "too_many_failures", None) in lockouts


def test_a_strangers_guesses_do_not_stop_the_officer_on_a_known_device(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """C4.2.4: twelve wrong passwords from A; the officer still logs in from B (API)."""
    office = _client(app, OFFICE)
    first = _api_login(office)
    assert first.status_code == 200, first.text
    token = first.json()["device_token"]
    _lock_the_officer_out(app, clock, engine, org)
    again = _api_login(office, device_token=token)
    assert again.status_code == 200, again.text
    assert again.json()["device_token"] == token  # the same device, still known
    # A known device does not lift the lock for the others: the guesser stays locked out.
    assert _locked(engine, org.user_ids[OFFICER])
    logins = [d for _, reason, d in _events(engine, "auth:login") if reason == "ok"]
    assert logins[-1] == {"factor": "totp", "kind": "api", "device": "known"}


def test_the_officer_unlocks_from_a_new_device_with_password_and_code(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """C4.2.4 self-unlock: from a device the account does not know, the password alone is
    refused while locked; with a valid code it unlocks, on record as the officer's own (C1.3)."""
    _lock_the_officer_out(app, clock, engine, org)
    elsewhere = _client(app, ELSEWHERE)
    refused = _api_login(elsewhere, otp=None)
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_credentials")
    unlocked = _api_login(elsewhere)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["device_token"]
    officer_id = org.user_ids[OFFICER]
    assert not _locked(engine, officer_id)
    [(actor, reason, details)] = _events(engine, "auth:unlock")
    assert (actor, reason) == (officer_id, "self_unlock")
    assert details is not None and details["factor"] == "totp" and details["failures"] >= 10


def test_a_wrong_code_on_a_locked_account_is_counted_and_never_reaches_the_hash(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org, verifications: Verifications
) -> None:
    """The guesser cannot use the self-unlock: the code is checked before the password, and a
    wrong one is a failure of its address, which backs off as any other."""
    _lock_the_officer_out(app, clock, engine, org)
    hashed = verifications.total
    stranger = _client(app, STRANGER)
    clock.advance(3600 * 2)  # the stranger's address is forgotten: five free failures again
    statuses = [_api_login(stranger, otp=f"{n:06d}").status_code for n in range(8)]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    assert verifications.total == hashed
    assert _locked(engine, org.user_ids[OFFICER])
    # From a fresh address (a botnet), the right password without the code: still refused.
    botnet = _client(app, ("10.9.8.7", 50000))
    assert _api_login(botnet, otp=None).status_code == 401
    assert verifications.total == hashed


def test_a_stolen_device_token_buys_ten_guesses_at_most(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org, verifications: Verifications
) -> None:
    """A device token is bound to its account, and ten failures from it make it unknown."""
    token = _api_login(_client(app, OFFICE)).json()["device_token"]
    own = _api_login(_client(app, STRANGER), "zhangsan", otp=None).json()["device_token"]
    thief = _client(app, STRANGER)
    hashed = verifications.total
    _guess(thief, clock, OFFICER, 10, device_token=token)
    assert verifications.total - hashed == 10
    device_lockouts = [e for e in _events(engine, "auth:lockout") if e[1] != "too_many_failures"]
    assert device_lockouts == [(org.user_ids[OFFICER], "device_too_many_failures", None)]
    assert not _locked(engine, org.user_ids[OFFICER])  # the device's failures were its own
    # From now on the token is an unknown client's, as is someone else's token: ten more
    # failures lock the account for unknown clients, and nothing reaches the hash after that.
    _guess(thief, clock, OFFICER, 10, device_token=token)
    assert _locked(engine, org.user_ids[OFFICER])
    hashed = verifications.total
    _guess(thief, clock, OFFICER, 3, device_token=own)
    assert verifications.total == hashed


def test_step_up_is_not_refused_for_a_strangers_failures(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """Inside a session only the session's own failures count: a locked account still steps
    up with the right code (C4.2.4), where it was refused before."""
    office = _client(app, OFFICE)
    bearer = {"Authorization": f"Bearer {_api_login(office).json()['access_token']}"}
    _lock_the_officer_out(app, clock, engine, org)
    code = one_time_code(office, OFFICER)
    stepped = office.post("/api/v1/auth/step-up", json={"otp": code}, headers=bearer)
    assert stepped.status_code == 200, stepped.text


# --- The web UI ----------------------------------------------------------------------------


def _web_login(client: TestClient, username: str = OFFICER) -> Response:
    """Both steps of the login form; returns the last answer."""
    first = submit_login(client, username)
    if first.status_code != 200:
        return first
    return client.post(
        "/login/otp",
        data={
            "pending": pending_token(first.text),
            "otp": one_time_code(client, username),
            "csrf_token": csrf_token(first.text),
        },
    )


def test_a_strangers_guesses_do_not_stop_the_officer_in_a_known_browser(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """The same through the login form: the officer's browser at B keeps its device cookie."""
    with _client(app, OFFICE) as office:
        first = _web_login(office)
        assert first.status_code == 303, first.text
        cookie = next(
            c for c in first.headers.get_list("set-cookie") if c.startswith("__Host-baomi_device=")
        )
        assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/"} <= {
            part.strip() for part in cookie.split(";")
        }
        with _client(app, STRANGER) as stranger:
            _web_guess(stranger, clock, OFFICER, 12)
            told = submit_login(stranger, OFFICER)
            assert told.status_code in (401, 429)
        assert _locked(engine, org.user_ids[OFFICER])
        again = _web_login(office)
        assert again.status_code == 303, again.text
        assert office.get("/").status_code == 200


def test_the_officer_unlocks_through_the_login_page(
    app: FastAPI, clock: FakeClock, engine: Engine, org: Org
) -> None:
    """A browser the account does not know is told "locked" and offered the self-unlock: the
    password and a code at once sign in, and the unlock is audited as the officer's."""
    with _client(app, STRANGER) as stranger:
        _web_guess(stranger, clock, OFFICER, 12)
    with _client(app, ELSEWHERE) as elsewhere:
        told = submit_login(elsewhere, OFFICER)
        assert told.status_code == 401
        assert "已被锁定" in told.text and 'action="/login/unlock"' in told.text
        wrong = elsewhere.post(
            "/login/unlock",
            data={
                "username": OFFICER,
                "password": PASSWORD,
                "otp": "000000",
                "csrf_token": csrf_token(told.text),
            },
        )
        assert wrong.status_code == 401 and 'action="/login/unlock"' in wrong.text
        unlocked = elsewhere.post(
            "/login/unlock",
            data={
                "username": OFFICER,
                "password": PASSWORD,
                "otp": one_time_code(elsewhere, OFFICER),
                "csrf_token": csrf_token(wrong.text),
                "next": "/account",
            },
        )
        assert unlocked.status_code == 303, unlocked.text
        assert unlocked.headers["location"] == "/account"
        assert elsewhere.get("/account").status_code == 200
    assert not _locked(engine, org.user_ids[OFFICER])
    assert [(a, r) for a, r, _ in _events(engine, "auth:unlock")] == [
        (org.user_ids[OFFICER], "self_unlock")
    ]
