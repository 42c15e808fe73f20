"""Bringing records from before migration 0014 under row tags and revisions (issue 17.5, 17.9).

The migration adds the columns but holds no keys. `baomi init`, right after it migrated a
database across 0014, runs `seal_legacy_rows` once: every customer's fields are sealed again at
revision 1 (their AAD then binds the revision), its source is sealed and the plaintext column
emptied, and customers and grants get their row tags. Only then: an untagged row met later is
refused as damaged, never tagged on sight, so that clearing a tag in the database cannot get a
tampered row blessed by the next start.

A customer whose data was shredded keeps its ciphertext as it was (nothing can open it) and is
tagged as it stands; one whose data fails authentication is left untagged, named, and refused
like any damaged record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import record
from baomi.audit.tags import Action, Decision
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KeyProvider
from baomi.crypto.row_tags import RowTagger
from baomi.customers import row_tag
from baomi.customers.access import CUSTOMER_ROW
from baomi.customers.decrypt import SOURCE, cipher_for, open_fields
from baomi.customers.models import customers
from baomi.customers.revisions import FIRST_REVISION, SEALED, sealed_at
from baomi.grants import tags as grant_tags
from baomi.keystore.errors import DataKeyShredded

# The schema revision that introduced row tags: a database migrated from below it needs this.
TAGS_REVISION = "0014"
_CHUNK = 500


@dataclass
class Resealed:
    customers: int = 0
    grants: int = 0
    damaged: list[str] = field(default_factory=list)


def needs_sealing(migrated_from: str | None) -> bool:
    """Whether a migration from `migrated_from` crossed the revision that added the tags."""
    return migrated_from is not None and migrated_from < TAGS_REVISION


def seal_legacy_rows(conn: Connection, provider: KeyProvider, ctx: RequestContext) -> Resealed:
    """Seal and tag every untagged customer and grant (see the module); audited, no values."""
    tags = RowTagger(provider.index_root_key())
    done = Resealed()
    # Ids first, rows a chunk at a time: a large company's ciphertexts never sit in memory at once.
    ids = list(conn.execute(select(customers.c.id).where(customers.c.row_tag.is_(None))).scalars())
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for found in conn.execute(CUSTOMER_ROW.where(customers.c.id.in_(chunk))).all():
            _reseal(conn, provider, tags, dict(found._mapping), done)
    done.grants = grant_tags.tag_untagged(conn, tags)
    record(
        conn,
        ctx=ctx,
        actor_id=None,
        actor_username=ctx.operator,
        action=Action.CUSTOMER_RESEAL,
        decision=Decision.ALLOW if not done.damaged else Decision.DENY,
        reason="sealed_for_row_tags" if not done.damaged else "damaged_records_left",
        details={"customers": done.customers, "grants": done.grants, "damaged": done.damaged},
    )
    return done


def _reseal(
    conn: Connection, provider: KeyProvider, tags: RowTagger, row: dict[str, Any], done: Resealed
) -> None:
    """Seal one legacy customer at revision 1 and tag it (or name it, when it is damaged)."""
    changes: dict[str, object] = {}
    try:
        cipher = cipher_for(provider, row)
        present = [name for name in SEALED if name != SOURCE and row[f"{name}_ct"] is not None]
        values = {**open_fields(cipher, row, row["id"], present), SOURCE: row["source"]}
        changes = {
            **sealed_at(cipher, row["id"], values, FIRST_REVISION),
            "revision": FIRST_REVISION,
            "source": "",
        }
    except DataKeyShredded:
        pass  # nothing opens it: tagged as it stands
    except DecryptionError:
        done.damaged.append(row["id"])
        return
    changes["row_tag"] = row_tag.retagged(tags, row, changes)
    conn.execute(update(customers).where(customers.c.id == row["id"]).values(**changes))
    done.customers += 1
