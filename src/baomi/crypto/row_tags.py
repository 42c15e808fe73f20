"""Row tags: a MAC over the columns of a row that decide who may read what (issue 17.5).

Access is decided on plaintext columns (a customer's level, handler and department; a grant's
grantee, customer, fields and window). Anyone who can write the database could change them and
turn a refusal into a full read. A row tag is HMAC-SHA256 over those columns, under a key that
is not in the database (derived with HKDF from the key provider's index root key, which the
master-key rotation leaves alone), checked before the columns are believed: an edited row fails
closed and is reported as tampering, like a ciphertext that fails authentication.

What a tag cannot catch is a whole row put back as it was earlier, tag included (a restored
older row): the sealed audit log records every legitimate change, and that is where such a
rollback shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baomi.crypto.aad import encode_aad

INFO = b"baomi:row-tag:v1"
TAG_BYTES = 32

Part = str | int | date | datetime | Iterable[str] | None


def _encode(part: Part) -> bytes:
    """One column value, typed, so that None, "" and "0" never encode alike."""
    if part is None:
        return b"n"
    if isinstance(part, str):
        return b"s" + part.encode("utf-8")
    if isinstance(part, bool):
        raise TypeError("a row tag part is never a bool")
    if isinstance(part, int):
        return b"i" + str(part).encode("ascii")
    if isinstance(part, datetime):
        # Stored in UTC with microseconds on both databases (db.UTCDateTime).
        return b"t" + part.astimezone(UTC).isoformat(timespec="microseconds").encode("ascii")
    if isinstance(part, date):
        return b"d" + part.isoformat().encode("ascii")
    return b"l" + encode_aad(*(item.encode("utf-8") for item in sorted(part)))


class RowTagger:
    """Computes and checks row tags; the HMAC key is derived once."""

    __slots__ = ("_keyed",)

    def __init__(self, root_key: bytes) -> None:
        if len(root_key) != 32:
            raise ValueError("the index root key must be 32 bytes")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(root_key)
        self._keyed = HMAC(key, hashes.SHA256())

    def __repr__(self) -> str:
        return "RowTagger(<key hidden>)"

    def tag(self, table: str, *parts: Part) -> bytes:
        """The tag of a row of `table` whose deciding columns hold `parts`, in a fixed order."""
        mac = self._keyed.copy()
        mac.update(encode_aad(table.encode("utf-8"), *(_encode(part) for part in parts)))
        return mac.finalize()

    def holds(self, stored: bytes | None, table: str, *parts: Part) -> bool:
        """Whether `stored` is the tag of these columns (a missing tag never holds)."""
        if stored is None or len(stored) != TAG_BYTES:
            return False
        return constant_time.bytes_eq(bytes(stored), self.tag(table, *parts))
