"""Known devices (issue 17.7; C4.2.4 "optional trusted-device registry"): a client that once
logged in to an account with every factor the account has is given a device token, and from
then on nobody else's failed logins hold it back (auth/lockout.py).

A token is a sealed blob (crypto/sealed.py) of when it was issued and a random nonce, bound to
the user's id: it opens for that account only, and only on this installation. Nothing of it is
stored; the database keeps only a device's failures, under the token's digest
(`lockout.device_key`). A token does not log anyone in: it only says "this client has done so
before", so it is neither a credential nor a session.

A browser keeps it in an HttpOnly cookie (`__Host-baomi_device`, `baomi_device` on plain
loopback HTTP, as the session cookie); an API client gets it as `device_token` in the login's
answer and sends it back with its next login.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response

from baomi.auth import browser
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KeyProvider
from baomi.crypto.sealed import open_blob, seal_blob

COOKIE_NAME = "__Host-baomi_device"
LOOPBACK_COOKIE_NAME = "baomi_device"
TOKEN_LENGTH = 200  # the longest token accepted: what `issue` makes is about 100 characters
_PURPOSE = b"baomi:login-device:v1"


def _aad(user_id: str) -> bytes:
    return b"baomi:login-device:" + user_id.encode()


def issue(provider: KeyProvider, *, user_id: str, now: datetime) -> str:
    """A new device token for `user_id`'s client."""
    payload = json.dumps({"t": int(now.timestamp()), "n": secrets.token_hex(8)}).encode()
    sealed = seal_blob(provider, purpose=_PURPOSE, plaintext=payload, aad=_aad(user_id))
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def is_valid(
    provider: KeyProvider, token: str, *, user_id: str, now: datetime, lifetime: timedelta
) -> bool:
    """Whether `token` was issued to `user_id`'s client by this installation, within `lifetime`."""
    if not token or len(token) > TOKEN_LENGTH:
        return False
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(open_blob(provider, purpose=_PURPOSE, blob=raw, aad=_aad(user_id)))
        issued = int(payload["t"])
    except (DecryptionError, ValueError, TypeError, KeyError):
        return False
    return issued <= now.timestamp() < issued + lifetime.total_seconds()


def cookie_name(request: Request) -> str:
    return LOOPBACK_COOKIE_NAME if browser.is_plain_loopback(request) else COOKIE_NAME


def from_cookie(request: Request) -> str | None:
    """The browser's device token, or None."""
    return request.cookies.get(cookie_name(request)) or None


def set_cookie(response: Response, request: Request, token: str, *, lifetime: timedelta) -> None:
    """Keep the device token in the browser: HttpOnly, sent only to this site's own pages."""
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=not browser.is_plain_loopback(request),
        httponly=True,
        samesite="strict",
    )


def keep(
    response: Response,
    request: Request,
    issued: str | None,
    *,
    lifetime: timedelta,
) -> None:
    """Give the browser the token a login issued, unless it holds that one already."""
    if issued is not None and issued != from_cookie(request):
        set_cookie(response, request, issued, lifetime=lifetime)
