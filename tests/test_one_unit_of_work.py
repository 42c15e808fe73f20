"""Issue 11 §8: one way to run a unit of work. Transactions begin in `baomi.uow.unit_of_work`
(and a request's in api/deps.py through it), which records a refusal's audit events after the
rollback (C1.3); a bare `engine.begin()` would lose them. The exceptions are named here with
their reason; the sanctioned nestings are the web form's SAVEPOINT (uow.py) and, on SQLite,
the savepoint of each request unit in a group commit (db_group.py, issued on the driver)."""

from __future__ import annotations

import ast
from pathlib import Path

import baomi

SOURCE = Path(baomi.__file__).parent
# Modules that may call `.begin()`, and why (each says so beside the call, too).
MAY_BEGIN = {
    "uow.py": "the unit of work itself",
    "db_direct.py": "begins the request's own unit at its first statement, as execute would",
    "audit/runner.py": "the sealer: audit/ sits below uow, which records refusals in the log",
}
# The form savepoint (web/forms.py `attempt`): a refused form rolls back only its own work.
MAY_NEST = {"web/forms.py"}


def _calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Every call that begins a transaction (or a savepoint), by line."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if isinstance(func, ast.Attribute) and name in {"begin", "begin_nested"}:
            found.append((node.lineno, f".{name}()"))
        elif name == "transaction":
            found.append((node.lineno, "transaction()"))
    return sorted(found)


def _offences(relative: str, tree: ast.AST) -> list[tuple[int, str]]:
    allowed = {".begin()"} if relative in MAY_BEGIN else set()
    if relative in MAY_NEST:
        allowed.add(".begin_nested()")
    return [(line, what) for line, what in _calls(tree) if what not in allowed]


def _modules() -> dict[str, ast.AST]:
    return {
        path.relative_to(SOURCE).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(SOURCE.rglob("*.py"))
    }


def test_units_of_work_begin_in_one_place() -> None:
    offences = [
        f"{relative}:{line}: {what}"
        for relative, tree in _modules().items()
        for line, what in _offences(relative, tree)
    ]
    assert offences == []


def test_every_exception_is_still_needed() -> None:
    """An exception that no longer begins anything is taken off the list, not left open."""
    modules = _modules()
    unused = [name for name in sorted(MAY_BEGIN.keys() | MAY_NEST) if not _calls(modules[name])]
    assert unused == []


def test_the_check_sees_a_planted_transaction() -> None:
    planted = (
        "with engine.begin() as conn:\n    pass\n"
        "with transaction(engine) as conn:\n    pass\n"
        "with db.transaction(engine) as conn:\n    pass\n"
        "with conn.begin_nested():\n    pass\n"
        "with unit_of_work(engine) as conn:\n    pass\n"
    )
    tree = ast.parse(planted)
    assert [what for _, what in _offences("customers/service.py", tree)] == [
        ".begin()",
        "transaction()",
        "transaction()",
        ".begin_nested()",
    ]
    assert [what for _, what in _offences("audit/runner.py", tree)] == [
        "transaction()",
        "transaction()",
        ".begin_nested()",
    ]
    assert [what for _, what in _offences("web/forms.py", tree)] == [
        ".begin()",
        "transaction()",
        "transaction()",
    ]
