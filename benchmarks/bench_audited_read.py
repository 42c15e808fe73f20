"""Audited read through the service door vs. bare sqlite3 + cryptography doing the same work.

Both sides, per read and in one transaction: fetch the customer row with its wrapped data key,
unwrap the key under the master key, decrypt every field with its AAD, parse the values, insert
one audit event, commit. The service adds authorization, masking, the response model and
SQLAlchemy; the ratio says what that costs (goal: >= 0.5x).
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from baomi.crypto import keyfile
from baomi.customers import service
from baomi.customers.models import ENCRYPTED_COLUMNS
from baomi.customers.schemas import CustomerIn, LawfulBasis
from baomi.uow import unit_of_work
from benchmarks.setup_vault import (
    TAG_SQL,
    TAG_WIDTH,
    BenchVault,
    bare_aad,
    field_aad,
    floor_tag_holds,
    floor_tag_key,
    make_vault,
)

CUSTOMERS = 500
READS = 3000
ROUNDS = 3


def _seed(bench: BenchVault) -> list[str]:
    ids = []
    with unit_of_work(bench.engine) as conn:
        for i in range(CUSTOMERS):
            customer = CustomerIn(
                name=f"基准客户{i}",
                phones=[f"1380013{i:04d}"],
                emails=[f"c{i}@example.com"],
                address="上海市浦东新区世纪大道100号",
                contacts=[{"name": "王经理", "title": "采购", "phones": [], "emails": []}],
                purchases=[{"date": "2026-01-01", "item": "服务器", "amount": "1000.00"}],
                contract_terms="年度框架协议",
                prices="单价 32000 元",
                requirements="扩容",
                purchase_intent="Q3",
                competitor_products="X200",
                notes="备注",
                source="基准测试",
                lawful_basis=LawfulBasis.CONTRACT,
            )
            out = service.create(
                conn, actor=bench.actor, ctx=bench.ctx, vault=bench.vault, customer_in=customer
            )
            ids.append(out.id)
    return ids


def _service_reads(bench: BenchVault, ids: list[str]) -> float:
    start = time.perf_counter()
    for i in range(READS):
        with unit_of_work(bench.engine) as conn:
            service.get(
                conn,
                actor=bench.actor,
                ctx=bench.ctx,
                vault=bench.vault,
                customer_id=ids[i % len(ids)],
            )
    return READS / (time.perf_counter() - start)


def _floor_reads(bench: BenchVault, ids: list[str]) -> float:
    keys, _ = keyfile.read(bench.key_path, passphrase=None)
    masters = {v: AESGCM(k) for v, k in keys.master.items()}
    conn = sqlite3.connect(bench.db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # The fields and the source, which every read opens with them (issue 17.9).
    opened = (*ENCRYPTED_COLUMNS, "source")
    columns = ", ".join(f"c.{name}_ct" for name in opened)
    select = (
        f"SELECT {TAG_SQL}, k.master_version, k.wrapped, {columns} "
        "FROM customers c JOIN data_keys k ON k.id = c.data_key_id WHERE c.id = ?"
    )
    tag_key = floor_tag_key(bench.key_path)
    insert = (
        "INSERT INTO audit_events (occurred_at, actor_id, actor_username, action, customer_id, "
        "fields, decision, reason, request_id, client_addr) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    fields_json = json.dumps(sorted(ENCRYPTED_COLUMNS))
    start = time.perf_counter()
    for i in range(READS):
        customer_id = ids[i % len(ids)]
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(select, (customer_id,)).fetchone()
        assert floor_tag_holds(tag_key, row[:TAG_WIDTH])
        record_id, data_key_id, revision = row[0], row[6], row[7]
        version, wrapped = row[TAG_WIDTH], row[TAG_WIDTH + 1]
        key_aad = bare_aad(b"baomi:data-key:v1", record_id.encode(), struct.pack(">I", version))
        data_key = masters[version].decrypt(wrapped[1:13], wrapped[13:], key_aad)
        aead = AESGCM(data_key)
        for name, ct in zip(opened, row[TAG_WIDTH + 2 :], strict=True):
            if ct is not None:
                aad = field_aad(data_key_id, name, record_id, revision)
                json.loads(aead.decrypt(ct[1:13], ct[13:], aad))
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute(
            insert,
            (
                now,
                bench.actor.user_id,
                "bench",
                "customer:read",
                customer_id,
                fields_json,
                "allow",
                "handler",
                "bench",
                "127.0.0.1",
            ),
        )
        conn.execute("COMMIT")
    rate = READS / (time.perf_counter() - start)
    conn.close()
    return rate


def run() -> dict[str, float]:
    bench = make_vault()
    ids = _seed(bench)
    _service_reads(bench, ids[:50])  # warm caches and compiled statements on both sides
    _floor_reads(bench, ids[:50])
    # Alternate the two and keep each one's best round, so that a burst of load from elsewhere
    # on the machine does not decide the ratio.
    floor = ours = 0.0
    for _ in range(ROUNDS):
        floor = max(floor, _floor_reads(bench, ids))
        ours = max(ours, _service_reads(bench, ids))
    ratio = ours / floor
    print(
        f"audited read   service {ours:9.0f}/s   floor (sqlite3+cryptography) {floor:9.0f}/s"
        f"   ratio {ratio:.2f}x  (goal >= 0.50x)"
    )
    return {"service": ours, "floor": floor, "ratio": ratio, "pid": float(os.getpid())}


if __name__ == "__main__":
    run()
