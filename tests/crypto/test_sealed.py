"""Sealed blobs (crypto/sealed.py): one format for the TOTP secret and the pending-login token."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baomi.auth import totp
from baomi.crypto.envelope import encode_aad
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import EnvKeyProvider
from baomi.crypto.sealed import open_blob, seal_blob

PURPOSE = b"baomi:test:v1"


def _independent_seal(provider: EnvKeyProvider, purpose: bytes, plain: bytes, aad: bytes) -> bytes:
    """The layout written before the helper existed: 0x01, nonce, AES-256-GCM under HKDF."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        provider.index_root_key()
    )
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plain, aad)


def test_round_trip_and_layout(env_provider: EnvKeyProvider) -> None:
    blob = seal_blob(env_provider, purpose=PURPOSE, plaintext=b"secret", aad=b"user-1")
    assert blob[:1] == b"\x01" and len(blob) == 1 + 12 + len(b"secret") + 16
    assert open_blob(env_provider, purpose=PURPOSE, blob=blob, aad=b"user-1") == b"secret"


def test_blobs_sealed_in_the_old_layout_still_open(env_provider: EnvKeyProvider) -> None:
    """Stored TOTP secrets and tokens in flight stay readable across the change."""
    old = _independent_seal(env_provider, PURPOSE, b"secret", b"user-1")
    assert open_blob(env_provider, purpose=PURPOSE, blob=old, aad=b"user-1") == b"secret"
    aad = encode_aad(b"baomi:totp-secret", b"\x01", b"user-1")
    stored = _independent_seal(env_provider, b"baomi:totp-secret:v1", b"JBSWY3DPEHPK3PXP", aad)
    assert totp.open_secret(env_provider, user_id="user-1", sealed=stored) == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(("purpose", "aad"), [(b"baomi:other:v1", b"user-1"), (PURPOSE, b"user-2")])
def test_another_purpose_or_place_fails(
    env_provider: EnvKeyProvider, purpose: bytes, aad: bytes
) -> None:
    blob = seal_blob(env_provider, purpose=PURPOSE, plaintext=b"secret", aad=b"user-1")
    with pytest.raises(DecryptionError):
        open_blob(env_provider, purpose=purpose, blob=blob, aad=aad)


def test_tampered_or_malformed_blobs_fail(env_provider: EnvKeyProvider) -> None:
    blob = seal_blob(env_provider, purpose=PURPOSE, plaintext=b"secret", aad=b"a")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad in (flipped, b"\x02" + blob[1:], blob[:28], b""):
        with pytest.raises(DecryptionError):
            open_blob(env_provider, purpose=PURPOSE, blob=bad, aad=b"a")
