"""Data keys under master keys: make, wrap and rewrap them, never hand an existing one out.

The keystore creates and rotates data keys through this module. Rewrapping unwraps under the old
master version and wraps under the new one in one call, so the plaintext of a stored data key
never leaves crypto/; only the door (customers, through crypto/envelope.py) opens one to read.
"""

from __future__ import annotations

import struct

from baomi.crypto.aad import encode_aad
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KEY_BYTES, KeyProvider, random_key


def new_data_key() -> bytes:
    """Return a fresh random 32-byte data key."""
    return random_key()


def data_key_aad(owner_id: str, version: int) -> bytes:
    """The AAD of a wrapped data key: bound to its owner and master version."""
    return encode_aad(b"baomi:data-key:v1", owner_id.encode("utf-8"), struct.pack(">I", version))


def wrap_data_key(provider: KeyProvider, *, owner_id: str, version: int, data_key: bytes) -> bytes:
    """Wrap a data key under master `version`, bound to its owner and that version."""
    if len(data_key) != KEY_BYTES:
        raise ValueError("a data key must be 32 bytes")
    return provider.wrap(version=version, plaintext=data_key, aad=data_key_aad(owner_id, version))


def rewrap_data_key(
    provider: KeyProvider, *, owner_id: str, version: int, wrapped: bytes, to_version: int
) -> bytes:
    """Rewrap a data key from master `version` to `to_version` (C4.2.2 rotation)."""
    key = provider.unwrap(version=version, wrapped=wrapped, aad=data_key_aad(owner_id, version))
    if len(key) != KEY_BYTES:
        raise DecryptionError("unwrapped data key has the wrong length")
    return wrap_data_key(provider, owner_id=owner_id, version=to_version, data_key=key)
