"""What the customer-page tests share: customers filed through the real service, a movable
clock, and reading the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.customers import service
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.uow import unit_of_work
from tests.support.api import PROVENANCE
from tests.support.clock import FakeClock, move_clock
from tests.support.org import Org, actor

# A full record: every kind of C2.1, valid check digits (C4.1.1).
FULL_RECORD: dict[str, Any] = {
    "phones": ["13912345678"],
    "emails": ["sales@example.com"],
    "address": "广州市天河区体育西路 1 号",
    "id_number": "91310000MA1FL8TQ36",
    "contacts": [
        {"name": "王经理", "title": "采购", "phones": ["13800138000"], "emails": ["w@example.com"]}
    ],
    "purchases": [{"date": "2026-01-15", "item": "服务器", "amount": "128000.00"}],
    "contract_terms": "年度框架协议，按季度结算",
    "prices": "单价 32000 元",
    "payment_methods": [{"type": "bank_card", "account": "6222021234567894"}],
    "requirements": "扩容存储",
    "purchase_intent": "第三季度采购",
    "competitor_products": "某竞品 X200",
    "notes": "董事长偏好线下会谈",
    **PROVENANCE,
}


def file_customer(engine: Engine, vault: Vault, org: Org, username: str, **fields: Any) -> str:
    """File a customer as `username` through customers.service; return its id."""
    body = {"name": "测试客户", **PROVENANCE, **fields}
    who = actor(engine, org, username)  # before the unit of work: SQLite has one writer
    with unit_of_work(engine) as conn:
        out = service.create(
            conn,
            actor=who,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn.model_validate(body),
        )
    return out.id


def events(engine: Engine, action: str, **where: Any) -> list[Any]:
    """Audit events of one action tag, oldest first."""
    query = select(audit_events).where(audit_events.c.action == action)
    for column, value in where.items():
        query = query.where(audit_events.c[column] == value)
    with engine.connect() as conn:
        return list(conn.execute(query.order_by(audit_events.c.id)))


@pytest.fixture(name="moved_clock")
def moved_clock_fixture(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Move baomi's notion of now by hand, from the present."""
    return move_clock(monkeypatch, datetime.now(UTC).replace(microsecond=0))
