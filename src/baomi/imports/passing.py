"""One pass over a ledger's rows: each row checked and reported, customers filed per batch.

A row is shaped into plain values (imports/rows.py), its free text scanned (sensitive.py), its
values checked by the door (customers.service.prepare); the problems go into the report as they
are found. Rows naming a customer wait in a batch; a full batch is first held against the rows
above it (seen.py: the same customer twice in the file), then given to the door in one unit of
work: `create_many` files it and the run records how far it has come, or, in a dry run,
`find_on_file` says what filing it would meet. Rows a resumed run filed before are read and
checked again (the report is of the whole file) but not given to the door.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from baomi.audit.context import RequestContext
from baomi.customers import service as customers
from baomi.customers.vault import Vault
from baomi.imports import rows, runs, sensitive
from baomi.imports.headers import Header
from baomi.imports.masks import masked_field
from baomi.imports.schemas import (
    CompanyDuplicate,
    FileDuplicate,
    ImportReport,
    InvalidValue,
    SensitiveInText,
    SheetReport,
)
from baomi.imports.seen import Seen, Where
from baomi.security.actor import Actor
from baomi.uow import unit_of_work

_COUNTED = {
    rows.Kind.BLANK: "blank",
    rows.Kind.TOTALS: "totals",
    rows.Kind.HEADER: "other",
    rows.Kind.NOTE: "other",
}


@dataclass(slots=True)
class _Waiting:
    seq: int
    where: Where
    prepared: customers.Prepared


class Pass:
    """The state of one import while it reads: its report, batch, position and counts."""

    def __init__(
        self,
        engine: Engine,
        *,
        actor: Actor,
        ctx: RequestContext,
        vault: Vault,
        filing: customers.Filing,
        report: ImportReport,
        move_found: bool,
        dry_run: bool,
        done: int,
        counts: dict[str, int],
        batch: int,
        progress: Callable[[int, int], None] | None,
        expected: int,
    ) -> None:
        self.engine, self.actor, self.ctx, self.vault = engine, actor, ctx, vault
        self.filing, self.report = filing, report
        self.move_found, self.dry_run = move_found, dry_run
        # Rows (in reading order) a resumed run filed before; the run's counts so far.
        self.done, self.counts = done, dict(counts)
        self.batch, self.progress, self.expected = batch, progress, expected
        self.seq = 0
        self.read = 0
        self.waiting: list[_Waiting] = []
        self.seen = Seen()
        self._header: Header | None = None
        self._folded: tuple[str, ...] = ()

    def close(self) -> None:
        self.seen.close()

    def row(self, sheet: SheetReport, header: Header, number: int, cells: Sequence[Any]) -> None:
        """Take one row below a header."""
        self.read += 1
        texts = rows.texts_of(cells)
        if header is not self._header:
            self._header, self._folded = header, header.folded
        kind = rows.kind_of(texts, header, self._folded)
        if kind is not rows.Kind.DATA:
            setattr(sheet, _COUNTED[kind], getattr(sheet, _COUNTED[kind]) + 1)
            self._tick()
            return
        sheet.rows += 1
        self.report.rows += 1
        seq, self.seq = self.seq, self.seq + 1
        shaped = rows.shape(cells, texts, header)
        for found in sensitive.scan(shaped.raw, move=self.move_found):
            self.report.sensitive_in_text.append(
                SensitiveInText(
                    row=number,
                    sheet=sheet.name,
                    field=found.field,
                    kind=found.kind,
                    value_masked=found.value_masked,
                    move_to=found.move_to,
                    moved=found.moved,
                )
            )
        prepared = customers.prepare(shaped.raw)
        problems = [*shaped.problems, *((p.field, p.value, p.code) for p in prepared.problems)]
        for field, value, code in problems:
            self.report.invalid_values.append(
                InvalidValue(
                    row=number,
                    sheet=sheet.name,
                    field=field,
                    column=_column(shaped.columns, field),
                    value_masked=masked_field(field, value),
                    problem=code,
                )
            )
        if not prepared.identity:
            self.report.rows_without_name += 1  # its "name: blank" is among the problems
        else:
            self.waiting.append(_Waiting(seq, Where(sheet.name, number), prepared))
            if len(self.waiting) >= self.batch:
                self.flush()
        self._tick()

    def flush(self) -> None:
        """Hold the waiting rows against the file so far, then give the new ones to the door."""
        waiting, self.waiting = self.waiting, []
        answers = self.seen.check(
            [(w.where, w.prepared.probes, w.prepared.indexed) for w in waiting]
        )
        to_door: list[_Waiting] = []
        for item, first in zip(waiting, answers, strict=True):
            if first is not None:
                where, kind = first
                self.report.duplicates_in_file += 1
                self.report.file_duplicates.append(
                    FileDuplicate(
                        row=item.where.row,
                        sheet=item.where.sheet,
                        field=kind,
                        first_row=where.row,
                        first_sheet=where.sheet,
                    )
                )
                continue
            self.report.customers += 1
            if item.seq >= self.done:
                to_door.append(item)
        if to_door or (not self.dry_run and self.seq > self.done):
            self._file(to_door)
        self._tally()
        if self.progress is not None:
            self.progress(self.read, max(self.expected, self.read))

    def _file(self, items: list[_Waiting]) -> None:
        """One unit of work: file the batch (or, in a dry run, look it up) and record progress."""
        prepared = [item.prepared for item in items]
        met: list[tuple[int, CompanyDuplicate]] = []
        with unit_of_work(self.engine) as conn:
            if self.dry_run:
                outcomes = customers.find_on_file(
                    conn, actor=self.actor, ctx=self.ctx, vault=self.vault, items=prepared
                )
            else:
                outcomes = customers.create_many(
                    conn,
                    actor=self.actor,
                    ctx=self.ctx,
                    vault=self.vault,
                    filing=self.filing,
                    items=prepared,
                )
            for item, outcome in zip(items, outcomes, strict=True):
                if outcome.customer_id is not None:
                    self.counts["imported"] += 1
                    continue
                if outcome.duplicate is None and not outcome.undecided:
                    continue  # a dry run's customer that filing would file
                found = outcome.duplicate.found if outcome.duplicate else None
                key = "undecided" if outcome.undecided else "duplicates_in_company"
                self.counts[key] += 1
                met.append(
                    (
                        item.seq,
                        CompanyDuplicate(
                            row=item.where.row,
                            sheet=item.where.sheet,
                            field=outcome.duplicate.field if outcome.duplicate else "",
                            outcome="undecided" if outcome.undecided else "on_file",
                            handler=found.handler if found else None,
                            customer_id=found.customer_id if found else None,
                        ),
                    )
                )
            if self.dry_run:
                self.report.company_duplicates.extend(found for _, found in met)
            else:
                runs.advance(
                    conn,
                    run_id=self.filing.run_id,
                    rows_done=self.seq,
                    counts=self.counts,
                    duplicates=met,
                )

    def _tally(self) -> None:
        self.report.imported = self.counts["imported"]
        self.report.duplicates_in_company = self.counts["duplicates_in_company"]
        self.report.undecided = self.counts["undecided"]

    def _tick(self) -> None:
        if self.progress is not None and (self.read % 500 == 0):
            self.progress(self.read, max(self.expected, self.read))


def _column(columns: dict[str, str], field: str) -> str:
    """The header of the column a problem's value came from."""
    return columns.get(field) or columns.get(field.split(".", 1)[0], "")
