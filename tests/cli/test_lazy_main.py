"""`baomi --help` answers without importing the command groups (issue 19: it took ~4 s), and the
help it prints from cli/main.py's COMMANDS is each command's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baomi.cli.main import COMMANDS, load

_PROBE = """
import json, sys
from typer.testing import CliRunner
from baomi.cli.main import app
result = CliRunner().invoke(app, ["--help"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy" or m in GROUPS)
print(json.dumps({"code": result.exit_code, "out": result.output, "heavy": heavy}))
"""


def test_top_level_help_imports_no_command_group_and_no_database_layer() -> None:
    groups = sorted({entry.module for entry in COMMANDS.values()})
    probe = f"GROUPS = {groups!r}\n" + _PROBE
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(done.stdout)
    assert seen["code"] == 0
    assert seen["heavy"] == []
    for name in COMMANDS:
        assert name in seen["out"]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    assert COMMANDS[name].help == load(name).get_short_help_str(limit=10_000)


def test_the_user_group_carries_the_officers_decisions() -> None:
    user = load("user")
    assert {"changes", "approve", "reject", "add"} <= set(user.commands)  # type: ignore[attr-defined]


def test_each_read_only_command_runs_in_a_fresh_process(tmp_path: Path) -> None:
    """A group loaded alone finds what it needs (the in-process tests import everything, so
    they missed `jobs list` failing with "no field catalog" once groups loaded lazily)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOMI_")}
    env["BAOMI_HOME"] = str(tmp_path / "home")
    baomi = [sys.executable, "-c", "from baomi.cli.main import app; app()"]
    subprocess.run([*baomi, "init"], env=env, check=True, capture_output=True, timeout=120)
    for command in (
        ["jobs", "list"],
        ["user", "list"],
        ["grant", "list"],
        ["department", "list"],
        ["keys", "status"],
        ["audit", "status"],
    ):
        done = subprocess.run(
            [*baomi, *command], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr, command
