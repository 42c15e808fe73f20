"""The import's report as an XLSX file (`baomi import --report OUT.xlsx`): a row per problem.

Two sheets: 汇总 (the counts, the sheets read and their columns) and 问题 (one row per value
kept out, identifier found in text, row in the file twice, customer on file already with its
handler, sheet without a header). Values in it are masked as in the JSON report
(imports/masks.py); it is written in openpyxl's write-only mode, row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from baomi.imports.schemas import ImportReport

PROBLEM_COLUMNS = (
    "类型 kind",
    "工作表 sheet",
    "行 row",
    "字段 field",
    "列 column",
    "值（已遮蔽） value_masked",
    "问题 problem",
    "说明 detail",
)


def write(report: ImportReport, path: Path) -> None:
    """Write the report to `path` (an .xlsx file)."""
    from openpyxl import Workbook  # loaded only when a report file is asked for

    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    for key, value in report.counts().items():
        summary.append([key, value])
    summary.append(["file", report.file])
    summary.append(["sha256", report.sha256])
    summary.append(["import_id", report.import_id or ""])
    summary.append(["dry_run", "yes" if report.dry_run else "no"])
    summary.append([])
    summary.append(["sheet", "header row", "rows", "blank", "totals", "columns", "unmapped"])
    for sheet in report.sheets:
        columns = ", ".join(f"{header}→{target}" for header, target in sheet.columns.items())
        summary.append(
            [
                sheet.name,
                sheet.header_row if sheet.header_row is not None else "—",
                sheet.rows,
                sheet.blank,
                sheet.totals,
                columns,
                ", ".join(sheet.unmapped),
            ]
        )
    problems = book.create_sheet("问题")
    problems.append(list(PROBLEM_COLUMNS))
    for line in problem_rows(report):
        problems.append(line)
    book.save(path)


def problem_rows(report: ImportReport) -> Iterator[list[object]]:
    """The report's problems, one list of cells each, in the columns of PROBLEM_COLUMNS."""
    for bad in report.invalid_values:
        yield [
            "invalid_value",
            bad.sheet,
            bad.row,
            bad.field,
            bad.column,
            bad.value_masked,
            bad.problem,
            "",
        ]
    for found in report.sensitive_in_text:
        moved = f"moved to {found.move_to}" if found.moved else f"belongs in {found.move_to}"
        yield [
            "sensitive_in_text",
            found.sheet,
            found.row,
            found.field,
            "",
            found.value_masked,
            found.kind,
            moved,
        ]
    for twice in report.file_duplicates:
        yield [
            "duplicate_in_file",
            twice.sheet,
            twice.row,
            twice.field,
            "",
            "",
            "duplicate_in_file",
            f"same customer as {twice.first_sheet} row {twice.first_row}",
        ]
    for met in report.company_duplicates:
        handler = met.handler or {}
        detail = (
            f"handled by {handler.get('username')} ({handler.get('department')}): ask for "
            f"access (customer {met.customer_id})"
            if met.outcome == "on_file"
            else "a candidate failed its integrity check: the security officer is told"
        )
        yield [
            "duplicate_in_company",
            met.sheet,
            met.row,
            met.field,
            "",
            "",
            met.outcome,
            detail,
        ]
    for sheet in report.sheets:
        if sheet.header_row is None:
            yield ["sheet_skipped", sheet.name, "", "", "", "", "no_header", "no customer list"]
        for column in sheet.unmapped:
            yield ["column_unmapped", sheet.name, sheet.header_row, "", column, "", "unmapped", ""]
