"""Issue 11 §8: one clock. Every module reads the time as `clock.utcnow()` after `from baomi
import clock`, so replacing `baomi.clock.utcnow` (tests/support/clock.py) moves time everywhere;
a name imported on its own (`from baomi.clock import utcnow`) would keep the real clock, and a
direct `datetime.now()` would bypass it."""

from __future__ import annotations

import ast
from pathlib import Path

import baomi

SOURCE = Path(baomi.__file__).parent
CLOCK = SOURCE / "clock.py"


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "baomi.clock":
            found.append((node.lineno, "from baomi.clock import …"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"now", "utcnow", "today"}
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date"}
        ):
            found.append((node.lineno, f"{node.func.value.id}.{node.func.attr}()"))
    return found


def test_every_module_reads_the_one_clock() -> None:
    offences = [
        f"{path.relative_to(SOURCE)}:{line}: {what}"
        for path in sorted(SOURCE.rglob("*.py"))
        if path != CLOCK
        for line, what in _offences(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offences == []


def test_the_check_sees_both_ways_around_the_clock() -> None:
    planted = "from baomi.clock import utcnow\nfrom datetime import datetime\nx = datetime.now()\n"
    assert [what for _, what in _offences(ast.parse(planted))] == [
        "from baomi.clock import …",
        "datetime.now()",
    ]
