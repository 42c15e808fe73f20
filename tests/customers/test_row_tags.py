"""Issue 17.5 and 17.9 (C4.2.1, C4.2.2, C5): the rows that decide access cannot be edited into
a read, and no field can be rolled back to an older ciphertext.

The attacker here can write the database directly (a DBA, a stolen backup put back): they make
themselves a customer's handler, move it into their department, lower its level, stretch or
forge a grant, or put back yesterday's phone numbers. Each edit must fail closed, reported like
any other tampering (audit event and the officer's inbox), and verification of the rest of the
data must not suffer from it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, update

from baomi import clock
from baomi.audit.context import CLI_CONTEXT
from baomi.customers import service
from baomi.customers.access import load_row
from baomi.customers.models import customers
from baomi.customers.revisions import write_change
from baomi.customers.schemas import CustomerIn, CustomerPatch
from baomi.customers.vault import Vault
from baomi.errors import Conflict
from baomi.grants.models import access_grants
from baomi.ids import new_id
from baomi.security.purposes import Purpose
from baomi.uow import unit_of_work
from tests.customers.test_integrity import failures, notices
from tests.support.api import create_customer, login
from tests.support.org import Org, actor


def _edit(engine: Engine, customer_id: str, **values: Any) -> None:
    with unit_of_work(engine) as conn:
        conn.execute(update(customers).where(customers.c.id == customer_id).values(**values))


def _emergency_grant(
    client: TestClient, officer: dict[str, str], org: Org, customer_id: str
) -> dict[str, Any]:
    """zhaoliu (华南) may read a 华东 customer for two hours, given by the officer."""
    given = client.post(
        "/api/v1/grants",
        headers=officer,
        json={
            "user_id": org.user_ids["zhaoliu"],
            "customer_id": customer_id,
            "duration_hours": 2,
            "purpose": "[handover] 临时接手宁波客户",
        },
    )
    assert given.status_code == 201, given.text
    grant: dict[str, Any] = given.json()
    return grant


def _stored(engine: Engine, customer_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(customers).where(customers.c.id == customer_id)).one()


def test_making_oneself_the_handler_in_the_database_fails_closed(
    client: TestClient, engine: Engine, org: Org, vault: Vault
) -> None:
    """Before: changing handler_id turned a 404 into a full read. Now the read is refused as an
    integrity failure, on record with the part, and the officer is told."""
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波机密甲公司", phones=["13912345670"])
    intruder = login(client, "zhaoliu")  # 华南: no standing on a 华东 customer
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=intruder).status_code == 404

    _edit(
        engine,
        customer["id"],
        handler_id=org.user_ids["zhaoliu"],
        department_id=org.departments["华南销售部"],
    )
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=intruder)
    assert read.status_code == 500, read.text
    assert read.json()["code"] == "integrity_failure"
    assert "宁波" not in read.text and "13912345670" not in read.text
    listed = client.get("/api/v1/customers", headers=intruder).json()
    line = next(item for item in listed["items"] if item["id"] == customer["id"])
    assert line["damaged"] is True and line["name"] is None
    events = failures(engine, customer["id"])
    assert events and {e.reason for e in events} == {"row_tag_mismatch"}
    assert {e.details["part"] for e in events} == {"access_columns"}
    assert notices(engine, org)
    # The batch door refuses it alone, with the same report.
    zhaoliu = actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        batch = service.read_many(
            conn,
            actor=zhaoliu,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_ids=[customer["id"]],
            purpose=Purpose.REPORT,
        )
    assert batch.records == []
    assert [r.reason.value for r in batch.refused] == ["integrity_failure"]


def test_lowering_the_level_in_the_database_fails_closed(
    client: TestClient, engine: Engine, org: Org
) -> None:
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波机密乙公司", level="confidential")
    _edit(engine, customer["id"], level="normal")
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=owner)
    assert read.status_code == 500 and read.json()["code"] == "integrity_failure"
    # Put back as it was, the record reads again: nothing else was harmed.
    _edit(engine, customer["id"], level="confidential")
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=owner).status_code == 200


def test_a_stretched_or_forged_grant_is_refused_and_reported(
    client: TestClient, engine: Engine, org: Org, vault: Vault
) -> None:
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波授权丙公司")
    now = clock.utcnow()
    # A grant nobody approved, inserted with a plausible row (and no valid tag).
    with unit_of_work(engine) as conn:
        conn.execute(
            insert(access_grants).values(
                id=new_id(),
                user_id=org.user_ids["zhaoliu"],
                customer_id=customer["id"],
                fields=None,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=30),
                purpose="伪造",
                created_at=now,
                row_tag=bytes(32),
            )
        )
    intruder = login(client, "zhaoliu")
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=intruder)
    assert read.status_code == 500 and read.json()["code"] == "integrity_failure"
    assert "宁波" not in read.text
    events = failures(engine, customer["id"])
    assert [e.details["part"] for e in events] == ["access_grant"]


def test_a_real_grant_works_and_its_end_cannot_be_moved(
    client: TestClient, engine: Engine, org: Org, vault: Vault
) -> None:
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波授权丁公司")
    officer = login(client, "baomiyuan")
    given = _emergency_grant(client, officer, org, customer["id"])
    grantee = login(client, "zhaoliu")
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=grantee).status_code == 200
    with unit_of_work(engine) as conn:
        conn.execute(
            update(access_grants)
            .where(access_grants.c.id == given["id"])
            .values(ends_at=clock.utcnow() + timedelta(days=365))
        )
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=grantee)
    assert read.status_code == 500 and read.json()["code"] == "integrity_failure"
    # The handler's own reads never weigh grants: they go on.
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=owner).status_code == 200


def test_a_revoked_grant_cannot_be_revived_in_the_database(
    client: TestClient, engine: Engine, org: Org
) -> None:
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波授权戊公司")
    officer = login(client, "baomiyuan")
    grant = _emergency_grant(client, officer, org, customer["id"])
    revoked = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=officer)
    assert revoked.status_code == 200, revoked.text
    grantee = login(client, "zhaoliu")
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=grantee).status_code == 404
    with unit_of_work(engine) as conn:
        conn.execute(
            update(access_grants)
            .where(access_grants.c.id == grant["id"])
            .values(revoked_at=None, revoked_by=None)
        )
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=grantee)
    assert read.status_code == 500 and read.json()["code"] == "integrity_failure"


def test_an_older_ciphertext_of_a_field_put_back_fails(
    client: TestClient, engine: Engine, org: Org
) -> None:
    """Issue 17.9: rolling one field back to an older ciphertext of the same record was
    accepted; the record's revision in every field's AAD refuses it now."""
    owner = login(client, "zhangsan")
    customer = create_customer(client, owner, name="宁波回滚己公司", phones=["13912345671"])
    before = _stored(engine, customer["id"])
    changed = client.patch(
        f"/api/v1/customers/{customer['id']}", headers=owner, json={"phones": ["13912345672"]}
    )
    assert changed.status_code == 200, changed.text
    after = _stored(engine, customer["id"])
    assert after.revision == before.revision + 1
    # Every field moved on with the revision, the unchanged name too.
    assert after.name_ct != before.name_ct and after.phones_ct != before.phones_ct
    _edit(engine, customer["id"], phones_ct=before.phones_ct)
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=owner)
    assert read.status_code == 500 and read.json()["code"] == "integrity_failure"
    assert [e.details["part"] for e in failures(engine, customer["id"])] == ["phones"]
    # Putting back the revision too breaks the row tag instead.
    _edit(engine, customer["id"], revision=before.revision)
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=owner)
    assert read.status_code == 500
    assert failures(engine, customer["id"])[-1].details["part"] == "access_columns"


def test_the_source_is_sealed_and_shown(client: TestClient, engine: Engine) -> None:
    """Issue 17.9: `source` was stored in plaintext; it is sealed with the record now."""
    owner = login(client, "zhangsan")
    customer = create_customer(
        client, owner, name="宁波来源庚公司", source="展会名片：13912345673 王经理"
    )
    stored = _stored(engine, customer["id"])
    assert stored.source == "" and stored.source_ct is not None
    assert b"13912345673" not in bytes(stored.source_ct)
    read = client.get(f"/api/v1/customers/{customer['id']}", headers=owner).json()
    assert read["source"] == "展会名片：13912345673 王经理"
    changed = client.patch(
        f"/api/v1/customers/{customer['id']}", headers=owner, json={"source": "老客户介绍"}
    )
    assert changed.status_code == 200 and changed.json()["source"] == "老客户介绍"


def test_two_edits_racing_on_one_record_do_not_both_pass(
    engine: Engine, org: Org, vault: Vault
) -> None:
    """The old row tag guards each write: an edit made from a stale read is refused (409)."""
    zhangsan = actor(engine, org, "zhangsan")
    with unit_of_work(engine) as conn:
        filed = service.create(
            conn,
            actor=zhangsan,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(
                name="宁波并发辛公司", level="normal", source="测试", lawful_basis="contract"
            ),
        )
    with engine.connect() as conn:
        stale = load_row(conn, filed.id)
    with unit_of_work(engine) as conn:
        service.update(
            conn,
            actor=zhangsan,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=filed.id,
            patch=CustomerPatch(notes="第一次修改"),
        )
    assert stale is not None
    try:
        with unit_of_work(engine) as conn:
            write_change(conn, vault=vault, row=stale, columns={"level": "secret"})
    except Conflict as refused:
        assert refused.code == "customer_changed"
    else:
        raise AssertionError("a write from a stale read passed")
