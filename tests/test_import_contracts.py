"""The import contracts of pyproject.toml hold, and each of them fails on a planted violation.

The contracts make the rooms' doors a check rather than a comment (issue 11): only the customers
room opens customer data, a room's tables are its own, the web UI and the CLI read no tables,
security/ and crypto/ know no domain, and no module imports itself through others (C4.2.1, C4.2.2).
A contract that cannot fail proves nothing, so each is also run against a copy of the package
with one import planted that breaks it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "baomi"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> (module of the copy that gets the import, the module it imports): each planted
# import is one the code once had or that the contract exists to stop.
PLANTED = {
    # The web UI reaching for the decrypt helpers instead of calling customers' services.
    "door": ("baomi.web.labels", "baomi.customers.decrypt"),
    # Someone other than the keystore making data keys.
    "data-keys": ("baomi.customers.vault", "baomi.crypto.wrapping"),
    # The policy reading the grants table, as security/policy.py once did.
    "own-tables": ("baomi.security.policy", "baomi.grants.models"),
    # The CLI reading the key versions table, as cli/server.py once did.
    "ui-reads-no-tables": ("baomi.cli.server", "baomi.keystore.models"),
    # The level rules importing the field catalog, as security/levels.py once did.
    "core-knows-no-domain": ("baomi.security.levels", "baomi.customers.fields"),
    # grants asking access's service while access builds on grants, as they once did.
    "no-circles": ("baomi.access.approvers", "baomi.grants.service"),
}


def _lint(*args: str, source: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run lint-imports from the repository root, on `source` (a copy of src/) if given."""
    env = {**os.environ, "COLUMNS": "200"}
    if source is not None:
        # Ahead of the installed package: grimp builds the graph from the copy.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contract_ids() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"] for c in config["tool"]["importlinter"]["contracts"]}


def test_the_import_contracts_hold() -> None:
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contract_ids())} kept, 0 broken." in result.stdout


def test_every_contract_has_a_planted_violation() -> None:
    assert set(PLANTED) == _contract_ids()


@pytest.mark.parametrize("contract", sorted(PLANTED))
def test_a_planted_violation_breaks_the_contract(contract: str, tmp_path: Path) -> None:
    importer, imported = PLANTED[contract]
    copy = tmp_path / "src" / "baomi"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    # The unplanted copy keeps the contract: what breaks it below is the planted line alone.
    assert _lint("--contract", contract, source=copy.parent).returncode == 0

    module = copy.joinpath(*importer.split(".")[1:]).with_suffix(".py")
    module.write_text(module.read_text(encoding="utf-8") + f"\nimport {imported}  # planted\n")
    result = _lint("--contract", contract, source=copy.parent)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 1 broken." in result.stdout
    assert f"{importer} -> {imported}" in result.stdout
