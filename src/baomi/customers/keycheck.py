"""Refuse a wrong key at start, by name: the master keys through the keystore, the index key here.

The index key writes nothing the keystore can check it against: only the blind indexes in
`customer_index`, which only the customers room may read and recompute. So an index key with no
check value on record yet (a database from before issue 17) is proven here: the indexed fields
of a few customers are opened (with the master keys, proven first), their blind indexes
recomputed and compared with the stored ones; the values never leave this module, and the
customers opened are named in the audit event of the start. An index with no entries yet has
nothing to be wrong about: the key is recorded as it is.

`enforce_keys` runs at `baomi init`, `serve` and `demo`; `inspect_keys(open_records=False)` is
`baomi doctor`'s read-only view (it opens no customer, so an index key not on record yet is
"run `baomi init`" there).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from baomi.audit.context import RequestContext
from baomi.audit.service import event, record
from baomi.audit.tags import Action, Decision
from baomi.crypto.blind_index import BlindIndexer
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keycheck import INDEX, check_value
from baomi.crypto.keys import KeyProvider
from baomi.customers.access import load_row
from baomi.customers.decrypt import cipher_for, open_fields
from baomi.customers.fields import FIELDS
from baomi.customers.models import customer_index, customers
from baomi.customers.vault import index_rows
from baomi.keystore import checks
from baomi.keystore.checks import Finding, KeyCheck
from baomi.keystore.errors import DataKeyShredded

# Customers whose blind indexes are recomputed to prove an index key: every stored entry of a
# customer must come out again. A wrong key reproduces one 14-16 bit entry by chance about once
# in 2^14 tries, so agreement on whole customers, and no disagreement, is proof enough.
PROOF_CUSTOMERS = 3
_INDEXED = [name for name, spec in FIELDS.items() if spec.index] + ["contacts"]


def check_index_key(conn: Connection, provider: KeyProvider, *, open_records: bool) -> KeyCheck:
    """Compare the index key with its check value, or prove it (`open_records`); read-only."""
    value = check_value(provider.index_root_key(), INDEX)
    found = checks.compare(INDEX, value, checks.recorded(conn))
    if found is not None:
        return found
    candidates: list[str] = list(
        conn.execute(
            select(customer_index.c.customer_id)
            .join(customers, customers.c.id == customer_index.c.customer_id)
            .where(customers.c.deleted_at.is_(None))
            .group_by(customer_index.c.customer_id)
            .order_by(customer_index.c.customer_id)
            .limit(PROOF_CUSTOMERS * 3)  # room for damaged or shredded ones, skipped
        ).scalars()
    )
    if not candidates:
        return KeyCheck(INDEX, Finding.FIRST_USE, "no blind index written yet", value)
    if not open_records:
        return KeyCheck(
            INDEX,
            Finding.UNPROVEN,
            "no check value on record yet: `baomi init` proves the key against stored blind "
            "indexes and records it",
            value,
        )
    return _prove_index(conn, provider, value, candidates)


def _prove_index(
    conn: Connection, provider: KeyProvider, value: bytes, candidates: list[str]
) -> KeyCheck:
    indexer = BlindIndexer(provider.index_root_key())
    held: list[str] = []
    failed: list[str] = []
    for customer_id in candidates:
        if len(held) + len(failed) == PROOF_CUSTOMERS:
            break
        row = load_row(conn, customer_id)
        if row is None:
            continue
        try:
            values = open_fields(cipher_for(provider, row), row, customer_id, _INDEXED)
        except (DecryptionError, DataKeyShredded):
            continue  # damaged or destroyed: proves nothing either way
        stored = {
            (field, value)
            for field, value in conn.execute(
                select(customer_index.c.field, customer_index.c.value).where(
                    customer_index.c.customer_id == customer_id
                )
            )
        }
        again = {(r["field"], r["value"]) for r in index_rows(indexer, customer_id, values)}
        (held if stored <= again else failed).append(customer_id)
    if held and not failed:
        detail = f"reproduces the blind indexes of {len(held)} customers"
        return KeyCheck(INDEX, Finding.PROVEN, detail, value, tuple(held))
    if failed and not held:
        return KeyCheck(
            INDEX,
            Finding.DIFFERS,
            "the index key does not match the key this database was written with (it does not "
            f"reproduce the blind indexes of the {len(failed)} customers tried)",
            value,
        )
    return KeyCheck(
        INDEX,
        Finding.UNPROVEN,
        f"cannot be proven: of the customers tried, {len(held)} agree and {len(failed)} do not "
        "(damaged records?)",
        value,
    )


def inspect_keys(conn: Connection, provider: KeyProvider, *, open_records: bool) -> list[KeyCheck]:
    """Every master version on record and the index key against their check values."""
    return [
        *checks.check_master_keys(conn, provider),
        check_index_key(conn, provider, open_records=open_records),
    ]


def enforce_keys(conn: Connection, provider: KeyProvider, *, ctx: RequestContext) -> list[KeyCheck]:
    """Refuse a wrong key by name (KeyMismatch, audited); record the values proven by now.

    A key left UNPROVEN is neither refused nor recorded: the caller says so (its check stays ✗
    in `baomi doctor` until a start can prove it).
    """
    masters = checks.check_master_keys(conn, provider)
    # Records open only with the right master keys: with a wrong one, the index is left unproven.
    sound = all(c.finding is not Finding.DIFFERS for c in masters)
    found = [*masters, check_index_key(conn, provider, open_records=sound)]
    refusal = checks.mismatch(found)
    if refusal is not None:
        raise refusal.with_audit(
            event(
                ctx=ctx,
                actor_id=None,
                actor_username=ctx.operator,
                action=Action.KEY_CHECK,
                decision=Decision.DENY,
                reason=refusal.code,
                details={"keys": refusal.extra["keys"]},
            )
        )
    names = checks.record(conn, found)
    if names:
        proofs: dict[str, Any] = {c.name: list(c.witnesses) for c in found if c.witnesses}
        record(
            conn,
            ctx=ctx,
            actor_id=None,
            actor_username=ctx.operator,
            action=Action.KEY_CHECK,
            decision=Decision.ALLOW,
            reason="check_values_recorded",
            # Ids of the data keys and customers that proved a key: never a value.
            details={"recorded": names, "proven_by": proofs},
        )
    return found
