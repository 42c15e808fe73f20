"""Issue 11 §8: settings injected. The environment's settings are read at the edge only (the app
factory, the CLI, the job catalog, runtime.py); services take what they need from their caller:
the customer door its level rules and reveal limits from the vault (customers/vault.py), the
approval machine the level rules, notifications whether mail is on, the sealer its AuditSettings.
A service that read `get_settings()` itself would ignore what the app it runs in was built with."""

from __future__ import annotations

import ast
from pathlib import Path

import baomi

SOURCE = Path(baomi.__file__).parent
# Where the settings may be read: their definition and the edges that build the process.
EDGES = {"config.py", "runtime.py", "app.py", "jobs/catalog.py"}
EDGE_PACKAGES = ("cli/",)
# Each reads the environment's settings (a `Settings()` does too, field by field).
READERS = {"get_settings", "get_audit_settings"}


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in READERS:
            found.append((node.lineno, f"{name}()"))
        elif isinstance(func, ast.Name) and func.id == "Settings":
            found.append((node.lineno, "Settings()"))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "settings"
            and isinstance(func.value, ast.Name)
            and func.value.id == "runtime"
        ):
            found.append((node.lineno, "runtime.settings()"))
    return sorted(found)


def _at_the_edge(path: Path) -> bool:
    relative = path.relative_to(SOURCE).as_posix()
    return relative in EDGES or relative.startswith(EDGE_PACKAGES)


def test_only_the_edges_read_the_settings() -> None:
    offences = [
        f"{path.relative_to(SOURCE)}:{line}: {what}"
        for path in sorted(SOURCE.rglob("*.py"))
        if not _at_the_edge(path)
        for line, what in _offences(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offences == []


def test_the_check_sees_every_way_to_read_them() -> None:
    planted = (
        "from baomi import runtime\n"
        "from baomi.config import Settings, get_settings\n"
        "limit = get_settings().reveal_limit_per_hour\n"
        "home = runtime.settings().home\n"
        "engine = runtime.get_settings().database_url\n"
        "audit = runtime.get_audit_settings()\n"
        "fresh = Settings()\n"
        "defaults = Settings.model_construct()\n"  # the class's defaults: no environment
    )
    assert [what for _, what in _offences(ast.parse(planted))] == [
        "get_settings()",
        "runtime.settings()",
        "get_settings()",
        "get_audit_settings()",
        "Settings()",
    ]


def test_a_domain_module_is_not_an_edge() -> None:
    assert not _at_the_edge(SOURCE / "customers" / "service.py")
    assert not _at_the_edge(SOURCE / "notifications" / "outbox.py")
    assert _at_the_edge(SOURCE / "cli" / "server.py")
