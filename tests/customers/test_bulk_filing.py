"""Bulk filing (issue 12 item 2, C4.1.3): an import's customers through the same door as one.

A customer filed by `create_many` must be the same kind of record as one filed by `create`:
its own data key, fields and source sealed at revision 1, a row tag, blind-index entries, the
filing basis as a consent record and a `customer:create` event; and it reads back through
`service.get` exactly as one filed alone. Values are checked by the validators of `create`;
an invalid one is kept out and named (C4.1.1), never dropped silently.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.consent.models import consents
from baomi.customers import service
from baomi.customers.models import customer_index, customers
from baomi.customers.schemas import CustomerIn, LawfulBasis
from baomi.customers.vault import Vault
from baomi.demo.identifiers import credit_code
from baomi.errors import Forbidden
from baomi.keystore.models import data_keys
from baomi.uow import unit_of_work
from tests.detect.corpus import ID_RETIRED
from tests.support.org import Org, actor

CTX = RequestContext(request_id="test-bulk", client_addr="127.0.0.1")
RECORD: dict[str, Any] = {
    "name": "杭州示例科技有限公司",
    "phones": ["138 0013 8000", "021-6888 9999"],
    "emails": ["Buyer@Example.com"],
    "id_number": credit_code(random.Random(12)),
    "address": "杭州市西湖区文三路 1 号",
    "contacts": [{"name": "陈经理", "title": "采购", "phones": ["13900139000"], "emails": []}],
    "purchases": [{"date": "2025-03-01", "item": "服务器", "amount": "12800.00"}],
    "payment_methods": [{"type": "bank_card", "account": "6222021234567890128"}],
    "requirements": "明年扩容",
    "notes": "老客户",
}
FILING = {"source": "2024 展会名片台账", "lawful_basis": LawfulBasis.CONTRACT}


def _filing(run_id: str = "run-1") -> service.Filing:
    return service.Filing(run_id=run_id, **FILING)  # type: ignore[arg-type]


def test_a_customer_filed_in_bulk_reads_back_like_one_filed_alone(
    engine: Engine, org: Org, vault: Vault
) -> None:
    zhangsan = actor(engine, org, "zhangsan")
    alone_in = {**RECORD, "id_number": credit_code(random.Random(7))}
    bulk_in = {
        **RECORD,
        "name": "杭州示例二号",
        "phones": ["13700137000", "010-6552 9988"],
        "emails": ["b@example.com"],
    }
    bulk_in["contacts"] = [{**RECORD["contacts"][0], "phones": ["13600136000"]}]
    with unit_of_work(engine) as conn:
        alone = service.create(
            conn,
            actor=zhangsan,
            ctx=CTX,
            vault=vault,
            customer_in=CustomerIn(**alone_in, **FILING),
        )
        prepared = service.prepare(bulk_in)
        assert prepared.problems == ()
        [filed] = service.create_many(
            conn, actor=zhangsan, ctx=CTX, vault=vault, filing=_filing(), items=[prepared]
        )
        assert filed.customer_id is not None
        bulk = service.get(
            conn, actor=zhangsan, ctx=CTX, vault=vault, customer_id=filed.customer_id
        )
        rows = {
            row.id: row
            for row in conn.execute(
                select(customers).where(customers.c.id.in_([alone.id, bulk.id]))
            )
        }
        index = dict(
            conn.execute(
                select(customer_index.c.customer_id, func.count()).group_by(
                    customer_index.c.customer_id
                )
            ).all()
        )
        bases = {
            row.customer_id: (row.basis, row.purposes, row.scope, row.taken_by)
            for row in conn.execute(select(consents))
        }
    ignored = {"id", "created_at", "updated_at", "name", "data"}
    assert bulk.model_dump(exclude=ignored) == alone.model_dump(exclude=ignored)
    assert bulk.data["phones"] == ["+8613700137000", "+861065529988"] and bulk.data["emails"] == [
        "b@example.com"
    ]
    assert {
        k: v
        for k, v in bulk.data.items()
        if k not in ("name", "phones", "emails", "contacts", "id_number")
    } == {
        k: v
        for k, v in alone.data.items()
        if k not in ("name", "phones", "emails", "contacts", "id_number")
    }
    for row in rows.values():
        assert row.revision == 1 and row.row_tag is not None and row.source_ct is not None
        assert row.source == "" and row.id_type == "uscc" and row.lawful_basis == "contract"
    assert rows[bulk.id].import_id == "run-1" and rows[alone.id].import_id is None
    assert index[bulk.id] == index[alone.id]
    assert bases[bulk.id] == bases[alone.id]
    with engine.connect() as conn:
        keys = conn.execute(
            select(func.count()).select_from(data_keys).where(data_keys.c.owner_id == bulk.id)
        ).scalar()
        created = conn.execute(
            select(audit_events.c.fields, audit_events.c.reason, audit_events.c.details)
            .where(
                audit_events.c.action == "customer:create",
                audit_events.c.customer_id.in_([alone.id, bulk.id]),
            )
            .order_by(audit_events.c.id)
        ).all()
    assert keys == 1
    assert next(e.fields for e in created) == [e.fields for e in created][1]
    assert created[1].details["import_id"] == "run-1" and created[1].reason == created[0].reason


def test_invalid_values_are_kept_out_and_named_and_a_retired_county_is_valid() -> None:
    """C4.1.1: each value is checked; a bad one is reported, the record keeps the rest."""
    prepared = service.prepare(
        {
            "name": " 张三 ",
            "phones": ["１３８-００１３-８０００", "12345", "138 0013 8000"],
            "emails": ["not-an-email", "z@example.com"],
            "id_number": ID_RETIRED,
            "payment_methods": [{"type": "bank_card", "account": "6222021234567890123"}],
            "purchases": [{"date": "2025-13-01", "item": "服务器", "amount": "12800"}],
            "contacts": [{"name": "", "phones": ["13900139000"]}],
        }
    )
    assert prepared.identity
    assert prepared.values["name"] == "张三"
    assert prepared.values["phones"] == ["+8613800138000"]  # one phone, typed twice
    assert prepared.values["emails"] == ["z@example.com"]
    assert prepared.values["id_number"] == ID_RETIRED and prepared.id_type == "ric"
    assert "payment_methods" not in prepared.values and "purchases" not in prepared.values
    assert [(p.field, p.value, p.code) for p in prepared.problems] == [
        ("phones", "12345", "phone_invalid"),
        ("emails", "not-an-email", "email_invalid"),
        ("contacts.name", "", "blank"),
        ("purchases.date", "2025-13-01", "date_invalid"),
        ("payment_methods.account", "6222021234567890123", "bank_card_checksum"),
    ]
    assert not service.prepare({"name": "  ", "phones": ["13800138000"]}).identity


def test_customers_on_file_are_not_filed_again_and_their_handler_is_named(
    engine: Engine, org: Org, vault: Vault
) -> None:
    """C4.1.3: 查重 for a batch; the answer is what 查重 says, and each refusal is audited."""
    zhaoliu, zhangsan = actor(engine, org, "zhaoliu"), actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        service.create(
            conn,
            actor=zhaoliu,
            ctx=CTX,
            vault=vault,
            customer_in=CustomerIn(name="已有客户", phones=["13912345678"], **FILING),
        )
    items = [
        service.prepare({"name": "新客户甲", "phones": ["139 1234 5678"]}),
        service.prepare({"name": "新客户乙", "phones": ["13512345678"]}),
        service.prepare(
            {"name": "新客户乙(重复)", "emails": ["x@example.com"], "phones": ["13512345678"]}
        ),
    ]
    with unit_of_work(engine) as conn:
        dry = service.find_on_file(conn, actor=zhangsan, ctx=CTX, vault=vault, items=items)
        filed = service.create_many(
            conn, actor=zhangsan, ctx=CTX, vault=vault, filing=_filing("run-2"), items=items
        )
    assert [f.duplicate is not None for f in dry] == [True, False, False]
    assert dry[0].duplicate is not None and dry[0].duplicate.found.handler == {
        "username": "zhaoliu",
        "department": "华南销售部",
    }
    assert filed[0].customer_id is None and filed[0].duplicate is not None
    assert filed[0].duplicate.field == "phones[0]"
    assert filed[1].customer_id is not None
    # The third meets the second, filed in the same batch: handled by zhangsan.
    assert filed[2].duplicate is not None and filed[2].duplicate.found.handler == {
        "username": "zhangsan",
        "department": "华东销售部",
    }
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.reason, audit_events.c.details).where(
                audit_events.c.action == "customer:create", audit_events.c.decision == "deny"
            )
        ).all()
    assert [d.reason for d in denied] == ["duplicate_customer", "duplicate_customer"]


def test_someone_who_may_not_file_so_is_refused_once_and_audited(
    engine: Engine, org: Org, vault: Vault
) -> None:
    """As `create`: a salesperson files customers as their own, not as another department's."""
    zhangsan = actor(engine, org, "zhangsan")
    items = [service.prepare({"name": "客户"})]
    filing = service.Filing(handler_id=org.user_ids["zhaoliu"], run_id="run-3", **FILING)  # type: ignore[arg-type]
    with pytest.raises(Forbidden), unit_of_work(engine) as conn:
        service.create_many(conn, actor=zhangsan, ctx=CTX, vault=vault, filing=filing, items=items)
    with engine.connect() as conn:
        denied = (
            conn.execute(
                select(audit_events.c.reason).where(
                    audit_events.c.action == "customer:create", audit_events.c.decision == "deny"
                )
            )
            .scalars()
            .all()
        )
        filed = conn.execute(select(func.count()).select_from(customers)).scalar()
    assert denied == ["outside_own_scope"] and filed == 0
