"""`baomi scan PATH [--json]` (issue 12 item 3, C4.1.3): the files holding customer data."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.ledgers.folder import build


def test_scan_prints_a_table_and_json(initialised: Path, cli: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "share"
    build(root)
    table = cli("scan", str(root))
    assert table.exit_code == 0, table.output
    assert "客户台账.xlsx" in table.output and "unreadable" in table.output
    assert "6 of 8 file(s) hold customer data" in table.output
    assert "give --as" in table.output
    assert "13800138000" not in table.output  # counts, never values
    result = cli("scan", str(root), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    files = {f["path"]: f for f in report["files"]}
    assert files["notes.txt"]["counts"]["bank_card"] == 1
    assert report["scope"] is None and report["matched"] is None


def test_scan_of_a_missing_path_is_a_user_error(initialised: Path, cli: Invoke) -> None:
    result = cli("scan", str(initialised / "nowhere"))
    assert result.exit_code == 1
    assert "no such file or folder" in result.output
