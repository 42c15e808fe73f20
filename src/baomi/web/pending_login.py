"""The login form's second step (C4.2.4 MFA): carry the first step across, sealed.

The form asks for the password and the one-time code one page apart. When `auth.service.login`
has accepted the password and answered `mfa_required`, the fact "this user's password was right
at time t" travels to the second page inside an AES-256-GCM token that only the server can
open: bound to its purpose, valid for a few minutes, under a key derived (HKDF) from the key
provider's index root key so that every instance of the app can open it. The password itself
never leaves the first request; `auth.service.complete_login` then checks only the code (and
throttling, lockout and the account's state, again).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baomi.crypto.keys import KeyProvider

LIFETIME = timedelta(minutes=5)
_INFO = b"baomi:web-pending-login:v1"
_AAD = b"baomi:web-pending-login"
_FORMAT = b"\x01"


@dataclass(frozen=True, slots=True)
class PendingLogin:
    user_id: str
    username: str
    next: str


def _cipher(provider: KeyProvider) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        provider.index_root_key()
    )
    return AESGCM(key)


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
    nonce = secrets.token_bytes(12)
    sealed = _FORMAT + nonce + _cipher(provider).encrypt(nonce, payload, _AAD)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_token(provider: KeyProvider, token: str, *, now: datetime) -> PendingLogin | None:
    """The first step's answer, or None when the token is forged, damaged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if len(raw) < 1 + 12 + 16 or raw[:1] != _FORMAT:
        return None
    try:
        payload = json.loads(_cipher(provider).decrypt(raw[1:13], raw[13:], _AAD))
    except (InvalidTag, ValueError):
        return None
    if not isinstance(payload, dict) or int(payload.get("e", 0)) <= now.timestamp():
        return None
    return PendingLogin(
        user_id=str(payload["i"]), username=str(payload["u"]), next=str(payload["n"])
    )
