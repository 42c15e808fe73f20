"""The web application's envelope: OpenAPI, vendored docs, security headers, problem+json."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.api import login


def test_openapi_lists_the_api(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/auth/login",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/reveal",
        "/api/v1/customers/check",
        "/api/v1/grants",
        "/api/v1/grants/{grant_id}/revoke",
    ):
        assert path in spec["paths"], path


def test_docs_use_only_vendored_assets(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page.text)  # no CDN
    assert "'unsafe-eval'" not in page.headers["content-security-policy"]
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text):
        assert client.get(asset).status_code == 200, asset


def test_security_headers_and_no_store(client: TestClient) -> None:
    response = client.get("/api/v1/customers", headers=login(client, "zhangsan"))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-request-id"]


def test_request_id_is_echoed_into_problems(client: TestClient) -> None:
    response = client.get("/api/v1/customers/x", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-123"
    assert response.headers["x-request-id"] == "trace-123"


def test_nul_in_the_url_is_refused_with_the_envelope(client: TestClient) -> None:
    response = client.get("/api/v1/customers/%00", headers={"X-Request-ID": "nul-1"})
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
    assert response.json()["request_id"] == response.headers["x-request-id"] == "nul-1"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_page_keeps_its_own_content_security_policy(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] != "default-src 'none'; frame-ancestors 'none'"
    assert page.headers["cache-control"] == "no-store"
