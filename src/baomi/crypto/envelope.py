"""Envelope encryption: one data key per owner, wrapped by a master key; fields under the data key.

Every ciphertext is AES-256-GCM with a random 96-bit nonce, and its AAD names exactly where it
belongs (table, field, record, data key; or owner and master version for a wrapped key), so a
ciphertext copied anywhere else fails to decrypt instead of showing the wrong customer's data
(C4.2.2 field-level encryption at rest). AAD parts are length-prefixed, so no two different
contexts can encode to the same bytes.

Attachments are streamed in chunks (`CHUNK_SIZE`): `encrypt_stream` / `decrypt_stream` (or the
per-chunk `encrypt_chunk` / `decrypt_chunk`) bind attachment id, sequence number and a
final-chunk flag into each chunk, so reordered, dropped, duplicated or truncated chunks are
detected. Store `seq` with each chunk and the chunk count with the attachment.

This module opens customer data, so only the customers room (the door) imports it; making,
wrapping and rewrapping data keys is crypto/wrapping.py, for the keystore (import contracts
in pyproject.toml).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from baomi.crypto.aad import encode_aad
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KEY_BYTES, KeyProvider
from baomi.crypto.wrapping import data_key_aad

__all__ = ["CHUNK_SIZE", "FORMAT_V1", "FieldCipher", "encode_aad", "unwrap_data_key"]

FORMAT_V1 = 1
CHUNK_SIZE = 64 * 1024
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER = bytes([FORMAT_V1])
_MIN_LEN = 1 + _NONCE_BYTES + _TAG_BYTES


def unwrap_data_key(provider: KeyProvider, *, owner_id: str, version: int, wrapped: bytes) -> bytes:
    """Unwrap a data key; DecryptionError if it was moved to another owner or version."""
    key = provider.unwrap(version=version, wrapped=wrapped, aad=data_key_aad(owner_id, version))
    if len(key) != KEY_BYTES:
        raise DecryptionError("unwrapped data key has the wrong length")
    return key


# The (table, field) part of a field's AAD is the same under every key: encoded once per pair.
_TABLE_FIELD_AAD: dict[tuple[str, str], bytes] = {}


def _table_field_aad(table: str, field: str) -> bytes:
    part = _TABLE_FIELD_AAD.get((table, field))
    if part is None:
        part = encode_aad(table.encode("utf-8"), field.encode("utf-8"))
        if len(_TABLE_FIELD_AAD) < 1024:  # the pairs are the schema's; never let it grow
            _TABLE_FIELD_AAD[(table, field)] = part
    return part


class FieldCipher:
    """Encrypts the fields and attachment chunks of one owner under its data key."""

    __slots__ = ("_aead", "_chunk_prefix", "_field_prefix", "_record_aad", "data_key_id")

    def __init__(self, data_key: bytes, data_key_id: str) -> None:
        if len(data_key) != KEY_BYTES:
            raise ValueError("a data key must be 32 bytes")
        self.data_key_id = data_key_id
        # Built once: a customer read decrypts ~14 fields with the same key.
        self._aead = AESGCM(data_key)
        key_id = data_key_id.encode("utf-8")
        self._field_prefix = encode_aad(b"baomi:field", _HEADER, key_id)
        # ((record id, revision), its encoded AAD part) of the last record: a read opens ~14
        # fields of one. One tuple, replaced whole, so threads sharing a cipher never pair an
        # id with another's.
        self._record_aad: tuple[tuple[str, int | None] | None, bytes] = (None, b"")
        self._chunk_prefix: bytes | None = None  # on first use: most ciphers open fields only

    def __repr__(self) -> str:
        return f"FieldCipher(data_key_id={self.data_key_id!r})"

    def _seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _HEADER + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def _open(self, ciphertext: bytes, aad: bytes) -> bytes:
        if len(ciphertext) < _MIN_LEN or ciphertext[0] != FORMAT_V1:
            raise DecryptionError("ciphertext is malformed or of an unknown format")
        try:
            return self._aead.decrypt(ciphertext[1:13], ciphertext[13:], aad)
        except InvalidTag:
            raise DecryptionError("ciphertext failed authentication") from None

    def _field_aad(self, table: str, field: str, record_id: str, revision: int | None) -> bytes:
        record = self._record_aad
        if record[0] != (record_id, revision):
            parts = [record_id.encode("utf-8")]
            if revision is not None:
                parts.append(struct.pack(">Q", revision))
            record = ((record_id, revision), encode_aad(*parts))
            self._record_aad = record
        return self._field_prefix + _table_field_aad(table, field) + record[1]

    def encrypt(
        self, *, table: str, field: str, record_id: str, plaintext: bytes, revision: int | None
    ) -> bytes:
        """Encrypt one field value, bound to its table, field, record, the record's revision
        and data key. The revision makes an older ciphertext of the same field fail once the
        record has moved on (issue 17.9); None is the binding of records from before it."""
        return self._seal(plaintext, self._field_aad(table, field, record_id, revision))

    def decrypt(
        self, *, table: str, field: str, record_id: str, ciphertext: bytes, revision: int | None
    ) -> bytes:
        """Decrypt one field value; DecryptionError if it was tampered with, moved, or is from
        another revision of the record."""
        return self._open(ciphertext, self._field_aad(table, field, record_id, revision))

    def _chunk_aad(self, attachment_id: str, seq: int, final: bool) -> bytes:
        if self._chunk_prefix is None:
            key_id = self.data_key_id.encode("utf-8")
            self._chunk_prefix = encode_aad(b"baomi:chunk", _HEADER, key_id)
        return self._chunk_prefix + encode_aad(
            attachment_id.encode("utf-8"), struct.pack(">Q?", seq, final)
        )

    def encrypt_chunk(
        self, *, attachment_id: str, seq: int, final: bool, plaintext: bytes
    ) -> bytes:
        """Encrypt chunk `seq` of an attachment; `final` marks the last one."""
        return self._seal(plaintext, self._chunk_aad(attachment_id, seq, final))

    def decrypt_chunk(
        self, *, attachment_id: str, seq: int, final: bool, ciphertext: bytes
    ) -> bytes:
        """Decrypt chunk `seq`; fails if it is out of place or its final flag is wrong."""
        return self._open(ciphertext, self._chunk_aad(attachment_id, seq, final))

    def encrypt_stream(self, *, attachment_id: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Encrypt plaintext chunks in order; always yields at least one (final) chunk."""
        it = iter(chunks)
        current = next(it, b"")
        seq = 0
        for upcoming in it:
            yield self.encrypt_chunk(
                attachment_id=attachment_id, seq=seq, final=False, plaintext=current
            )
            current, seq = upcoming, seq + 1
        yield self.encrypt_chunk(
            attachment_id=attachment_id, seq=seq, final=True, plaintext=current
        )

    def decrypt_stream(self, *, attachment_id: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Decrypt ciphertext chunks in stored order; a missing final chunk raises at the end."""
        it = iter(chunks)
        current = next(it, None)
        if current is None:
            raise DecryptionError("attachment has no chunks")
        seq = 0
        for upcoming in it:
            yield self.decrypt_chunk(
                attachment_id=attachment_id, seq=seq, final=False, ciphertext=current
            )
            current, seq = upcoming, seq + 1
        yield self.decrypt_chunk(
            attachment_id=attachment_id, seq=seq, final=True, ciphertext=current
        )
