"""Full audit verification speed beside a bare SHA-256 chain over the same rows (issue §5).

    uv run python -m benchmarks.bench_audit_verify [--events 1000000] [--url URL]

Fills a scratch database with N events (bulk inserts), seals them (one checkpoint per 10,000),
then times, on the same database (alternating, three rounds, best of each):
  * bare chain: SELECT * FROM audit_events ORDER BY id through the raw driver cursor,
    h = SHA-256(h || repr(row)) for every row;
  * `verify`: the real full verification (re-encode, leaf hash, tree rebuild, every
    checkpoint signature checked and its root compared).
The floor is verify >= 0.5 x bare chain.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from baomi.audit import guards, store
from baomi.audit import models as m
from baomi.audit.checkpoint import load_or_create_key
from baomi.audit.sealing import seal
from baomi.audit.verify import verify
from baomi.db import make_engine, metadata

TABLES = [
    m.audit_events,
    m.audit_leaves,
    m.audit_tree_nodes,
    m.audit_checkpoints,
    m.audit_witness_receipts,
]
ACTIONS = ["customer:read", "customer:search", "customer:reveal", "grant:create", "auth:login"]


def fill(engine: Engine, n: int) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    dialect = engine.dialect.name
    p = "?" if dialect == "sqlite" else "%s"
    sql = (
        "INSERT INTO audit_events (occurred_at, actor_id, actor_username, action, customer_id,"
        " object_id, fields, decision, reason, request_id, client_addr, details)"
        f" VALUES ({', '.join([p] * 12)})"
    )
    users = [str(uuid.uuid4()) for _ in range(50)]
    batch = 50_000
    for base in range(0, n, batch):
        rows = []
        for i in range(base, min(base + batch, n)):
            at = start + timedelta(milliseconds=i)
            at_value: object = at.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else at
            rows.append(
                (
                    at_value,
                    users[i % 50],
                    f"user{i % 50}",
                    ACTIONS[i % 5],
                    f"cust-{i % 9973:08d}",
                    None,
                    '["email", "phone"]' if i % 2 else "null",
                    "allow",
                    "handler",
                    f"req-{i:010x}",
                    "10.0.0.1",
                    '{"count": 1}' if i % 3 == 0 else "null",
                )
            )
        with engine.begin() as conn:
            cur = store.raw_cursor(conn)
            cur.executemany(sql, rows)


def bare_chain(engine: Engine) -> tuple[int, float]:
    with engine.connect() as conn:
        t = time.perf_counter()
        cur = store.raw_cursor(conn, stream=True)
        cur.execute("SELECT * FROM audit_events ORDER BY id")
        h, n, sha = b"\0" * 32, 0, hashlib.sha256
        for row in cur:
            h = sha(h + repr(row).encode()).digest()
            n += 1
        return n, time.perf_counter() - t


def run(events: int = 1_000_000, url: str | None = None) -> dict[str, float]:
    """Fill, seal and verify `events` events on SQLite (or the PostgreSQL admin `url`)."""
    tmp = Path(tempfile.mkdtemp(prefix="baomi-bench-"))
    name = f"baomi_bench_audit_{uuid.uuid4().hex[:8]}"
    if url:
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(url.rsplit("/", 1)[0] + "/" + name)
    else:
        engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    try:
        metadata.create_all(engine, tables=TABLES)
        with engine.begin() as conn:
            guards.install_triggers(conn)
        signer = load_or_create_key(tmp / "audit_log.key", "baomi.bench/audit")
        t = time.perf_counter()
        fill(engine, events)
        took = time.perf_counter() - t
        print(f"{engine.dialect.name}: inserted {events:,} events in {took:.1f}s")
        t = time.perf_counter()
        while True:
            with engine.begin() as conn:
                if seal(conn, signer, max_events=10_000) is None:
                    break
        print(f"sealed in {time.perf_counter() - t:.1f}s")
        # Alternate the two, three rounds, best of each: the machine's load varies.
        bares, reports = [], []
        for _ in range(3):
            bares.append(bare_chain(engine))
            with engine.connect() as conn:
                reports.append(verify(conn, signer.verifier))
        bare_n, bare_s = min(bares, key=lambda r: r[1])
        report = min(reports, key=lambda r: r.seconds)
        assert report.ok and report.events == bare_n == events, report.problem
        bare_rate, verify_rate = bare_n / bare_s, report.events / report.seconds
        print(f"bare SHA-256 chain: {bare_rate:,.0f} events/s ({bare_s:.2f}s)")
        print(
            f"audit verify:       {verify_rate:,.0f} events/s ({report.seconds:.2f}s, "
            f"{report.checkpoints} checkpoints)"
        )
        print(f"ratio verify/bare:  {verify_rate / bare_rate:.2f} (floor 0.50)")
        print(f"time for {events:,} events: {report.seconds:.2f}s")
        return {"verify_per_s": verify_rate, "ratio": verify_rate / bare_rate}
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        if url:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--url", default=None, help="postgresql://… admin URL (default: SQLite)")
    args = ap.parse_args()
    run(args.events, args.url)
