"""Talking to the web UI's forms over HTTP, as a browser would (no JavaScript)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from tests.support.org import PASSWORD, TOTP_SECRETS
from tests.support.totp import unused_totp

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_PENDING = re.compile(r'name="pending" value="([^"]+)"')


@contextmanager
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A cookie-keeping client on https (the session cookie is Secure and __Host-)."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def pending_token(html: str) -> str:
    found = _PENDING.search(html)
    assert found, "no pending field in the page"
    return found.group(1)


def fresh_code(client: TestClient, username: str) -> str:
    """A TOTP code for a test person that has not been used with this client yet."""
    code = unused_totp(("forms", id(client.app)), username)
    assert code is not None, "more than two logins of one person within 30 seconds"
    return code


def submit_login(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> Response:
    """Step one of the login form; returns the response (a redirect, or a page)."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(page.text),
            "next": next_path,
        },
    )


def login(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    """Log in through the form, with the one-time code when the person has MFA."""
    response = submit_login(client, username, password)
    if username in TOTP_SECRETS:
        assert response.status_code == 200, response.text
        response = client.post(
            "/login/otp",
            data={
                "pending": pending_token(response.text),
                "otp": fresh_code(client, username),
                "csrf_token": csrf_token(response.text),
            },
        )
    assert response.status_code == 303, response.text
    return response


def page_token(client: TestClient, path: str = "/account") -> str:
    """The session's CSRF token, read from a page."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_token(response.text)
