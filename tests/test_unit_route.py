"""One-hop API routes (api/unit.py): the same checks as FastAPI's dependencies, in one thread.

What must hold besides the speed (benchmarks/bench_http.py): the endpoints that take the
request's connection and actor become units; a caller the route refuses gets the refusal, not
a 422 that would describe the route; the OpenAPI document is what the endpoints declare (no
parameters of the unit's own, the bearer scheme kept); and a public route resolves no actor.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient

from baomi.api.unit import UnitRoute
from baomi.auth.api import router as auth_router
from baomi.customers.api import router as customers_router
from tests.support.api import login


def _route(router: APIRouter, path: str, method: str) -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in route.methods:
            return route
    raise AssertionError(f"no route {method} {path}")


def test_the_api_endpoints_with_a_unit_of_work_run_as_one_hop() -> None:
    read = _route(customers_router, "/api/v1/customers/{customer_id}", "GET")
    assert isinstance(read, UnitRoute) and read.unit is not None and read.unit.needs_actor
    login_route = _route(auth_router, "/api/v1/auth/login", "POST")
    assert isinstance(login_route, UnitRoute)
    assert login_route.unit is None or not login_route.unit.needs_actor


def test_the_openapi_document_shows_only_the_endpoints_own_parameters(
    client: TestClient,
) -> None:
    spec: dict[str, Any] = client.get("/api/openapi.json").json()
    read = spec["paths"]["/api/v1/customers/{customer_id}"]["get"]
    assert [p["name"] for p in read["parameters"]] == ["customer_id"]
    assert read["security"] == [{"HTTPBearer": []}]
    assert read["operationId"].startswith("get_customer")
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert not [n for n in names if n.startswith("unit_")], path


def test_an_unauthenticated_caller_gets_401_not_the_routes_shape(client: TestClient) -> None:
    refused = client.post("/api/v1/customers", json={"nonsense": True})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_bad_body_from_a_permitted_caller_is_422(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    refused = client.post("/api/v1/customers", headers=headers, json={"nonsense": True})
    assert refused.status_code == 422


def test_a_salesperson_without_the_permission_is_refused_before_validation(
    client: TestClient,
) -> None:
    headers = login(client, "zhangsan")
    # POST /grants takes the officer's permission; the body is wrong too: the 403 comes first.
    refused = client.post("/api/v1/grants", headers=headers, json={"nonsense": True})
    assert refused.status_code == 403
