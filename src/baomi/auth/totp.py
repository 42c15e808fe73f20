"""TOTP (RFC 6238) building blocks: sealing secrets, matching codes to time steps, QR codes.

The secret is a sealed blob (crypto/sealed.py: AES-256-GCM under a key derived from the key
provider's index root key) bound to the user id, so the database alone never yields a usable
secret (C4.2.4, ASVS V6.4), and a master-key rotation never strands one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

from baomi.crypto.aad import encode_aad
from baomi.crypto.keys import KeyProvider
from baomi.crypto.sealed import open_blob, seal_blob

ISSUER = "baomi"
STEP_SECONDS = 30
# One step either side of now is accepted (clock drift), nothing further (ASVS V6.5.5).
WINDOW = 1
RECOVERY_CODES = 10
_PURPOSE = b"baomi:totp-secret:v1"
# Part of every stored secret's AAD since the first release: changing it strands them all.
_AAD_FORMAT = b"\x01"


def _aad(user_id: str) -> bytes:
    return encode_aad(b"baomi:totp-secret", _AAD_FORMAT, user_id.encode())


def seal_secret(provider: KeyProvider, *, user_id: str, secret: str) -> bytes:
    """Encrypt a base32 TOTP secret, bound to its user."""
    return seal_blob(provider, purpose=_PURPOSE, plaintext=secret.encode(), aad=_aad(user_id))


def open_secret(provider: KeyProvider, *, user_id: str, sealed: bytes) -> str:
    """Decrypt a sealed TOTP secret; DecryptionError when it was tampered with or moved."""
    return open_blob(provider, purpose=_PURPOSE, blob=sealed, aad=_aad(user_id)).decode()


def new_secret() -> str:
    """Return a fresh 160-bit base32 secret."""
    return pyotp.random_base32(32)


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, otp: str, *, now: datetime, after: int | None) -> int | None:
    """Return the time step within ±WINDOW whose code is `otp` and that is later than `after`."""
    if not (len(otp) == 6 and otp.isascii() and otp.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Every candidate is compared, in constant time, whatever matched before.
        if hmac.compare_digest(totp.generate_otp(step), otp) and found is None:
            found = step
    if found is None or (after is not None and found <= after):
        return None  # unknown, or already used: a replay (ASVS V6.5.1)
    return found


def code_at(secret: str, step: int) -> str:
    """The code of one time step (demo tools and tests)."""
    return pyotp.TOTP(secret).generate_otp(step)


def otpauth_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Render the provisioning URI as an SVG QR code (no image library needed)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, written as xxxx-xxxx-xxxx-xxxx (base32 lower case)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_hash(code: str) -> str:
    """SHA-256 of the normalised code: enough for 80 random bits (no password to stretch)."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(b"baomi:recovery:" + normal.encode()).hexdigest()
