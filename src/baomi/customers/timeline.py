"""Communication records and their attachments (C2.1 e), through the same door.

Attachments are encrypted in chunks as they arrive and decrypted chunk by chunk as they are sent,
so a file is never held whole in memory; each chunk's AAD binds the attachment, its position and
whether it is the last, so chunks cannot be reordered, dropped or cut short unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.tags import Action
from baomi.crypto.envelope import FieldCipher
from baomi.customers import flags
from baomi.customers.access import audit, authorize
from baomi.customers.chunks import CHUNK_BYTES as CHUNK_BYTES
from baomi.customers.chunks import rechunk, stream
from baomi.customers.decrypt import cipher_for
from baomi.customers.fields import COMMUNICATIONS
from baomi.customers.integrity import guarded
from baomi.customers.models import attachment_chunks, attachments, communications, customers
from baomi.customers.schemas import (
    AttachmentOut,
    CommunicationIn,
    CommunicationOut,
    SensitiveFlag,
)
from baomi.customers.validation import channel as valid_channel
from baomi.customers.vault import Vault
from baomi.errors import NotFound, ValidationFailed
from baomi.ids import new_id
from baomi.security.actor import Actor
from baomi.security.policy import CustomerAction
from baomi.users.queries import people

# Entries show their author's username, read through the organisation's narrow view.
_AUTHOR = people()

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


def add_communication(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    entry: CommunicationIn,
) -> str:
    """Append a timeline entry (handler or head only); return its id."""
    valid_channel(entry.channel)
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.UPDATE,
        tag=Action.COMMUNICATION_ADD,
        customer_id=customer_id,
        now=clock.utcnow(),
    )
    entry_id = new_id()
    with guarded(
        ctx=ctx, actor=actor, vault=vault, during=Action.COMMUNICATION_ADD, customer_id=customer_id
    ):
        cipher = cipher_for(vault.provider, auth.row)
    body = cipher.encrypt(
        table="communications",
        field="body",
        record_id=entry_id,
        plaintext=entry.text.encode(),
        revision=None,  # a communication is never edited: there is no older text to put back
    )
    conn.execute(
        insert(communications).values(
            id=entry_id,
            customer_id=customer_id,
            occurred_at=entry.occurred_at,
            channel=entry.channel,
            author_id=actor.user_id,
            body_ct=body,
            created_at=clock.utcnow(),
        )
    )
    conn.execute(
        update(customers).where(customers.c.id == customer_id).values(updated_at=clock.utcnow())
    )
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.COMMUNICATION_ADD,
        reason=auth.decision.reason.value,
        customer_id=customer_id,
        fields=[COMMUNICATIONS],
        details=_flagged(flags.in_text(flags.TEXT, entry.text)),
    )
    return entry_id


def _flagged(found: list[SensitiveFlag]) -> dict[str, Any] | None:
    """Issue 12: identifiers saved into a text or file, counted by kind for the audit event."""
    return {"sensitive_in": flags.audit_counts(found)} if found else None


def list_communications(
    conn: Connection, *, actor: Actor, ctx: RequestContext, vault: Vault, customer_id: str
) -> list[CommunicationOut]:
    """Return the timeline, newest first, if the actor's access covers communications."""
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.READ,
        tag=Action.CUSTOMER_READ,
        customer_id=customer_id,
        now=clock.utcnow(),
        requested=[COMMUNICATIONS],
    )
    entries = conn.execute(
        select(communications, _AUTHOR.c.username)
        .join(_AUTHOR, _AUTHOR.c.id == communications.c.author_id)
        .where(communications.c.customer_id == customer_id)
        .order_by(communications.c.occurred_at.desc())
    ).all()
    files: dict[str, list[AttachmentOut]] = {}
    with guarded(
        ctx=ctx,
        actor=actor,
        vault=vault,
        during=Action.CUSTOMER_READ,
        customer_id=customer_id,
        part=COMMUNICATIONS,
    ):
        cipher = cipher_for(vault.provider, auth.row)
        for a in conn.execute(
            select(attachments).where(attachments.c.customer_id == customer_id)
        ).all():
            files.setdefault(a.communication_id, []).append(_attachment_out(cipher, a))
        texts = {
            e.id: cipher.decrypt(
                table="communications",
                field="body",
                record_id=e.id,
                ciphertext=e.body_ct,
                revision=None,
            ).decode()
            for e in entries
        }
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_READ,
        reason=auth.decision.reason.value,
        customer_id=customer_id,
        fields=[COMMUNICATIONS],
    )
    return [
        CommunicationOut(
            id=e.id,
            occurred_at=e.occurred_at,
            channel=e.channel,
            author=e.username,
            text=texts[e.id],
            attachments=files.get(e.id, []),
            flags=flags.in_text(flags.TEXT, texts[e.id]),
        )
        for e in entries
    ]


def _attachment_out(cipher: FieldCipher, row: Any) -> AttachmentOut:
    name = cipher.decrypt(
        table="attachments",
        field="filename",
        record_id=row.id,
        ciphertext=row.filename_ct,
        revision=None,
    )
    return AttachmentOut(
        id=row.id,
        filename=json.loads(name),
        content_type=row.content_type,
        size_bytes=row.size_bytes,
    )


def add_attachment(
    conn: Connection,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    communication_id: str,
    filename: str,
    content_type: str,
    chunks: Iterable[bytes],
) -> AttachmentOut:
    """Store a file under a timeline entry, encrypting it chunk by chunk as it streams in."""
    if not filename.strip() or len(filename) > 255:
        raise ValidationFailed(
            [{"field": "filename", "code": "filename_length", "message": "1 to 255 characters"}]
        )
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.UPDATE,
        tag=Action.ATTACHMENT_ADD,
        customer_id=customer_id,
        now=clock.utcnow(),
    )
    entry = conn.execute(
        select(communications.c.id).where(
            communications.c.id == communication_id,
            communications.c.customer_id == customer_id,
        )
    ).first()
    if entry is None:
        raise NotFound("no such communication record for this customer")
    attachment_id = new_id()
    with guarded(
        ctx=ctx, actor=actor, vault=vault, during=Action.ATTACHMENT_ADD, customer_id=customer_id
    ):
        cipher = cipher_for(vault.provider, auth.row)
    size, count = 0, 0
    head = bytearray()  # the beginning of the file, scanned for identifiers once stored
    for seq, (piece, final) in enumerate(rechunk(chunks)):
        size += len(piece)
        if len(head) < flags.SCAN_BYTES:
            head += piece[: flags.SCAN_BYTES - len(head)]
        if size > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed(
                [
                    {
                        "field": "file",
                        "code": "file_too_large",
                        "message": f"at most {MAX_ATTACHMENT_BYTES} bytes",
                    }
                ]
            )
        if seq == 0:
            _insert_attachment_row(
                conn,
                cipher,
                attachment_id,
                filename,
                content_type,
                actor,
                customer_id,
                communication_id,
            )
        ct = cipher.encrypt_chunk(
            attachment_id=attachment_id, seq=seq, final=final, plaintext=piece
        )
        conn.execute(insert(attachment_chunks).values(attachment_id=attachment_id, seq=seq, ct=ct))
        count = seq + 1
    conn.execute(
        update(attachments)
        .where(attachments.c.id == attachment_id)
        .values(size_bytes=size, chunk_count=count)
    )
    found = flags.in_file(bytes(head), filename, complete=size <= flags.SCAN_BYTES)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.ATTACHMENT_ADD,
        reason=auth.decision.reason.value,
        customer_id=customer_id,
        fields=[COMMUNICATIONS],
        details={"attachment_id": attachment_id, "size_bytes": size, **(_flagged(found) or {})},
    )
    return AttachmentOut(
        id=attachment_id,
        filename=filename,
        content_type=content_type,
        size_bytes=size,
        flags=found,
    )


def _insert_attachment_row(
    conn: Connection,
    cipher: FieldCipher,
    attachment_id: str,
    filename: str,
    content_type: str,
    actor: Actor,
    customer_id: str,
    communication_id: str,
) -> None:
    name_ct = cipher.encrypt(
        table="attachments",
        field="filename",
        record_id=attachment_id,
        plaintext=json.dumps(filename, ensure_ascii=False).encode(),
        revision=None,  # an attachment is never renamed
    )
    conn.execute(
        insert(attachments).values(
            id=attachment_id,
            customer_id=customer_id,
            communication_id=communication_id,
            filename_ct=name_ct,
            content_type=content_type[:100] or "application/octet-stream",
            size_bytes=0,
            chunk_count=0,
            created_by=actor.user_id,
            created_at=clock.utcnow(),
        )
    )


@dataclass(frozen=True, slots=True)
class AttachmentDownload:
    meta: AttachmentOut
    chunks: Iterator[bytes]


def open_attachment(
    conn: Connection,
    *,
    engine: Engine,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    customer_id: str,
    attachment_id: str,
) -> AttachmentDownload:
    """Authorize and audit a download; the chunks are then read and decrypted one at a time."""
    auth = authorize(
        conn,
        actor=actor,
        ctx=ctx,
        vault=vault,
        action=CustomerAction.READ,
        tag=Action.ATTACHMENT_DOWNLOAD,
        customer_id=customer_id,
        now=clock.utcnow(),
        requested=[COMMUNICATIONS],
    )
    row = conn.execute(
        select(attachments).where(
            attachments.c.id == attachment_id, attachments.c.customer_id == customer_id
        )
    ).first()
    if row is None:
        raise NotFound("no such attachment")
    # The chunks are opened as they are sent, after this unit of work has committed: a damaged
    # chunk ends the download there (the envelope refuses it), unreported here.
    with guarded(
        ctx=ctx,
        actor=actor,
        vault=vault,
        during=Action.ATTACHMENT_DOWNLOAD,
        customer_id=customer_id,
        part=COMMUNICATIONS,
    ):
        cipher = cipher_for(vault.provider, auth.row)
        meta = _attachment_out(cipher, row)
    audit(
        conn,
        ctx=ctx,
        actor=actor,
        action=Action.ATTACHMENT_DOWNLOAD,
        reason=auth.decision.reason.value,
        customer_id=customer_id,
        fields=[COMMUNICATIONS],
        details={"attachment_id": attachment_id},
    )
    return AttachmentDownload(
        meta=meta,
        chunks=stream(engine, cipher, attachment_id, row.chunk_count),
    )
