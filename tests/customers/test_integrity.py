"""Issue 17.3, C5: stored data that fails its integrity check is on record, reported, contained.

Records are tampered with directly in the database, as an attacker with database access (or a
corrupted disk) would: a flipped byte in a field's ciphertext or in a wrapped data key. Every
read that meets one leaves an audit event naming the customer and the part, never a value; the
security officers are told once per record per hour; a list still answers with the other
records and marks the damaged one; 查重 never answers "no such customer" when it cannot know.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.customers import service
from baomi.customers.models import customers
from baomi.customers.vault import Vault
from baomi.keystore.models import data_keys
from baomi.notifications.models import notifications
from baomi.security.purposes import Purpose
from baomi.uow import unit_of_work
from tests.support.api import create_customer, login
from tests.support.clock import FakeClock
from tests.support.org import Org, actor
from tests.web.customers_support import file_customer
from tests.web.forms import browser
from tests.web.forms import login as browser_login

NAMES = ("杭州完好甲公司", "杭州损坏乙公司", "杭州完好丙公司")


def _flip(blob: bytes) -> bytes:
    """The same bytes with the last one changed: what a tampered or corrupted value looks like."""
    return blob[:-1] + bytes([blob[-1] ^ 0x01])


def tamper_field(engine: Engine, customer_id: str, column: str = "name_ct") -> None:
    with unit_of_work(engine) as conn:
        stored = conn.execute(
            select(customers.c[column]).where(customers.c.id == customer_id)
        ).scalar_one()
        conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values({column: _flip(bytes(stored))})
        )


def tamper_wrapped_key(engine: Engine, customer_id: str) -> None:
    with unit_of_work(engine) as conn:
        key_id = conn.execute(
            select(customers.c.data_key_id).where(customers.c.id == customer_id)
        ).scalar_one()
        wrapped = conn.execute(
            select(data_keys.c.wrapped).where(data_keys.c.id == key_id)
        ).scalar_one()
        conn.execute(
            update(data_keys).where(data_keys.c.id == key_id).values(wrapped=_flip(wrapped))
        )


def failures(engine: Engine, customer_id: str) -> list[Any]:
    """The customer:integrity_failure events about one customer, oldest first."""
    with engine.connect() as conn:
        return conn.execute(
            select(audit_events)
            .where(
                audit_events.c.action == "customer:integrity_failure",
                audit_events.c.customer_id == customer_id,
            )
            .order_by(audit_events.c.id)
        ).all()


def notices(engine: Engine, org: Org) -> list[Any]:
    """The integrity notices in the security officer's inbox."""
    with engine.connect() as conn:
        return conn.execute(
            select(notifications).where(
                notifications.c.kind == "integrity_failure",
                notifications.c.user_id == org.user_ids["baomiyuan"],
            )
        ).all()


def _three_customers(client: TestClient) -> tuple[dict[str, str], list[str]]:
    headers = login(client, "zhangsan")
    ids = [
        create_customer(client, headers, name=name, phones=[f"1391234560{i}"])["id"]
        for i, name in enumerate(NAMES)
    ]
    return headers, ids


def test_a_list_answers_200_with_the_readable_records_and_marks_the_damaged_one(
    client: TestClient, engine: Engine, org: Org
) -> None:
    """Issue 17.3: one tampered record made the whole list 500 for its handler and head."""
    headers, ids = _three_customers(client)
    damaged = ids[1]
    tamper_field(engine, damaged, "name_ct")
    for who in (headers, login(client, "wangwu")):  # the handler, then the head of 华东
        listed = client.get("/api/v1/customers", headers=who)
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["total"] == 3
        items = {item["id"]: item for item in body["items"]}
        assert items[damaged]["damaged"] is True and items[damaged]["name"] is None
        readable = [i for i in ids if i != damaged]
        assert sorted(items[i]["name"] for i in readable) == sorted([NAMES[0], NAMES[2]])
        assert not any(items[i]["damaged"] for i in readable)
    # C5 / C1.3: each list that met it is on record, with the field's name and never a value.
    events = failures(engine, damaged)
    assert len(events) == 2
    assert {e.decision for e in events} == {"deny"}
    assert events[0].fields == ["name"]
    assert events[0].details == {"during": "customer:list", "part": "name"}
    assert NAMES[1] not in json.dumps([dict(e._mapping) for e in events], default=str)
    # The officer is told once, not once per list.
    [notice] = notices(engine, org)
    assert notice.params == {
        "customer_id": damaged,
        "field": "name",
        "during": "customer:list",
    }


def test_a_search_shows_the_damaged_record_rather_than_leaving_it_out(
    client: TestClient, engine: Engine
) -> None:
    headers, ids = _three_customers(client)
    tamper_field(engine, ids[1], "name_ct")
    found = client.get("/api/v1/customers", params={"q": "杭州"}, headers=headers)
    assert found.status_code == 200, found.text
    assert {item["id"]: item["damaged"] for item in found.json()["items"]} == {
        ids[0]: False,
        ids[1]: True,
        ids[2]: False,
    }


def test_reading_a_damaged_record_is_refused_on_record_and_told_once_an_hour(
    client: TestClient, engine: Engine, org: Org, clock: FakeClock
) -> None:
    """The error said "the security officer is told"; now an event and a notice say it too."""
    headers, ids = _three_customers(client)
    damaged = ids[0]
    tamper_wrapped_key(engine, damaged)
    for _ in range(3):
        read = client.get(f"/api/v1/customers/{damaged}", headers=headers)
        assert read.status_code == 500
        assert read.headers["content-type"] == "application/problem+json"
        assert read.json()["code"] == "integrity_failure"
    events = failures(engine, damaged)
    assert len(events) == 3  # written after each refused read's rollback
    assert events[0].reason == "data_key_failed_authentication"
    assert events[0].details == {"during": "customer:read", "part": "data_key"}
    assert events[0].actor_id == org.user_ids["zhangsan"]
    assert len(notices(engine, org)) == 1
    # The others still read.
    assert client.get(f"/api/v1/customers/{ids[1]}", headers=headers).status_code == 200
    clock.advance(minutes=61)
    headers = login(client, "zhangsan")
    assert client.get(f"/api/v1/customers/{damaged}", headers=headers).status_code == 500
    assert len(notices(engine, org)) == 2


def test_check_never_answers_no_when_the_candidate_is_damaged(
    client: TestClient, engine: Engine, org: Org
) -> None:
    """C4.1.3: a candidate that cannot be read might be the customer; "no" would be a guess."""
    headers, ids = _three_customers(client)
    damaged = ids[2]
    tamper_field(engine, damaged, "phones_ct")
    checked = client.get(
        "/api/v1/customers/check", params={"phone": "13912345602"}, headers=login(client, "lisi")
    )
    assert checked.status_code == 500, checked.text
    assert checked.json()["code"] == "integrity_failure"
    assert damaged not in checked.text  # 查重 names a handler at most, never a record
    [event] = failures(engine, damaged)
    assert event.details == {"during": "customer:check", "part": "phones"}
    with engine.connect() as conn:
        refused = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "customer:check", audit_events.c.decision == "deny"
            )
        ).scalar_one()
    assert refused == "integrity_failure"
    assert len(notices(engine, org)) == 1
    # Filing it again is refused too: it may already be on file.
    again = client.post(
        "/api/v1/customers",
        json={
            "name": "重复录入",
            "phones": ["13912345602"],
            "source": "测试",
            "lawful_basis": "consent",
        },
        headers=headers,
    )
    assert again.status_code == 500 and again.json()["code"] == "integrity_failure"
    # A phone that no damaged candidate shares is answered as ever.
    fine = client.get("/api/v1/customers/check", params={"phone": "13912345600"}, headers=headers)
    assert fine.status_code == 200 and fine.json()["exists"] is True


def test_a_batch_refuses_the_damaged_record_alone(engine: Engine, vault: Vault, org: Org) -> None:
    ids = [file_customer(engine, vault, org, "zhangsan", name=name) for name in NAMES]
    tamper_field(engine, ids[1], "name_ct")
    who = actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        result = service.read_many(
            conn,
            actor=who,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_ids=ids,
            purpose=Purpose.SUBJECT_ACCESS,
        )
    assert [r.id for r in result.records] == [ids[0], ids[2]]
    assert [(r.customer_id, r.reason.value) for r in result.refused] == [
        (ids[1], "integrity_failure")
    ]
    [event] = failures(engine, ids[1])
    assert event.details == {"during": "customer:read", "part": "name"}
    assert len(notices(engine, org)) == 1


def test_the_list_page_marks_the_damaged_record(
    app: FastAPI, engine: Engine, vault: Vault, org: Org
) -> None:
    ids = [file_customer(engine, vault, org, "zhangsan", name=name) for name in NAMES]
    tamper_field(engine, ids[1], "name_ct")
    with browser(app) as client:
        browser_login(client, "zhangsan")
        page = client.get("/customers")
    assert page.status_code == 200
    assert NAMES[0] in page.text and NAMES[2] in page.text
    assert "已损坏" in page.text  # the marker, in the default language
    assert f'href="/customers/{ids[1]}"' not in page.text
