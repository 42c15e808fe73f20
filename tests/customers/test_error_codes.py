"""Every validation error names its field and a stable code (issue 11, part 7; C4.1.1).

Clients act on the code, never on the English message, so a code is part of the API: these
tests pin them. Changing one breaks clients (the web UI among them) and needs a new name.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from baomi.customers.schemas import CustomerPatch
from baomi.customers.validation import channel, validated_fields
from baomi.errors import ValidationFailed
from tests.support.api import PROVENANCE, create_customer, login


def _codes(error: ValidationFailed) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in error.extra["errors"]}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"phones": ["12345"]}, ("phones[0]", "phone_invalid")),
        ({"emails": ["x@", "a@b.cn"]}, ("emails[0]", "email_invalid")),
        ({"id_number": "110105194912310021"}, ("id_number", "id_number_invalid")),
        ({"name": "   "}, ("name", "blank")),
        (
            {"contacts": [{"name": "王", "phones": ["1"]}]},
            ("contacts[0].phones[0]", "phone_invalid"),
        ),
        (
            {"contacts": [{"name": "王", "emails": ["nope"]}]},
            ("contacts[0].emails[0]", "email_invalid"),
        ),
        (
            {"purchases": [{"date": "2026-02-30", "item": "x", "amount": "1"}]},
            ("purchases[0].date", "date_invalid"),
        ),
        (
            {"purchases": [{"date": "2026-02-01", "item": "x", "amount": "-1"}]},
            ("purchases[0].amount", "amount_invalid"),
        ),
        (
            {"payment_methods": [{"type": "cheque"}]},
            ("payment_methods[0].type", "payment_type_unknown"),
        ),
        (
            {"payment_methods": [{"type": "bank_card", "account": "1234"}]},
            ("payment_methods[0].account", "bank_card_length"),
        ),
        (
            {"payment_methods": [{"type": "bank_card", "account": "6222021234567890"}]},
            ("payment_methods[0].account", "bank_card_checksum"),
        ),
    ],
)
def test_each_rule_has_its_code(fields: dict[str, Any], expected: tuple[str, str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validated_fields(CustomerPatch.model_validate(fields))
    assert _codes(refused.value) == {expected}


def test_a_channel_has_its_code() -> None:
    with pytest.raises(ValidationFailed) as refused:
        channel("pigeon")
    assert _codes(refused.value) == {("channel", "channel_unknown")}


def test_the_problem_carries_a_code_beside_each_field_and_message(client: TestClient) -> None:
    """RFC 9457: `errors` keeps `field` and `message` and adds `code`."""
    headers = login(client, "zhangsan")
    bad = {
        "name": "坏数据",
        "phones": ["12345"],
        "id_number": "110105194912310021",
        "payment_methods": [{"type": "bank_card", "account": "6222021234567890"}],
        **PROVENANCE,
    }
    response = client.post("/api/v1/customers", json=bad, headers=headers)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert all(set(e) == {"field", "code", "message"} for e in errors)
    assert {(e["field"], e["code"]) for e in errors} == {
        ("phones[0]", "phone_invalid"),
        ("id_number", "id_number_invalid"),
        ("payment_methods[0].account", "bank_card_checksum"),
    }


def test_shape_errors_carry_pydantic_error_types_as_codes(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    typo = client.post(
        "/api/v1/customers", json={"name": "x", "nmae": "typo", **PROVENANCE}, headers=headers
    )
    assert [(e["field"], e["code"]) for e in typo.json()["errors"]] == [("nmae", "extra_forbidden")]
    missing = client.post("/api/v1/customers", json={"name": "x"}, headers=headers)
    assert {(e["field"], e["code"]) for e in missing.json()["errors"]} == {
        ("source", "missing"),
        ("lawful_basis", "missing"),
    }


def test_level_period_and_handler_rules_have_codes(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    unknown = client.post(
        "/api/v1/customers", json={"name": "x", "level": "绝密", **PROVENANCE}, headers=headers
    )
    assert [(e["field"], e["code"]) for e in unknown.json()["errors"]] == [
        ("level", "level_unknown")
    ]
    customer = create_customer(client, headers)
    past = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"confidential_until": "2000-01-01"},
        headers=headers,
    )
    assert [(e["field"], e["code"]) for e in past.json()["errors"]] == [
        ("confidential_until", "period_not_future")
    ]
    lowering = client.post(
        f"/api/v1/customers/{customer['id']}/level-change-requests",
        json={"level": "normal", "reason": "客户已公开"},
        headers=headers,
    )
    assert [(e["field"], e["code"]) for e in lowering.json()["errors"]] == [
        ("level", "level_not_lower")
    ]


def test_duplicate_check_and_reveal_inputs_have_codes(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    check = client.get("/api/v1/customers/check", params={"phone": "12"}, headers=headers)
    assert [(e["field"], e["code"]) for e in check.json()["errors"]] == [("phone", "phone_invalid")]
    both = client.get(
        "/api/v1/customers/check", params={"phone": "1", "email": "a@b.cn"}, headers=headers
    )
    assert [(e["field"], e["code"]) for e in both.json()["errors"]] == [
        ("query", "one_search_term")
    ]
    customer = create_customer(client, headers)
    reveal = client.post(
        f"/api/v1/customers/{customer['id']}/reveal",
        json={
            "fields": ["nope"],
            "purpose": "contract",
            "reason_code": "contract_work",
            "reason": "核对",
        },
        headers=headers,
    )
    assert [(e["field"], e["code"]) for e in reveal.json()["errors"]] == [
        ("fields", "field_unknown")
    ]
