"""Schema-driven fuzzing (schemathesis): whatever a client sends, the API never answers 5xx,
and every error it gives is problem+json (RFC 9457)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from baomi.app import create_app
from baomi.config import Settings
from tests.support.api import create_customer, login

# The schema does not depend on the database: take it from an app that is never called.
_SPEC = create_app(
    settings=Settings(home=Path("/nonexistent")), engine=None, vault=None  # type: ignore[arg-type]
).openapi()
schema = schemathesis.openapi.from_dict(_SPEC)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: Any, client: TestClient) -> None:
    headers = login(client, "zhangsan")
    if case.path_parameters and "customer_id" in case.path_parameters:
        # Half the time aim at a real customer, so that deeper code paths are reached.
        if hash(str(case.path_parameters)) % 2:
            case.path_parameters["customer_id"] = create_customer(client, headers)["id"]
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    response = client.request(**kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert isinstance(response.json()["code"], str)
