"""`baomi user` and `baomi department`: the services' rules, user errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result

from baomi import runtime
from baomi.users import service
from baomi.users.schemas import EmploymentType, UserOut
from tests.cli.conftest import Invoke

PASSWORD = "correct-horse-2026"


def _users() -> dict[str, UserOut]:
    with runtime.get_engine().connect() as conn:
        return {u.username: u for u in service.list_users(conn)}


def _add(cli: Invoke, *args: str, password: str = PASSWORD) -> Result:
    return cli("user", "add", *args, "--password-stdin", input=password + "\n")


def test_user_add_list_disable(initialised: Path, cli: Invoke) -> None:
    """C1.2: part-time staff are users with a department and the same controls."""
    assert cli("department", "add", "华南销售部").exit_code == 0
    result = cli(
        "user", "add", "zhaoliu", "--name", "赵六", "--department", "华南销售部",
        "--role", "salesperson", "--employment", "part_time", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    person = _users()["zhaoliu"]
    assert person.employment_type is EmploymentType.PART_TIME
    assert person.department_name == "华南销售部"

    listed = cli("user", "list")
    assert listed.exit_code == 0
    assert "zhaoliu" in listed.stdout and "赵六" in listed.stdout and "part_time" in listed.stdout

    assert cli("user", "disable", "zhaoliu").exit_code == 0
    assert "disabled" in cli("user", "list").stdout
    with runtime.get_engine().connect() as conn:
        assert service.authenticate(conn, username="zhaoliu", password=PASSWORD) is None
    again = cli("user", "disable", "zhaoliu")
    assert again.exit_code == 1
    assert "already disabled" in again.stderr


def test_password_is_asked_twice(initialised: Path, cli: Invoke) -> None:
    typed = cli(
        "user", "add", "admin2", "--name", "管理员", "--role", "administrator",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert typed.exit_code == 0, typed.output
    assert PASSWORD not in typed.output  # hidden input is not echoed
    differ = cli(
        "user", "add", "admin3", "--name", "管理员", "--role", "administrator",
        input=f"{PASSWORD}\n{PASSWORD}x\n",
    )  # fmt: skip
    assert differ.exit_code == 1
    assert "differ" in differ.stderr
    assert "admin3" not in _users()


def test_separation_of_duties_is_refused(initialised: Path, cli: Invoke) -> None:
    """三员分立 (MLPS 2.0): the auditor cannot also work with customer data."""
    result = _add(cli, "mixed", "--name", "混合", "--role", "auditor", "--role", "salesperson")
    assert result.exit_code == 1
    assert "三员分立" in result.stderr
    assert "--role" in result.stderr
    assert "Traceback" not in result.output
    assert "mixed" not in _users()


def test_bad_input_exits_1_with_field_errors(initialised: Path, cli: Invoke) -> None:
    bad_name = _add(cli, "Bad Name", "--name", "x", "--role", "salesperson")
    assert bad_name.exit_code == 1
    assert "username" in bad_name.stderr
    short = _add(cli, "shorty", "--name", "x", "--role", "salesperson", password="short")
    assert short.exit_code == 1
    assert "password" in short.stderr
    nowhere = _add(cli, "lost", "--name", "x", "--department", "无此部门", "--role", "salesperson")
    assert nowhere.exit_code == 1
    assert "无此部门" in nowhere.stderr
    assert _add(cli, "dup", "--name", "x", "--role", "salesperson").exit_code == 0
    dup = _add(cli, "dup", "--name", "x", "--role", "salesperson")
    assert dup.exit_code == 1
    assert "taken" in dup.stderr
    unknown_role = _add(cli, "r", "--name", "x", "--role", "boss")
    assert unknown_role.exit_code == 2  # rejected by the option parser itself
    for result in (bad_name, short, nowhere, dup):
        assert "Traceback" not in result.output


def test_department_with_parent_and_head(initialised: Path, cli: Invoke) -> None:
    """C3.2: a department has a supervising head, who must hold the department_head role."""
    assert _add(cli, "wangwu", "--name", "王五", "--role", "department_head").exit_code == 0
    assert _add(cli, "zhangsan", "--name", "张三", "--role", "salesperson").exit_code == 0
    assert cli("department", "add", "华东销售部", "--head", "wangwu").exit_code == 0
    sub = cli("department", "add", "上海组", "--parent", "华东销售部")
    assert sub.exit_code == 0, sub.output
    wrong_head = cli("department", "add", "华北销售部", "--head", "zhangsan")
    assert wrong_head.exit_code == 1
    assert "department_head" in wrong_head.stderr
    no_parent = cli("department", "add", "深圳组", "--parent", "无此部门")
    assert no_parent.exit_code == 1
    with runtime.get_engine().connect() as conn:
        departments = {d.name: d for d in service.list_departments(conn)}
        wangwu = service.user_id_by_username(conn, "wangwu")
    # The refused commands left nothing behind: one transaction per command.
    assert set(departments) == {"华东销售部", "上海组"}
    assert departments["华东销售部"].head_user_id == wangwu
    assert departments["上海组"].parent_id == departments["华东销售部"].id


def test_user_unlock(initialised: Path, cli: Invoke) -> None:
    """C4.2.4: the operator unlocks an account locked by failed logins."""
    from baomi.auth.lockout import Policy, record_failure, state
    from baomi.clock import utcnow
    from baomi.uow import unit_of_work

    assert _add(cli, "lisi", "--name", "李四", "--role", "salesperson").exit_code == 0
    assert "was not locked" in cli("user", "unlock", "lisi").stdout
    policy, now = Policy(), utcnow()
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
