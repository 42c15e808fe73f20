"""My account over HTTP: language per user, password change, sessions, MFA enrolment (C4.2.4)."""

from __future__ import annotations

import re

import pyotp
from fastapi import FastAPI
from sqlalchemy import Engine

from baomi import clock
from baomi.audit.context import CLI_CONTEXT
from baomi.auth.totp import code_at, step_at
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service as users
from baomi.users.schemas import EmploymentType
from tests.support.org import PASSWORD, Org
from tests.web.forms import browser, csrf_token, fresh_code, login, page_token

NEW_PASSWORD = "lantern-harbour-quietly-47"


def test_language_is_stored_per_user(app: FastAPI, engine: Engine, org: Org) -> None:
    with browser(app) as first:
        login(first, "zhangsan")
        token = page_token(first)
        response = first.post("/account/language", data={"locale": "en", "csrf_token": token})
        assert response.status_code == 303
        assert '<html lang="en">' in first.get("/").text
    with engine.connect() as conn:
        assert users.locale_of(conn, org.user_ids["zhangsan"]) == "en"
    # Another browser, which asks for Chinese, still gets the person's English.
    with browser(app) as second:
        login(second, "zhangsan")
        page = second.get("/", headers={"Accept-Language": "zh-CN"})
        assert '<html lang="en">' in page.text
        assert "My customers" in page.text
        second.post("/account/language", data={"locale": "zh_CN", "csrf_token": page_token(second)})
        assert "我的客户" in second.get("/").text


def test_unknown_language_is_refused_and_nothing_changes(
    app: FastAPI, engine: Engine, org: Org
) -> None:
    with browser(app) as client:
        login(client, "zhangsan")
        response = client.post(
            "/account/language", data={"locale": "fr", "csrf_token": page_token(client)}
        )
        assert response.status_code == 303  # "fr" is not offered: back to following the browser
    with engine.connect() as conn:
        assert users.locale_of(conn, org.user_ids["zhangsan"]) is None


def test_password_change_ends_the_other_sessions(app: FastAPI) -> None:
    """ASVS V7.4.3: a new password logs out every other session, not this one."""
    with browser(app) as phone, browser(app) as laptop:
        login(phone, "zhangsan")
        login(laptop, "zhangsan")
        mismatch = laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD + "x",
                "csrf_token": page_token(laptop),
            },
        )
        assert mismatch.status_code == 422
        assert "两次输入的新密码不一致" in mismatch.text
        wrong = laptop.post(
            "/account/password",
            data={
                "current_password": "not-it",
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
                "csrf_token": page_token(laptop),
            },
        )
        assert wrong.status_code == 401
        assert "当前密码不正确" in wrong.text
        assert laptop.get("/").status_code == 200  # a wrong password is not a logout
        weak = laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "short",
                "confirm_password": "short",
                "csrf_token": page_token(laptop),
            },
        )
        assert weak.status_code == 422
        assert 'id="new-password-error"' in weak.text
        done = laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
                "csrf_token": page_token(laptop),
            },
        )
        assert done.status_code == 303
        assert laptop.get("/").status_code == 200
        assert phone.get("/").status_code == 303
    with browser(app) as again:
        login(again, "zhangsan", password=NEW_PASSWORD)


def _session_ids(html: str) -> list[str]:
    return re.findall(r'action="/account/sessions/([0-9a-f-]{36})/end"', html)


def test_end_one_session_with_htmx(app: FastAPI) -> None:
    with browser(app) as phone, browser(app) as laptop:
        login(phone, "zhangsan")
        login(laptop, "zhangsan")
        account = laptop.get("/account")
        [other] = _session_ids(account.text)  # the current one has no End button
        swapped = laptop.post(
            f"/account/sessions/{other}/end",
            headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(account.text)},
        )
        assert swapped.status_code == 200
        assert swapped.text.lstrip().startswith('<section class="card" id="sessions"')
        assert _session_ids(swapped.text) == []
        assert phone.get("/").status_code == 303
        assert laptop.get("/").status_code == 200


def test_end_all_other_sessions(app: FastAPI) -> None:
    with browser(app) as a, browser(app) as b, browser(app) as c:
        for client in (a, b, c):
            login(client, "lisi")
        response = c.post("/account/sessions/end-others", data={"csrf_token": page_token(c)})
        assert response.status_code == 303
        assert [a.get("/").status_code, b.get("/").status_code, c.get("/").status_code] == [
            303,
            303,
            200,
        ]


def _current_session_id(html: str) -> str:
    found = re.search(r'<tr data-session-id="([0-9a-f-]{36})" class="current">', html)
    assert found, "the current session's row carries its id"
    return found.group(1)


def test_someone_elses_session_cannot_be_ended(app: FastAPI) -> None:
    with browser(app) as mine, browser(app) as theirs:
        login(mine, "zhangsan")
        login(theirs, "lisi")
        their_id = _current_session_id(theirs.get("/account").text)
        response = mine.post(
            f"/account/sessions/{their_id}/end", data={"csrf_token": page_token(mine)}
        )
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert theirs.get("/").status_code == 200


def test_head_without_mfa_must_enrol_first(app: FastAPI, engine: Engine, org: Org) -> None:
    """C4.2.4: a role that approves must use a second factor; no page opens before it is on."""
    with unit_of_work(engine) as conn:
        users.create_user(
            conn,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            username="zhouba",
            display_name="周八",
            password=PASSWORD,
            employment_type=EmploymentType.FULL_TIME,
            department_id=org.departments["华南销售部"],
            roles={Role.DEPARTMENT_HEAD},
        )
    with browser(app) as client:
        response = login(client, "zhouba")
        assert response.headers["location"] == "/account/mfa"
        assert client.get("/").headers["location"] == "/account/mfa"
        intro = client.get("/account/mfa")
        assert intro.status_code == 200
        scan = client.post("/account/mfa/start", data={"csrf_token": csrf_token(intro.text)})
        assert 'src="data:image/svg+xml;base64,' in scan.text
        found = re.search(r"<code>([A-Z2-7]{16,})</code>", scan.text)
        assert found
        secret = found.group(1)
        bad = client.post(
            "/account/mfa/confirm", data={"otp": "000000", "csrf_token": csrf_token(scan.text)}
        )
        assert bad.status_code == 422
        code = code_at(secret, step_at(clock.utcnow()))
        assert pyotp.TOTP(secret).verify(code)
        done = client.post(
            "/account/mfa/confirm", data={"otp": code, "csrf_token": csrf_token(scan.text)}
        )
        assert done.status_code == 200
        codes = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
        assert len(codes) == 10
        assert client.get("/").status_code == 200
        # Shown once: the page never shows them again.
        assert codes[0] not in client.get("/account/mfa").text


def test_recovery_codes_are_replaced_from_my_account(app: FastAPI) -> None:
    """ASVS V6.5: new codes need a fresh code from the app; they are shown once."""
    with browser(app) as client:
        login(client, "baomiyuan")
        page = client.get("/account/mfa")
        unused = re.search(r'id="unused-codes">[^<]*?(\d+)', page.text)
        assert unused and unused.group(1) == "10"
        wrong = client.post(
            "/account/mfa/recovery-codes",
            data={"otp": "000000", "csrf_token": csrf_token(page.text)},
        )
        assert wrong.status_code == 401 and 'id="mfa-error"' in wrong.text
        done = client.post(
            "/account/mfa/recovery-codes",
            data={"otp": fresh_code(client, "baomiyuan"), "csrf_token": csrf_token(page.text)},
        )
        assert done.status_code == 200, done.text
        codes = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
        assert len(codes) == 10
        assert codes[0] not in client.get("/account/mfa").text
