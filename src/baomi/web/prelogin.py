"""The cookies of the public pages: the pre-login CSRF token and the language before login.

The forms of the pages anyone may open (login, activation, the language switch) carry a random
value that is also in a SameSite=Strict cookie, and must come from this site, so that no other
site can log a browser in or switch its language (login CSRF).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

from baomi.auth import browser
from baomi.web import i18n

PRELOGIN_COOKIE = "baomi_prelogin"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def prelogin_name(request: Request) -> str:
    # The __Host- prefix pins the cookie to this host (not on plain-HTTP loopback: see browser).
    return PRELOGIN_COOKIE if browser.is_plain_loopback(request) else f"__Host-{PRELOGIN_COOKIE}"


def prelogin_token(request: Request) -> str:
    return request.cookies.get(prelogin_name(request)) or secrets.token_urlsafe(32)


def with_prelogin_cookie(response: Response, request: Request, token: str) -> Response:
    response.set_cookie(
        prelogin_name(request),
        token,
        path="/",
        secure=not browser.is_plain_loopback(request),
        httponly=True,
        samesite="strict",
    )
    return response


def prelogin_ok(request: Request, presented: str) -> bool:
    expected = request.cookies.get(prelogin_name(request))
    return (
        browser.same_site_origin(request)
        and expected is not None
        and hmac.compare_digest(expected.encode(), presented.encode())
    )


def set_language_cookie(response: Response, request: Request, locale: str) -> None:
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        locale,
        max_age=LANGUAGE_COOKIE_SECONDS,
        path="/",
        secure=not browser.is_plain_loopback(request),
        httponly=True,
        samesite="lax",
    )
