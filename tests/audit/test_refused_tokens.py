"""Refusals a stranger can cause are on record, without letting them flood it (issue 17.9, C1.3).

Before this fix a request with a made-up bearer token was answered 401 and left no trace."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from baomi.audit.models import audit_events
from baomi.audit.throttle import RefusalSampler
from tests.support.api import login


def _refusals(engine: Engine, action: str) -> list[tuple[str, dict[str, object] | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.reason, audit_events.c.details)
            .where(audit_events.c.action == action, audit_events.c.decision == "deny")
            .order_by(audit_events.c.id)
        ).all()
    return [(r.reason, r.details) for r in rows]


def test_an_unknown_token_is_on_record_sampled(client: TestClient, engine: Engine) -> None:
    made_up = {"Authorization": "Bearer not-a-session-of-ours"}
    for _ in range(15):
        refused = client.get("/api/v1/customers", headers=made_up)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    recorded = _refusals(engine, "auth:token_refused")
    # The first ten from one address, one by one; the rest only counted (see the sampler).
    assert len(recorded) == 10
    assert recorded[0] == (
        "invalid_token",
        {"kind": "api", "method": "GET", "path": "/api/v1/customers"},
    )
    # The token itself is never written down.
    assert "not-a-session-of-ours" not in str(recorded)


def test_a_role_refusal_over_the_api_is_on_record(client: TestClient, engine: Engine) -> None:
    refused = client.get("/api/v1/users", headers=login(client, "zhangsan"))
    assert refused.status_code == 403
    reasons = [reason for reason, _ in _refusals(engine, "api:call")]
    assert reasons == ["role_lacks_permission"]


def test_role_refusals_are_sampled_per_person(client: TestClient, engine: Engine) -> None:
    """A script looping over a forbidden route: ten on record, the rest counted in the next."""
    headers = login(client, "zhangsan")
    for _ in range(14):
        assert client.get("/api/v1/users", headers=headers).status_code == 403
    recorded = _refusals(engine, "api:call")
    assert len(recorded) == 10
    assert {reason for reason, _ in recorded} == {"role_lacks_permission"}
    assert all("suppressed" not in (details or {}) for _, details in recorded)
    # Another person has a window of their own.
    assert client.get("/api/v1/users", headers=login(client, "lisi")).status_code == 403
    assert len(_refusals(engine, "api:call")) == 11


def test_the_sampler_carries_what_it_left_out_into_the_next_window() -> None:
    now = [0.0]
    sampler = RefusalSampler(burst=2, window_seconds=60, monotonic=lambda: now[0])
    assert [sampler.admit("10.0.0.1") for _ in range(5)] == [0, 0, None, None, None]
    assert sampler.admit("10.0.0.2") == 0  # another address has its own window
    now[0] = 61.0
    assert sampler.admit("10.0.0.1") == 3  # the next one recorded says how many were left out
    assert sampler.admit("10.0.0.1") == 0


def test_the_sampler_memory_is_bounded() -> None:
    sampler = RefusalSampler(burst=1, window_seconds=60, max_sources=100, monotonic=lambda: 0.0)
    for n in range(1000):
        assert sampler.admit(f"10.0.{n // 256}.{n % 256}") == 0
    assert len(sampler._windows) <= 100
