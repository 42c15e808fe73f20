"""An import's run on record: started, advanced batch by batch, finished; found to resume.

Each batch of an import commits its customers together with the run's progress (`advance`),
so the run says exactly which rows are filed: a resumed import starts at `rows_done` and no
customer is filed twice. What 查重 met on the way is kept per row (`import_duplicates`): the
report of a resumed run names every handler, those of the earlier part too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from baomi import clock
from baomi.errors import Conflict, NotFound
from baomi.ids import is_id
from baomi.imports.models import import_duplicates, imports
from baomi.imports.schemas import CompanyDuplicate, Options

RUNNING, FINISHED = "running", "finished"
COUNTS = ("imported", "duplicates_in_company", "undecided")


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    actor_id: str
    file_name: str
    file_sha256: str
    options: Options
    status: str
    rows_done: int
    counts: dict[str, int]


def start(
    conn: Connection, *, run_id: str, actor_id: str, file_name: str, sha256: str, options: Options
) -> None:
    now = clock.utcnow()
    conn.execute(
        insert(imports).values(
            id=run_id,
            actor_id=actor_id,
            file_name=file_name[:255],
            file_sha256=sha256,
            source=options.source,
            lawful_basis=options.lawful_basis.value,
            level=options.level,
            options={"mapping": options.mapping, "move_found": options.move_found},
            status=RUNNING,
            rows_done=0,
            counts=dict.fromkeys(COUNTS, 0),
            started_at=now,
            updated_at=now,
        )
    )


def load(conn: Connection, *, run_id: str, actor_id: str) -> Run:
    """The person's own run; another's answers as one that does not exist."""
    row = (
        conn.execute(select(imports).where(imports.c.id == run_id)).first()
        if is_id(run_id)
        else None
    )
    if row is None or row.actor_id != actor_id:
        raise NotFound("no import of yours has this id")
    options = Options(
        source=row.source,
        lawful_basis=row.lawful_basis,
        level=row.level,
        mapping=row.options.get("mapping", {}),
        move_found=row.options.get("move_found", False),
    )
    return Run(
        id=row.id,
        actor_id=row.actor_id,
        file_name=row.file_name,
        file_sha256=row.file_sha256,
        options=options,
        status=row.status,
        rows_done=row.rows_done,
        counts={key: int(row.counts.get(key, 0)) for key in COUNTS},
    )


def resumable(run: Run, sha256: str) -> None:
    """Refuse to resume a finished run, or one of another file (C4.1.3: no customer twice)."""
    if run.status == FINISHED:
        raise Conflict(
            "this import has finished; nothing is left to resume", code="import_finished"
        )
    if run.file_sha256 != sha256:
        raise Conflict(
            "this file is not the one the import began with (its SHA-256 differs): resume it "
            "with the same file, or start a new import",
            code="import_file_changed",
        )


def advance(
    conn: Connection,
    *,
    run_id: str,
    rows_done: int,
    counts: dict[str, int],
    duplicates: Iterable[tuple[int, CompanyDuplicate]],
) -> None:
    """Record a committed batch: where the run stands and what 查重 met in it."""
    rows: list[dict[str, Any]] = [
        {
            "import_id": run_id,
            "seq": seq,
            "sheet": found.sheet[:100],
            "row": found.row,
            "field": found.field[:32],
            "customer_id": found.customer_id,
            "handler_username": (found.handler or {}).get("username"),
            "department": (found.handler or {}).get("department"),
            "outcome": found.outcome,
        }
        for seq, found in duplicates
    ]
    if rows:
        conn.execute(insert(import_duplicates), rows)
    conn.execute(
        update(imports)
        .where(imports.c.id == run_id)
        .values(rows_done=rows_done, counts=counts, updated_at=clock.utcnow())
    )


def finish(conn: Connection, *, run_id: str) -> None:
    now = clock.utcnow()
    conn.execute(
        update(imports)
        .where(imports.c.id == run_id)
        .values(status=FINISHED, finished_at=now, updated_at=now)
    )


def duplicates(conn: Connection, run_id: str) -> list[CompanyDuplicate]:
    """Every row of the run that 查重 met on file, in file order."""
    return [
        CompanyDuplicate(
            row=row.row,
            sheet=row.sheet,
            field=row.field,
            outcome=row.outcome,
            handler=(
                {"username": row.handler_username, "department": row.department}
                if row.handler_username is not None
                else None
            ),
            customer_id=row.customer_id,
        )
        for row in conn.execute(
            select(import_duplicates)
            .where(import_duplicates.c.import_id == run_id)
            .order_by(import_duplicates.c.seq)
        )
    ]
