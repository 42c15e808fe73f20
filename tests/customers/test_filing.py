"""Filing and editing a customer: one record per customer (C4.1.3 查重) and a stated source and
lawful basis on every record (C4.1.1). The period rule at filing (C2.2) is in test_periods."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from tests.support.api import PROVENANCE, create_customer, login

CUSTOMERS = "/api/v1/customers"
# zhaoliu's (华南) customer: a company with a credit code, phones, e-mails and a contact.
ON_FILE: dict[str, Any] = {
    "name": "深圳示例电子有限公司",
    "phones": ["13912345678"],
    "emails": ["sales@example.com"],
    "id_number": "91310000MA1FL8TQ36",
    "contacts": [{"name": "王经理", "phones": ["13800138000"], "emails": ["w@example.com"]}],
    "notes": "董事长偏好线下会谈",
}
HANDLER = {"username": "zhaoliu", "department": "华南销售部"}


def _denials(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    audit_events.c.customer_id,
                    audit_events.c.reason,
                    audit_events.c.fields,
                    audit_events.c.details,
                )
                .where(audit_events.c.action == action, audit_events.c.decision == "deny")
                .order_by(audit_events.c.id)
            )
        )


def test_a_customer_already_on_file_is_refused_naming_only_its_handler(
    client: TestClient, engine: Engine
) -> None:
    """C4.1.3: filing runs the company-wide 查重 and refuses a second record of one customer.

    Before: the same phone and credit code filed again by another salesperson gave 201, a second
    record. Now: 409 `duplicate_customer`, which like GET /customers/check names the handler and
    department only, and is audited against the customer whose handler it names.
    """
    existing = create_customer(client, login(client, "zhaoliu"), **ON_FILE)
    zhangsan = login(client, "zhangsan")
    same = {"name": "深圳示例", "phones": ["+86 139 1234 5678"], "id_number": "91310000ma1fl8tq36"}
    refused = client.post(CUSTOMERS, json={**same, **PROVENANCE}, headers=zhangsan)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "duplicate_customer"
    assert problem["handler"] == HANDLER
    assert problem["field"] == "id_number" and problem["kind"] == "id_number"
    # Nothing of the record beyond what 查重 tells: no id, no name, no other value.
    for secret in (existing["id"], ON_FILE["name"], "sales@example.com", "王经理", "董事长"):
        assert secret not in refused.text
    # Any one identifier is enough: a phone, an e-mail (any case), the credit code.
    for body, field in (
        ({"phones": ["13700001111", "139 1234 5678"]}, "phones[1]"),
        ({"emails": ["SALES@example.com"]}, "emails[0]"),
        ({"id_number": "91310000MA1FL8TQ36"}, "id_number"),
    ):
        again = client.post(
            CUSTOMERS, json={"name": "别名", **body, **PROVENANCE}, headers=zhangsan
        )
        assert again.status_code == 409 and again.json()["field"] == field, body
    # The handler is told too, and only about the record on file.
    own = client.post(CUSTOMERS, json={**ON_FILE, **PROVENANCE}, headers=login(client, "zhaoliu"))
    assert own.status_code == 409 and own.json()["handler"] == HANDLER
    assert client.get(CUSTOMERS, headers=zhangsan).json()["total"] == 0
    # A name is not an identifier (two people may share one), nor is a contact's phone.
    namesake = create_customer(
        client,
        zhangsan,
        name=ON_FILE["name"],
        contacts=[{"name": "王经理", "phones": ["13800138000"]}],
    )
    assert namesake["id"] != existing["id"]
    denied = _denials(engine, "customer:create")
    assert len(denied) == 5
    assert {d.customer_id for d in denied} == {existing["id"]}
    assert {d.reason for d in denied} == {"duplicate_customer"}
    assert denied[0].fields == ["id_number"]
    assert denied[0].details == {"kind": "id_number", "duplicate_of": existing["id"]}


def test_an_edit_into_another_customers_identifiers_is_refused(
    client: TestClient, engine: Engine
) -> None:
    """C4.1.3: an edit that would make a record a second copy of another is refused alike."""
    existing = create_customer(client, login(client, "zhaoliu"), **ON_FILE)
    zhangsan = login(client, "zhangsan")
    mine = create_customer(client, zhangsan, phones=["13700001111"], id_number="11010519491231002X")
    url = f"{CUSTOMERS}/{mine['id']}"
    refused = client.patch(url, json={"phones": ["13700001111", "13912345678"]}, headers=zhangsan)
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate_customer"
    assert refused.json()["handler"] == HANDLER and refused.json()["field"] == "phones[1]"
    assert existing["id"] not in refused.text
    # The record's own identifiers are not duplicates of itself.
    kept = client.patch(
        url,
        json={"phones": ["13700001111", "13700002222"], "id_number": "11010519491231002x"},
        headers=zhangsan,
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["data"]["phones"] == ["+8613700001111", "+8613700002222"]
    [denied] = _denials(engine, "customer:update")
    assert denied.customer_id == mine["id"] and denied.reason == "duplicate_customer"
    assert denied.details == {"kind": "phone", "duplicate_of": existing["id"]}


def test_source_and_lawful_basis_are_stated_never_defaulted(client: TestClient) -> None:
    """C4.1.1: each record carries its source and lawful basis, as the filer states them.

    Before: left out, they became "entered by handler" and `contract` without a word. Now: 422
    naming each missing field; a blank source is no source, on filing or on editing.
    """
    headers = login(client, "zhangsan")
    missing = client.post(CUSTOMERS, json={"name": "无来源"}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_failed"
    assert {e["field"] for e in missing.json()["errors"]} == {"source", "lawful_basis"}
    blank = client.post(
        CUSTOMERS,
        json={"name": "空来源", "source": "   ", "lawful_basis": "consent"},
        headers=headers,
    )
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "source"
    unknown = client.post(
        CUSTOMERS, json={"name": "x", "source": "展会", "lawful_basis": "because"}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lawful_basis"
    assert client.get(CUSTOMERS, headers=headers).json()["total"] == 0
    created = create_customer(client, headers, source=" 展会名片 ", lawful_basis="consent")
    assert created["source"] == "展会名片" and created["lawful_basis"] == "consent"
    url = f"{CUSTOMERS}/{created['id']}"
    emptied = client.patch(url, json={"source": ""}, headers=headers)
    assert emptied.status_code == 422 and emptied.json()["errors"][0]["field"] == "source"
    changed = client.patch(url, json={"lawful_basis": "contract"}, headers=headers)
    assert changed.json()["lawful_basis"] == "contract" and changed.json()["source"] == "展会名片"
