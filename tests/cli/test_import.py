"""`baomi import FILE --as USERNAME` (issue 12 item 2, C4.1.3): the messy ledger through the
command line, --dry-run, --json, --report and --resume, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from baomi import runtime
from baomi.imports import service
from tests.cli.conftest import Invoke
from tests.imports import ledger
from tests.support.org import PASSWORD, build_org, recovery_codes

PROVENANCE = ("--source", "2024 华东区客户台账", "--basis", "contract")
AS_ZHANGSAN = ("--as", "zhangsan", "--password-stdin")


@pytest.fixture
def company(backend_home: Path, cli: Invoke) -> Path:
    """An initialised home with the test company (zhangsan: a salesperson, no second factor)."""
    result = cli("init")
    assert result.exit_code == 0, result.output
    build_org(runtime.get_engine(), runtime.get_key_provider())
    return backend_home


def test_import_json_report_and_dry_run(company: Path, cli: Invoke, tmp_path: Path) -> None:
    path = ledger.build_xlsx(tmp_path / "客户台账.xlsx")
    dry = cli(
        "import", str(path), *AS_ZHANGSAN, *PROVENANCE, "--dry-run", "--json", input=f"{PASSWORD}\n"
    )
    assert dry.exit_code == 0, dry.output
    checked = json.loads(dry.stdout)
    assert list(checked)[:7] == [
        "rows",
        "customers",
        "imported",
        "duplicates_in_file",
        "duplicates_in_company",
        "invalid_values",
        "sensitive_in_text",
    ]
    # Nothing on file yet, so the dry run meets no duplicate in the company.
    assert (checked["rows"], checked["customers"], checked["imported"]) == (11, 8, 0)
    assert checked["duplicates_in_company"] == 0 and checked["import_id"] is None
    out = tmp_path / "report.xlsx"
    result = cli(
        "import",
        str(path),
        *AS_ZHANGSAN,
        *PROVENANCE,
        "--json",
        "--report",
        str(out),
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["customers"], report["imported"]) == (11, 8, 8)
    assert report["duplicates_in_file"] == 2
    first = report["invalid_values"][0]
    assert set(first) >= {"row", "field", "value_masked", "problem"}
    assert len(report["invalid_values"]) == len(ledger.XLSX.invalid)
    assert len(report["sensitive_in_text"]) == len(ledger.XLSX.sensitive)
    book = load_workbook(out, read_only=True)
    problems = list(book["问题"].iter_rows(values_only=True))[1:]
    kinds = [row[0] for row in problems]
    assert kinds.count("invalid_value") == len(ledger.XLSX.invalid)
    assert kinds.count("sensitive_in_text") == len(ledger.XLSX.sensitive)
    assert kinds.count("duplicate_in_file") == 2
    assert kinds.count("sheet_skipped") == 1  # 说明: notes, no header
    # Imported again: every customer is on file now, handled by zhangsan himself.
    again = cli("import", str(path), *AS_ZHANGSAN, *PROVENANCE, input=f"{PASSWORD}\n")
    assert again.exit_code == 0, again.output
    assert "handled by zhangsan (华东销售部)" in again.output
    assert "13800138000" not in again.output  # masked, never whole


def test_import_resumes_an_interrupted_run(
    company: Path, cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ledger.build_csv(tmp_path / "客户名单.csv")
    real_run = service.run

    def interrupted(*args: object, **kwargs: object) -> object:
        def stop(done: int, total: int) -> None:
            raise KeyboardInterrupt

        return real_run(*args, **{**kwargs, "batch": 1, "progress": stop})  # type: ignore[arg-type]

    monkeypatch.setattr(service, "run", interrupted)
    stopped = cli("import", str(path), *AS_ZHANGSAN, *PROVENANCE, input=f"{PASSWORD}\n")
    assert stopped.exit_code == 130, stopped.output
    assert "--resume" in stopped.output
    run_id = stopped.output.split("--resume", 1)[1].split()[0]
    monkeypatch.setattr(service, "run", real_run)
    resumed = cli(
        "import", str(path), *AS_ZHANGSAN, "--resume", run_id, "--json", input=f"{PASSWORD}\n"
    )
    assert resumed.exit_code == 0, resumed.output
    report = json.loads(resumed.stdout)
    assert (report["customers"], report["imported"], report["duplicates_in_company"]) == (3, 3, 0)
    assert report["import_id"] == run_id


def test_import_refusals(company: Path, cli: Invoke, tmp_path: Path) -> None:
    missing = cli(
        "import", str(tmp_path / "none.xlsx"), *AS_ZHANGSAN, *PROVENANCE, input=f"{PASSWORD}\n"
    )
    assert missing.exit_code == 1 and "no such file" in missing.output
    text = tmp_path / "ledger.csv"
    text.write_bytes(b"\xff\xfe\x00bad")
    bad = cli("import", str(text), *AS_ZHANGSAN, *PROVENANCE, input=f"{PASSWORD}\n")
    assert bad.exit_code == 1 and "neither UTF-8 nor GB 18030" in bad.output
    no_source = cli("import", str(text), *AS_ZHANGSAN, input=f"{PASSWORD}\n")
    assert no_source.exit_code == 2 and "--source" in no_source.output
    # An auditor files no customers (三员分立): refused like `create`.
    auditor = cli(
        "import",
        str(ledger.build_csv(tmp_path / "a.csv")),
        "--as",
        "shenji",
        "--password-stdin",
        *PROVENANCE,
        input=f"{PASSWORD}\n{recovery_codes('shenji')[0]}\n",
    )
    assert auditor.exit_code == 1, auditor.output
    assert "handler must be an active salesperson" in auditor.output
