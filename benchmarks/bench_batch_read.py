"""The batch door reading 1,000 customers for an export, beside two floors measured in this run.

- 1,000 single reads: `service.get` once per customer, in one transaction, keeping the records,
  as an export would have to do without the batch door. The single read is already tuned close
  to its floor (bench_audited_read.py), so the batch saves only the per-read statements and
  insert: it should beat it, not by much (goal: > 1x).
- bare sqlite3 + cryptography doing the same work: one SELECT per chunk of 500 ids with the
  wrapped keys, unwrap each data key under the master key, decrypt every field with its AAD,
  parse the values, insert one audit event per customer at once, commit. The door adds
  authorization, masking, the purpose, the response models and SQLAlchemy; the ratio says what
  that costs (goal: >= 0.5x).
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from baomi.crypto import keyfile
from baomi.customers import service
from baomi.customers.models import ENCRYPTED_COLUMNS
from baomi.customers.schemas import CustomerIn, LawfulBasis
from baomi.security.purposes import Purpose
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

CUSTOMERS = 1000
CHUNK = 500
ROUNDS = 3


def _seed(bench: BenchVault) -> list[str]:
    ids = []
    with unit_of_work(bench.engine) as conn:
        for i in range(CUSTOMERS):
            customer = CustomerIn(
                name=f"批量基准客户{i:04d}",
                phones=[f"1390013{i:04d}"],
                emails=[f"b{i}@example.com"],
                address="上海市浦东新区世纪大道100号",
                contacts=[{"name": "王经理", "title": "采购", "phones": [], "emails": []}],
                payment_methods=[{"type": "alipay", "account": f"pay{i}@example.com"}],
                requirements="扩容",
                purchase_intent="Q3",
                notes="备注",
                source="基准测试",
                lawful_basis=LawfulBasis.CONTRACT,
            )
            out = service.create(
                conn, actor=bench.actor, ctx=bench.ctx, vault=bench.vault, customer_in=customer
            )
            ids.append(out.id)
    return ids


def _batch(bench: BenchVault, ids: list[str]) -> None:
    with unit_of_work(bench.engine) as conn:
        result = service.read_many(
            conn,
            actor=bench.actor,
            ctx=bench.ctx,
            vault=bench.vault,
            customer_ids=ids,
            purpose=Purpose.EXPORT,
        )
    assert len(result.records) == len(ids) and not result.refused


def _singles(bench: BenchVault, ids: list[str]) -> None:
    # Kept, as the batch's are: an export gathers its records before it writes them out.
    with unit_of_work(bench.engine) as conn:
        records = [
            service.get(
                conn, actor=bench.actor, ctx=bench.ctx, vault=bench.vault, customer_id=customer_id
            )
            for customer_id in ids
        ]
    assert len(records) == len(ids)


def _floor(bench: BenchVault) -> Callable[[list[str]], None]:
    keys, _ = keyfile.read(bench.key_path, passphrase=None)
    masters = {v: AESGCM(k) for v, k in keys.master.items()}
    # The fields and the source, which every read opens with them (issue 17.9).
    opened = (*ENCRYPTED_COLUMNS, "source")
    columns = ", ".join(f"c.{name}_ct" for name in opened)
    insert = (
        "INSERT INTO audit_events (occurred_at, actor_id, actor_username, action, customer_id, "
        "fields, decision, reason, request_id, client_addr, details) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    fields_json = json.dumps(sorted(ENCRYPTED_COLUMNS))
    details = json.dumps({"purpose": "export", "batch_id": "bench"})
    tag_key = floor_tag_key(bench.key_path)

    def read(ids: list[str]) -> None:
        conn = sqlite3.connect(bench.db_path, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        events = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            select = (
                f"SELECT {TAG_SQL}, k.master_version, k.wrapped, {columns} "
                "FROM customers c JOIN data_keys k ON k.id = c.data_key_id "
                f"WHERE c.id IN ({', '.join('?' * len(chunk))})"
            )
            for row in conn.execute(select, chunk).fetchall():
                assert floor_tag_holds(tag_key, row[:TAG_WIDTH])
                record_id, data_key_id, revision = row[0], row[6], row[7]
                version, wrapped = row[TAG_WIDTH], row[TAG_WIDTH + 1]
                key_aad = bare_aad(
                    b"baomi:data-key:v1", record_id.encode(), struct.pack(">I", version)
                )
                aead = AESGCM(masters[version].decrypt(wrapped[1:13], wrapped[13:], key_aad))
                for name, ct in zip(opened, row[TAG_WIDTH + 2 :], strict=True):
                    if ct is not None:
                        aad = field_aad(data_key_id, name, record_id, revision)
                        json.loads(aead.decrypt(ct[1:13], ct[13:], aad))
                now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                who = (now, bench.actor.user_id, "bench", "customer:read", row[0])
                events.append(
                    (*who, fields_json, "allow", "handler", "bench", "127.0.0.1", details)
                )
        conn.executemany(insert, events)
        conn.execute("COMMIT")
        conn.close()

    return read


def _seconds(call: Callable[[list[str]], None], ids: list[str]) -> float:
    start = time.perf_counter()
    call(ids)
    return time.perf_counter() - start


def run() -> dict[str, float]:
    bench = make_vault()
    ids = _seed(bench)
    sides: dict[str, Callable[[list[str]], None]] = {
        "floor": _floor(bench),
        "singles": lambda some: _singles(bench, some),
        "batch": lambda some: _batch(bench, some),
    }
    for call in sides.values():
        call(ids[:50])  # warm caches and compiled statements on every side
    # Alternate the sides and keep each one's best round, so that a burst of load from
    # elsewhere on the machine does not decide a ratio.
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(ROUNDS):
        for name, call in sides.items():
            best[name] = min(best[name], _seconds(call, ids))
    versus_singles = best["singles"] / best["batch"]
    versus_floor = best["floor"] / best["batch"]
    print(
        f"batch read of {CUSTOMERS}   door {best['batch'] * 1000:7.1f} ms"
        f"   {CUSTOMERS} single reads {best['singles'] * 1000:7.1f} ms"
        f"   ratio {versus_singles:.2f}x  (goal > 1x)"
    )
    print(
        f"batch read of {CUSTOMERS}   door {best['batch'] * 1000:7.1f} ms"
        f"   floor (sqlite3+cryptography) {best['floor'] * 1000:7.1f} ms"
        f"   ratio {versus_floor:.2f}x  (goal >= 0.50x)"
    )
    return {
        "batch_ms": best["batch"] * 1000,
        "singles_ms": best["singles"] * 1000,
        "floor_ms": best["floor"] * 1000,
        "versus_singles": versus_singles,
        "versus_floor": versus_floor,
        "pid": float(os.getpid()),
    }


if __name__ == "__main__":
    run()
