"""C2.2: one configuration of per-level rules, its defaults, a company's override file, and the
errors a bad file gets; the policy, routing and the API read the rules from there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baomi.access.catalog import ACCESS, LEVEL_CHANGE
from baomi.access.routing import OFFICER, Slot, SlotRole, route
from baomi.app import create_app
from baomi.config import Settings
from baomi.crypto.keys import KeyProvider
from baomi.customers.fields import FIELDS
from baomi.customers.vault import Vault
from baomi.security.level_file import load_levels
from baomi.security.levels import Approver, LevelConfigError, build_levels
from baomi.security.policy import Sensitivity
from tests.support.api import create_customer, login
from tests.support.org import Org

ALWAYS = {"id_number", "payment_methods", "notes"}
CONTACTS = {"contacts", "phones", "emails", "address"}


def _errors(error: pytest.ExceptionInfo[LevelConfigError]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in error.value.extra["errors"]}


def test_default_template() -> None:
    config = build_levels("normal,secret,confidential")
    assert config.enabled == ("normal", "secret", "confidential")
    normal, secret, confidential = (config.rule_of(c) for c in config.enabled)
    assert [r.label_zh for r in (normal, secret, confidential)] == ["普通", "秘密", "机密"]
    assert normal.rank < secret.rank < confidential.rank
    # C4.3.1 access: the customer's head; plus the requester's head; plus the officer.
    assert normal.access_approvers == {Approver.CUSTOMER_HEAD}
    assert secret.access_approvers == {Approver.CUSTOMER_HEAD, Approver.REQUESTER_HEAD}
    assert Approver.SECURITY_OFFICER in confidential.access_approvers
    # C2.2 lowering: the head; at 机密 also the security officer.
    assert secret.lowering_approvers == {Approver.CUSTOMER_HEAD}
    assert confidential.lowering_approvers == {Approver.CUSTOMER_HEAD, Approver.SECURITY_OFFICER}
    # C4.3.2: sensitive fields masked everywhere, contacts too at 机密.
    assert normal.masked_fields == secret.masked_fields == ALWAYS
    assert confidential.masked_fields == ALWAYS | CONTACTS
    assert (normal.export_allowed, confidential.export_allowed) == (True, False)
    assert (secret.reveal_requires_mfa, confidential.reveal_requires_mfa) == (False, True)
    assert {r.retention_days for r in (normal, secret, confidential)} == {None}
    # A lapsed period steps one level down; the lowest level has nowhere to go.
    assert (normal.lapses_to, secret.lapses_to, confidential.lapses_to) == (
        None,
        "normal",
        "secret",
    )


def test_default_masks_follow_the_field_catalog() -> None:
    """The template's mask sets are the catalog's sensitivity classes (customers/fields.py)."""
    assert {n for n, s in FIELDS.items() if s.sensitivity is Sensitivity.SENSITIVE} == ALWAYS
    assert {n for n, s in FIELDS.items() if s.sensitivity is Sensitivity.CONTACT} == CONTACTS


def test_top_secret_is_available_and_lapses_step_over_levels_not_in_use() -> None:
    four = build_levels("normal,secret,confidential,top_secret")
    assert four.enabled[-1] == "top_secret" and four.rule_of("top_secret").label_zh == "绝密"
    assert four.rule_of("top_secret").lapses_to == "confidential"
    two = build_levels("confidential, normal")
    assert two.enabled == ("normal", "confidential")
    assert two.rule_of("confidential").lapses_to == "normal"
    # Records may keep a level no longer in use: its rule is still known.
    assert two.rule_of("secret").label_zh == "秘密"


def test_unknown_level_in_the_setting_is_an_error() -> None:
    with pytest.raises(LevelConfigError) as error:
        build_levels("normal,secrett")
    assert "secrett" in _errors(error)["BAOMI_LEVELS"]


GOOD_FILE = """
[normal]
label_en = "Internal"
retention_days = 1825
masked_fields = ["id_number", "payment_methods", "notes", "prices"]

[confidential]
label_zh = "核心机密"
lapses_to = "normal"
export_allowed = true
lowering_approvers = ["security_officer"]
access_approvers = ["customer_head", "security_officer"]
"""


def test_override_file_changes_only_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "levels.toml").write_text(GOOD_FILE, encoding="utf-8")
    config = load_levels(Settings(home=tmp_path, levels="normal,secret,confidential"))
    normal, secret, confidential = (config.rule_of(c) for c in config.enabled)
    assert normal.label_en == "Internal" and normal.label_zh == "普通"
    assert normal.retention_days == 1825
    assert normal.masked_fields == ALWAYS | {"prices"}
    assert confidential.label_zh == "核心机密" and confidential.lapses_to == "normal"
    assert confidential.export_allowed is True
    assert confidential.lowering_approvers == {Approver.SECURITY_OFFICER}
    assert confidential.access_approvers == {Approver.CUSTOMER_HEAD, Approver.SECURITY_OFFICER}
    assert confidential.reveal_requires_mfa is True  # not named: the default stays
    assert secret == build_levels("normal,secret,confidential").rule_of("secret")


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    config = load_levels(Settings(home=tmp_path / "missing", levels="normal,secret,confidential"))
    assert config == build_levels("normal,secret,confidential")


BAD_FILE = """
[secret]
label_zh = "机密"
masked_fields = ["notes", "shoe_size"]
lapses_to = "confidential"
export_allowed = "no"
colour = "red"

[confidential]
access_approvers = ["customer_head", "the_boss"]
masked_fields = ["contacts"]
retention_days = 0
reveal_requires_mfa = 1

[normal]
lapses_to = "normal"
lowering_approvers = []

[ultra]
label_zh = "超密"
"""


def test_bad_file_names_every_wrong_key(tmp_path: Path) -> None:
    path = tmp_path / "levels.toml"
    path.write_text(BAD_FILE, encoding="utf-8")
    with pytest.raises(LevelConfigError) as error:
        load_levels(Settings(home=tmp_path, levels="normal,secret,confidential"))
    found = _errors(error)
    prefix = f"{path}: "
    assert set(found) == {
        prefix + key
        for key in (
            "secret.label_zh",  # the same label as confidential
            "secret.masked_fields",
            "secret.lapses_to",
            "secret.export_allowed",
            "secret.colour",
            "confidential.access_approvers",
            "confidential.masked_fields",
            "confidential.retention_days",
            "confidential.reveal_requires_mfa",
            "normal.lapses_to",
            "normal.lowering_approvers",
            "ultra",
        )
    }
    assert "shoe_size" in found[prefix + "secret.masked_fields"]
    assert "id_number" in found[prefix + "confidential.masked_fields"]  # C4.3.2 floor
    assert "the_boss" in found[prefix + "confidential.access_approvers"]
    assert "unknown key" in found[prefix + "secret.colour"]
    assert "unknown level" in found[prefix + "ultra"]
    assert error.value.status == 422 and error.value.code == "invalid_level_configuration"


def test_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "levels.toml"
    path.write_text("[secret\nlabel_zh = ", encoding="utf-8")
    with pytest.raises(LevelConfigError) as error:
        load_levels(Settings(home=tmp_path))
    assert "not valid TOML" in _errors(error)[str(path)]


def test_routing_reads_the_rules() -> None:
    config = build_levels("normal,secret,confidential")
    heads = [(config.rule_of("secret"), "head-1")]
    access = route(
        requester_id="me", requester_head="head-2", customer_heads=heads, wanted=ACCESS.approvers
    )
    assert access == [
        Slot(SlotRole.DEPARTMENT_HEAD, "head-1"),
        Slot(SlotRole.DEPARTMENT_HEAD, "head-2"),
    ]
    lowering = route(
        requester_id="me",
        requester_head="head-2",
        customer_heads=heads,
        wanted=LEVEL_CHANGE.approvers,
    )
    assert lowering == [Slot(SlotRole.DEPARTMENT_HEAD, "head-1")]
    top = route(
        requester_id="me",
        requester_head=None,
        customer_heads=[(config.rule_of("confidential"), "head-1")],
        wanted=LEVEL_CHANGE.approvers,
    )
    assert top == [Slot(SlotRole.DEPARTMENT_HEAD, "head-1"), OFFICER]


def _app_with(home: Path, database: tuple[str, Org], engine: Engine, vault: Vault) -> Any:
    return create_app(
        settings=Settings(home=home, database_url=database[0]), engine=engine, vault=vault
    )


def test_a_bad_file_stops_the_application_at_start(
    tmp_path: Path,
    database: tuple[str, Org],
    engine: Engine,
    vault: Vault,
    key_provider: KeyProvider,
) -> None:
    (tmp_path / "levels.toml").write_text(BAD_FILE, encoding="utf-8")
    with pytest.raises(LevelConfigError):
        _app_with(tmp_path, database, engine, vault)
    # The vault the server builds from the same settings refuses the file first (cli/server.py).
    with pytest.raises(LevelConfigError):
        Vault.from_settings(Settings(home=tmp_path), key_provider)


def test_an_app_refuses_rules_other_than_the_configured_ones(
    tmp_path: Path, database: tuple[str, Org], engine: Engine, vault: Vault
) -> None:
    """The vault carries the rules the door applies; built without the company's file (the
    defaults), it would quietly leave them unapplied, so the application does not start."""
    (tmp_path / "levels.toml").write_text(GOOD_FILE, encoding="utf-8")
    with pytest.raises(RuntimeError, match="level rules"):
        _app_with(tmp_path, database, engine, vault)


def test_the_override_is_in_force_through_the_api(
    tmp_path: Path, database: tuple[str, Org], engine: Engine, key_provider: KeyProvider
) -> None:
    (tmp_path / "levels.toml").write_text(GOOD_FILE, encoding="utf-8")
    vault = Vault.from_settings(Settings(home=tmp_path), key_provider)
    with TestClient(_app_with(tmp_path, database, engine, vault)) as client:
        headers = login(client, "zhangsan")
        shown = client.get("/api/v1/levels", headers=headers).json()
        assert [level["code"] for level in shown] == ["normal", "secret", "confidential"]
        assert shown[0]["label_en"] == "Internal" and shown[0]["retention_days"] == 1825
        assert shown[2]["label_zh"] == "核心机密" and shown[2]["lapses_to"] == "normal"
        # The policy masks what the company's rule says: prices at 普通 (C4.3.2).
        created = create_customer(client, headers, prices="单价 100 元")
        assert "prices" in created["masked"] and created["data"]["prices"] == "******"
        # The new label is accepted where a level is given.
        raised = client.patch(
            f"/api/v1/customers/{created['id']}", json={"level": "核心机密"}, headers=headers
        )
        assert raised.status_code == 200 and raised.json()["level"] == "confidential"
        assert raised.json()["level_label"] == "核心机密"


def test_levels_and_reveal_reasons_for_forms(client: TestClient) -> None:
    headers = login(client, "zhangsan")
    shown = client.get("/api/v1/levels", headers=headers).json()
    assert [(level["code"], level["label_zh"]) for level in shown] == [
        ("normal", "普通"),
        ("secret", "秘密"),
        ("confidential", "机密"),
    ]
    assert shown[2]["reveal_requires_mfa"] is True and shown[2]["export_allowed"] is False
    reasons = client.get("/api/v1/reveal-reasons", headers=headers).json()
    assert [r["code"] for r in reasons] == [
        "customer_contact",
        "contract_work",
        "complaint",
        "compliance_check",
        "other",
    ]
    assert all(r["label_zh"] and r["label_en"] for r in reasons)
    assert client.get("/api/v1/reveal-reasons").status_code == 401


def test_a_level_that_is_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "levels.toml").write_text('secret = 5\nnormal = "x"\n', encoding="utf-8")
    with pytest.raises(LevelConfigError) as error:
        load_levels(Settings(home=tmp_path))
    assert {field.rsplit(": ", 1)[1] for field in _errors(error)} == {"secret", "normal"}
