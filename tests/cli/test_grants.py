"""`baomi grant`: emergency grants given and ended by a named security officer (C4.3.1, issue 10
F3), seen through the customer service door."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.audit.models import audit_events
from baomi.cli import output
from baomi.customers import service as customers
from baomi.customers.schemas import CustomerIn, CustomerOut
from baomi.customers.vault import Vault
from baomi.errors import Forbidden, NotFound
from baomi.security.actor import Actor
from baomi.uow import unit_of_work
from baomi.users import actors
from tests.cli.conftest import Invoke
from tests.support.api import PROVENANCE
from tests.support.org import PASSWORD, Org, build_org, recovery_codes


@dataclass(frozen=True)
class Setup:
    customer_id: str
    vault: Vault
    lisi: str
    org: Org


@pytest.fixture
def setup(initialised: Path) -> Setup:
    """The test company (officer and heads with MFA); zhangsan handles one customer."""
    engine = runtime.get_engine()
    org = build_org(engine, runtime.get_key_provider())
    vault = Vault.from_provider(runtime.get_key_provider())
    with unit_of_work(engine) as conn:
        handler = actors.load_actor(conn, org.user_ids["zhangsan"])
        assert handler is not None
        created = customers.create(
            conn,
            actor=handler,
            ctx=CLI_CONTEXT,
            vault=vault,
            customer_in=CustomerIn(
                name="上海申联贸易有限公司", phones=["13800138000"], **PROVENANCE
            ),
        )
    return Setup(customer_id=created.id, vault=vault, lisi=org.user_ids["lisi"], org=org)


def _officer() -> tuple[str, ...]:
    """--as the security officer, password and a recovery code on stdin (C4.2.4)."""
    return ("--as", "baomiyuan", "--password-stdin")


def _secrets(code: int = 0, password: str = PASSWORD) -> str:
    return f"{password}\n{recovery_codes('baomiyuan')[code]}\n"


def _lisi(setup: Setup) -> Actor:
    with runtime.get_engine().connect() as conn:
        actor = actors.load_actor(conn, setup.lisi)
    assert actor is not None
    return actor


def _read_as_lisi(setup: Setup) -> CustomerOut:
    lisi = _lisi(setup)  # loaded first: SQLite allows one writer, and a unit of work is one
    with unit_of_work(runtime.get_engine()) as conn:
        return customers.get(
            conn, actor=lisi, ctx=CLI_CONTEXT, vault=setup.vault, customer_id=setup.customer_id
        )


def test_emergency_grant_add_list_revoke_as_the_officer(setup: Setup, cli: Invoke) -> None:
    """C4.3.1 / issue 10 F3: a grant outside the approval process is an emergency grant, given
    by a named officer (password and code), audited as them, never as the OS account."""
    with pytest.raises((Forbidden, NotFound)):  # refused, existence not confirmed
        _read_as_lisi(setup)
    added = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id,
        "--field", "name", "--field", "phones", "--hours", "4", "--purpose", "交接前核对联系方式",
        *_officer(), input=_secrets(0),
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("Emergency grant ")
    grant_id = added.stdout.split()[2].rstrip(":")
    seen = _read_as_lisi(setup)
    assert seen.access == "grant"
    assert set(seen.data) == {"name", "phones"}
    assert "notes" in seen.withheld

    listed = cli("grant", "list", "--user", "lisi", "--active")
    assert listed.exit_code == 0
    assert grant_id in listed.stdout and "active" in listed.stdout
    assert "emergency" in listed.stdout

    revoked = cli("grant", "revoke", grant_id, *_officer(), input=_secrets(1))
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises((Forbidden, NotFound)):  # refused, existence not confirmed
        _read_as_lisi(setup)
    assert grant_id not in cli("grant", "list", "--active").stdout
    assert "revoked" in cli("grant", "list").stdout
    twice = cli("grant", "revoke", grant_id, *_officer(), input=_secrets(2))
    assert twice.exit_code == 1
    assert "already revoked" in twice.stderr

    with runtime.get_engine().connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.actor_username, audit_events.c.reason)
            .where(audit_events.c.action.in_(["grant:create", "grant:revoke"]))
            .order_by(audit_events.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("grant:create", "baomiyuan", "emergency"),
        ("grant:revoke", "baomiyuan", "ok"),
    ]


def test_grant_commands_need_a_named_person_who_proves_it(setup: Setup, cli: Invoke) -> None:
    """F3: no --as, a wrong password, a missing code or a non-officer: nothing is granted."""
    base = ["grant", "add", "--user", "lisi", "--customer", setup.customer_id]
    base += ["--hours", "2", "--purpose", "核对合同条款"]
    without = cli(*base)
    assert without.exit_code == 2 and "--as" in without.output
    wrong = cli(*base, *_officer(), input=_secrets(0, password="not-the-password"))
    assert wrong.exit_code == 1 and "invalid username or password" in wrong.stderr
    no_code = cli(*base, *_officer(), input=f"{PASSWORD}\n")
    assert no_code.exit_code == 1 and "one-time code" in no_code.stderr
    salesperson = cli(*base, "--as", "zhangsan", "--password-stdin", input=f"{PASSWORD}\n")
    assert salesperson.exit_code == 1 and "security officer" in salesperson.stderr
    assert "lisi" not in cli("grant", "list").stdout
    with runtime.get_engine().connect() as conn:
        refused = conn.execute(
            select(audit_events.c.reason).where(
                audit_events.c.action == "auth:login", audit_events.c.decision == "deny"
            )
        ).all()
    assert {r.reason for r in refused} >= {"bad_credentials", "mfa_required"}


def test_an_emergency_grant_lasts_at_most_a_day(setup: Setup, cli: Invoke) -> None:
    base = ["grant", "add", "--user", "lisi", "--customer", setup.customer_id]
    too_long = cli(
        *base, "--hours", "25", "--purpose", "核对合同条款", *_officer(), input=_secrets()
    )
    assert too_long.exit_code == 1
    assert "at most 24 hours" in too_long.stderr
    assert "lisi" not in cli("grant", "list").stdout


def test_grant_refusals_exit_1_without_traceback(setup: Setup, cli: Invoke) -> None:
    base = ["grant", "add", "--hours", "2", "--purpose", "核对合同条款", *_officer()]
    codes = iter(range(10))

    def add(*args: str) -> Result:
        return cli(*base, *args, input=_secrets(next(codes)))

    to_admin = add("--user", "admin", "--customer", setup.customer_id)
    assert to_admin.exit_code == 1
    assert "may not hold customer data" in to_admin.stderr  # C4.2.1, 三员分立
    nobody = add("--user", "nobody", "--customer", setup.customer_id)
    assert nobody.exit_code == 1
    assert "nobody" in nobody.stderr
    no_customer = add("--user", "lisi", "--customer", "no-such-id")
    assert no_customer.exit_code == 1
    assert "no such customer" in no_customer.stderr
    bad_field = add("--user", "lisi", "--customer", setup.customer_id, "--field", "salary")
    assert bad_field.exit_code == 1
    assert "salary" in bad_field.stderr
    zero = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id,
        "--hours", "0", "--purpose", "核对合同条款", *_officer(), input=_secrets(5),
    )  # fmt: skip
    assert zero.exit_code == 1
    assert "--hours" in zero.stderr
    unknown = cli("grant", "revoke", "no-such-grant", *_officer(), input=_secrets(6))
    assert unknown.exit_code == 1
    for result in (to_admin, nobody, no_customer, bad_field, zero, unknown):
        assert "Traceback" not in result.output
    assert "lisi" not in cli("grant", "list").stdout


def test_a_salespersons_grant_is_refused_on_record(setup: Setup, cli: Invoke) -> None:
    """Issue 11 §2, C1.3: refused by the grants service, the named person's attempt leaves a
    deny event naming the permission lacked; the command says why and exits 1."""
    refused = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id, "--hours", "2",
        "--purpose", "核对合同条款", "--as", "zhangsan", "--password-stdin", input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert refused.exit_code == 1 and "only the security officer" in refused.stderr
    with runtime.get_engine().connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.actor_id,
                audit_events.c.actor_username,
                audit_events.c.reason,
                audit_events.c.details,
            ).where(audit_events.c.action == "grant:create", audit_events.c.decision == "deny")
        ).all()
    details = [json.loads(r.details) if isinstance(r.details, str) else r.details for r in rows]
    assert [(r.actor_id, r.actor_username, r.reason) for r in rows] == [
        (setup.org.user_ids["zhangsan"], "zhangsan", "missing_permission")
    ]
    assert details == [{"permission": "grant:manage"}]


def test_list_shows_whole_ids_and_revoke_takes_a_unique_prefix(
    setup: Setup, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: `grant list` cropped the ids `grant revoke` needs, on an 80-column terminal."""
    added = cli(
        "grant", "add", "--user", "lisi", "--customer", setup.customer_id, "--hours", "2",
        "--purpose", "交接前核对", *_officer(), input=_secrets(0),
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    grant_id = added.stdout.split()[2].rstrip(":")
    monkeypatch.setattr(output.console, "width", 80)
    listed = cli("grant", "list")
    assert grant_id in listed.stdout and setup.customer_id in listed.stdout
    short = cli("grant", "revoke", grant_id[:5], *_officer(), input=_secrets(1))
    assert short.exit_code == 1  # too short to name one grant: not guessed at
    revoked = cli("grant", "revoke", grant_id[:12], *_officer(), input=_secrets(2))
    assert revoked.exit_code == 0, revoked.output
    assert f"Grant {grant_id} revoked." in revoked.stdout
