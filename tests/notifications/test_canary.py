"""Canary: no customer data in notifications or mail (they are not behind the customer door;
C4.3.2, C4.4.2: customer data never travels by mail).

The customer is created with canary values in every field, and the requester even writes the
customer's name into the purpose (free text is left out of notifications for that reason).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from baomi import clock
from baomi.app import create_app
from baomi.config import Settings
from baomi.customers.models import customers
from baomi.customers.vault import Vault
from baomi.grants import expiry
from baomi.notifications import outbox, triggers
from baomi.notifications.kinds import Kind
from baomi.notifications.models import mail_outbox, notifications
from baomi.subject_requests import reminders
from baomi.uow import unit_of_work
from tests.notifications.conftest import People, Sink
from tests.support.api import create_customer, login
from tests.support.org import Org
from tests.support.org import actor as load_actor


@pytest.fixture
def app(
    engine: Engine,
    vault: Vault,
    database: tuple[str, Org],
    tmp_path: Path,
    mail_settings: Settings,
) -> FastAPI:
    """The app of a company with mail on: its settings are where the services learn it (the
    customer door from its vault, built from the same settings by `baomi serve`)."""
    settings = mail_settings.model_copy(
        update={"home": tmp_path / "home", "database_url": database[0]}
    )
    return create_app(settings=settings, engine=engine, vault=replace(vault, mail=True))


def _canary_customer() -> dict[str, Any]:
    tag = secrets.token_hex(6)
    digits = f"{secrets.randbelow(10**8):08d}"
    return {
        "name": f"金丝雀公司{tag}",
        "level": "secret",
        "contacts": [{"name": f"联系人{tag}", "title": f"职位{tag}", "phones": [], "emails": []}],
        "phones": [f"139{digits}"],
        "emails": [f"canary{tag}@example.com"],
        "address": f"金丝雀路{tag}号",
        "requirements": f"需求{tag}",
        "notes": f"敏感备注{tag}",
    }


def _needles(record: dict[str, Any]) -> list[str]:
    values = [v for v in record.values() if isinstance(v, str) and v != "secret"]
    return [*values, record["contacts"][0]["name"], record["phones"][0], record["emails"][0]]


def test_no_customer_data_in_notifications_or_mail(
    client: TestClient,
    engine: Engine,
    org: Org,
    people: People,
    sink: Sink,
    mail_settings: Settings,
    with_mailboxes: dict[str, str],
) -> None:
    record, other = _canary_customer(), _canary_customer()
    customer = create_customer(client, people["sunqi"], **record)  # 华南: zhouba may ask
    revoked_customer = create_customer(client, people["sunqi"], **other)
    zhouba = login(client, "zhouba")
    filed = client.post(
        "/api/v1/access-requests",
        json={
            "purpose_code": "contract",
            "customer_ids": [customer["id"], revoked_customer["id"]],
            "purpose": f"跟进{record['name']}的续约",
            "duration_hours": 30,
        },
        headers=zhouba,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    # secret: 华南's head (sunqi, the customer's head and zhouba's head alike) approves.
    approved = client.post(f"/api/v1/access-requests/{request_id}/approve", headers=people["sunqi"])
    assert approved.status_code == 200, approved.text
    grants = client.get("/api/v1/grants", headers=people["baomiyuan"]).json()
    (early,) = [g["id"] for g in grants if g["customer_id"] == revoked_customer["id"]]
    revoked = client.post(f"/api/v1/grants/{early}/revoke", headers=people["baomiyuan"])
    assert revoked.status_code == 200
    # An emergency grant (told to the customer's handler and head), a password reset, and an
    # account change (to approve, noticed by the heads concerned, decided): ids and names only.
    emergency = client.post(
        "/api/v1/grants",
        json={
            "user_id": org.user_ids["zhangsan"],
            "customer_id": customer["id"],
            "duration_hours": 2,
            "purpose": f"{record['name']}来电投诉",
        },
        headers=people["baomiyuan"],
    )
    assert emergency.status_code == 201, emergency.text
    reset = client.post(
        f"/api/v1/users/{org.user_ids['lisi']}/reset-password", headers=people["admin"]
    )
    assert reset.status_code == 200
    move = client.put(
        f"/api/v1/users/{org.user_ids['qianba']}/department",
        json={"department_id": org.departments["华南销售部"]},
        headers=people["admin"],
    )
    assert move.status_code == 202, move.text
    decided = client.post(
        f"/api/v1/account-changes/{move.json()['id']}/approve",
        json={"comment": "调岗"},
        headers=people["baomiyuan"],
    )
    assert decided.status_code == 200, decided.text
    # Issue 17: the head reads the canary record after its name was tampered with, and a key
    # rotation passes over its damaged data key: the officers are told ids and a field's name.
    with unit_of_work(engine) as conn:
        name_ct, data_key_id = conn.execute(
            select(customers.c.name_ct, customers.c.data_key_id).where(
                customers.c.id == customer["id"]
            )
        ).one()
        conn.execute(
            update(customers)
            .where(customers.c.id == customer["id"])
            .values(name_ct=name_ct[:-1] + bytes([name_ct[-1] ^ 1]))
        )
    damaged = client.get(f"/api/v1/customers/{customer['id']}", headers=people["sunqi"])
    assert damaged.status_code == 500 and damaged.json()["code"] == "integrity_failure"
    with unit_of_work(engine) as conn:
        triggers.damaged_data_keys(
            conn,
            data_key_ids=[data_key_id],
            owner_ids=[customer["id"]],
            target_version=2,
            now=clock.utcnow(),
            mail=outbox.mail_enabled(mail_settings),
        )
    # Issue 17.4: someone ran 查重 past their limit; their heads and the officers are told who.
    checker = load_actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        triggers.check_limit_reached(
            conn,
            person=checker,
            limit=60,
            period="hour",
            since=clock.utcnow() - timedelta(hours=1),
            now=clock.utcnow(),
            mail=outbox.mail_enabled(mail_settings),
        )
    # Issue 12 item 4: a data-subject request left past its due date (handler and officer).
    asked = client.post(
        "/api/v1/subject-requests",
        json={
            "customer_id": revoked_customer["id"],
            "kind": "access",
            "channel": "phone",
            "identity_method": "known_contact",
            "due_days": 1,
        },
        headers=people["sunqi"],
    )
    assert asked.status_code == 201, asked.text
    ends_at = datetime.fromisoformat(
        client.get(f"/api/v1/access-requests/{request_id}", headers=zhouba).json()["created_at"]
    ) + timedelta(hours=30)
    with unit_of_work(engine) as conn:
        mail = outbox.mail_enabled(mail_settings)
        expiry.remind_expiring(conn, now=ends_at - timedelta(hours=1), mail=mail)
        expiry.notify_expired(conn, now=ends_at + timedelta(minutes=1), mail=mail)
        reminders.remind_overdue(conn, now=ends_at + timedelta(minutes=1), mail=mail)
    outbox.send_due(engine, now=ends_at + timedelta(hours=1), settings=mail_settings)

    with engine.connect() as conn:
        stored = conn.execute(select(notifications)).all()
        queued = conn.execute(select(mail_outbox)).all()
    assert {row.kind for row in stored} == {kind.value for kind in Kind}
    # zhouba's mails: decided, revoked, expiring, expired (sunqi has no address); wujiu's:
    # the account change to approve, the integrity failure, the damaged data key and the 查重
    # limit reached.
    assert len(sink.raw) == 8
    for page in (login(client, "sunqi"), zhouba, people["baomiyuan"]):
        for locale in ("zh_CN", "en"):
            listed = client.get(
                "/api/v1/notifications", params={"locale": locale}, headers=page
            ).text
            for needle in _needles(record) + _needles(other):
                assert needle not in listed
    dump = repr([tuple(r) for r in [*stored, *queued]])
    mails = [m.get_content() + str(m["Subject"]) for m in sink.messages]
    raw = b"".join(sink.raw)
    for needle in _needles(record) + _needles(other):
        assert needle not in dump
        assert not any(needle in text for text in mails)
        assert needle.encode() not in raw
