"""`baomi user` and `baomi department` (三员分立, C4.2.1, issue 10 F1/F3): people are managed by
a named administrator (`--as`), never by the OS account past the first administrator; roles,
heads and moves wait for a named security officer; passwords are set by their owners."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT, os_account
from baomi.audit.models import audit_events
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service
from baomi.users.schemas import EmploymentType, UserOut
from tests.cli.conftest import Invoke
from tests.support.org import PASSWORD, Org, build_org, recovery_codes

NEW_PASSWORD = "correct-horse-2026"
CODE = re.compile(r"activation code for \S+: (\S+)")
CHANGE = re.compile(r"change (\S+) \(")


def _users() -> dict[str, UserOut]:
    with runtime.get_engine().connect() as conn:
        return {u.username: u for u in service.list_users(conn)}


@pytest.fixture
def org(initialised: Path) -> Org:
    return build_org(runtime.get_engine(), runtime.get_key_provider())


@pytest.fixture
def as_(org: Org, cli: Invoke) -> Iterator[object]:
    """Run a command as a named person: their password and a fresh recovery code on stdin."""
    spent: dict[str, int] = {}

    def run(person: str, *args: str) -> Result:
        n = spent.get(person, 0)
        spent[person] = n + 1
        secrets = f"{PASSWORD}\n{recovery_codes(person)[n]}\n"
        return cli(*args, "--as", person, "--password-stdin", input=secrets)

    yield run


def test_the_first_administrator_then_only_named_people(initialised: Path, cli: Invoke) -> None:
    """The OS account sets up the first administrator, who sets their own password."""
    first = cli("user", "add", "root", "--name", "管理员", "--role", "administrator")
    assert first.exit_code == 0, first.output
    code = CODE.search(first.stdout)
    assert code and "in effect now" in first.stdout
    assert _users()["root"].activation_pending
    second = cli("user", "add", "root2", "--name", "管理员", "--role", "administrator")
    assert second.exit_code == 2 and "has an administrator" in second.stderr
    seller = cli("user", "add", "zhangsan", "--name", "张三", "--role", "salesperson")
    assert seller.exit_code == 2 and "--as" in seller.stderr
    wrong = cli("user", "activate", "root", "--stdin", input=f"AAAA-BBBB\n{NEW_PASSWORD}\n")
    assert wrong.exit_code == 1 and "wrong, used or expired" in wrong.stderr
    done = cli("user", "activate", "root", "--stdin", input=f"{code.group(1)}\n{NEW_PASSWORD}\n")
    assert done.exit_code == 0, done.output
    with runtime.get_engine().connect() as conn:
        assert service.authenticate(conn, username="root", password=NEW_PASSWORD) is not None
    assert set(_users()) == {"root"}


def test_add_approve_list_disable(org: Org, cli: Invoke, as_: object) -> None:
    """C1.2: part-time staff are users with a department; their roles wait for the officer."""
    run = as_  # type: ignore[assignment]
    added = run(
        "admin", "user", "add", "zhouba", "--name", "周八", "--department", "华南销售部",
        "--role", "salesperson", "--employment", "part_time",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    change = CHANGE.search(added.stdout)
    assert change and CODE.search(added.stdout)
    person = _users()["zhouba"]
    assert person.employment_type is EmploymentType.PART_TIME
    assert person.department_name == "华南销售部" and person.roles == []

    listed = run("baomiyuan", "user", "changes", "--pending")
    assert listed.exit_code == 0 and "zhouba" in listed.stdout and "salesperson" in listed.stdout
    by_admin = run("admin", "user", "approve", change.group(1))
    assert by_admin.exit_code == 1 and "security officer" in by_admin.stderr
    approved = run("baomiyuan", "user", "approve", change.group(1), "--comment", "已核实")
    assert approved.exit_code == 0, approved.output
    assert _users()["zhouba"].roles == ["salesperson"]

    listed = cli("user", "list")
    assert "zhouba" in listed.stdout and "activation pending" in listed.stdout
    assert cli("user", "disable", "zhouba").exit_code == 0
    assert "disabled" in cli("user", "list").stdout
    again = cli("user", "disable", "zhouba")
    assert again.exit_code == 1 and "already disabled" in again.stderr


def test_refusals_exit_non_zero_without_traceback(org: Org, as_: object) -> None:
    run = as_  # type: ignore[assignment]
    base = ["user", "add"]
    mixed = run(
        "admin", *base, "mixed", "--name", "混", "--role", "auditor", "--role", "salesperson"
    )
    assert mixed.exit_code == 1 and "三员分立" in mixed.stderr and "--role" in mixed.stderr
    bad_name = run("admin", *base, "Bad Name", "--name", "x", "--role", "salesperson")
    assert bad_name.exit_code == 1 and "username" in bad_name.stderr
    nowhere = run(
        "admin", *base, "lost", "--name", "x", "--department", "无此部门", "--role", "salesperson"
    )
    assert nowhere.exit_code == 1 and "无此部门" in nowhere.stderr
    taken = run(
        "admin", *base, "zhangsan", "--name", "x", "--department", "上海组", "--role", "salesperson"
    )
    assert taken.exit_code == 1 and "taken" in taken.stderr
    as_seller = run("zhangsan", *base, "dup", "--name", "x", "--role", "salesperson")
    assert as_seller.exit_code == 1 and "administrator" in as_seller.stderr
    for result in (mixed, bad_name, nowhere, taken, as_seller):
        assert "Traceback" not in result.output
    assert not {"mixed", "lost", "dup"} & set(_users())


def test_departments_and_heads_wait_for_the_officer(org: Org, as_: object) -> None:
    """C3.2: a head must hold the department_head role and is named with the officer's consent."""
    run = as_  # type: ignore[assignment]
    added = run("admin", "department", "add", "华北销售部", "--head", "wangwu")
    assert added.exit_code == 0, added.output
    change = CHANGE.search(added.stdout)
    assert change
    wrong_head = run("admin", "department", "head", "上海组", "zhangsan")
    assert wrong_head.exit_code == 1 and "department_head" in wrong_head.stderr
    no_parent = run("admin", "department", "add", "深圳组", "--parent", "无此部门")
    assert no_parent.exit_code == 1
    with runtime.get_engine().connect() as conn:
        departments = {d.name: d for d in service.list_departments(conn)}
    assert "深圳组" not in departments and departments["华北销售部"].head_user_id is None
    assert run("baomiyuan", "user", "approve", change.group(1)).exit_code == 0
    with runtime.get_engine().connect() as conn:
        departments = {d.name: d for d in service.list_departments(conn)}
    assert departments["华北销售部"].head_user_id == org.user_ids["wangwu"]


def test_roles_move_and_reset(org: Org, as_: object, cli: Invoke) -> None:
    run = as_  # type: ignore[assignment]
    roles = run(
        "admin", "user", "roles", "zhangsan", "--role", "salesperson", "--role", "department_head"
    )
    assert roles.exit_code == 0 and CHANGE.search(roles.stdout)
    moved = run("admin", "user", "move", "zhangsan", "--department", "华南销售部")
    assert moved.exit_code == 0 and CHANGE.search(moved.stdout)
    assert _users()["zhangsan"].department_name == "华东销售部"  # not before the officer says
    reset = run("admin", "user", "reset-password", "zhangsan")
    assert reset.exit_code == 0, reset.output
    code = CODE.search(reset.stdout)
    assert code
    with runtime.get_engine().connect() as conn:
        assert service.authenticate(conn, username="zhangsan", password=PASSWORD) is None
    set_again = cli(
        "user", "activate", "zhangsan", "--stdin", input=f"{code.group(1)}\n{NEW_PASSWORD}\n"
    )
    assert set_again.exit_code == 0


def test_user_unlock(org: Org, cli: Invoke) -> None:
    """C4.2.4: the operator unlocks an account locked by failed logins."""
    from baomi import clock
    from baomi.auth.lockout import Policy, record_failure, state
    from baomi.uow import unit_of_work

    assert "was not locked" in cli("user", "unlock", "lisi").stdout
    policy, now = Policy(), clock.utcnow()
    with unit_of_work(runtime.get_engine()) as conn:
        for _ in range(policy.lockout):
            record_failure(conn, policy=policy, username="lisi", client_addr=None, now=now)
        assert state(conn, policy=policy, username="lisi", client_addr=None, now=now).locked
    unlocked = cli("user", "unlock", "lisi")
    assert unlocked.exit_code == 0 and "Unlocked lisi" in unlocked.stdout
    with unit_of_work(runtime.get_engine()) as conn:
        assert not state(conn, policy=policy, username="lisi", client_addr=None, now=now).locked
    unknown = cli("user", "unlock", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.stderr


def _events(action: str) -> list[tuple[str | None, str | None, str, str, object]]:
    with runtime.get_engine().connect() as conn:
        rows = conn.execute(
            select(
                audit_events.c.actor_id,
                audit_events.c.actor_username,
                audit_events.c.decision,
                audit_events.c.reason,
                audit_events.c.details,
            )
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.id)
        ).all()
    return [(r.actor_id, r.actor_username, r.decision, r.reason, _json(r.details)) for r in rows]


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_refusals_through_the_cli_are_on_record(org: Org, as_: object) -> None:
    """Issue 11 §2, C1.3: a named person refused by the service gets a message and exit code 1,
    and leaves a deny event naming the permission their roles lack, as over the API."""
    run = as_  # type: ignore[assignment]
    seller = run("zhangsan", "user", "add", "dup", "--name", "x", "--role", "salesperson")
    assert seller.exit_code == 1 and "only the system administrator" in seller.stderr
    admin = run("admin", "user", "approve", "0" * 36)
    assert admin.exit_code == 1 and "only the security officer" in admin.stderr
    assert [e for e in _events("user:create") if e[2] == "deny"] == [
        (org.user_ids["zhangsan"], "zhangsan", "deny", "missing_permission",
         {"permission": "user:manage"}),
    ]  # fmt: skip
    assert _events("account_change:approve") == [
        (org.user_ids["admin"], "admin", "deny", "missing_permission",
         {"permission": "account:approve"}),
    ]  # fmt: skip


def test_the_console_acts_as_the_os_account(initialised: Path, cli: Invoke) -> None:
    """Issue 11 §6, C1.3: without --as the OS account acts as the console operator, audited
    under os:<account> with no user id: the first administrator, a disable, an unlock."""
    name = f"os:{os_account()}"
    assert cli("user", "add", "root", "--name", "管理员", "--role", "administrator").exit_code == 0
    assert cli("user", "unlock", "root").exit_code == 0
    only = cli("user", "disable", "root")  # issue 19: never the last holder of a duty
    assert only.exit_code == 1 and "only active administrator" in only.stderr
    with unit_of_work(runtime.get_engine()) as conn:
        service.create_user(
            conn, actor=SEEDER, ctx=CLI_CONTEXT, username="root2", display_name="管理员二",
            employment_type=EmploymentType.FULL_TIME, department_id=None,
            roles={Role.ADMINISTRATOR}, password="another-long-passphrase-2026",
        )  # fmt: skip
    assert cli("user", "disable", "root").exit_code == 0
    assert _events("user:create") == [
        (None, name, "allow", "ok", {"user": "root", "roles": ["administrator"]}),
        (None, "system:seed", "allow", "ok", {"user": "root2", "roles": ["administrator"]}),
    ]
    assert _events("auth:unlock") == [(None, name, "allow", "not_locked", {"failures": 0})]
    assert _events("user:disable") == [
        (None, name, "deny", "last_holder_of_duty", {"duty": "administrator"}),
        (None, name, "allow", "ok", None),
    ]


def test_department_list_shows_the_tree_heads_and_people(org: Org, cli: Invoke) -> None:
    """Issue 19: there was no way to see the departments from the CLI."""
    listed = cli("department", "list")
    assert listed.exit_code == 0, listed.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in listed.stdout.splitlines()]
    rows = {row[0]: row for row in cells if row}
    assert rows["上海组"][1] == "华东销售部"  # its parent
    assert rows["华东销售部"][2] == "wangwu"  # its head
    assert int(rows["华东销售部"][3]) >= 1  # its people
