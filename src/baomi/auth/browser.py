"""Browser sessions: the session cookie and the CSRF defence (ASVS V3.3, V3.5; C4.2.4).

For the web UI. A browser holds its session secret only in an HttpOnly cookie that no script can
read; the API's own clients send the secret as `Authorization: Bearer …` instead and need none of
this. How a page route uses it:

Log in (the login form's POST handler)::

    issued = auth.service.login(conn, ctx=ctx, username=…, password=…, otp=…,
                                lifetimes=Lifetimes.from_settings(settings),
                                provider=vault.provider, policy=Policy.from_settings(settings),
                                kind=Kind.BROWSER, user_agent=request.headers.get("user-agent"))
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, issued.access_token)

  Every login makes a new session and a new cookie (fixation defence). Also end the session
  the browser presented before, if any: `POST /api/v1/auth/browser-login` shows how.

Every page: depend on `CurrentActor` (baomi.api.deps) exactly as the API routes do. It reads the
cookie, ends idle sessions (C4.2.4: 15 minutes by default), answers 401 `session_expired` /
`invalid_token` / `not_authenticated` (send the person to the login page), and for a cookie
session sets `request.state.csrf_token`. Put that token in every page::

    <meta name="csrf-token" content="{{ request.state.csrf_token }}">
    <body hx-headers='{"X-CSRF-Token": "{{ request.state.csrf_token }}"}'>   (htmx sends it)
    <input type="hidden" name="csrf_token" value="{{ request.state.csrf_token }}">  (plain forms)

State-changing requests (POST, PUT, PATCH, DELETE) on a cookie session must carry the token as
the `X-CSRF-Token` header or, in an urlencoded or multipart form, the `csrf_token` field; and
when they carry an `Origin` (or, without one, a `Referer`) it must be this site (`Origin: null`:
see `same_site_origin`). `CurrentActor` checks both and refuses with 403 `csrf_failed`
(audited). A page that reads a form value some other way can check it with
`form_token_ok(request, value)`. GET routes must change nothing.

Log out: `POST /api/v1/auth/logout` (it clears the cookie), or `sessions.end(...)` and then
`clear_session_cookie(response, request)`.

The cookie is `__Host-baomi_session` with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain
(ASVS V3.3.1–V3.3.4), and lives as long as the browser keeps it (no Max-Age): the server ends
the session anyway. Browsers refuse `Secure` and the `__Host-` prefix on plain-HTTP loopback
(`http://127.0.0.1:8000`, the demo), so there it is `baomi_session` without Secure. Behind a
TLS-terminating proxy run uvicorn with `--proxy-headers` so that the scheme and host are the
browser's, which the cookie name and the Origin check depend on.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "__Host-baomi_session"
LOOPBACK_COOKIE_NAME = "baomi_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Domain separation: the CSRF token is an HMAC of the session secret under this label.
_CSRF_LABEL = b"baomi csrf token v1"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_plain_loopback(request: Request) -> bool:
    """Plain HTTP to this machine, where browsers refuse Secure cookies and `__Host-`."""
    return request.url.scheme == "http" and (request.url.hostname or "") in LOOPBACK_HOSTS


def cookie_name(request: Request) -> str:
    return LOOPBACK_COOKIE_NAME if is_plain_loopback(request) else COOKIE_NAME


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """Give the browser its session secret in an HttpOnly, SameSite=Lax cookie."""
    response.set_cookie(
        cookie_name(request),
        secret,
        path="/",
        secure=not is_plain_loopback(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Tell the browser to forget its session cookie (same name and attributes)."""
    response.delete_cookie(
        cookie_name(request),
        path="/",
        secure=not is_plain_loopback(request),
        httponly=True,
        samesite="lax",
    )


def session_secret_from(request: Request) -> str | None:
    """The session secret from the cookie, or None.

    Only the name that fits this request is read: on a real site a `baomi_session` cookie
    could have been planted by a sibling subdomain, which `__Host-` rules out.
    """
    return request.cookies.get(cookie_name(request)) or None


def csrf_token_for(secret: str) -> str:
    """The CSRF token of a session: derived from its secret, so nothing is stored."""
    return hmac.new(secret.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_token_matches(secret: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token_for(secret).encode(), presented.encode())


def form_token_ok(request: Request, value: str | None) -> bool:
    """Whether a form's `csrf_token` value belongs to the session cookie of this request."""
    secret = session_secret_from(request)
    return secret is not None and csrf_token_matches(secret, value)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def same_site_origin(request: Request) -> bool:
    """False when the request says it comes from elsewhere than this site.

    `Origin` decides when it names an origin; absent, `Referer` does. `Origin: null` is the
    browser declining to say (it sends that for our own form posts, because our pages carry
    `Referrer-Policy: no-referrer`), so then Fetch Metadata (`Sec-Fetch-Site`) decides if sent.
    Saying nothing is no evidence of an attack: the CSRF token is still required.
    """
    ours = _origin(str(request.base_url))
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return _origin(origin) == ours
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    referer = request.headers.get("referer")
    if origin is None and referer:
        return _origin(referer) == ours
    return True


def csrf_problem(request: Request, secret: str, presented: str | None) -> str | None:
    """Why a cookie-authenticated request fails the CSRF check, or None when it passes."""
    if request.method.upper() in SAFE_METHODS:
        return None
    if not same_site_origin(request):
        return "cross_origin"
    if not presented:
        return "missing_token"
    if not csrf_token_matches(secret, presented):
        return "bad_token"
    return None


async def presented_csrf_token(request: Request) -> str | None:
    """The CSRF token a request carries: the header, else a form's `csrf_token` field.

    A dependency (async, so that reading the form does not block): the form is parsed only
    for an unsafe, header-less, cookie-carrying form request, and Starlette keeps the parsed
    form for the route.
    """
    if header := request.headers.get(CSRF_HEADER):
        return header
    if (
        request.method.upper() in SAFE_METHODS
        or "authorization" in request.headers
        or session_secret_from(request) is None
        or not request.headers.get("content-type", "").lower().startswith(FORM_TYPES)
    ):
        return None
    try:
        value = (await request.form()).get(CSRF_FIELD)
    except (HTTPException, MultiPartException):  # malformed: no token, the check refuses it
        return None
    return value if isinstance(value, str) else None
