"""Company-wide duplicate check (查重, C4.1.3) at 100k+ customers vs. bare indexed lookups.

Ours: normalise, compute the truncated blind index, fetch the candidates with their wrapped keys,
decrypt and re-check each candidate, audit, commit — one unit of work per lookup.
Floor A (same work, bare): sqlite3 + cryptography doing the same index probe, unwrap, decrypt,
re-check and audit insert. Floor B (no encryption at all): an indexed equality lookup of the
plaintext phone, as a spreadsheet-like system would do it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import struct
import sys
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from rich.progress import track

from baomi.crypto import keyfile, normalize
from baomi.customers import search, service
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

CUSTOMERS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100_000
LOOKUPS = 2000
BATCH = 1000


def _phone(i: int) -> str:
    return f"139{i:08d}"


def _seed(bench: BenchVault) -> None:
    for start in track(range(0, CUSTOMERS, BATCH), description=f"seeding {CUSTOMERS} customers"):
        with unit_of_work(bench.engine) as conn:
            for i in range(start, min(start + BATCH, CUSTOMERS)):
                service.create(
                    conn,
                    actor=bench.actor,
                    ctx=bench.ctx,
                    vault=bench.vault,
                    customer_in=CustomerIn(
                        name=f"客户{i}",
                        phones=[_phone(i)],
                        source="基准测试",
                        lawful_basis=LawfulBasis.CONTRACT,
                    ),
                )


def _ours(bench: BenchVault, probes: list[str]) -> float:
    start = time.perf_counter()
    for phone in probes:
        with unit_of_work(bench.engine) as conn:
            result = search.check_duplicate(
                conn, actor=bench.actor, ctx=bench.ctx, vault=bench.vault, kind="phone", value=phone
            )
            assert result.exists
    return len(probes) / (time.perf_counter() - start)


def _floor_same_work(bench: BenchVault, probes: list[str]) -> float:
    keys, _ = keyfile.read(bench.key_path, passphrase=None)
    masters = {v: AESGCM(k) for v, k in keys.master.items()}
    tag_key = floor_tag_key(bench.key_path)
    conn = sqlite3.connect(bench.db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    query = (
        f"SELECT {TAG_SQL}, k.master_version, k.wrapped, c.phones_ct, u.username, "
        "d.name FROM customer_index i JOIN customers c ON c.id = i.customer_id "
        "JOIN data_keys k ON k.id = c.data_key_id JOIN users u ON u.id = c.handler_id "
        "JOIN departments d ON d.id = c.department_id "
        "WHERE i.field = 'phone' AND i.value = ? AND c.deleted_at IS NULL ORDER BY c.created_at"
    )
    insert = (
        "INSERT INTO audit_events (occurred_at, actor_id, action, customer_id, fields, decision,"
        " reason) VALUES (?,?,?,?,?,?,?)"
    )
    # The per-person 查重 limits (issue 17.4): this person's answered checks in the last hour
    # and day, counted before each lookup.
    count = (
        "SELECT count(*) FROM audit_events WHERE actor_id = ? AND action = 'customer:check' "
        "AND decision = 'allow' AND occurred_at >= ?"
    )
    start = time.perf_counter()
    for phone in probes:
        term = normalize.phone(phone)
        probe = bench.vault.indexer.index("phone", term)
        conn.execute("BEGIN IMMEDIATE")
        moment = datetime.now(UTC)
        for length in (timedelta(hours=1), timedelta(days=1)):
            since = (moment - length).strftime("%Y-%m-%d %H:%M:%S.%f")
            assert conn.execute(count, (bench.actor.user_id, since)).fetchone()[0] >= 0
        match = None
        for row in conn.execute(query, (probe,)).fetchall():
            assert floor_tag_holds(tag_key, row[:TAG_WIDTH])
            record_id, data_key_id, revision = row[0], row[6], row[7]
            version, wrapped = row[TAG_WIDTH], row[TAG_WIDTH + 1]
            aad = bare_aad(b"baomi:data-key:v1", record_id.encode(), struct.pack(">I", version))
            aead = AESGCM(masters[version].decrypt(wrapped[1:13], wrapped[13:], aad))
            phones_aad = field_aad(data_key_id, "phones", record_id, revision)
            ct = row[TAG_WIDTH + 2]
            if term in json.loads(aead.decrypt(ct[1:13], ct[13:], phones_aad)):
                match = row
                break
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute(
            insert,
            (
                now,
                bench.actor.user_id,
                "customer:check",
                match[0] if match else None,
                '["phones"]',
                "allow",
                "match",
            ),
        )
        conn.execute("COMMIT")
        assert match is not None
    rate = len(probes) / (time.perf_counter() - start)
    conn.close()
    return rate


def _floor_plaintext(bench: BenchVault, probes: list[str]) -> float:
    conn = sqlite3.connect(bench.home / "plain.db", isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS plain (id INTEGER PRIMARY KEY, phone TEXT)")
    conn.execute("CREATE INDEX IF NOT EXISTS ix_plain_phone ON plain (phone)")
    conn.executemany(
        "INSERT INTO plain (phone) VALUES (?)",
        ((normalize.phone(_phone(i)),) for i in range(CUSTOMERS)),
    )
    start = time.perf_counter()
    for phone in probes:
        assert conn.execute(
            "SELECT id FROM plain WHERE phone = ?", (normalize.phone(phone),)
        ).fetchone()
    rate = len(probes) / (time.perf_counter() - start)
    conn.close()
    return rate


def run() -> dict[str, float]:
    bench = make_vault()
    _seed(bench)
    rng = random.Random(2026)
    probes = [_phone(rng.randrange(CUSTOMERS)) for _ in range(LOOKUPS)]
    _ours(bench, probes[:100])
    same = _floor_same_work(bench, probes)
    ours = _ours(bench, probes)
    plain = _floor_plaintext(bench, probes)
    print(
        f"查重 lookup at {CUSTOMERS} customers   service {ours:8.0f}/s   "
        f"floor A (same work, sqlite3+cryptography) {same:8.0f}/s   ratio {ours / same:.2f}x"
    )
    print(f"{'':30}floor B (plaintext indexed lookup) {plain:8.0f}/s   ratio {ours / plain:.3f}x")
    return {"service": ours, "floor_same_work": same, "floor_plaintext": plain}


if __name__ == "__main__":
    run()
