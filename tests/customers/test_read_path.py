"""The audited read's shortcuts answer exactly as the long way round (C4.2.1, C4.3.2, C1.3).

The read path works out its field layout once per visibility, builds its response without
pydantic's per-field search, and parses decrypted JSON without whitespace scans
(benchmarks/bench_audited_read.py). Each shortcut is compared here with the plain computation.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.customers.decrypt import _parse
from baomi.customers.fields import FIELDS
from baomi.customers.readout import layout_of, trusted
from baomi.customers.schemas import CustomerOut, DepartmentRef, PersonRef
from baomi.security.policy import Sensitivity
from tests.support.api import create_customer, login
from tests.support.org import Org

NAMES = list(FIELDS)
subsets = st.frozensets(st.sampled_from([*NAMES, "communications"]))


@given(visible=subsets, data=st.data())
def test_layout_is_the_plain_computation(visible: frozenset[str], data: st.DataObject) -> None:
    masked = data.draw(st.frozensets(st.sampled_from(sorted(visible)))) if visible else frozenset()
    layout = layout_of(visible, masked)
    readable = [name for name in FIELDS if name in visible]
    assert list(layout.readable) == readable
    assert list(layout.masked) == sorted(masked & set(readable))
    assert list(layout.withheld) == sorted(set(FIELDS) - visible)
    assert layout_of(frozenset(visible), frozenset(masked)) == layout


def _values() -> dict[str, Any]:
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    return {
        "id": "c-1",
        "level": "secret",
        "level_label": "秘密",
        "handler": PersonRef.model_construct(id="u-1", username="zhangsan", display_name="张三"),
        "department": DepartmentRef.model_construct(id="d-1", name="华东销售部"),
        "source": "展会名片",
        "lawful_basis": "contract",
        "confidential_until": date(2027, 1, 1),
        "created_at": now,
        "updated_at": now,
        "access": "handler",
        "data": {"name": "上海示例", "phones": ["139****5678"]},
        "masked": ["phones"],
        "withheld": ["notes"],
    }


def _state(model: BaseModel) -> tuple[Any, ...]:
    return (
        type(model),
        model.__dict__,
        model.model_fields_set,
        model.__pydantic_extra__,
        model.__pydantic_private__,
        model.model_dump_json(),
    )


def test_trusted_construction_is_model_construct() -> None:
    values = _values()
    fast = trusted(CustomerOut)(**values)
    slow = CustomerOut.model_construct(**values)
    assert fast == slow and _state(fast) == _state(slow)
    assert list(fast.__dict__) == list(CustomerOut.model_fields)
    # Each instance owns its fields set: marking one field set must not touch another model.
    other = trusted(CustomerOut)(**values)
    fast.model_fields_set.discard("id")
    assert "id" in other.model_fields_set
    person = {"id": "u-1", "username": "lisi", "display_name": "李四"}
    assert _state(trusted(PersonRef)(**person)) == _state(PersonRef.model_construct(**person))


class _Aliased(BaseModel):
    value: int = Field(alias="v")
    note: str = "default"


def test_trusted_defers_to_model_construct_where_it_would_differ() -> None:
    values = _values()
    del values["confidential_until"]  # a field left to its default
    fast = trusted(CustomerOut)(**values)
    assert _state(fast) == _state(CustomerOut.model_construct(**values))
    assert fast.confidential_until is None
    assert _state(trusted(_Aliased)(v=1, note="x")) == _state(
        _Aliased.model_construct(v=1, note="x")
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(value=json_values, pad=st.sampled_from(["", " ", "\n", " \t"]))
def test_parse_is_json_loads(value: Any, pad: str) -> None:
    for text in (
        json.dumps(value, ensure_ascii=False, separators=(",", ":")),  # as `seal` writes it
        pad + json.dumps(value) + pad,
    ):
        assert _parse(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["", " ", "[1,", "[1] [2]", "{} x", "nul", "\ufeff[]"])
def test_parse_refuses_what_json_loads_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        _parse(text.encode())
    assert got.value.msg == expected.value.msg


def test_reads_through_the_door_match_the_grant_and_each_is_audited(
    client: TestClient, engine: Engine, org: Org
) -> None:
    """C4.2.1 withheld fields, C4.3.2 masks, C1.3 one audit event per read with its fields."""
    zhangsan, officer = login(client, "zhangsan"), login(client, "baomiyuan")
    created = create_customer(
        client,
        zhangsan,
        level="confidential",
        phones=["13800138000"],
        notes="备注",
        requirements="扩容",
    )
    grant = client.post(
        "/api/v1/grants",
        json={
            "user_id": org.user_ids["zhaoliu"],
            "customer_id": created["id"],
            "fields": ["name", "phones", "requirements"],
            "duration_hours": 2,
            "purpose": "协助跟进",
        },
        headers=officer,
    )
    assert grant.status_code == 201, grant.text
    zhaoliu = login(client, "zhaoliu")
    url = f"/api/v1/customers/{created['id']}"
    first, second = (client.get(url, headers=zhaoliu).json() for _ in range(2))
    assert first == second
    assert first["access"] == "grant"
    assert set(first["data"]) == {"name", "phones", "requirements"}
    assert first["masked"] == ["phones"]  # 机密 masks contacts (C4.3.2)
    assert first["data"]["phones"] == ["138****8000"]
    assert first["withheld"] == sorted(set(FIELDS) - {"name", "phones", "requirements"})
    own = client.get(url, headers=zhangsan).json()
    assert own["access"] == "handler" and own["withheld"] == []
    masked_at_confidential = {Sensitivity.SENSITIVE, Sensitivity.CONTACT}
    assert own["masked"] == sorted(
        name for name, spec in FIELDS.items() if spec.sensitivity in masked_at_confidential
    )
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.actor_id, audit_events.c.fields, audit_events.c.reason)
            .where(
                audit_events.c.action == "customer:read",
                audit_events.c.customer_id == created["id"],
                audit_events.c.decision == "allow",
            )
            .order_by(audit_events.c.id)
        ).all()
    by_zhaoliu = [e for e in events if e.actor_id == org.user_ids["zhaoliu"]]
    assert [(e.fields, e.reason) for e in by_zhaoliu] == [
        (["name", "phones", "requirements"], "grant")
    ] * 2
    assert events[-1].fields == sorted(FIELDS) and events[-1].reason == "handler"
