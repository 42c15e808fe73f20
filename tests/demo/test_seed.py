"""The demo company, seeded once into a fresh SQLite home and read back through the services."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from stdnum import luhn
from stdnum.cn import ric, uscc

from baomi import clock
from baomi.audit.context import CLI_CONTEXT
from baomi.config import Settings
from baomi.crypto import normalize
from baomi.crypto.keys import LocalKeyFileProvider
from baomi.customers import search, service, timeline
from baomi.customers.schemas import CustomerSummary
from baomi.customers.vault import Vault
from baomi.db import make_engine
from baomi.demo.company import demo_totp_secret
from baomi.demo.customers import SOURCES, CustomerFactory
from baomi.demo.seed import SEED, SeedOutcome, seed, seed_if_empty
from baomi.errors import BaomiError
from baomi.keystore.service import ensure_master_versions
from baomi.migrate import upgrade
from baomi.security.actor import Actor
from baomi.uow import unit_of_work
from baomi.users import actors
from baomi.users import service as users

# One seeding for the module, on one xdist worker.
pytestmark = pytest.mark.xdist_group("demo_seed")
HANDLERS = ("zhangsan", "lisi", "zhaoliu", "wangwu", "sunqi")


@dataclass(frozen=True)
class Demo:
    engine: Engine
    vault: Vault
    settings: Settings
    outcome: SeedOutcome


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("demo") / "home"
    home.mkdir(mode=0o700)
    settings = Settings(home=home, demo=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    vault = Vault.from_provider(LocalKeyFileProvider.create(settings.key_file))
    with unit_of_work(engine) as conn:
        ensure_master_versions(conn, vault.provider)
    yield Demo(engine, vault, settings, seed_if_empty(engine, vault, settings))
    engine.dispose()


def _actor(demo: Demo, username: str) -> Actor:
    with demo.engine.connect() as conn:
        actor = actors.load_actor(conn, users.user_id_by_username(conn, username))
    assert actor is not None
    return actor


def _own(demo: Demo, actor: Actor) -> list[CustomerSummary]:
    with unit_of_work(demo.engine) as conn:
        page = search.list_customers(
            conn,
            actor=actor,
            ctx=CLI_CONTEXT,
            vault=demo.vault,
            handler_id=actor.user_id,
            page_size=search.MAX_PAGE_SIZE,
        )
    assert page.total == len(page.items)
    return page.items


def test_the_organisation(demo: Demo) -> None:
    """C1.2 / C1.3 / 三员分立: departments with heads; one person per duty."""
    assert demo.outcome.seeded and demo.outcome.users == 8
    with demo.engine.connect() as conn:
        people = {u.username: u for u in users.list_users(conn)}
        departments = {d.name: d for d in users.list_departments(conn)}
    assert len(people) == 8
    assert people["lisi"].department_name == "上海组"
    assert people["zhangsan"].department_name == "华东销售部"
    assert people["zhaoliu"].employment_type == "part_time"
    assert departments["上海组"].parent_id == departments["华东销售部"].id
    assert departments["华东销售部"].head_user_id == people["wangwu"].id
    assert departments["华南销售部"].head_user_id == people["sunqi"].id
    for username, role in (("baomiyuan", "security_officer"), ("shenji", "auditor")):
        assert people[username].roles == [role] and people[username].department_id is None
    assert people["admin"].roles == ["administrator"]


def test_customers_cover_every_handler_and_level(demo: Demo) -> None:
    by_handler = {name: _own(demo, _actor(demo, name)) for name in HANDLERS}
    assert sum(len(items) for items in by_handler.values()) == demo.outcome.customers == 200
    for name in ("zhangsan", "lisi", "zhaoliu"):
        assert len(by_handler[name]) > 50
    assert by_handler["wangwu"] and by_handler["sunqi"]
    levels = {item.level for items in by_handler.values() for item in items}
    assert levels == {"normal", "secret", "confidential"}
    # C4.2.1: a salesperson lists only their own customers; the head sees the subtree.
    zhangsan = _actor(demo, "zhangsan")
    with unit_of_work(demo.engine) as conn:
        visible = search.list_customers(
            conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=demo.vault, page_size=200
        )
    assert {item.handler.username for item in visible.items} == {"zhangsan"}


def _check_record(data: dict[str, Any]) -> None:
    """C4.1.1 checksums and C2.1's five kinds, on the revealed values."""
    number = data["id_number"]
    assert ric.is_valid(number) or uscc.is_valid(number), number
    phones = list(data["phones"]) + [p for c in data["contacts"] or [] for p in c["phones"]]
    for phone in phones:
        normalize.phone(phone)  # raises for an invalid number
    cards = [m["account"] for m in data["payment_methods"] if m["type"] == "bank_card"]
    assert cards and all(luhn.is_valid(card) for card in cards)
    assert all("@" in e for e in data["emails"])


def _identifiers(data: dict[str, Any]) -> list[str]:
    """Every value 查重 finds a customer by: ID number, phones and e-mails, contacts' too."""
    contacts = data["contacts"] or []
    phones = [*data["phones"], *(p for c in contacts for p in c["phones"])]
    emails = [*data["emails"], *(e for c in contacts for e in c["emails"])]
    return [
        normalize.id_number(data["id_number"]),
        *(normalize.phone(p) for p in phones),
        *(normalize.email(e) for e in emails),
    ]


def test_every_record_is_valid_and_complete(demo: Demo) -> None:
    """C4.1.1: valid, complete, with a stated source and lawful basis; C4.1.3: no duplicates."""
    attachments = 0
    identifiers: list[str] = []
    for name in HANDLERS:
        # C4.3.2 step-up: 机密 records are revealed by a session with a fresh second factor.
        actor = replace(_actor(demo, name), mfa_verified_at=clock.utcnow())
        for item in _own(demo, actor):
            with unit_of_work(demo.engine) as conn:
                record = service.get(
                    conn, actor=actor, ctx=CLI_CONTEXT, vault=demo.vault, customer_id=item.id
                )
                revealed = service.reveal(
                    conn,
                    actor=actor,
                    ctx=CLI_CONTEXT,
                    vault=demo.vault,
                    customer_id=item.id,
                    fields=["id_number", "phones", "emails", "contacts", "payment_methods"],
                    purpose="contract",
                    reason_code="compliance_check",
                    reason="演示数据校验",
                )
                entries = timeline.list_communications(
                    conn, actor=actor, ctx=CLI_CONTEXT, vault=demo.vault, customer_id=item.id
                )
            _check_record(revealed.data)
            identifiers.extend(_identifiers(revealed.data))
            assert record.source in SOURCES
            assert record.lawful_basis == ("contract" if record.data["contacts"] else "consent")
            for kind in ("address", "purchases", "contract_terms", "prices", "requirements"):
                assert record.data[kind], kind
            for kind in ("purchase_intent", "competitor_products", "notes"):
                assert record.data[kind], kind
            assert "notes" in record.masked  # sensitive (C2.1 d) stays masked until revealed
            assert 1 <= len(entries) <= 3
            attachments += sum(len(entry.attachments) for entry in entries)
    assert attachments > 0
    assert len(identifiers) == len(set(identifiers))  # no two records share one


def test_known_south_customer_is_found_by_duplicate_check(demo: Demo) -> None:
    """C4.1.3 查重: zhangsan (华东) learns that zhaoliu (华南) already handles this customer."""
    zhangsan = _actor(demo, "zhangsan")
    for typed in ("13912345678", "+86 139 1234 5678"):
        with unit_of_work(demo.engine) as conn:
            found = search.check_duplicate(
                conn, actor=zhangsan, ctx=CLI_CONTEXT, vault=demo.vault, kind="phone", value=typed
            )
        assert found.exists
        assert found.handler == {"username": "zhaoliu", "department": "华南销售部"}


def test_credentials_file_is_private(demo: Demo) -> None:
    path = demo.outcome.credentials_file
    assert path is not None and path == demo.settings.home / "demo-credentials.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 8
    secrets = {line.split()[0]: line.split()[2] for line in lines}
    assert all(line.split()[1] == "baomi-demo-2026" for line in lines)
    # C4.2.4: heads, the security officer and the administrator have TOTP; the others "-".
    with_mfa = {name for name, secret in secrets.items() if secret != "-"}
    assert with_mfa == {"wangwu", "sunqi", "baomiyuan", "admin"}
    assert secrets["wangwu"] == demo_totp_secret("wangwu") and len(secrets["wangwu"]) == 32


def test_seeding_again_changes_nothing(demo: Demo) -> None:
    again = seed_if_empty(demo.engine, demo.vault, demo.settings)
    assert not again.seeded and again.credentials_file == demo.outcome.credentials_file


def test_seed_runs_in_demo_mode_only(demo: Demo, tmp_path: Path) -> None:
    with pytest.raises(BaomiError) as refused, unit_of_work(demo.engine) as conn:
        seed(conn, vault=demo.vault, settings=Settings(home=tmp_path, demo=False))
    assert refused.value.code == "demo_mode_only"


def test_the_data_is_deterministic() -> None:
    first = CustomerFactory(SEED, set()).customer(handler_id="h")
    second = CustomerFactory(SEED, set()).customer(handler_id="h")
    assert first.customer_in == second.customer_in
    assert first.communications == second.communications
