"""A crypto-shredded customer (C4.5.1) is left out of lists instead of failing them.

Before: one customer whose data key was shredded turned the whole list of its handler and head
into 410. A destroyed customer is as if it never was: the list shows the others and counts
them alone; reading the shredded one still says it is gone.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.customers.models import customers
from baomi.keystore.service import shred_data_key
from baomi.uow import unit_of_work
from tests.support.api import create_customer, login


def test_a_list_leaves_out_a_shredded_customer(client: TestClient, engine: Engine) -> None:
    headers = login(client, "zhangsan")
    kept = create_customer(client, headers, name="留存甲公司")
    gone = create_customer(client, headers, name="销毁乙公司")
    with unit_of_work(engine) as conn:
        key_id = conn.execute(
            select(customers.c.data_key_id).where(customers.c.id == gone["id"])
        ).scalar_one()
        shred_data_key(conn, data_key_id=key_id)
    for who in (headers, login(client, "wangwu")):  # the handler, then the head of 华东
        listed = client.get("/api/v1/customers", headers=who)
        assert listed.status_code == 200, listed.text
        ids = [item["id"] for item in listed.json()["items"]]
        assert kept["id"] in ids and gone["id"] not in ids
        assert listed.json()["total"] == len(ids)
        searched = client.get("/api/v1/customers", params={"q": "公司"}, headers=who)
        assert searched.status_code == 200 and gone["id"] not in searched.text
    assert client.get(f"/api/v1/customers/{gone['id']}", headers=headers).status_code == 410
