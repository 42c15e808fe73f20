"""Stored customer data that fails its integrity check: on record, reported, contained (C5).

A field or wrapped data key that fails AES-GCM authentication, or a row whose access-deciding
columns fail their row tag (customers/row_tag.py, grants/tags.py), was tampered with or
corrupted in the database (a wrong key never gets this far: it is refused at start,
customers/keycheck.py).
Every such failure (issue 17):
- is an audit event `customer:integrity_failure` (deny) naming the customer, the part (a field
  name, or "data_key") and the action it interrupted, never a value (C1.3);
- tells the active security officers, in the inbox and by mail when mail is on, at most once per
  record per hour (notifications.triggers.integrity_failure);
- stays with that record: reading it answers 500 `integrity_failure`, a list shows the others
  and marks it `damaged`, a batch refuses it alone, and 查重 never answers "no such customer"
  when a candidate it could not read might be the one (C4.1.3).

A refused read's event and notice are written after its rollback (BaomiError's audit events and
effects, baomi.uow); a read that goes on writes them in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.crypto.errors import DecryptionError
from baomi.customers.decrypt import (
    ACCESS_COLUMNS,
    ACCESS_GRANT,
    DATA_KEY,
    SOURCE,
    DamagedRecord,
)
from baomi.customers.vault import Vault
from baomi.errors import BaomiError
from baomi.notifications import triggers
from baomi.security.actor import Actor


class IntegrityFailure(BaomiError):
    """The record asked for failed its integrity check: nothing of it is shown (C5)."""

    status = 500
    code = "integrity_failure"
    title = "Integrity failure"


DETAIL = (
    "stored data of this customer failed its integrity check (tampered with or corrupted); "
    "the security officer is told"
)


# The parts that are not fields: their events name no field.
_NOT_FIELDS = frozenset({DATA_KEY, ACCESS_COLUMNS, ACCESS_GRANT, SOURCE})


def reason_of(damage: DamagedRecord) -> str:
    """The audit reason of a damage: which kind of check failed."""
    if damage.part == DATA_KEY:
        return "data_key_failed_authentication"
    if damage.part in (ACCESS_COLUMNS, ACCESS_GRANT):
        return "row_tag_mismatch"  # issue 17.5: access-deciding columns edited
    return "ciphertext_failed_authentication"


def damage_details(damage: DamagedRecord, during: Action) -> dict[str, Any]:
    """What an integrity failure's event says besides its reason: the part, during what."""
    return {"during": during.value, "part": damage.part}


def damage_event(
    *, ctx: RequestContext, actor: Actor, damage: DamagedRecord, during: Action
) -> dict[str, Any]:
    """The audit event of one integrity failure: which customer, which part, during what."""
    return actor_event(
        ctx=ctx,
        actor=actor,
        action=Action.CUSTOMER_INTEGRITY_FAILURE,
        allowed=False,
        reason=reason_of(damage),
        customer_id=damage.customer_id,
        fields=None if damage.part in _NOT_FIELDS else [damage.part],
        details=damage_details(damage, during),
    )


def alert(conn: Connection, *, vault: Vault, damage: DamagedRecord, during: Action) -> None:
    """Tell the security officers (rate-limited per record)."""
    triggers.integrity_failure(
        conn,
        customer_id=damage.customer_id,
        field=damage.part,
        during=during.value,
        now=clock.utcnow(),
        mail=vault.mail,
    )


def report(
    conn: Connection,
    *,
    ctx: RequestContext,
    actor: Actor,
    vault: Vault,
    damage: DamagedRecord,
    during: Action,
) -> None:
    """Record and report a damaged record that the work in progress passes over."""
    append(conn, damage_event(ctx=ctx, actor=actor, damage=damage, during=during))
    alert(conn, vault=vault, damage=damage, during=during)


def refusal(
    *,
    ctx: RequestContext,
    actor: Actor,
    vault: Vault,
    damages: list[DamagedRecord],
    during: Action,
    error: BaomiError | None = None,
) -> BaomiError:
    """`error` (by default IntegrityFailure) carrying the events and notices of `damages`, which
    outlive the rollback of the work it refuses."""
    refused = error if error is not None else IntegrityFailure(DETAIL)
    for damage in damages:
        refused.with_audit(damage_event(ctx=ctx, actor=actor, damage=damage, during=during))
        refused.with_effect(partial(alert, vault=vault, damage=damage, during=during))
    return refused


@contextmanager
def guarded(
    *,
    ctx: RequestContext,
    actor: Actor,
    vault: Vault,
    during: Action,
    customer_id: str,
    part: str = DATA_KEY,
) -> Iterator[None]:
    """Turn a failed authentication inside into IntegrityFailure, audited and reported.

    `part` names what failed when the cipher itself does not say (a communication's text).
    """
    try:
        yield
    except DecryptionError as error:
        named = error if isinstance(error, DamagedRecord) else DamagedRecord(customer_id, part)
        raise refusal(ctx=ctx, actor=actor, vault=vault, damages=[named], during=during) from None
