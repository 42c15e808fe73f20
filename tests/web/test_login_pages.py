"""Logging in and out of the web UI over HTTP, on SQLite and PostgreSQL (C4.2.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from baomi import clock
from baomi.app import create_app
from baomi.audit.models import audit_events
from baomi.auth import lockout
from baomi.config import Settings
from baomi.customers.vault import Vault
from tests.support.org import PASSWORD, Org
from tests.web.forms import browser, csrf_token, login, page_token, pending_token, submit_login

PAGES = ["/", "/account", "/account/mfa"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_login_and_back(app: FastAPI, path: str) -> None:
    with browser(app) as client:
        response = client.get(path + "?tab=1")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=" + (path + "%3Ftab%3D1")


def test_the_lock_screen_is_behind_login_too(app: FastAPI) -> None:
    with browser(app) as client:
        response = client.get("/lock")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"  # nowhere to come back to


def test_htmx_request_without_session_is_told_to_load_the_login_page(app: FastAPI) -> None:
    with browser(app) as client:
        response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_password_only_user_logs_in_and_lands_where_they_were_going(app: FastAPI) -> None:
    with browser(app) as client:
        response = submit_login(client, "zhangsan", next_path="/account")
        assert response.status_code == 303
        assert response.headers["location"] == "/account"
        cookie = response.headers["set-cookie"]
        # ASVS V3.3: the session cookie is host-only, Secure, HttpOnly, SameSite=Lax.
        assert cookie.startswith("__Host-baomi_session=")
        assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
        home = client.get("/")
        assert home.status_code == 200
        assert "张三" in home.text


def test_mfa_user_needs_the_second_step(app: FastAPI) -> None:
    """C4.2.4: the head's password alone opens nothing; the code step does."""
    with browser(app) as client:
        first = submit_login(client, "wangwu")
        assert first.status_code == 200
        assert 'name="otp"' in first.text
        assert "set-cookie" not in first.headers or "baomi_session" not in first.headers.get(
            "set-cookie", ""
        )
        assert PASSWORD not in first.text  # the pending token is sealed
        assert client.get("/").status_code == 303
        wrong = client.post(
            "/login/otp",
            data={
                "pending": pending_token(first.text),
                "otp": "000000",
                "csrf_token": csrf_token(first.text),
            },
        )
        assert wrong.status_code == 401
        assert 'name="otp"' in wrong.text  # asked again
        login(client, "wangwu")
        assert client.get("/").status_code == 200


def test_forged_pending_token_is_refused(app: FastAPI) -> None:
    with browser(app) as client:
        first = submit_login(client, "wangwu")
        token = pending_token(first.text)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        response = client.post(
            "/login/otp",
            data={"pending": forged, "otp": "123456", "csrf_token": csrf_token(first.text)},
        )
    assert response.status_code == 401
    assert 'name="username"' in response.text  # back to step one


@pytest.mark.parametrize("username", ["zhangsan", "nobody"])
def test_wrong_password_gets_the_same_generic_error(app: FastAPI, username: str) -> None:
    with browser(app) as client:
        response = submit_login(client, username, password="not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="' + username + '"' in response.text  # the name is kept; nothing is lost


def test_login_form_needs_its_csrf_token(app: FastAPI) -> None:
    """Login CSRF: another site cannot log this browser into an account."""
    with browser(app) as client:
        client.get("/login")
        response = client.post(
            "/login", data={"username": "zhangsan", "password": PASSWORD, "csrf_token": "x"}
        )
        assert response.status_code == 403
        page = client.get("/login")
        cross_site = client.post(
            "/login",
            data={
                "username": "zhangsan",
                "password": PASSWORD,
                "csrf_token": csrf_token(page.text),
            },
            headers={"Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
        assert client.get("/").status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/logout"]
)
def test_next_never_leaves_the_site(app: FastAPI, target: str) -> None:
    with browser(app) as client:
        response = submit_login(client, "zhangsan", next_path=target)
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        token = page_token(client)
        old_cookie = client.cookies.get("__Host-baomi_session")
        response = client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/login?logged_out=1"
        assert client.get("/").status_code == 303
        # The old cookie, replayed, opens nothing (the session ended on the server).
        client.cookies.set("__Host-baomi_session", old_cookie or "", domain="testserver")
        assert client.get("/").status_code == 303


def test_logout_needs_the_csrf_token(app: FastAPI) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        refused = client.post("/logout", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
        assert client.get("/").status_code == 200


def test_new_login_ends_the_session_the_browser_had(app: FastAPI, engine: Engine) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        first = client.cookies.get("__Host-baomi_session")
        login(client, "zhangsan")
        second = client.cookies.get("__Host-baomi_session")
        assert first != second
    with engine.connect() as conn:
        reasons = conn.execute(
            select(audit_events.c.reason).where(audit_events.c.action == "auth:session_end")
        ).scalars()
        assert "replaced" in list(reasons)


@pytest.fixture
def strict_app(engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path) -> FastAPI:
    """Lockout after three failures, no back-off before it (to reach the lock quickly)."""
    settings = Settings(
        home=tmp_path / "home",
        database_url=database[0],
        login_free_failures=10,
        login_lockout_failures=3,
    )
    return create_app(settings=settings, engine=engine, vault=vault)


def test_locked_account_is_told_so_for_known_and_unknown_names(
    strict_app: FastAPI, engine: Engine
) -> None:
    """ASVS V6.3: after the lockout the message says locked, for any name (no enumeration)."""
    with browser(strict_app) as client:
        for username in ("zhangsan", "nobody"):
            for _ in range(3):
                submit_login(client, username, password="wrong-password-1")
            response = submit_login(client, username)
            assert response.status_code == 401
            assert "已被锁定" in response.text
    with engine.connect() as conn:
        standing = lockout.state(
            conn, policy=lockout.Policy(), username="zhangsan", client_addr=None, now=clock.utcnow()
        )
    assert standing.locked


def test_officer_sees_the_locked_account_among_the_alerts(strict_app: FastAPI) -> None:
    """ASVS V6.3.1: the security officer, who unlocks accounts, is told about them."""
    with browser(strict_app) as client:
        for _ in range(3):
            submit_login(client, "zhangsan", password="wrong-password-1")
        login(client, "baomiyuan")
        home = client.get("/").text
    alerts = home[home.index('id="alerts-title"') :]
    assert "已锁定的账户" in alerts
    assert "张三" in alerts and "zhangsan" in alerts


def test_session_expired_page_offers_to_sign_in_again(app: FastAPI) -> None:
    with browser(app) as client:
        response = client.get("/session-expired?next=/account")
    assert response.status_code == 401
    assert 'href="/login?next=/account"' in response.text


def test_language_before_login_is_a_cookie(app: FastAPI) -> None:
    with browser(app) as client:
        page = client.get("/login")
        assert '<html lang="zh-CN">' in page.text
        client.post(
            "/language", data={"locale": "en", "csrf_token": csrf_token(page.text), "next": "/"}
        )
        english = client.get("/login")
        assert '<html lang="en">' in english.text
        assert "Sign in" in english.text


def test_accept_language_picks_the_language_before_login(app: FastAPI) -> None:
    with browser(app) as client:
        english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        chinese = client.get("/login", headers={"Accept-Language": "fr, zh-TW;q=0.8, en;q=0.3"})
    assert '<html lang="en">' in english.text
    assert '<html lang="zh-CN">' in chinese.text
