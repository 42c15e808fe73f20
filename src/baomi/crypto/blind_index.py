"""Keyed, truncated blind indexes for exact lookups over encrypted fields.

index = first L bits of HMAC-SHA256(k_field, normalized value), where
k_field = HKDF-SHA256(index root key, info = "baomi:blind-index:v1:" + field). Per-field keys
mean equal values in two fields do not collide on purpose, and the index root key is separate
from the master keys, so the index never helps anyone decrypt (C4.2.2).

Choosing L (CipherSweet's planning rule). With R values of a field in the table, each index
value is shared by about C = R / 2^L rows (the coincidence count). C must stay >= 2 for the
smallest population we plan for, so that an index value never points at one row by itself;
that bounds L <= log2(R_min / 2). We plan for 10^5..10^6 customers with 1-3 values per field:

    field      values per customer    R_min      log2(R_min/2)   L    candidates at R_max
    name       1                      1.0e5      15.6            15   1e6   / 2^15 ~ 31
    phone      1-3 (1.5 planned)      1.5e5      16.2            16   3e6   / 2^16 ~ 46
    email      0-3 (1 planned)        1.0e5      15.6            15   3e6   / 2^15 ~ 92
    id_number  0-1 (1/2 planned)      5.0e4      14.6            14   1e6   / 2^14 ~ 61

The right-hand column keeps the cost bounded at the top of the range: a lookup decrypts at most
a few dozen candidate values and re-checks them, which every search does anyway, because a
truncated index match is only a candidate. Below the planned population (a demo, a pilot) C < 2
and index values are closer to unique: they still reveal nothing without the index key, but
they do reveal which records share a value, as every blind index does.
L < 32 keeps the value a non-negative int that fits a signed 32-bit column.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO_PREFIX = b"baomi:blind-index:v1:"
DEFAULT_BITS = 15
BITS: dict[str, int] = {"name": 15, "phone": 16, "email": 15, "id_number": 14}


class BlindIndexer:
    """Computes blind-index values; per-field HMAC keys are derived once and cached."""

    __slots__ = ("_hmacs", "_root_key")

    def __init__(self, root_key: bytes) -> None:
        if len(root_key) != 32:
            raise ValueError("the index root key must be 32 bytes")
        self._root_key = root_key
        self._hmacs: dict[str, HMAC] = {}

    def __repr__(self) -> str:
        return "BlindIndexer(<key hidden>)"

    def _keyed(self, field: str) -> HMAC:
        keyed = self._hmacs.get(field)
        if keyed is None:
            field_key = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=INFO_PREFIX + field.encode("utf-8"),
            ).derive(self._root_key)
            keyed = self._hmacs[field] = HMAC(field_key, hashes.SHA256())
        return keyed

    def index(self, field: str, normalized_value: str) -> int:
        """Return the L-bit index of an already normalized value (see baomi.crypto.normalize)."""
        bits = BITS.get(field, DEFAULT_BITS)
        mac = self._keyed(field).copy()
        mac.update(normalized_value.encode("utf-8"))
        return int.from_bytes(mac.finalize()[:4], "big") >> (32 - bits)
