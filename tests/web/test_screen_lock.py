"""The screen lock over HTTP (C4.2.4): kept on the server, lifted only by the password, every
failure counted like a failed login, everything audited."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.models import audit_events
from baomi.auth import lockout
from tests.support.org import PASSWORD
from tests.web.forms import browser, login, page_token


def _events(engine: Engine, action: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        )
        return [(r.decision, r.reason) for r in rows]


def test_a_locked_session_sees_no_page_until_unlocked(app: FastAPI, engine: Engine) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client)
        assert client.post("/lock", headers={"X-CSRF-Token": token}).status_code == 204
        # Reloading does not lift the lock: every page now sends to the lock screen.
        for path, lock_url in (("/", "/lock"), ("/account", "/lock?next=/account")):
            response = client.get(path)
            assert response.status_code == 303
            assert response.headers["location"] == lock_url
        lock_page = client.get("/lock?next=/account")
        assert lock_page.status_code == 200
        assert 'name="password"' in lock_page.text
        assert "watermark" not in lock_page.text  # no data here, nothing to mark
        wrong = client.post(
            "/unlock", data={"password": "wrong", "csrf_token": token, "next": "/account"}
        )
        assert wrong.status_code == 401
        assert client.get("/").status_code == 303
        right = client.post(
            "/unlock", data={"password": PASSWORD, "csrf_token": token, "next": "/account"}
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/account"
        assert client.get("/").status_code == 200
    assert _events(engine, "auth:screen_lock") == [("allow", "idle")]
    assert _events(engine, "auth:screen_unlock") == [("deny", "bad_password"), ("allow", "ok")]


def test_failed_unlocks_count_like_failed_logins(app: FastAPI, engine: Engine) -> None:
    """ASVS V6.3 / C4.2.4: a stolen, locked session is no oracle for the password."""
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client)
        client.post("/lock", headers={"X-CSRF-Token": token})
        for _ in range(2):
            response = client.post(
                "/unlock",
                data={"password": "guess", "csrf_token": token},
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 401
            assert response.json()["code"] == "invalid_credentials"
    with engine.connect() as conn:
        standing = lockout.state(
            conn, policy=lockout.Policy(), username="zhangsan", client_addr=None, now=clock.utcnow()
        )
    assert standing.account_failures == 2


def test_unlock_needs_the_csrf_token(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client)
        client.post("/lock", headers={"X-CSRF-Token": token})
        refused = client.post("/unlock", data={"password": PASSWORD})
        assert refused.status_code == 403
        assert client.get("/").status_code == 303


def test_unlock_of_an_ended_session_says_so(app: FastAPI) -> None:
    """The lock script goes to the login page when the server session is gone."""
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client)
        client.post("/logout", data={"csrf_token": token})
        response = client.post(
            "/unlock",
            data={"password": PASSWORD, "csrf_token": token},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_token", "not_authenticated"}
