"""Every command on a missing or an empty BAOMI_HOME: one line saying what to do, a non-zero
exit, no traceback, and nothing created (issue 19: `user list` printed 391 lines, and
`audit verify` created a home, a signing key and an empty database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from baomi.cli.main import COMMANDS, load
from tests.cli.conftest import Invoke

# Only these make an installation, by design.
MAKERS = {("init",), ("demo",)}
# Its answer is a checklist, a ✗ per failed check (tests/cli/test_doctor.py).
CHECKLISTS = {("doctor",)}
# Needs no installation at all: it prints a new random key and stores nothing.
HOMELESS = {("keys", "new")}


def _leaves() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name in COMMANDS:
        command = load(name)
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found.extend((name, sub) for sub in subcommands)
        else:
            found.append((name,))
    return [leaf for leaf in found if leaf not in MAKERS]


def _state(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*")) if home.exists() else []


@pytest.mark.parametrize("made", [False, True], ids=["missing home", "empty home"])
@pytest.mark.parametrize("leaf", _leaves(), ids=" ".join)
def test_a_bad_home_gets_one_clear_line_and_keeps_nothing(
    home: Path, cli: Invoke, leaf: tuple[str, ...], made: bool
) -> None:
    if made:
        home.mkdir()
    result = cli(*leaf, input="")
    assert (result.exit_code == 0) == (leaf in HOMELESS), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 1 and leaf not in CHECKLISTS:  # refused by the command, not click
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
    assert home.exists() == made
    assert _state(home) == []
