"""Key check values: what a key computes from a fixed label, kept beside the data it protects.

check value = HMAC-SHA256(k_check, encode_aad(LABEL, name)), where
k_check = HKDF-SHA256(key, info = LABEL) and `name` says which key it checks ("master:<version>"
or "index"). The database keeps one per key when the key is first used (keystore/checks.py);
a key given later that computes another value is not the key the data was written with, and is
refused by name before anything is read (issue 17). Without it, a wrong master key looked like
tampering on every read, and a wrong index key made 查重 answer "no such customer" (C4.1.3).

The value is a PRF output of a public label: it tells nothing about the key. HKDF keeps it apart
from every other use of the same key (AES-GCM wrapping under a master key; the blind-index and
sealing sub-keys derived from the index root key use labels of their own). The name is bound
in, so version 1's key offered as version 2 fails too.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baomi.crypto.aad import encode_aad

LABEL = b"baomi:key-check:v1"
INDEX = "index"


def master_name(version: int) -> str:
    """The name a master-key version's check value is kept under."""
    return f"master:{version}"


def check_value(key: bytes, name: str) -> bytes:
    """Return the 32-byte check value of `key` under the name it is kept as."""
    sub_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL).derive(key)
    mac = HMAC(sub_key, hashes.SHA256())
    mac.update(encode_aad(LABEL, name.encode("utf-8")))
    return mac.finalize()
