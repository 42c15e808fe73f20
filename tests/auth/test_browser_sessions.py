"""Browser sessions: the cookie's attributes, fixation, and CSRF (ASVS V3.3, V3.5, V7.2.4).

The browser here is a TestClient at https://testserver (a real site: `__Host-` and Secure), or
at http://127.0.0.1 (the demo on loopback, where browsers refuse both).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.auth.models import sessions
from tests.support.api import login
from tests.support.org import PASSWORD

AUTH = "/api/v1/auth"
COOKIE = "__Host-baomi_session"
END_OTHERS = f"{AUTH}/sessions/end-others"


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as https_client:
        yield https_client


def _browser_login(client: TestClient, username: str = "zhangsan") -> dict[str, Any]:
    response = client.post(
        f"{AUTH}/browser-login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # The session cookie; the device cookie beside it is tests/auth/test_lockout_strangers.py's.
    cookies = response.headers.get_list("set-cookie")
    body["set-cookie"] = next(c for c in cookies if "_session=" in c.split(";")[0])
    return body


def _attributes(set_cookie: str) -> tuple[str, set[str]]:
    """The cookie's name and its attributes, lower-cased, values dropped except SameSite."""
    first, *rest = (part.strip() for part in set_cookie.split(";"))
    attributes = {
        p.lower() if p.lower().startswith("samesite") else p.split("=")[0].lower() for p in rest
    }
    return first.split("=", 1)[0], attributes


def _status(client: TestClient, **kwargs: Any) -> tuple[int, str | None]:
    response = client.post(END_OTHERS, **kwargs)
    return response.status_code, response.json().get("code")


def test_cookie_is_host_prefixed_secure_httponly_lax_on_a_real_site(browser: TestClient) -> None:
    body = _browser_login(browser)
    name, attributes = _attributes(body["set-cookie"])
    assert name == COOKIE
    assert {"secure", "httponly", "samesite=lax", "path"} <= attributes
    assert "domain" not in attributes and "max-age" not in attributes
    assert "path=/;" in body["set-cookie"].lower().replace(" ", "") + ";"
    # The secret is in the cookie only: a script reading the body gets no session.
    assert set(body) == {
        "session_id",
        "expires_at",
        "mfa_enrolment_required",
        "csrf_token",
        "set-cookie",
    }
    assert browser.cookies.get(COOKIE) not in str({k: body[k] for k in body if k != "set-cookie"})


def test_plain_http_to_a_real_host_still_gets_the_secure_cookie(client: TestClient) -> None:
    """http://testserver is not loopback: the cookie stays __Host- and Secure (a browser will
    not send it back over plain HTTP, which is the point)."""
    name, attributes = _attributes(_browser_login(client)["set-cookie"])
    assert name == COOKIE and "secure" in attributes


def test_loopback_demo_gets_a_plain_cookie(app: FastAPI) -> None:
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        body = _browser_login(local)
        name, attributes = _attributes(body["set-cookie"])
        assert name == "baomi_session"
        assert "secure" not in attributes and {"httponly", "samesite=lax"} <= attributes
        me = local.get(f"{AUTH}/me")
        assert me.status_code == 200 and me.json()["session_id"] == body["session_id"]


def test_cookie_session_authenticates_and_its_secret_is_no_bearer_token(
    browser: TestClient, engine: Engine
) -> None:
    body = _browser_login(browser)
    me = browser.get(f"{AUTH}/me")
    assert me.status_code == 200 and me.json()["session_id"] == body["session_id"]
    with engine.connect() as conn:
        assert conn.execute(select(sessions.c.kind)).scalar_one() == "browser"
    secret = browser.cookies[COOKIE]
    # The bearer header wins over the cookie, and a browser secret is no API token.
    as_bearer = browser.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {secret}"})
    assert as_bearer.status_code == 401 and as_bearer.json()["code"] == "invalid_token"


def test_a_planted_cookie_is_replaced_at_login(browser: TestClient, app: FastAPI) -> None:
    """Fixation (ASVS V7.2.4): a cookie set before login is not the one after it, and each
    login in the same browser is a new session that ends the previous one."""
    browser.cookies.set(COOKIE, "planted-by-someone-else", domain="testserver.local")
    assert browser.get(f"{AUTH}/me").json()["code"] == "invalid_token"
    first = _browser_login(browser)
    first_secret = browser.cookies[COOKIE]
    assert first_secret != "planted-by-someone-else"
    second = _browser_login(browser)
    assert second["session_id"] != first["session_id"]
    assert browser.cookies[COOKIE] != first_secret
    with TestClient(app, base_url="https://testserver") as other:
        other.cookies.set(COOKIE, first_secret, domain="testserver.local")
        assert other.get(f"{AUTH}/me").json()["code"] == "invalid_token"


def test_logout_clears_the_cookie_and_the_old_value_is_dead(
    browser: TestClient, app: FastAPI
) -> None:
    body = _browser_login(browser)
    secret = browser.cookies[COOKIE]
    out = browser.post(f"{AUTH}/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    name, attributes = _attributes(out.headers["set-cookie"])
    assert name == COOKIE and "max-age" in attributes and "secure" in attributes
    assert COOKIE not in browser.cookies
    with TestClient(app, base_url="https://testserver") as replay:
        replay.cookies.set(COOKIE, secret, domain="testserver.local")
        assert replay.get(f"{AUTH}/me").json()["code"] == "invalid_token"


def test_csrf_token_is_required_on_unsafe_cookie_requests(
    browser: TestClient, engine: Engine
) -> None:
    """ASVS V3.5.1: a cookie-authenticated POST needs the session's CSRF token."""
    token = _browser_login(browser)["csrf_token"]
    assert browser.get(f"{AUTH}/sessions").status_code == 200  # safe methods need none
    assert _status(browser) == (403, "csrf_failed")
    assert _status(browser, headers={"X-CSRF-Token": "0" * 64}) == (403, "csrf_failed")
    assert _status(browser, headers={"X-CSRF-Token": token}) == (200, None)
    # A plain HTML form sends it as a field instead (urlencoded or multipart).
    assert _status(browser, data={"csrf_token": token}) == (200, None)
    assert _status(browser, files={"csrf_token": (None, token)}) == (200, None)
    assert _status(browser, data={"csrf_token": "wrong"}) == (403, "csrf_failed")
    # Another session's token is no good.
    with TestClient(browser.app, base_url="https://testserver") as other:
        other_token = _browser_login(other, "lisi")["csrf_token"]
    assert other_token != token
    assert _status(browser, headers={"X-CSRF-Token": other_token}) == (403, "csrf_failed")
    with engine.connect() as conn:
        reasons = conn.execute(
            select(audit_events.c.reason)
            .where(audit_events.c.action == "auth:csrf", audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).scalars()
        assert list(reasons) == ["missing_token", "bad_token", "bad_token", "bad_token"]


def test_cross_origin_cookie_requests_are_refused(browser: TestClient) -> None:
    token = _browser_login(browser)["csrf_token"]
    ok = {"X-CSRF-Token": token}
    assert _status(browser, headers={**ok, "Origin": "https://evil.example"}) == (
        403,
        "csrf_failed",
    )
    assert _status(browser, headers={**ok, "Origin": "http://testserver"}) == (403, "csrf_failed")
    assert _status(browser, headers={**ok, "Origin": "https://testserver:8443"})[0] == 403
    assert _status(browser, headers={**ok, "Referer": "https://evil.example/x"})[0] == 403
    assert (
        _status(browser, headers={**ok, "Origin": "null", "Sec-Fetch-Site": "cross-site"})[0] == 403
    )
    assert _status(browser, headers={**ok, "Origin": "https://testserver"}) == (200, None)
    assert _status(browser, headers={**ok, "Origin": "https://TESTSERVER:443"}) == (200, None)
    assert _status(browser, headers={**ok, "Referer": "https://testserver/ui/x"}) == (200, None)
    # Our own pages send Referrer-Policy: no-referrer, so their form posts say Origin: null.
    same = {**ok, "Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert _status(browser, headers=same) == (200, None)


def test_bearer_requests_need_no_csrf_token(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    assert client.post(END_OTHERS, headers=headers).status_code == 200
    cross = {**headers, "Origin": "https://evil.example"}
    assert client.post(END_OTHERS, headers=cross).status_code == 200


def test_browser_login_from_another_site_is_refused(browser: TestClient, engine: Engine) -> None:
    """Login CSRF: another site cannot log this browser into an account of its choosing."""
    response = browser.post(
        f"{AUTH}/browser-login",
        json={"username": "zhangsan", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert COOKIE not in browser.cookies
    with engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).first() is None
