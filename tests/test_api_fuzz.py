"""Schema-driven fuzzing (schemathesis): whatever a client sends, the API never answers 5xx,
and every error it gives is problem+json (RFC 9457)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from baomi.app import create_app
from baomi.config import Settings
from baomi.consent.purposes import DEFAULT_PURPOSES
from tests.support.api import create_customer, login
from tests.support.levels import DEFAULT_LEVELS

# The schema does not depend on the database: take it from an app that is never called (its
# vault stands in with the level rules only, which the app checks against its settings).
_SPEC = create_app(
    settings=Settings(home=Path("/nonexistent")),
    engine=None,
    vault=SimpleNamespace(levels=DEFAULT_LEVELS, purposes=DEFAULT_PURPOSES),  # type: ignore[arg-type]
).openapi()
schema = schemathesis.openapi.from_dict(_SPEC)
_SESSIONS: dict[int, dict[str, str]] = {}


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("BAOMI_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: Any, client: TestClient) -> None:
    # One login per test, not per example: argon2 verification is slow by design.
    headers = _SESSIONS.get(id(client)) or _SESSIONS.setdefault(
        id(client), login(client, "zhangsan")
    )
    # About half the time aim at a real customer, so that deeper code paths are reached.
    params = case.path_parameters or {}
    if "customer_id" in params and len(str(params)) % 2:
        params["customer_id"] = create_customer(client, headers)["id"]
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)  # the API takes no cookies
    if isinstance(kwargs.get("data"), str | bytes):
        kwargs["content"] = kwargs.pop("data")
    response = client.request(**kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert isinstance(response.json()["code"], str)
