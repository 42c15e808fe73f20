"""The reveal limit holds under simultaneous reveals (C4.3.2, issue 18).

Counting a person's reveals of the last hour and then recording the new one used to race on
PostgreSQL: 25 of 60 simultaneous reveals passed a limit of 20. Each reveal now holds its
person's lock (db_locks) from the count to its commit. On SQLite the write lock taken at BEGIN
already ran them one at a time; the test runs on both.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import Engine, func, select

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.customers import service
from baomi.customers.schemas import CustomerIn
from baomi.customers.service import RevealRateLimited
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from tests.support.api import PROVENANCE
from tests.support.org import Org, actor

CTX = RequestContext(request_id="reveal-race", client_addr="test")
LIMIT, ATTEMPTS = 20, 60


def test_simultaneous_reveals_never_pass_the_limit(engine: Engine, org: Org, vault: Vault) -> None:
    limited = replace(vault, limits=replace(vault.limits, per_hour=LIMIT))
    zhangsan = actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        customer = service.create(
            conn,
            actor=zhangsan,
            ctx=CTX,
            vault=limited,
            customer_in=CustomerIn(name="并发客户", notes="备注", **PROVENANCE),
        )
    start = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def reveal() -> None:
        start.wait()
        try:
            with unit_of_work(engine) as conn:
                service.reveal(
                    conn,
                    actor=zhangsan,
                    ctx=CTX,
                    vault=limited,
                    customer_id=customer.id,
                    fields=["notes"],
                    purpose="contract",
                    reason_code="customer_contact",
                    reason="核对",
                )
            outcomes.append("shown")
        except RevealRateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=reveal) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("shown") == LIMIT
    assert outcomes.count("limited") == ATTEMPTS - LIMIT
    with engine.connect() as conn:
        allowed = conn.scalar(
            select(func.count()).where(
                audit_events.c.action == "customer:reveal", audit_events.c.decision == "allow"
            )
        )
    assert allowed == LIMIT
