"""The login form's second step (C4.2.4 MFA): carry the first step across, sealed.

The form asks for the password and the one-time code one page apart. When `auth.service.login`
has accepted the password and answered `mfa_required`, the fact "this user's password was right
at time t" travels to the second page inside a sealed blob (crypto/sealed.py: AES-256-GCM) that
only the server can open: bound to its purpose, valid for a few minutes, under a key derived
from the key provider's index root key so that every instance of the app can open it. The
password itself never leaves the first request; `auth.service.complete_login` then checks only
the code (and throttling, lockout and the account's state, again).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KeyProvider
from baomi.crypto.sealed import open_blob, seal_blob

LIFETIME = timedelta(minutes=5)
_PURPOSE = b"baomi:web-pending-login:v1"
_AAD = b"baomi:web-pending-login"


@dataclass(frozen=True, slots=True)
class PendingLogin:
    user_id: str
    username: str
    next: str


def seal(provider: KeyProvider, pending: PendingLogin, *, now: datetime) -> str:
    """The opaque token for the second step's hidden field."""
    payload = json.dumps(
        {
            "i": pending.user_id,
            "u": pending.username,
            "n": pending.next,
            "e": int((now + LIFETIME).timestamp()),
        },
        ensure_ascii=False,
    ).encode()
    sealed = seal_blob(provider, purpose=_PURPOSE, plaintext=payload, aad=_AAD)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_token(provider: KeyProvider, token: str, *, now: datetime) -> PendingLogin | None:
    """The first step's answer, or None when the token is forged, damaged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    try:
        payload = json.loads(open_blob(provider, purpose=_PURPOSE, blob=raw, aad=_AAD))
    except (DecryptionError, ValueError):
        return None
    if not isinstance(payload, dict) or int(payload.get("e", 0)) <= now.timestamp():
        return None
    return PendingLogin(
        user_id=str(payload["i"]), username=str(payload["u"]), next=str(payload["n"])
    )
