"""Importing a messy ledger end to end (issue 12 item 2; C4.1.1, C4.1.3), on SQLite and
PostgreSQL: the counts of customers, duplicates, invalid values and identifiers in free text are
held exactly to the ledger's (tests/imports/ledger.py); a dry run files nothing; an interrupted
import resumes with no customer filed twice; the import is one audit event, each customer one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.consent.models import consents
from baomi.customers import service as customers
from baomi.customers.models import customer_index
from baomi.customers.models import customers as customer_table
from baomi.customers.schemas import CustomerIn, LawfulBasis
from baomi.customers.vault import Vault
from baomi.imports import service
from baomi.imports.models import imports
from baomi.imports.schemas import ImportReport, Options
from baomi.keystore.models import data_keys
from baomi.uow import unit_of_work
from tests.detect.corpus import ID_RETIRED
from tests.imports import ledger
from tests.support.org import Org, actor

CTX = RequestContext(request_id="test-import", client_addr="127.0.0.1")
OPTIONS = Options(source="2024 华东区客户台账（导入）", lawful_basis=LawfulBasis.CONTRACT)


@pytest.fixture
def on_file(engine: Engine, org: Org, vault: Vault) -> str:
    """zhaoliu's customer (华南销售部), whose phone the ledger holds in row 14."""
    zhaoliu = actor(engine, org, "zhaoliu")
    with unit_of_work(engine) as conn:
        out = customers.create(
            conn,
            actor=zhaoliu,
            ctx=CTX,
            vault=vault,
            customer_in=CustomerIn(
                name="丙公司", phones=[ledger.ON_FILE_PHONE], source="名片", lawful_basis="contract"
            ),
        )
    return out.id


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (customer_table, customer_index, data_keys, consents, imports)
        }


def _import(engine: Engine, org: Org, vault: Vault, path: Path, **kwargs: Any) -> ImportReport:
    return service.run(
        engine,
        actor=actor(engine, org, "zhangsan"),
        ctx=CTX,
        vault=vault,
        path=path,
        **({"options": OPTIONS} | kwargs),
    )


def _check(report: ImportReport, expected: ledger.Expected) -> None:
    assert (
        report.rows,
        report.customers,
        report.imported,
        report.duplicates_in_file,
        report.duplicates_in_company,
        report.rows_without_name,
    ) == (
        expected.rows,
        expected.customers,
        expected.imported,
        expected.duplicates_in_file,
        expected.duplicates_in_company,
        expected.rows_without_name,
    )
    assert [(v.sheet, v.row, v.field, v.problem) for v in report.invalid_values] == expected.invalid
    assert [(s.sheet, s.row, s.field, s.kind) for s in report.sensitive_in_text] == (
        expected.sensitive
    )


def test_the_messy_ledger_is_imported_exactly(
    engine: Engine, org: Org, vault: Vault, on_file: str, tmp_path: Path
) -> None:
    path = ledger.build_xlsx(tmp_path / "客户台账.xlsx")
    before = _counts(engine)
    report = _import(engine, org, vault, path)
    _check(report, ledger.XLSX)
    # C4.1.3: the customer on file is named by its handler, as 查重 names it, and not filed.
    [met] = report.company_duplicates
    assert (met.sheet, met.row, met.field, met.outcome) == ("客户名单", 14, "phones[0]", "on_file")
    assert met.handler == {"username": "zhaoliu", "department": "华南销售部"}
    assert met.customer_id == on_file
    twice = [(d.sheet, d.row, d.first_sheet, d.first_row) for d in report.file_duplicates]
    assert twice == [("客户名单", 9, "客户名单", 5), ("新客户", 3, "客户名单", 7)]
    sheets = {s.name: s for s in report.sheets}
    assert sheets["说明"].header_row is None and sheets["客户名单"].header_row == 4
    assert (sheets["客户名单"].blank, sheets["客户名单"].totals) == (1, 1)
    assert sheets["新客户"].unmapped == ["负责区域"]
    # Values are masked in the report: never an identifier whole.
    text = report.model_dump_json()
    for secret in (ledger.ID_IN_NOTE, ledger.USCC_BAD, ledger.CARD, "110101199003071234"):
        assert secret not in text
    after = _counts(engine)
    assert after["customers"] - before["customers"] == 7
    assert after["data_keys"] - before["data_keys"] == 7
    assert after["consents"] - before["consents"] == 7
    assert after["imports"] == 1
    _read_back(engine, org, vault, report)
    _audited(engine, report)


def _read_back(engine: Engine, org: Org, vault: Vault, report: ImportReport) -> None:
    """The customers read back through the door, with the file's values normalised, the
    invalid ones left out, the source and lawful basis asked once (C4.1.1)."""
    zhangsan = actor(engine, org, "zhangsan")
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                select(customer_table.c.id)
                .where(customer_table.c.import_id == report.import_id)
                .order_by(customer_table.c.created_at, customer_table.c.id)
            ).scalars()
        )
    with unit_of_work(engine) as conn:
        batch = customers.read_many(
            conn, actor=zhangsan, ctx=CTX, vault=vault, customer_ids=ids, purpose="report"
        )
    by_name = {record.data["name"]: record for record in batch.records}
    assert set(by_name) == {
        "上海甲科技有限公司",
        "李四",
        "苏州乙贸易",
        "钱七",
        "孙八",
        "杭州丁网络",
        "南京戊",
    }
    assert all(r.source == OPTIONS.source and r.lawful_basis == "contract" for r in batch.records)
    with unit_of_work(engine) as conn:
        li4 = customers.get(
            conn, actor=zhangsan, ctx=CTX, vault=vault, customer_id=by_name["李四"].id
        )
        jia = customers.get(
            conn, actor=zhangsan, ctx=CTX, vault=vault, customer_id=by_name["上海甲科技有限公司"].id
        )
        yi = customers.get(
            conn, actor=zhangsan, ctx=CTX, vault=vault, customer_id=by_name["苏州乙贸易"].id
        )
    assert li4.data["phones"] == ["+8613900139000"] and li4.data["emails"] is None
    assert li4.data["id_number"] != ID_RETIRED and li4.data["id_number"].startswith("4401")
    assert li4.data["prices"] == "成交金额（元）：5000"
    assert jia.data["purchases"] == [
        {"date": "2024-03-01", "item": "成交", "amount": "12800.00", "currency": "CNY"}
    ]
    assert jia.data["contacts"][0]["name"].startswith("王")
    assert yi.data["phones"] == ["+862168889999", "+8613700137000"]
    assert yi.data["id_number"] is None  # its credit code failed its check: reported, kept out


def _audited(engine: Engine, report: ImportReport) -> None:
    with engine.connect() as conn:
        events = conn.execute(
            select(audit_events.c.reason, audit_events.c.object_id, audit_events.c.details)
            .where(audit_events.c.action == "customer:create", audit_events.c.decision == "allow")
            .order_by(audit_events.c.id)
        ).all()
        denied = conn.execute(
            select(func.count())
            .select_from(audit_events)
            .where(
                audit_events.c.action == "customer:create",
                audit_events.c.reason == "duplicate_customer",
            )
        ).scalar_one()
    imported = [e for e in events if (e.details or {}).get("import_id") == report.import_id]
    whole = [e for e in events if e.reason == "import"]
    assert len(imported) == 7 and denied == 1
    [event] = whole
    assert event.object_id == report.import_id
    assert event.details["import"]["file"] == "客户台账.xlsx"
    assert event.details["import"]["sha256"] == report.sha256 and len(report.sha256) == 64
    assert event.details["import"]["imported"] == 7
    assert event.details["import"]["invalid_values"] == len(ledger.XLSX.invalid)


def test_a_dry_run_reports_the_same_and_files_nothing(
    engine: Engine, org: Org, vault: Vault, on_file: str, tmp_path: Path
) -> None:
    path = ledger.build_xlsx(tmp_path / "客户台账.xlsx")
    before = _counts(engine)
    report = _import(engine, org, vault, path, dry_run=True)
    _check(report, ledger.Expected(**{**ledger.XLSX.__dict__, "imported": 0}))
    assert report.import_id is None and report.dry_run
    assert [d.handler for d in report.company_duplicates] == [
        {"username": "zhaoliu", "department": "华南销售部"}
    ]
    assert _counts(engine) == before
    with engine.connect() as conn:
        reasons = conn.execute(
            select(audit_events.c.reason).where(audit_events.c.reason == "import_dry_run")
        ).all()
    assert len(reasons) == 1  # what it found is on record: it names a handler, as 查重 does


def test_a_gb18030_csv_with_moving_found_identifiers(
    engine: Engine, org: Org, vault: Vault, tmp_path: Path
) -> None:
    path = ledger.build_csv(tmp_path / "客户名单.csv")
    options = OPTIONS.model_copy(update={"move_found": True})
    report = _import(engine, org, vault, path, options=options)
    _check(report, ledger.CSV)
    assert [s.moved for s in report.sensitive_in_text] == [True]
    zhangsan = actor(engine, org, "zhangsan")
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                select(customer_table.c.id).where(customer_table.c.import_id == report.import_id)
            ).scalars()
        )
    with unit_of_work(engine) as conn:
        records = [
            customers.get(conn, actor=zhangsan, ctx=CTX, vault=vault, customer_id=i) for i in ids
        ]
    xin = next(r for r in records if r.data["name"] == "辛女士")
    # The phone written into 备注 is now a phone of the record (found by 查重), out of the note.
    assert xin.data["phones"] == ["+8613200132000", "+8613200132001"]
    with unit_of_work(engine) as conn:
        shown = customers.reveal(
            conn,
            actor=zhangsan,
            ctx=CTX,
            vault=vault,
            customer_id=xin.id,
            fields=["notes"],
            reason_code="compliance_check",
            reason="核对导入结果",
            purpose="service",
        )
    assert shown.data["notes"] == "手机 晚上联系"


def test_an_interrupted_import_resumes_with_no_customer_filed_twice(
    engine: Engine, org: Org, vault: Vault, on_file: str, tmp_path: Path
) -> None:
    path = ledger.build_xlsx(tmp_path / "客户台账.xlsx")
    started: list[str] = []

    def stop_after_first_batch(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.run(
            engine,
            actor=actor(engine, org, "zhangsan"),
            ctx=CTX,
            vault=vault,
            path=path,
            options=OPTIONS,
            batch=3,
            progress=stop_after_first_batch,
            started=started.append,
        )
    [run_id] = started
    with engine.connect() as conn:
        filed = conn.execute(
            select(func.count())
            .select_from(customer_table)
            .where(customer_table.c.import_id == run_id)
        ).scalar_one()
    assert 0 < filed < 7
    report = _import(engine, org, vault, path, options=None, resume=run_id)
    _check(report, ledger.XLSX)
    assert report.import_id == run_id and len(report.company_duplicates) == 1
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count())
            .select_from(customer_table)
            .where(customer_table.c.import_id == run_id)
        ).scalar_one()
    assert total == 7
    from baomi.errors import Conflict

    with pytest.raises(Conflict):  # finished: nothing left to resume
        _import(engine, org, vault, path, options=None, resume=run_id)
