"""People have an optional e-mail address for notification mail (C4.3.1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from baomi import runtime
from baomi.cli.main import app
from baomi.users import service
from tests.notifications.conftest import People
from tests.support.org import Org


def _body(org: Org, **overrides: object) -> dict[str, object]:
    return {
        "username": "zhouba",
        "display_name": "周八",
        "department_id": org.departments["华南销售部"],
        "roles": ["salesperson"],
        **overrides,
    }


def test_the_administrator_adds_a_person_with_an_address(
    client: TestClient, org: Org, people: People
) -> None:
    created = client.post(
        "/api/v1/users", json=_body(org, email="zhouba@example.com"), headers=people["admin"]
    )
    assert created.status_code == 201, created.text
    assert created.json()["user"]["email"] == "zhouba@example.com"
    listed = client.get("/api/v1/users", headers=people["admin"]).json()
    assert {u["username"]: u["email"] for u in listed}["zhouba"] == "zhouba@example.com"
    assert {u["username"]: u["email"] for u in listed}["zhangsan"] is None


def test_a_bad_address_is_refused(client: TestClient, org: Org, people: People) -> None:
    for bad in ("zhouba", "zhou ba@example.com", "a@b", "x@example.com\r\nBcc: y@evil.test"):
        response = client.post("/api/v1/users", json=_body(org, email=bad), headers=people["admin"])
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_failed"


def test_user_add_takes_an_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BAOMI_") and name != "BAOMI_TEST_PG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("BAOMI_HOME", str(tmp_path / "home"))
    runtime.reset()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["init"]).exit_code == 0
        # The first administrator of an installation, added by the OS account (三员分立).
        args = ["user", "add", "root", "--name", "管理员", "--role", "administrator"]
        bad = runner.invoke(app, [*args, "--email", "not an address"])
        assert bad.exit_code == 1 and "--email" in bad.stderr
        added = runner.invoke(app, [*args, "--email", "root@example.com"])
        assert added.exit_code == 0, added.output
        with runtime.get_engine().connect() as conn:
            (person,) = [u for u in service.list_users(conn) if u.username == "root"]
        assert person.email == "root@example.com"
    finally:
        runtime.get_engine().dispose()
        runtime.reset()
