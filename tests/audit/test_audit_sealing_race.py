"""The sealer never leaves a hole (C1.3, issue 18): on PostgreSQL an event whose transaction took
its id before it had a transaction id was once skipped, and `audit verify` then read it as
tampering for good ("event N was inserted into the sealed log").

The race is made deterministic here: a BEFORE INSERT trigger (test-only) holds the inserting
statement after the id default was drawn and before the row, and so the transaction id, exists.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine

from baomi.audit.checkpoint import Ed25519Signer
from baomi.audit.sealing import seal
from baomi.audit.verify import verify
from tests.audit.conftest import add_events

pytestmark = pytest.mark.postgres

# Sleeps only for rows marked by the test, so the sealer's own work is not slowed.
_SLOW_INSERT = """
CREATE FUNCTION test_slow_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.reason = 'slow' THEN PERFORM pg_sleep(1.5); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER test_slow_audit_insert BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION test_slow_audit_insert();
"""


def test_an_event_still_being_inserted_is_waited_for_not_skipped(
    audit_engine: Engine, signer: Ed25519Signer
) -> None:
    if audit_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock already orders ids and commits")
    with audit_engine.begin() as conn:
        conn.exec_driver_sql(_SLOW_INSERT)
    add_events(audit_engine, 3)
    # A read whose only write is its audit event: it draws id 4, then sits in the trigger.
    slow = threading.Thread(target=add_events, args=(audit_engine, 1), kwargs={"reason": "slow"})
    slow.start()
    time.sleep(0.5)
    add_events(audit_engine, 1)  # id 5, committed while id 4 is still on its way
    with audit_engine.begin() as conn:
        sealed = seal(conn, signer, wait_seconds=10)
    slow.join()
    with audit_engine.begin() as conn:
        sealed_after = seal(conn, signer)
    assert sealed is not None
    # Either the sealer waited for event 4 and sealed all five, or it stopped below it.
    assert sealed.size in (3, 5)
    assert sealed.size + (sealed_after.new_leaves if sealed_after else 0) == 5
    with audit_engine.begin() as conn:
        report = verify(conn, signer.verifier)
    assert report.ok, report.problem
