"""`baomi grant`: time-bound access to one customer, seen through the customer service door."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.customers import service as customers
from baomi.customers.schemas import CustomerIn, CustomerOut
from baomi.customers.vault import Vault
from baomi.errors import Forbidden, NotFound
from baomi.security.actor import Actor
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service as users
from baomi.users.schemas import EmploymentType
from tests.cli.conftest import Invoke


@dataclass(frozen=True)
class Setup:
    customer_id: str
    vault: Vault
    lisi: str


@pytest.fixture
def setup(initialised: Path) -> Setup:
    """Two salespeople and an administrator; zhangsan handles one customer."""
    engine = runtime.get_engine()
    with unit_of_work(engine) as conn:
        east = users.create_department(conn, actor=None, ctx=CLI_CONTEXT, name="华东销售部")
        ids = {
            name: users.create_user(
                conn,
                actor=None,
                ctx=CLI_CONTEXT,
                username=name,
                display_name=name,
                password="baomi-test-2026-pw",
                employment_type=EmploymentType.FULL_TIME,
                department_id=east if role is Role.SALESPERSON else None,
                roles={role},
            )
            for name, role in (
                ("zhangsan", Role.SALESPERSON),
                ("lisi", Role.SALESPERSON),
                ("admin", Role.ADMINISTRATOR),
            )
        }
    vault = Vault.from_provider(runtime.get_key_provider())
    with unit_of_work(engine) as conn:
        handler = users.load_actor(conn, ids["zhangsan"])
        assert handler is not None
        created = customers.create(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(name="上海申联贸易有限公司", phones=["13800138000"]),
        )
    return Setup(customer_id=created.id, vault=vault, lisi=ids["lisi"])


def _lisi(setup: Setup) -> Actor:
    with runtime.get_engine().connect() as conn:
        actor = users.load_actor(conn, setup.lisi)
    assert actor is not None
    return actor


def _read_as_lisi(setup: Setup) -> CustomerOut:
    lisi = _lisi(setup)  # loaded first: SQLite allows one writer, and a unit of work is one
    with unit_of_work(runtime.get_engine()) as conn:
        return customers.get(
            conn, actor=lisi, ctx=CLI_CONTEXT, vault=setup.vault, customer_id=setup.customer_id
        )


def test_grant_add_list_revoke(setup: Setup, cli: Invoke) -> None:
    """C4.2.1 / C4.3.1: access comes from an explicit, time-bound grant and ends on revoke."""
    with pytest.raises((Forbidden, NotFound)):  # refused, existence not confirmed
        _read_as_lisi(setup)
    added = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id,
        "--field", "name", "--field", "phones", "--hours", "4", "--purpose", "交接前核对联系方式",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    grant_id = added.stdout.split()[1].rstrip(":")
    seen = _read_as_lisi(setup)
    assert seen.access == "grant"
    assert set(seen.data) == {"name", "phones"}
    assert "notes" in seen.withheld

    listed = cli("grant", "list", "--user", "lisi", "--active")
    assert listed.exit_code == 0
    assert grant_id in listed.stdout and "active" in listed.stdout

    revoked = cli("grant", "revoke", grant_id)
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises((Forbidden, NotFound)):  # refused, existence not confirmed
        _read_as_lisi(setup)
    assert grant_id not in cli("grant", "list", "--active").stdout
    assert "revoked" in cli("grant", "list").stdout
    twice = cli("grant", "revoke", grant_id)
    assert twice.exit_code == 1
    assert "already revoked" in twice.stderr


def test_grant_refusals_exit_1_without_traceback(setup: Setup, cli: Invoke) -> None:
    base = ["grant", "add", "--hours", "2", "--purpose", "核对合同条款"]
    to_admin = cli(*base, "--user", "admin", "--customer", setup.customer_id)
    assert to_admin.exit_code == 1
    assert "may not hold customer data" in to_admin.stderr  # C4.2.1, 三员分立
    nobody = cli(*base, "--user", "nobody", "--customer", setup.customer_id)
    assert nobody.exit_code == 1
    assert "nobody" in nobody.stderr
    no_customer = cli(*base, "--user", "lisi", "--customer", "no-such-id")
    assert no_customer.exit_code == 1
    assert "no such customer" in no_customer.stderr
    bad_field = cli(*base, "--user", "lisi", "--customer", setup.customer_id, "--field", "salary")
    assert bad_field.exit_code == 1
    assert "salary" in bad_field.stderr
    zero = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id,
        "--hours", "0", "--purpose", "核对合同条款",
    )  # fmt: skip
    assert zero.exit_code == 1
    assert "--hours" in zero.stderr
    unknown = cli("grant", "revoke", "no-such-grant")
    assert unknown.exit_code == 1
    for result in (to_admin, nobody, no_customer, bad_field, zero, unknown):
        assert "Traceback" not in result.output
    assert "lisi" not in cli("grant", "list").stdout
