"""Import a ledger (issue 12 item 2; C4.1.1, C4.1.3): read it, check it, file its customers.

`baomi import FILE --as USERNAME` and the web import call `run`. A private ledger becomes
records of the vault: every sheet with a header row is read row by row (imports/reading.py,
imports/headers.py, imports/rows.py), every value is checked by the door's validators and an
invalid one kept out and reported (customers.service.prepare), identifiers written into free
text are flagged or moved (imports/sensitive.py), a customer twice in the file is filed once
(imports/seen.py), and one on file already, handled by someone, is not filed again: the report
names its handler, as 查重 would, so that the person can ask for access instead (C4.3.1).

Customers are filed through the door's bulk path (customers.service.create_many), one
transaction per batch, each batch committing its customers with the run's progress
(imports/runs.py): an interrupted import resumes where it stopped (`resume`), and no customer
is filed twice. A dry run reads and checks everything and files nothing; what it found is
audited all the same (it names handlers, as 查重 does). One audit event records the import: the
file's name and SHA-256 and the counts, never a value; each customer has its own create event.

This is a job that commits as it goes, like a key rotation: it takes the engine, and opens its
units of work itself (baomi.uow), one per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from baomi.audit.context import RequestContext
from baomi.audit.service import actor_event, append
from baomi.audit.tags import Action
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.ids import new_id
from baomi.imports import reading, runs
from baomi.imports.headers import HEADER_SEARCH, find_header, normalised_overrides
from baomi.imports.passing import Pass
from baomi.imports.schemas import ImportReport, Options, SheetReport
from baomi.security.actor import Actor
from baomi.uow import unit_of_work

# Customers per batch: one transaction, one decision, one insert per table. Larger batches are
# barely faster and hold SQLite's write lock longer against the people working meanwhile.
BATCH = 1000
Progress = Callable[[int, int], None]


def run(
    engine: Engine,
    *,
    actor: Actor,
    ctx: RequestContext,
    vault: Vault,
    path: Path,
    options: Options | None = None,
    dry_run: bool = False,
    resume: str | None = None,
    progress: Progress | None = None,
    started: Callable[[str], None] | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Import `path` as `actor` (the handler of what it files); `options` unless resuming.

    `started` is told the run's id once it is on record (to say how to resume it)."""
    facts = reading.examine(path)
    with unit_of_work(engine) as conn:
        done, counts = 0, dict.fromkeys(runs.COUNTS, 0)
        if resume is not None:
            earlier = runs.load(conn, run_id=resume, actor_id=actor.user_id)
            runs.resumable(earlier, facts.sha256)
            run_id, options, done, counts = (
                resume,
                earlier.options,
                earlier.rows_done,
                earlier.counts,
            )
        elif options is None:
            raise ValueError("a new import needs its options (source, lawful basis)")
        else:
            run_id = new_id()
        filing = customers.Filing(
            source=options.source,
            lawful_basis=options.lawful_basis,
            level=options.level,
            run_id=run_id,
        )
        # Refused here, before a row is read, as `create` would refuse the first customer.
        customers.authorize_filing(conn, actor=actor, ctx=ctx, vault=vault, filing=filing)
        if resume is None and not dry_run:
            runs.start(
                conn,
                run_id=run_id,
                actor_id=actor.user_id,
                file_name=facts.name,
                sha256=facts.sha256,
                options=options,
            )
    if started is not None and not dry_run:
        started(run_id)
    report = ImportReport(
        import_id=None if dry_run else run_id,
        dry_run=dry_run,
        file=facts.name,
        sha256=facts.sha256,
    )
    importer = Pass(
        engine,
        actor=actor,
        ctx=ctx,
        vault=vault,
        filing=filing,
        report=report,
        move_found=options.move_found,
        dry_run=dry_run,
        done=done,
        counts=counts,
        batch=batch,
        progress=progress,
        expected=expected_rows(path, facts),
    )
    overrides = normalised_overrides(options.mapping)
    try:
        for sheet in reading.sheets(path, facts):
            _read_sheet(importer, sheet, overrides)
        importer.flush()
    finally:
        importer.close()
    with unit_of_work(engine) as conn:
        if not dry_run:
            report.company_duplicates = runs.duplicates(conn, run_id)
            runs.finish(conn, run_id=run_id)
        append(
            conn,
            actor_event(
                ctx=ctx,
                actor=actor,
                # Issue 12: the import as a whole; each customer it filed has its own event.
                action=Action.CUSTOMER_CREATE,
                reason="import_dry_run" if dry_run else "import",
                object_id=None if dry_run else run_id,
                details={
                    "import": {
                        "file": facts.name,
                        "sha256": facts.sha256,
                        "dry_run": dry_run,
                        "resumed": resume is not None,
                        **report.counts(),
                    }
                },
            ),
        )
    return report


def _read_sheet(importer: Pass, sheet: reading.SheetRows, overrides: dict[str, str]) -> None:
    """Find the sheet's header among its first rows, then read every row below it."""
    head: list[tuple[int, tuple[object, ...]]] = []
    for numbered in sheet.rows:
        head.append(numbered)
        if len(head) >= HEADER_SEARCH:
            break
    header = find_header(head, overrides)
    summary = SheetReport(name=sheet.name, header_row=header.row if header else None)
    importer.report.sheets.append(summary)
    if header is None:
        return  # a sheet of notes, or anything but a customer list: said so in the report
    summary.columns = {header.cells[i]: t.value for i, t in header.columns.items()}
    summary.unmapped = list(header.unmapped)
    below = (row for row in head if row[0] > header.row)
    for number, cells in _chain(below, sheet.rows):
        importer.row(summary, header, number, cells)


def _chain(
    first: Iterator[tuple[int, tuple[object, ...]]], rest: Iterator[tuple[int, tuple[object, ...]]]
) -> Iterator[tuple[int, tuple[object, ...]]]:
    yield from first
    yield from rest


def expected_rows(path: Path, facts: reading.FileFacts) -> int:
    """About how many rows the file has, for the progress bar (XLSX: the sheets' dimensions)."""
    if facts.encoding is not None:
        return facts.lines
    return sum(sheet.size for sheet in reading.sheets(path, facts))
