"""Issue 19 item 4 from the CLI: `baomi department rename | move`, `baomi user edit | enable`,
and `baomi user move --no-department`. The administrator acts (`--as`); a department's move and
an enabled salesperson wait for a security officer (三员分立, C1.3, C4.2.1); every refusal is one
red line on stderr and exit code 1 (2 for a usage error), never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from baomi import runtime
from baomi.users import service
from baomi.users.schemas import UserOut
from tests.cli.conftest import Invoke
from tests.support.org import PASSWORD, Org, build_org, recovery_codes

CHANGE = re.compile(r"change (\S+) \(")
Run = Callable[..., Result]


@pytest.fixture
def org(initialised: Path) -> Org:
    return build_org(runtime.get_engine(), runtime.get_key_provider())


@pytest.fixture
def run(org: Org, cli: Invoke) -> Run:
    """Run a command as a named person: their password and a fresh recovery code on stdin."""
    spent: dict[str, int] = {}

    def invoke(person: str, *args: str) -> Result:
        n = spent.get(person, 0)
        spent[person] = n + 1
        secrets = f"{PASSWORD}\n{recovery_codes(person)[n]}\n"
        return cli(*args, "--as", person, "--password-stdin", input=secrets)

    return invoke


def _parents() -> dict[str, str | None]:
    with runtime.get_engine().connect() as conn:
        found = service.list_departments(conn)
    names = {d.id: d.name for d in found}
    return {d.name: names.get(d.parent_id or "") for d in found}


def _user(username: str) -> UserOut:
    with runtime.get_engine().connect() as conn:
        return next(u for u in service.list_users(conn) if u.username == username)


def _one_line_refusal(result: Result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert text in result.stderr and "Traceback" not in result.output


def test_department_rename(run: Run) -> None:
    done = run("admin", "department", "rename", "华南销售部", "华南大区")
    assert done.exit_code == 0 and "Renamed department 华南销售部 to 华南大区" in done.stdout
    _one_line_refusal(run("admin", "department", "rename", "华南大区", "上海组"), "already exists")
    _one_line_refusal(run("admin", "department", "rename", "华南大区", "  "), "needs a name")
    _one_line_refusal(run("admin", "department", "rename", "无此部门", "x"), "无此部门")
    _one_line_refusal(
        run("zhangsan", "department", "rename", "华南大区", "x"), "only the system administrator"
    )
    assert set(_parents()) == {"华东销售部", "上海组", "华南大区"}


def test_department_move_waits_for_the_officer(run: Run, cli: Invoke) -> None:
    """C1.3: 上海组 under 华南销售部 changes its supervising heads; the officer approves."""
    asked = run("admin", "department", "move", "上海组", "--under", "华南销售部")
    assert asked.exit_code == 0, asked.output
    change = CHANGE.search(asked.stdout)
    assert change and "waits for a security officer" in asked.stdout
    assert _parents()["上海组"] == "华东销售部"
    listed = run("baomiyuan", "user", "changes", "--pending")
    row = next(line for line in listed.stdout.splitlines() if change.group(1) in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[1:5] == ["department 上海组", "parent", "under 华东销售部", "under 华南销售部"]
    assert run("baomiyuan", "user", "approve", change.group(1)).exit_code == 0
    assert _parents()["上海组"] == "华南销售部"

    top = run("admin", "department", "move", "上海组", "--top")
    assert top.exit_code == 0 and "to the top level" in top.stdout
    listed = run("admin", "user", "changes", "--pending")
    assert "top level" in listed.stdout
    top_change = CHANGE.search(top.stdout)
    assert top_change and run("baomiyuan", "user", "approve", top_change.group(1)).exit_code == 0
    assert _parents()["上海组"] is None


def test_department_move_refusals(run: Run, cli: Invoke) -> None:
    cycle = run("admin", "department", "move", "华东销售部", "--under", "上海组")
    _one_line_refusal(cycle, "cannot move under itself or a department below it")
    _one_line_refusal(
        run("admin", "department", "move", "上海组", "--under", "华东销售部"), "already"
    )
    _one_line_refusal(run("admin", "department", "move", "华东销售部", "--top"), "already")
    both = cli("department", "move", "上海组", "--top", "--under", "华南销售部", "--as", "admin")
    neither = cli("department", "move", "上海组", "--as", "admin")
    assert both.exit_code == 2 and neither.exit_code == 2 and "--top" in neither.stderr
    assert _parents()["上海组"] == "华东销售部"


def test_user_edit(run: Run, cli: Invoke) -> None:
    done = run(
        "admin", "user", "edit", "zhaoliu", "--name", "赵六六", "--email", "zl@example.com",
        "--employment", "full_time",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    person = _user("zhaoliu")
    assert (person.display_name, person.email, person.employment_type.value) == (
        "赵六六", "zl@example.com", "full_time",
    )  # fmt: skip
    assert run("admin", "user", "edit", "zhaoliu", "--no-email").exit_code == 0
    assert _user("zhaoliu").email is None and _user("zhaoliu").display_name == "赵六六"
    bad = run("admin", "user", "edit", "zhaoliu", "--email", "nope")
    assert bad.exit_code == 1 and "--email" in bad.stderr and "not an e-mail address" in bad.stderr
    _one_line_refusal(run("admin", "user", "edit", "zhaoliu", "--name", " "), "give a name")
    nothing = cli("user", "edit", "zhaoliu", "--as", "admin")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    _one_line_refusal(run("admin", "user", "edit", "nobody", "--name", "x"), "nobody")


def test_user_enable(run: Run, cli: Invoke) -> None:
    """C4.2.1: a salesperson's access comes back once the officer approves; an auditor's at once."""
    assert cli("user", "disable", "qianba").exit_code == 0
    asked = run("admin", "user", "enable", "qianba")
    assert asked.exit_code == 0, asked.output
    change = CHANGE.search(asked.stdout)
    assert change and not _user("qianba").is_active
    listed = run("baomiyuan", "user", "changes", "--pending")
    assert "enable" in listed.stdout and "disabled" in listed.stdout
    assert run("baomiyuan", "user", "approve", change.group(1)).exit_code == 0
    assert _user("qianba").is_active
    _one_line_refusal(run("admin", "user", "enable", "qianba"), "not disabled")

    # A second auditor, so that the first may be disabled (never the last holder of a duty).
    added = run("admin", "user", "add", "shenji2", "--name", "审计员二", "--role", "auditor")
    second = CHANGE.search(added.stdout)
    assert second and run("baomiyuan", "user", "approve", second.group(1)).exit_code == 0
    assert cli("user", "disable", "shenji").exit_code == 0
    direct = run("admin", "user", "enable", "shenji")
    assert direct.exit_code == 0 and "in effect now" in direct.stdout
    assert _user("shenji").is_active


def test_department_required(run: Run, cli: Invoke) -> None:
    """C1.3: nobody who works with customers is created or left without a department."""
    homeless = run("admin", "user", "add", "wujia", "--name", "无家", "--role", "salesperson")
    assert homeless.exit_code == 1 and "--department" in homeless.stderr
    assert "belongs to a department" in homeless.stderr
    out = run("admin", "user", "move", "zhangsan", "--no-department")
    _one_line_refusal(out, "belongs to a department")
    raised = run("admin", "user", "roles", "shenji", "--role", "salesperson")
    _one_line_refusal(raised, "belongs to a department")
    both = cli("user", "move", "zhangsan", "--no-department", "--department", "上海组", "--as", "x")
    assert both.exit_code == 2
    assert _user("zhangsan").department_name == "华东销售部"
    assert "wujia" not in {u.username for u in _all()}


def _all() -> list[UserOut]:
    with runtime.get_engine().connect() as conn:
        return service.list_users(conn)
