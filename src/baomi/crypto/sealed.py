"""Sealed blobs: small secrets that only this server can open (a TOTP secret, a login token).

A blob is a format byte, a random 96-bit nonce, then AES-256-GCM ciphertext and tag. Its key is
derived (HKDF-SHA256) from the key provider's index root key with a purpose label, so every
instance of the app derives the same key, one purpose's key never opens another's blob, and a
master-key rotation never strands a blob (the index root key is not rotated with the master
keys). The AAD says where a blob belongs (its user, its use): a blob copied elsewhere fails.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KeyProvider

FORMAT = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
MIN_LENGTH = len(FORMAT) + _NONCE_BYTES + _TAG_BYTES


def _cipher(provider: KeyProvider, purpose: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        provider.index_root_key()
    )
    return AESGCM(key)


def seal_blob(provider: KeyProvider, *, purpose: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt `plaintext` under the key of `purpose`, bound to `aad`."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return FORMAT + nonce + _cipher(provider, purpose).encrypt(nonce, plaintext, aad)


def open_blob(provider: KeyProvider, *, purpose: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse `seal_blob`; DecryptionError when the blob is malformed, tampered with or moved."""
    if len(blob) < MIN_LENGTH or blob[:1] != FORMAT:
        raise DecryptionError("sealed blob is malformed or of an unknown format")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return _cipher(provider, purpose).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise DecryptionError("sealed blob failed authentication") from None
