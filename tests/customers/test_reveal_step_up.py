"""C4.3.2: a reveal states a reason code and text, both audited; C4.2.4: at levels whose rule
says so (机密 by default) the session must have passed a second factor within the window."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi import clock
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.config import Settings
from baomi.customers import service
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import RevealLimits, Vault
from baomi.errors import BaomiError, ValidationFailed
from baomi.security.actor import Actor
from baomi.uow import unit_of_work
from tests.support.api import PROVENANCE, create_customer, login, one_time_code
from tests.support.clock import FakeClock
from tests.support.org import Org, actor

SECRET_NOTE = "董事长偏好线下会谈"


def _customer(engine: Engine, vault: Vault, handler: Actor, level: str) -> str:
    with unit_of_work(engine) as conn:
        out = service.create(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(name="步进客户", level=level, notes=SECRET_NOTE, **PROVENANCE),
        )
    return out.id


def _reveal(
    engine: Engine,
    vault: Vault,
    who: Actor,
    customer_id: str,
    code: str = "contract_work",
    text: str = "核对合同条款",
) -> dict[str, Any]:
    with unit_of_work(engine) as conn:
        out = service.reveal(
            conn,
            actor=who,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_id=customer_id,
            fields=["notes"],
            purpose="contract",
            reason_code=code,
            reason=text,
        )
    return out.data


def _refusal(engine: Engine, vault: Vault, who: Actor, customer_id: str) -> BaomiError:
    with pytest.raises(BaomiError) as error:
        _reveal(engine, vault, who, customer_id)
    return error.value


def _reveal_events(engine: Engine, customer_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_events)
                .where(
                    audit_events.c.action == "customer:reveal",
                    audit_events.c.customer_id == customer_id,
                )
                .order_by(audit_events.c.id)
            )
        )


def _verified(who: Actor, minutes_ago: float | None) -> Actor:
    at: datetime | None = (
        None if minutes_ago is None else clock.utcnow() - timedelta(minutes=minutes_ago)
    )
    return replace(who, mfa_verified_at=at)


def test_confidential_reveal_needs_a_recent_second_factor(
    engine: Engine, org: Org, vault: Vault
) -> None:
    """Inside the 10-minute window: shown; older or never: `step_up_required`, audited."""
    head = actor(engine, org, "wangwu")  # has MFA; heads the handler's department
    customer_id = _customer(engine, vault, actor(engine, org, "zhangsan"), "confidential")
    assert _reveal(engine, vault, _verified(head, 9), customer_id) == {"notes": SECRET_NOTE}
    for stale in (11, None):
        refused = _refusal(engine, vault, _verified(head, stale), customer_id)
        assert (refused.status, refused.code) == (401, "step_up_required")
        assert refused.extra["step_up_url"] == "/api/v1/auth/step-up"
        assert "insufficient_user_authentication" in refused.headers["WWW-Authenticate"]
    events = _reveal_events(engine, customer_id)
    assert [(e.decision, e.reason) for e in events] == [
        ("allow", "department_head"),
        ("deny", "step_up_required"),
        ("deny", "step_up_required"),
    ]
    assert events[1].details == {"level": "confidential"} and events[1].fields == ["notes"]


def test_without_mfa_enrolled_the_answer_is_enrol_first(
    engine: Engine, org: Org, vault: Vault
) -> None:
    handler = actor(engine, org, "zhangsan")  # a salesperson without MFA
    customer_id = _customer(engine, vault, handler, "confidential")
    refused = _refusal(engine, vault, handler, customer_id)
    assert (refused.status, refused.code) == (403, "mfa_enrolment_required")
    assert [e.reason for e in _reveal_events(engine, customer_id)] == ["mfa_enrolment_required"]


@pytest.mark.parametrize("level", ["normal", "secret"])
def test_lower_levels_need_no_step_up(engine: Engine, org: Org, vault: Vault, level: str) -> None:
    handler = actor(engine, org, "zhangsan")
    customer_id = _customer(engine, vault, handler, level)
    assert handler.mfa_verified_at is None
    assert _reveal(engine, vault, handler, customer_id) == {"notes": SECRET_NOTE}


def test_the_window_is_a_setting(engine: Engine, org: Org, vault: Vault) -> None:
    limits = RevealLimits.from_settings(Settings(step_up_window_minutes=30))
    vault = Vault.from_provider(vault.provider, limits=limits)
    head = actor(engine, org, "wangwu")
    customer_id = _customer(engine, vault, actor(engine, org, "zhangsan"), "confidential")
    assert _reveal(engine, vault, _verified(head, 25), customer_id) == {"notes": SECRET_NOTE}
    assert _refusal(engine, vault, _verified(head, 31), customer_id).code == "step_up_required"


def test_reason_code_and_text_are_checked_and_audited(
    engine: Engine, org: Org, vault: Vault
) -> None:
    handler = actor(engine, org, "zhangsan")
    customer_id = _customer(engine, vault, handler, "secret")
    for code, text, field in (
        ("gossip", "核对合同", "reason_code"),
        ("other", "  x  ", "reason"),
        ("other", "长" * 501, "reason"),
    ):
        with pytest.raises(ValidationFailed) as error:
            _reveal(engine, vault, handler, customer_id, code=code, text=text)
        assert [e["field"] for e in error.value.extra["errors"]] == [field]
    _reveal(engine, vault, handler, customer_id, code="complaint", text="  处理投诉 #123 \n")
    [event] = _reveal_events(engine, customer_id)
    # The person's statement, trimmed; never the revealed value itself.
    assert event.details == {
        "purpose": "contract",
        "reason_code": "complaint",
        "reason_text": "处理投诉 #123",
    }
    assert SECRET_NOTE not in repr(tuple(event))


def _reveal_api(client: TestClient, headers: dict[str, str], customer_id: str, **body: Any) -> Any:
    payload = {
        "fields": ["notes"],
        "purpose": "contract",
        "reason_code": "customer_contact",
        "reason": "回访客户",
        **body,
    }
    return client.post(f"/api/v1/customers/{customer_id}/reveal", json=payload, headers=headers)


def test_reveal_body_through_the_api(client: TestClient, engine: Engine) -> None:
    headers = login(client, "zhangsan")
    created = create_customer(client, headers, level="secret", notes=SECRET_NOTE)
    url = f"/api/v1/customers/{created['id']}/reveal"
    old_body = client.post(url, json={"fields": ["notes"], "reason": "核对"}, headers=headers)
    assert old_body.status_code == 422
    # A body from before reason codes (and purposes, issue 12) names what it lacks.
    assert [e["field"] for e in old_body.json()["errors"]] == ["reason_code", "purpose"]
    for body, field in (
        ({"purpose": "contract", "reason_code": "nope"}, "reason_code"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
    ):
        response = _reveal_api(client, headers, created["id"], **body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field]
    shown = _reveal_api(client, headers, created["id"], reason="  回访客户  ")
    assert shown.status_code == 200 and shown.json()["data"] == {"notes": SECRET_NOTE}
    [event] = _reveal_events(engine, created["id"])
    assert event.details == {
        "purpose": "contract",
        "reason_code": "customer_contact",
        "reason_text": "回访客户",
    }


def test_step_up_through_the_api(client: TestClient, clock: FakeClock) -> None:
    """Log in with a code, reveal; 11 minutes on: step up again (POST /auth/step-up)."""
    head = login(client, "wangwu")  # with a one-time code: the session is verified now
    created = create_customer(client, head, level="confidential", notes=SECRET_NOTE)
    assert _reveal_api(client, head, created["id"]).status_code == 200
    clock.advance(minutes=11)
    refused = _reveal_api(client, head, created["id"])
    assert refused.status_code == 401 and refused.json()["code"] == "step_up_required"
    assert refused.headers["content-type"] == "application/problem+json"
    assert "insufficient_user_authentication" in refused.headers["www-authenticate"]
    # The session is still good for everything else.
    assert client.get(f"/api/v1/customers/{created['id']}", headers=head).status_code == 200
    step_up = client.post(
        "/api/v1/auth/step-up", json={"otp": one_time_code(client, "wangwu")}, headers=head
    )
    assert step_up.status_code == 200, step_up.text
    assert _reveal_api(client, head, created["id"]).status_code == 200
    # A salesperson without MFA is told to enrol first.
    seller = login(client, "zhangsan")
    own = create_customer(client, seller, level="confidential", notes=SECRET_NOTE)
    refused = _reveal_api(client, seller, own["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "mfa_enrolment_required"
