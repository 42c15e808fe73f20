"""Helpers for talking to the API as one of the test company's people."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.org import PASSWORD, TOTP_SECRETS
from tests.support.totp import unused_code


# Per database and person: the last TOTP step sent and the recovery codes spent, because a code
# is accepted once (replays are refused) and a test may log the same person in several times.
def one_time_code(client: TestClient, username: str) -> str | None:
    """A fresh one-time code for a test person with MFA (None for the others)."""
    if username not in TOTP_SECRETS:
        return None
    return unused_code(("api", str(client.app.state.settings.database_url)), username)


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in (with a one-time code when the person has MFA); return the Authorization header."""
    body = {"username": username, "password": password}
    if (otp := one_time_code(client, username)) is not None:
        body["otp"] = otp
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# C4.1.1: every record states its source and lawful basis; the tests' records state these.
PROVENANCE: dict[str, str] = {"source": "测试录入", "lawful_basis": "contract"}


def create_customer(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "测试客户", **PROVENANCE, **fields}
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


NEW_PERSON_PASSWORD = "a-long-passphrase-2026"


def add_person(client: TestClient, **user: Any) -> dict[str, Any]:
    """Add a person the way the company does (三员分立): the administrator invites, the person
    sets NEW_PERSON_PASSWORD with the activation code, the security officer approves the roles.
    Returns the user as the API shows it."""
    invited = client.post("/api/v1/users", json=user, headers=login(client, "admin"))
    assert invited.status_code == 201, invited.text
    body = invited.json()
    activated = client.post(
        "/api/v1/auth/activate",
        json={
            "username": user["username"],
            "code": body["activation_code"],
            "password": NEW_PERSON_PASSWORD,
        },
    )
    assert activated.status_code == 204, activated.text
    if body["pending_change"] is not None:
        approved = client.post(
            f"/api/v1/account-changes/{body['pending_change']['id']}/approve",
            json={},
            headers=login(client, "baomiyuan"),
        )
        assert approved.status_code == 200, approved.text
    person: dict[str, Any] = body["user"]
    return person
