"""Migration 0015 carries each customer's filing basis into a consent record, and back.

On both backends: customers filed before consent records existed get one record of the basis
they were filed on, covering what that basis covers by itself (consent/records.py), so that
contract work on them goes on and marketing waits for a consent of its own.
"""

from __future__ import annotations

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select

from baomi.consent.models import consents
from baomi.migrate import alembic_config, upgrade
from tests.support.api import create_customer, login


def test_each_customer_gets_its_filing_basis(client: TestClient, engine: Engine) -> None:
    headers = login(client, "zhangsan")
    filed = {
        create_customer(client, headers, name="老合同客户", lawful_basis="contract")[
            "id"
        ]: "contract",
        create_customer(client, headers, name="老应急客户", lawful_basis="emergency")[
            "id"
        ]: "emergency",
    }
    command.downgrade(alembic_config(engine), "0014")
    assert "consents" not in inspect(engine).get_table_names()
    upgrade(engine)
    with engine.connect() as conn:
        rows = {r.customer_id: r for r in conn.execute(select(consents))}
    assert {cid: rows[cid].basis for cid in filed} == filed
    some = next(iter(filed))
    assert rows[some].purposes == ["contract", "service"]
    assert rows[some].scope == ["identity", "transaction", "needs", "sensitive", "communication"]
    emergency = next(cid for cid, basis in filed.items() if basis == "emergency")
    assert rows[emergency].purposes == []
    assert rows[some].given_at is not None and rows[some].withdrawn_at is None
    # Contract work goes on after the migration; marketing waits for a consent.
    reveal = {"fields": ["name"], "reason_code": "contract_work", "reason": "续签合同"}
    url = f"/api/v1/customers/{some}/reveal"
    ok = client.post(url, json={**reveal, "purpose": "contract"}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert (
        client.post(url, json={**reveal, "purpose": "marketing"}, headers=headers).status_code
        == 403
    )
