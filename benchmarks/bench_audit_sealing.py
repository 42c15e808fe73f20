"""The audit log's unsealed window under load (C1.3, issue 9 §1).

    uv run python -m benchmarks.bench_audit_sealing [--writers 8] [--seconds 5]

Writers append audit events the way business transactions do (one event per unit of work,
through `audit.service.record`) while the server's background sealer runs with the product's
default interval (1 s or 1,000 events). A watcher samples how old the oldest unsealed event is.

Figures: events/s written (the floor: what the sealer has to keep up with), events/s sealed
(leaves added per second over the same span), their ratio, and the window — the age of the
oldest unsealed event, p50 / p99 / max over the samples. An event older than the window is
covered by a signed checkpoint, so a rewrite of it is caught by `baomi audit verify`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time

import structlog

from baomi import clock
from baomi.audit import runner, service, store
from baomi.audit.context import RequestContext
from baomi.audit.settings import AuditSettings
from baomi.audit.tags import Action, Decision
from baomi.uow import unit_of_work
from benchmarks.setup_vault import make_vault


def _write(engine: object, stop: threading.Event, counts: list[int], slot: int) -> None:
    ctx = RequestContext(request_id=f"bench-{slot}", client_addr="127.0.0.1")
    while not stop.is_set():
        with unit_of_work(engine) as conn:  # type: ignore[arg-type]
            service.record(
                conn,
                ctx=ctx,
                actor_id=f"user-{slot}",
                actor_username=f"writer{slot}",
                action=Action.CUSTOMER_READ,
                decision=Decision.ALLOW,
                reason="handler",
                customer_id=f"cust-{counts[slot] % 997}",
                fields=["phone"],
            )
        counts[slot] += 1


def _sealed_size(engine: object) -> int:
    with runner.reader(engine).connect() as conn:  # type: ignore[arg-type]
        return store.tree_size(conn)


def run(writers: int = 8, seconds: float = 5.0) -> dict[str, float]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    bench = make_vault()
    engine = bench.engine
    settings = AuditSettings(home=bench.home)  # product defaults: 1 s or 1,000 events
    runner.seal_all(engine, settings)
    sealer = runner.BackgroundSealer(engine, settings)
    stop = threading.Event()
    counts = [0] * writers
    threads = [
        threading.Thread(target=_write, args=(engine, stop, counts, i)) for i in range(writers)
    ]
    ages: list[float] = []
    size_before = _sealed_size(engine)
    sealer.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while time.perf_counter() - started < seconds:
        with runner.reader(engine).connect() as conn:
            _count, oldest = store.unsealed(conn)
        ages.append((clock.utcnow() - oldest).total_seconds() if oldest else 0.0)
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sealed = _sealed_size(engine) - size_before  # while the writers wrote
    written = sum(counts)
    # The last writes are sealed within the interval: every event ends up under a checkpoint.
    time.sleep(settings.checkpoint_seconds * 1.5)
    sealer.stop()
    sealer.join()
    assert _sealed_size(engine) - size_before == written, "the sealer left events behind"
    engine.dispose()

    ages.sort()
    write_rate, seal_rate = written / elapsed, sealed / elapsed
    p99 = ages[min(len(ages) - 1, int(len(ages) * 0.99))]
    print(
        f"{writers} writers, {seconds:.0f} s, checkpoint every {settings.checkpoint_seconds:g} s "
        f"or {settings.checkpoint_events:,} events"
    )
    print(f"written (floor):  {write_rate:,.0f} events/s ({written:,} events)")
    print(f"sealed:           {seal_rate:,.0f} events/s ({sealed:,} events)")
    print(f"ratio sealed/written: {sealed / written:.2f} (the rest sealed within the interval)")
    print(
        f"unsealed window:  p50 {statistics.median(ages):.2f} s, p99 {p99:.2f} s, "
        f"max {ages[-1]:.2f} s over {len(ages)} samples"
    )
    return {
        "written_per_s": write_rate,
        "sealed_per_s": seal_rate,
        "ratio": sealed / written,
        "window_p99_s": p99,
        "window_max_s": ages[-1],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    run(args.writers, args.seconds)
