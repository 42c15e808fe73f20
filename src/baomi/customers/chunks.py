"""Attachments in fixed chunks: cutting an upload as it streams in, reading one back.

Each chunk is sealed on its own (crypto/envelope.py binds the attachment, its position and
whether it is the last), so a file is never held whole in memory, going in or coming out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, select

from baomi.crypto.envelope import FieldCipher
from baomi.customers.models import attachment_chunks

CHUNK_BYTES = 64 * 1024


def rechunk(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Re-cut an incoming stream into fixed chunks, flagging the last (an empty file is one)."""
    buffer = bytearray()
    for data in chunks:
        buffer += data
        # Strictly more than a chunk: only then is it certain that this chunk is not the last.
        while len(buffer) > CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES]), False
            del buffer[:CHUNK_BYTES]
    yield bytes(buffer), True


def stream(engine: Engine, cipher: FieldCipher, attachment_id: str, count: int) -> Iterator[bytes]:
    for seq in range(count):
        with engine.connect() as conn:
            ct = conn.execute(
                select(attachment_chunks.c.ct).where(
                    attachment_chunks.c.attachment_id == attachment_id,
                    attachment_chunks.c.seq == seq,
                )
            ).scalar_one()
        yield cipher.decrypt_chunk(
            attachment_id=attachment_id, seq=seq, final=seq == count - 1, ciphertext=ct
        )
