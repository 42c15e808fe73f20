"""Additional authenticated data: the unambiguous encoding every sealed value binds to.

Apart from the envelope (crypto/envelope.py) because sealing a TOTP secret or a token needs it
too, and those may not import the module that opens customer data.
"""

from __future__ import annotations

import struct


def encode_aad(*parts: bytes) -> bytes:
    """Join parts unambiguously: each is preceded by its 4-byte big-endian length."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)
