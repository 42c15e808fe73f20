"""The batch door (customers/batch.py): many customers for one purpose, decided as the single door
decides (C4.2.1), masked fields left masked (C4.3.2), one audit event per customer naming the
purpose (C4.3.4, C1.3), and refusals that tell nothing of existence."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from baomi import clock
from baomi.audit.context import RequestContext
from baomi.audit.models import audit_events
from baomi.customers import batch, service
from baomi.customers.batch import BatchResult, RefusalReason
from baomi.customers.fields import FIELDS
from baomi.customers.models import customers
from baomi.customers.schemas import CustomerIn
from baomi.customers.vault import Vault
from baomi.errors import NotFound, ValidationFailed
from baomi.grants.service import insert_grant
from baomi.ids import new_id
from baomi.keystore.service import shred_data_key
from baomi.security.actor import Actor
from baomi.security.masking import HIDDEN
from baomi.security.purposes import RULES, Purpose, carried_fields
from baomi.security.sensitivity import Sensitivity
from baomi.uow import unit_of_work
from tests.support.api import PROVENANCE
from tests.support.org import Org, actor

CTX = RequestContext(request_id="batch-test", client_addr="test")
_serial = itertools.count()


def _file(engine: Engine, vault: Vault, handler: Actor, *, level: str = "normal") -> str:
    """File one customer with a value in each kind of field; every value is unique to it."""
    n = next(_serial)
    customer = CustomerIn(
        name=f"批量客户{n:04d}",
        level=level,
        phones=[f"1380013{n:04d}"],
        emails=[f"batch{n}@example.com"],
        address=f"上海市浦东新区世纪大道{n}号",
        contacts=[{"name": f"联系人{n}", "title": "采购", "phones": [], "emails": []}],
        payment_methods=[{"type": "alipay", "account": f"pay{n}@example.com"}],
        requirements=f"扩容需求{n}",
        notes=f"机密备注{n}",
        **PROVENANCE,
    )
    with unit_of_work(engine) as conn:
        return service.create(conn, actor=handler, ctx=CTX, vault=vault, customer_in=customer).id


def _read(
    engine: Engine,
    vault: Vault,
    who: Actor,
    ids: list[str],
    purpose: Purpose = Purpose.SUBJECT_ACCESS,
    fields: list[str] | None = None,
) -> BatchResult:
    with unit_of_work(engine) as conn:
        return service.read_many(
            conn,
            actor=who,
            ctx=CTX,
            vault=vault,
            customer_ids=ids,
            purpose=purpose,
            fields=fields,
        )


def _events(engine: Engine, batch_id: str) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.id)).all()
    return [r for r in rows if (r.details or {}).get("batch_id") == batch_id]


def _grant(
    engine: Engine,
    vault: Vault,
    org: Org,
    grantee: str,
    customer_id: str,
    fields: list[str] | None,
) -> None:
    now, officer = clock.utcnow(), actor(engine, org, "baomiyuan")
    with unit_of_work(engine) as conn:
        insert_grant(
            conn,
            actor=officer,
            ctx=CTX,
            user_id=org.user_ids[grantee],
            customer_id=customer_id,
            fields=fields,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            purpose="批量读取测试",
            now=now,
            tags=vault.tags,
        )


@pytest.fixture
def people(engine: Engine, org: Org) -> dict[str, Actor]:
    names = ("zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi", "shenji")
    return {name: actor(engine, org, name) for name in names}


@pytest.fixture
def filed(engine: Engine, vault: Vault, people: dict[str, Actor]) -> dict[str, list[str]]:
    """Customers by handler: zhangsan (华东), lisi (上海组, below 华东), zhaoliu (华南)."""
    return {
        "zhangsan": [_file(engine, vault, people["zhangsan"]) for _ in range(3)],
        "lisi": [_file(engine, vault, people["lisi"]) for _ in range(2)],
        "zhaoliu": [_file(engine, vault, people["zhaoliu"])],
    }


def _all(filed: dict[str, list[str]]) -> list[str]:
    return [i for ids in filed.values() for i in ids]


def test_a_handler_reads_their_own_customers_only(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C4.2.1: need-to-know; the others answer not_found, as the single door's 404."""
    result = _read(engine, vault, people["zhangsan"], _all(filed))
    assert [r.id for r in result.records] == filed["zhangsan"]
    assert {r.access for r in result.records} == {"handler"}
    assert [(r.customer_id, r.reason) for r in result.refused] == [
        (i, RefusalReason.NOT_FOUND) for i in filed["lisi"] + filed["zhaoliu"]
    ]


def test_a_head_reads_the_whole_subtree(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C3.2: the head of 华东 supervises 上海组 below it, not 华南."""
    result = _read(engine, vault, people["wangwu"], _all(filed))
    assert [r.id for r in result.records] == filed["zhangsan"] + filed["lisi"]
    assert {r.access for r in result.records} == {"department_head"}
    assert [r.customer_id for r in result.refused] == filed["zhaoliu"]


def test_strangers_missing_and_malformed_ids_are_refused_alike_and_audited(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C4.2.1: a customer one may not see, one that does not exist and a malformed id answer
    the same; C1.3: each refusal is on record with its true reason and the purpose."""
    missing = new_id()
    ids = [filed["zhangsan"][0], missing, "not-an-id"]
    result = _read(engine, vault, people["zhaoliu"], ids, purpose=Purpose.REPORT)
    assert result.records == []
    assert {r.reason for r in result.refused} == {RefusalReason.NOT_FOUND}
    assert [r.customer_id for r in result.refused] == ids
    events = _events(engine, result.batch_id)
    assert [(e.customer_id, e.decision, e.reason) for e in events] == [
        (filed["zhangsan"][0], "deny", "no_relation"),
        (missing, "deny", "not_found"),
        (None, "deny", "not_found"),  # a malformed id is not stored
    ]
    assert all(e.action == "customer:read" for e in events)
    assert all(e.details == {"purpose": "report", "batch_id": result.batch_id} for e in events)
    # The report carries no sensitive field: those names are not even asked for.
    assert events[0].fields == sorted(carried_fields(Purpose.REPORT, _catalog()))


def test_roles_without_customer_access_get_nothing(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C4.2.1: the auditor gets no customer data by their role, in bulk either."""
    result = _read(engine, vault, people["shenji"], filed["zhangsan"])
    assert result.records == []
    assert [e.reason for e in _events(engine, result.batch_id)] == [
        "role_without_customer_access"
    ] * 3


def test_masked_fields_stay_masked(engine: Engine, vault: Vault, people: dict[str, Actor]) -> None:
    """C4.3.2: no purpose unmasks; sensitive fields always, contacts at 机密, as `get` shows."""
    normal = _file(engine, vault, people["zhangsan"], level="normal")
    secret = _file(engine, vault, people["zhangsan"], level="confidential")
    result = _read(engine, vault, people["zhangsan"], [normal, secret])
    by_id = {r.id: r for r in result.records}
    sensitive = {"id_number", "notes", "payment_methods"}
    assert set(by_id[normal].masked) == sensitive
    assert by_id[normal].data["notes"] == HIDDEN
    assert by_id[normal].data["payment_methods"][0]["account"].startswith("**** ")
    assert "*" not in by_id[normal].data["phones"][0]  # a phone shows at 普通
    assert {"phones", "emails", "contacts", "address"} <= set(by_id[secret].masked)
    assert by_id[secret].data["phones"][0].startswith("138****")
    assert by_id[secret].data["notes"] == HIDDEN


def test_a_grant_limited_to_fields_opens_those_fields_only(
    engine: Engine,
    vault: Vault,
    org: Org,
    people: dict[str, Actor],
    filed: dict[str, list[str]],
) -> None:
    """C4.3.1: a grant covers its fields for its window; the rest of the record is withheld."""
    limited, whole, ungranted = filed["zhangsan"]
    _grant(engine, vault, org, "zhaoliu", limited, ["name", "phones"])
    _grant(engine, vault, org, "zhaoliu", whole, None)
    result = _read(engine, vault, people["zhaoliu"], [limited, whole, ungranted])
    by_id = {r.id: r for r in result.records}
    assert set(by_id) == {limited, whole}
    assert set(by_id[limited].data) == {"name", "phones"}
    assert set(by_id[limited].withheld) == set(FIELDS) - {"name", "phones"}
    assert by_id[limited].access == by_id[whole].access == "grant"
    assert set(by_id[whole].data) == set(FIELDS)
    assert "notes" in by_id[whole].masked  # a grant does not unmask (C4.3.2)
    assert [r.customer_id for r in result.refused] == [ungranted]
    events = {e.customer_id: e for e in _events(engine, result.batch_id)}
    assert events[limited].fields == ["name", "phones"]


def test_one_event_per_customer_and_never_a_value(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C1.3 / C4.3.4: one event per customer asked for (repeats read once), with the purpose and
    the field names; no plaintext customer value anywhere in the events."""
    ids = _all(filed)
    result = _read(engine, vault, people["wangwu"], ids + ids[:2], purpose=Purpose.EXPORT)
    events = _events(engine, result.batch_id)
    assert [e.customer_id for e in events] == ids
    assert [e.decision for e in events] == ["allow"] * 5 + ["deny"]
    assert all(e.details["purpose"] == "export" for e in events)
    assert events[0].fields == sorted(FIELDS)
    # The values the handler sees in the clear, and the masked fields' plaintext prefixes.
    plaintext = [
        str(value)
        for record in _read(engine, vault, people["zhangsan"], filed["zhangsan"]).records
        for name, value in record.data.items()
        if value and name not in record.masked
    ] + ["批量客户", "机密备注", "1380013", "扩容需求", "@example.com"]
    text = json.dumps([[str(v) for v in e] for e in events], ensure_ascii=False)
    assert not [p for p in plaintext if p in text]


def test_export_holds_back_levels_whose_rule_forbids_it(
    engine: Engine, vault: Vault, people: dict[str, Actor]
) -> None:
    """C4.3.3 / C2.2: 机密 is not exported; a subject-access copy of it is still made."""
    normal = _file(engine, vault, people["zhangsan"], level="normal")
    secret = _file(engine, vault, people["zhangsan"], level="confidential")
    export = _read(engine, vault, people["zhangsan"], [normal, secret], purpose=Purpose.EXPORT)
    assert [r.id for r in export.records] == [normal]
    assert [(r.customer_id, r.reason) for r in export.refused] == [
        (secret, RefusalReason.EXPORT_NOT_ALLOWED)
    ]
    assert [e.reason for e in _events(engine, export.batch_id)] == ["handler", "export_not_allowed"]
    copy = _read(engine, vault, people["zhangsan"], [normal, secret], purpose="subject_access")
    assert [r.id for r in copy.records] == [normal, secret]


def test_a_shredded_record_is_refused_and_the_rest_still_read(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C4.5.1: a crypto-shredded customer cannot be read; it does not sink the whole batch."""
    gone, *kept = filed["zhangsan"]
    with unit_of_work(engine) as conn:
        key_id = conn.execute(
            select(customers.c.data_key_id).where(customers.c.id == gone)
        ).scalar_one()
        shred_data_key(conn, data_key_id=key_id)
    result = _read(engine, vault, people["zhangsan"], filed["zhangsan"])
    assert [r.id for r in result.records] == kept
    assert [(r.customer_id, r.reason) for r in result.refused] == [
        (gone, RefusalReason.DATA_KEY_SHREDDED)
    ]
    assert [e.decision for e in _events(engine, result.batch_id)] == ["deny", "allow", "allow"]


def test_a_report_carries_no_sensitive_field(
    engine: Engine, vault: Vault, people: dict[str, Actor], filed: dict[str, list[str]]
) -> None:
    """C4.1.2 purpose limitation: a report has no need of ID numbers, accounts or notes."""
    result = _read(engine, vault, people["zhangsan"], filed["zhangsan"], purpose=Purpose.REPORT)
    sensitive = {"id_number", "notes", "payment_methods"}
    for record in result.records:
        assert not sensitive & set(record.data) and sensitive <= set(record.withheld)
    asked = _read(
        engine, vault, people["zhangsan"], filed["zhangsan"], Purpose.REPORT, ["name", "prices"]
    )
    assert {frozenset(r.data) for r in asked.records} == {frozenset({"name", "prices"})}
    with pytest.raises(ValidationFailed) as refused:
        _read(engine, vault, people["zhangsan"], filed["zhangsan"], Purpose.REPORT, ["notes"])
    assert [e["code"] for e in refused.value.extra["errors"]] == ["field_outside_purpose"]


def test_bad_requests_are_refused_before_anything_is_read(
    engine: Engine,
    vault: Vault,
    people: dict[str, Actor],
    filed: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "MAX_BATCH", 4)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ids": _all(filed)}, "batch_too_large"),
        ({"ids": filed["zhangsan"], "purpose": "marketing"}, "purpose_unknown"),
        ({"ids": filed["zhangsan"], "fields": ["salary"]}, "field_unknown"),
    ]
    for case, code in cases:
        with pytest.raises(ValidationFailed) as refused:
            _read(
                engine,
                vault,
                people["zhangsan"],
                case["ids"],
                case.get("purpose", Purpose.EXPORT),
                case.get("fields"),
            )
        assert [e["code"] for e in refused.value.extra["errors"]] == [code]
    with engine.connect() as conn:
        reads = conn.execute(
            select(audit_events.c.id).where(audit_events.c.request_id == CTX.request_id)
        ).all()
    # Only the filing of the customers is on record: nothing was read.
    assert len(reads) == len(_all(filed)) * 2


def test_the_same_answers_as_one_single_read_each(
    engine: Engine,
    vault: Vault,
    org: Org,
    people: dict[str, Actor],
    filed: dict[str, list[str]],
) -> None:
    """Whatever the mix of ids and reader, the batch answers what `service.get` answers."""
    _grant(engine, vault, org, "zhaoliu", filed["zhangsan"][0], ["name", "emails", "notes"])
    pool = [*_all(filed), new_id(), "bad-id"]
    rng = random.Random(11)
    for _ in range(6):
        who = people[rng.choice(["zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi"])]
        ids = rng.choices(pool, k=rng.randint(1, 10))
        result = _read(engine, vault, who, ids)
        got = {r.id: r.model_dump() for r in result.records}
        refused = {r.customer_id for r in result.refused}
        for customer_id in dict.fromkeys(ids):
            with unit_of_work(engine) as conn:
                try:
                    single = service.get(
                        conn, actor=who, ctx=CTX, vault=vault, customer_id=customer_id
                    )
                except NotFound:
                    assert customer_id in refused and customer_id not in got
                    continue
            assert got[customer_id] == single.model_dump(), (who.username, customer_id)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database, also those run on the SQLite driver directly."""
    seen: list[str] = []

    def executed(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if engine.dialect.name != "sqlite":  # traced by SQLite itself below
            seen.append(statement)

    def begun(conn: Any) -> None:
        # Kept connections (baomi.db_idle) are not checked out again: trace at each BEGIN.
        driver = conn.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            driver.set_trace_callback(seen.append)

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "begin", begun)
    yield seen
    event.remove(engine, "begin", begun)
    event.remove(engine, "before_cursor_execute", executed)


def test_rows_are_loaded_a_chunk_at_a_time(
    engine: Engine,
    vault: Vault,
    people: dict[str, Actor],
    filed: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    statements: list[str],
) -> None:
    """One statement per chunk, not one per customer, and every chunk answered in order."""
    more = [_file(engine, vault, people["lisi"]) for _ in range(3)]
    ids = [*filed["zhangsan"], *filed["lisi"], *more, new_id()]
    monkeypatch.setattr(batch, "CHUNK", 3)
    statements.clear()
    result = _read(engine, vault, people["wangwu"], ids)
    assert [r.id for r in result.records] == ids[:-1]
    assert [r.customer_id for r in result.refused] == ids[-1:]
    loads = [s for s in statements if "FROM customers" in s]
    assert len(loads) == 3  # 9 ids in chunks of 3; the head needs no grant lookup
    if engine.dialect.name == "postgresql":
        # One multi-row insert (SQLite's trace shows each row of its executemany instead).
        inserts = [s for s in statements if s.lstrip().startswith("INSERT INTO audit_events")]
        assert len(inserts) == 1
    assert len(_events(engine, result.batch_id)) == len(ids)


def test_a_strangers_probe_costs_one_grant_query_per_chunk(
    engine: Engine,
    vault: Vault,
    org: Org,
    people: dict[str, Actor],
    filed: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    statements: list[str],
) -> None:
    """Grants are looked up customer by customer only where an active grant covers one."""
    _grant(engine, vault, org, "sunqi", filed["zhangsan"][0], ["name"])
    monkeypatch.setattr(batch, "CHUNK", 4)
    statements.clear()
    result = _read(engine, vault, people["sunqi"], _all(filed))
    assert [r.id for r in result.records] == [filed["zhangsan"][0], *filed["zhaoliu"]]
    grant_reads = [s for s in statements if "FROM access_grants" in s]
    # Per chunk of 4 with strangers in it: one coverage query; then one lookup for the grant.
    assert len(grant_reads) == 2 + 1


def test_every_purpose_has_a_rule_and_none_widens_the_catalog() -> None:
    """A new purpose needs its rule (security/purposes.py) before the door will take it."""
    assert set(RULES) == set(Purpose)
    for purpose in Purpose:
        assert carried_fields(purpose, _catalog()) <= set(FIELDS)
    assert not carried_fields(Purpose.REPORT, _catalog()) & {
        name for name, s in _catalog().items() if s is Sensitivity.SENSITIVE
    }


def _catalog() -> dict[str, Sensitivity]:
    return {name: spec.sensitivity for name, spec in FIELDS.items()}
