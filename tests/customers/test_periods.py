"""C2.2: an optional confidentiality period after which a level lapses by itself.

`confidential_until` is the last day (UTC) the level holds; it is set by whoever may edit the
customer and must lie in the future; the lapse job lowers exactly the customers whose period
has ended, to the level their rule names, as the system, and changes nothing when run again.
A period is a scheduled lowering, so it follows the lowering rule: never set when filing, and
set by an edit only together with a raise that it lapses back from.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.customers import service
from baomi.customers.models import customers
from baomi.customers.periods import lapse_confidentiality_periods
from baomi.customers.schemas import CustomerIn, CustomerPatch
from baomi.customers.vault import Vault
from baomi.security.levels import build_levels
from baomi.uow import unit_of_work
from tests.support.api import PROVENANCE, create_customer, login
from tests.support.levels import DEFAULT_LEVELS
from tests.support.org import Org, actor

TODAY = datetime.now(UTC).date()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def test_a_period_is_never_set_when_filing(client: TestClient, engine: Engine) -> None:
    """C2.2: a period set with the record would lower the level it is filed at, unapproved.

    Before: 201 with the period, and the lapse job later lowered the level with nobody's
    approval. Now: 409 `period_requires_approval`, audited, nothing filed.
    """
    headers = login(client, "zhangsan")
    for until in (_day(-1), _day(0)):
        response = client.post(
            "/api/v1/customers",
            json={"name": "过期", "level": "secret", "confidential_until": until, **PROVENANCE},
            headers=headers,
        )
        assert response.status_code == 422, until
        assert response.json()["errors"][0]["field"] == "confidential_until"
    # 普通 has nothing below it to lapse to.
    bottom = client.post(
        "/api/v1/customers",
        json={"name": "普通", "level": "normal", "confidential_until": _day(30), **PROVENANCE},
        headers=headers,
    )
    assert bottom.status_code == 422 and "lapse" in bottom.json()["errors"][0]["message"]
    for level in ("secret", "confidential"):
        refused = client.post(
            "/api/v1/customers",
            json={"name": "定期", "level": level, "confidential_until": _day(30), **PROVENANCE},
            headers=headers,
        )
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "period_requires_approval"
    assert client.get("/api/v1/customers", headers=headers).json()["total"] == 0
    with engine.connect() as conn:
        denied = conn.execute(
            select(audit_events.c.reason, audit_events.c.details).where(
                audit_events.c.action == "customer:create", audit_events.c.decision == "deny"
            )
        ).all()
    assert [(r.reason, r.details["level"]) for r in denied] == [
        ("period_requires_approval", "secret"),
        ("period_requires_approval", "confidential"),
    ]


def test_period_is_extended_and_ended_by_an_editor_but_never_shortened(
    client: TestClient, engine: Engine
) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, level="normal")
    url = f"/api/v1/customers/{created['id']}"
    # Raised with a period that lapses back to where it stood: no approval needed.
    first = client.patch(
        url, json={"level": "secret", "confidential_until": _day(30)}, headers=headers
    )
    assert first.status_code == 200 and first.json()["confidential_until"] == _day(30)
    past = client.patch(url, json={"confidential_until": _day(-3)}, headers=headers)
    assert past.status_code == 422
    later = client.patch(url, json={"confidential_until": _day(90)}, headers=headers)
    assert later.status_code == 200 and later.json()["confidential_until"] == _day(90)
    # C2.2: an earlier end would lower the level without the approval lowering needs.
    sooner = client.patch(url, json={"confidential_until": _day(10)}, headers=headers)
    assert sooner.status_code == 409 and sooner.json()["code"] == "period_requires_approval"
    untouched = client.patch(url, json={"requirements": "扩容"}, headers=headers)
    assert untouched.json()["confidential_until"] == _day(90)
    ended = client.patch(url, json={"confidential_until": None}, headers=headers)
    assert ended.status_code == 200 and ended.json()["confidential_until"] is None
    # A new period on a standing level is a scheduled lowering too.
    again = client.patch(url, json={"confidential_until": _day(5)}, headers=headers)
    assert again.status_code == 409
    # Raising the level with a period that lapses back to where it stood needs no approval.
    raised = client.patch(
        url, json={"level": "confidential", "confidential_until": _day(5)}, headers=headers
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["level"] == "confidential"
    assert raised.json()["confidential_until"] == _day(5)
    # Someone without a relation to the customer may not touch it (C4.2.1).
    outsider = login(client, "zhaoliu")
    refused = client.patch(url, json={"confidential_until": _day(5)}, headers=outsider)
    assert refused.status_code == 404
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.decision, audit_events.c.reason, audit_events.c.details)
            .where(
                audit_events.c.action == "customer:update",
                audit_events.c.customer_id == created["id"],
            )
            .order_by(audit_events.c.id)
        ).all()
    allowed = [(r.details or {}).get("confidential_until") for r in rows if r.decision == "allow"]
    assert allowed == [
        {"from": None, "to": _day(30)},
        {"from": _day(30), "to": _day(90)},
        None,
        {"from": _day(90), "to": None},
        {"from": None, "to": _day(5)},
    ]
    refusals = [r.reason for r in rows if r.decision == "deny"]
    assert refusals == ["period_requires_approval", "period_requires_approval", "no_relation"]


def test_a_raise_may_not_carry_a_period_that_lapses_below_the_old_level() -> None:
    from baomi.customers.periods import schedules_unapproved_lowering

    normal, secret, confidential = (
        DEFAULT_LEVELS.rule_of(c) for c in ("normal", "secret", "confidential")
    )
    day = TODAY + timedelta(days=5)
    assert not schedules_unapproved_lowering(
        DEFAULT_LEVELS, before=secret, after=confidential, old_until=None, new_until=day
    )
    assert schedules_unapproved_lowering(
        DEFAULT_LEVELS, before=secret, after=secret, old_until=None, new_until=day
    )
    assert not schedules_unapproved_lowering(
        DEFAULT_LEVELS, before=secret, after=secret, old_until=day, new_until=None
    )
    # A company whose 机密 lapses straight to 普通: raising 秘密 with a period would end below it.
    straight_down = dataclasses.replace(confidential, lapses_to=normal.code)
    assert schedules_unapproved_lowering(
        DEFAULT_LEVELS, before=secret, after=straight_down, old_until=None, new_until=day
    )


def _file(engine: Engine, vault: Vault, org: Org, level: str, until: int | None, name: str) -> str:
    """A customer at `level` whose period ends in `until` days: filed at the level the period
    lapses to, then raised with the period in one edit (the way that needs no approval)."""
    handler = actor(engine, org, "zhangsan")
    lapses_to = vault.levels.rule_of(level).lapses_to
    start = level if until is None or lapses_to is None else lapses_to
    with unit_of_work(engine) as conn:
        customer_id = service.create(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(name=name, level=start, **PROVENANCE),
        ).id
        if until is not None:
            service.update(
                conn,
                actor=handler,
                ctx=CLI_CONTEXT,
                vault=vault,
                customer_id=customer_id,
                patch=CustomerPatch(level=level, confidential_until=TODAY + timedelta(days=until)),
            )
    return customer_id


def _lapse(engine: Engine, vault: Vault, day: date, at: time = time(0, 0)) -> int:
    with unit_of_work(engine) as conn:
        now = datetime.combine(day, at, tzinfo=UTC)
        return lapse_confidentiality_periods(conn, now=now, vault=vault)


def _state(engine: Engine) -> dict[str, tuple[str, date | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(customers.c.id, customers.c.level, customers.c.confidential_until)
        )
        return {r.id: (r.level, r.confidential_until) for r in rows}


def _lapse_events(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_events)
                .where(audit_events.c.action == "customer:level_lapse")
                .order_by(audit_events.c.id)
            )
        )


def test_lapse_lowers_exactly_the_ended_periods_once(
    engine: Engine, org: Org, vault: Vault
) -> None:
    ends_soon = _file(engine, vault, org, "confidential", 5, "五天机密")
    secret_soon = _file(engine, vault, org, "secret", 5, "五天秘密")
    ends_later = _file(engine, vault, org, "confidential", 10, "十天机密")
    forever = _file(engine, vault, org, "confidential", None, "长期机密")
    withdrawn = _file(engine, vault, org, "secret", 5, "已删除")
    # Out of use (a row from before deleting was refused, or one the destruction procedure took).
    with engine.begin() as conn:
        conn.execute(
            update(customers)
            .where(customers.c.id == withdrawn)
            .values(deleted_at=datetime.now(UTC))
        )
    last_day = TODAY + timedelta(days=5)
    assert _lapse(engine, vault, last_day, time(23, 59, 59)) == 0  # the last day the level holds

    assert _lapse(engine, vault, last_day + timedelta(days=1)) == 2
    state = _state(engine)
    assert state[ends_soon] == ("secret", None)
    assert state[secret_soon] == ("normal", None)
    assert state[ends_later] == ("confidential", TODAY + timedelta(days=10))
    assert state[forever] == ("confidential", None)
    assert state[withdrawn] == ("secret", last_day)
    events = _lapse_events(engine)
    assert {e.customer_id: e.details for e in events} == {
        ends_soon: {
            "from": "confidential",
            "to": "secret",
            "confidential_until": last_day.isoformat(),
        },
        secret_soon: {"from": "secret", "to": "normal", "confidential_until": last_day.isoformat()},
    }
    # The system acts, not a person (C1.3: named as the job in the context).
    assert {(e.actor_id, e.decision, e.reason) for e in events} == {
        (None, "allow", "confidentiality_period_ended")
    }

    assert _lapse(engine, vault, last_day + timedelta(days=1)) == 0  # run twice: nothing more
    assert _state(engine) == state and len(_lapse_events(engine)) == 2
    assert _lapse(engine, vault, TODAY + timedelta(days=11)) == 1
    assert _state(engine)[ends_later] == ("secret", None)


@pytest.fixture
def confidential_lapses_to_normal(vault: Vault) -> Vault:
    """The vault of a company whose levels.toml lapses 机密 straight to 普通."""
    overridden = build_levels(
        ",".join(DEFAULT_LEVELS.enabled), {"confidential": {"lapses_to": "normal"}}
    )
    return Vault.from_provider(vault.provider, levels=overridden)


def test_lapse_goes_where_the_rule_says(
    engine: Engine, org: Org, confidential_lapses_to_normal: Vault
) -> None:
    own = confidential_lapses_to_normal
    customer_id = _file(engine, own, org, "confidential", 1, "一天机密")
    assert _lapse(engine, own, TODAY + timedelta(days=2)) == 1
    assert _state(engine)[customer_id] == ("normal", None)
