"""The private-ledger scanner (issue 12 item 3, C4.1.3): which files hold customer data, how
much of it, and how many values are customers on file, by blind index, counts only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.customers import service as customers
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.detect import KINDS, find_sensitive
from baomi.detect.extract import text_of
from baomi.errors import Forbidden
from baomi.ledgers import service
from baomi.ledgers.schemas import ScanReport
from baomi.security.actor import console_operator
from baomi.uow import unit_of_work
from tests.detect.corpus import E1, ID1, P1, P2, U2
from tests.ledgers.folder import Expected, build
from tests.support.api import PROVENANCE
from tests.support.org import Org, actor

CTX = RequestContext(request_id="scan-test", client_addr="test")


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Expected]:
    root = tmp_path / "ledgers"
    return root, build(root)


@pytest.fixture
def on_file(engine: Engine, org: Org, vault: Vault) -> None:
    """Two customers: one of zhangsan's (华东), one of zhaoliu's (华南)."""
    zhangsan, zhaoliu = actor(engine, org, "zhangsan"), actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        customers.create(
            conn,
            actor=zhangsan,
            ctx=CTX,
            vault=vault,
            customer_in=CustomerIn(
                name="张三", phones=[P1], emails=[E1], id_number=ID1, **PROVENANCE
            ),
        )
        customers.create(
            conn,
            actor=zhaoliu,
            ctx=CTX,
            vault=vault,
            customer_in=CustomerIn(name="某某贸易", phones=[P2], id_number=U2, **PROVENANCE),
        )


def _scan(engine: Engine, vault: Vault, who: object, root: Path) -> ScanReport:
    with unit_of_work(engine) as conn:
        return service.scan(conn, actor=who, ctx=CTX, vault=vault, root=root)  # type: ignore[arg-type]


def _by_path(report: ScanReport) -> dict[str, object]:
    return {f.path.replace("\\", "/"): f for f in report.files}


def test_precision_and_recall_on_a_folder_of_each_kind(folder: tuple[Path, Expected]) -> None:
    """C4.1.3: the scanner's reading and detection, value by value, over xlsx, csv, docx, pdf,
    txt and eml files with traps beside every identifier."""
    root, expected = folder
    tp = fp = fn = 0
    for name, marks in expected.items():
        path = root / name
        found = {(f.kind, f.value) for f in find_sensitive(text_of(path.read_bytes(), path.suffix))}
        wanted = {(kind, v) for kind, values in marks.items() for v in values}
        tp, fp, fn = tp + len(found & wanted), fp + len(found - wanted), fn + len(wanted - found)
        assert found == wanted, name
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(
        f"scanner on {len(expected)} files: tp={tp} fp={fp} fn={fn} "
        f"precision={precision:.3f} recall={recall:.3f}"
    )
    assert precision == recall == 1.0


def test_the_report_counts_per_file_and_the_console_looks_nothing_up(
    engine: Engine, vault: Vault, folder: tuple[Path, Expected]
) -> None:
    root, expected = folder
    report = _scan(engine, vault, console_operator("ops"), root)
    files = _by_path(report)
    assert report.files_seen == 8  # the png is not a kind of file ledgers are kept in
    assert set(files) == {name for name, marks in expected.items() if marks} | {"broken.xlsx"}
    for name, marks in expected.items():
        if marks:
            counts = files[name].counts  # type: ignore[attr-defined]
            assert counts == {kind: len(marks.get(kind, ())) for kind in KINDS}, name
    assert files["broken.xlsx"].error  # type: ignore[attr-defined]
    assert report.scope is None and report.matched is None


def test_a_salesperson_counts_only_their_own_customers(
    engine: Engine, org: Org, vault: Vault, folder: tuple[Path, Expected], on_file: None
) -> None:
    """C4.2.1: a count over the company would be 查重 in bulk; over one's own it tells nothing."""
    root, _ = folder
    report = _scan(engine, vault, actor(engine, org, "zhangsan"), root)
    files = _by_path(report)
    assert report.scope == "own"
    assert files["客户台账.xlsx"].matched == 3  # type: ignore[attr-defined]
    assert files["notes.txt"].matched == 1  # type: ignore[attr-defined]
    assert files["开票.eml"].matched == 1  # type: ignore[attr-defined]
    assert files["2023/contacts.csv"].matched == 0  # zhaoliu's customer  # type: ignore[attr-defined]
    assert report.matched == 5
    # lisi, in 上海组 under 华东, handles neither.
    assert _scan(engine, vault, actor(engine, org, "lisi"), root).matched == 0
    # wangwu heads 华东: zhangsan's customer is within his standing.
    assert _scan(engine, vault, actor(engine, org, "wangwu"), root).matched == 5


def test_the_security_officer_counts_across_the_company(
    engine: Engine, org: Org, vault: Vault, folder: tuple[Path, Expected], on_file: None
) -> None:
    root, _ = folder
    report = _scan(engine, vault, actor(engine, org, "baomiyuan"), root)
    files = _by_path(report)
    assert report.scope == "company"
    assert files["2023/contacts.csv"].matched == 2  # type: ignore[attr-defined]
    assert files["2023/quote.pdf"].matched == 1  # type: ignore[attr-defined]
    assert report.matched == 8


def test_the_auditor_may_not_look_customers_up(
    engine: Engine, org: Org, vault: Vault, folder: tuple[Path, Expected]
) -> None:
    root, _ = folder
    with pytest.raises(Forbidden):
        _scan(engine, vault, actor(engine, org, "shenji"), root)


def test_the_scan_is_audited_with_counts_and_never_values_or_paths(
    engine: Engine, org: Org, vault: Vault, folder: tuple[Path, Expected], on_file: None
) -> None:
    """C1.3: the scan is on record; C4.3.2: the record holds no value, nor a file's name."""
    root, _ = folder
    _scan(engine, vault, actor(engine, org, "baomiyuan"), root)
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.action, audit_events.c.details, audit_events.c.fields).where(
                audit_events.c.action.in_(["ledger:scan", "customer:count"])
            )
        ).all()
    events = {row.action: row for row in rows}
    scan_details = events["ledger:scan"].details
    scan_details = json.loads(scan_details) if isinstance(scan_details, str) else scan_details
    assert scan_details["files_seen"] == 8 and scan_details["matched"] == 8
    assert scan_details["totals"]["phone"] == 7
    text = json.dumps([list(map(str, row)) for row in rows], ensure_ascii=False)
    for secret in (P1, P1[3:], E1, ID1, U2, "客户台账", "notes.txt", str(root)):
        assert secret not in text


def test_nothing_changes_but_the_audit_log(
    engine: Engine, org: Org, vault: Vault, folder: tuple[Path, Expected], on_file: None
) -> None:
    root, _ = folder
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    _scan(engine, vault, actor(engine, org, "zhangsan"), root)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
