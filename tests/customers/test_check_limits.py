"""查重 is held back per person (issue 17.4, C4.1.3, C3.2).

An adversarial test ran 300 lookups in 1.4 s, unthrottled: a departing salesperson with a phone
list mapped customers to their handlers. Now each person has an hourly and a daily limit; past
it 查重 answers 429 `check_rate_limited`, audited, and the person's heads and the security
officers are told once per period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.app import create_app
from baomi.audit.models import audit_events
from baomi.audit.runner import create_log_key
from baomi.audit.settings import AuditSettings
from baomi.config import Settings
from baomi.customers.vault import Vault
from tests.support.api import create_customer, login
from tests.support.org import Org

CHECK = "/api/v1/customers/check"


@pytest.fixture
def limited(
    engine: Engine, vault: Vault, database: tuple[str, Org], tmp_path: Path
) -> Iterator[TestClient]:
    """The test company with 查重 limited to 3 an hour and 5 a day."""
    settings = Settings(home=tmp_path / "home", database_url=database[0])
    create_log_key(AuditSettings(home=settings.home))
    strict = replace(vault, limits=replace(vault.limits, checks_per_hour=3, checks_per_day=5))
    with TestClient(create_app(settings=settings, engine=engine, vault=strict)) as client:
        yield client


def _inbox(client: TestClient, username: str) -> list[dict[str, Any]]:
    page = client.get("/api/v1/notifications", headers=login(client, username)).json()
    return [n for n in page["items"] if n["kind"] == "check_limit_reached"]


def test_checks_past_the_hourly_limit_are_refused_and_the_head_is_told(
    limited: TestClient, engine: Engine
) -> None:
    create_customer(limited, login(limited, "zhaoliu"), phones=["13800138000"])
    zhangsan = login(limited, "zhangsan")
    phones = ["13800138000", "13900139000", "13700137000"]
    for phone in phones:
        answered = limited.get(CHECK, params={"phone": phone}, headers=zhangsan)
        assert answered.status_code == 200, answered.text
    for _ in range(2):
        refused = limited.get(CHECK, params={"phone": "13800138000"}, headers=zhangsan)
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "check_rate_limited"
        assert "handler" not in refused.json()  # nothing of the answer leaks past the limit
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.details)
            .where(audit_events.c.action == "customer:check")
            .order_by(audit_events.c.id)
        ).all()
    assert [(r.decision, r.reason) for r in rows][-2:] == [("deny", "rate_limited")] * 2
    assert rows[-1].details == {"kind": "phone", "period": "hour"}
    # zhangsan's head (华东销售部: wangwu) and the officer are told, once; nobody else.
    for username in ("wangwu", "baomiyuan"):
        told = _inbox(limited, username)
        assert len(told) == 1, username
        assert told[0]["params"] == {
            "username": "zhangsan",
            "display_name": "张三",
            "limit": 3,
            "period": "hour",
        }
        assert "查重次数已达上限" in told[0]["title"]
    for username in ("sunqi", "zhangsan", "lisi"):
        assert _inbox(limited, username) == [], username


def test_the_limit_is_per_person(limited: TestClient) -> None:
    for username in ("zhangsan", "lisi"):
        headers = login(limited, username)
        for _ in range(3):
            answered = limited.get(CHECK, params={"email": "a@example.com"}, headers=headers)
            assert answered.status_code == 200, answered.text
    again = limited.get(CHECK, params={"email": "a@example.com"}, headers=login(limited, "lisi"))
    assert again.status_code == 429


def test_the_default_limits_are_settings() -> None:
    settings = Settings(home=Path("/nonexistent"))
    assert (settings.check_limit_per_hour, settings.check_limit_per_day) == (60, 300)
    with pytest.raises(ValueError):
        Settings(home=Path("/nonexistent"), check_limit_per_hour=0)
