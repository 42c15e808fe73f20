"""The shapes of an import: what the person asks once (source, basis, level, mapping) and the
report it answers with (`baomi import --json`, the report XLSX, the web page)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from baomi.customers.schemas import LawfulBasis


class Options(BaseModel):
    """Asked once per import and recorded with its run (C4.1.1: source and lawful basis are
    recorded on every customer it files)."""

    source: str
    lawful_basis: LawfulBasis
    level: str = "normal"
    # A person's mapping of headers the vocabulary does not know: {header: target}.
    mapping: dict[str, str] = Field(default_factory=dict)
    # Move identifiers found in free text into their fields (imports/sensitive.py).
    move_found: bool = False


class InvalidValue(BaseModel):
    """A value kept out of its field (C4.1.1); the row is still filed if it names a customer."""

    row: int
    sheet: str
    field: str
    column: str
    value_masked: str
    problem: str


class SensitiveInText(BaseModel):
    """An identifier found in a free-text field, and the field it belongs in (C4.3.2)."""

    row: int
    sheet: str
    field: str
    kind: str
    value_masked: str
    move_to: str
    moved: bool


class FileDuplicate(BaseModel):
    """A row whose customer an earlier row of the file holds already: not filed twice."""

    row: int
    sheet: str
    field: str
    first_row: int
    first_sheet: str


class CompanyDuplicate(BaseModel):
    """A row whose customer is on file, handled by someone: what 查重 says, no more (C4.1.3).

    Not filed: ask its handler's approver for access instead (C4.3.1), with the customer's id.
    """

    row: int
    sheet: str
    field: str
    # "on_file"; "undecided": a candidate failed its integrity check (the officer is told).
    outcome: str
    handler: dict[str, str] | None
    customer_id: str | None = None


class SheetReport(BaseModel):
    name: str
    # The header's row, or None: no header found, the sheet is not a customer list (notes).
    header_row: int | None
    columns: dict[str, str] = Field(default_factory=dict)
    unmapped: list[str] = Field(default_factory=list)
    rows: int = 0
    blank: int = 0
    totals: int = 0
    other: int = 0


class ImportReport(BaseModel):
    """What an import found and did; `rows` … `sensitive_in_text` first, as issue 12 lists them.

    rows: data rows read (below a header, neither blank, totals, notes nor the header again);
    customers: the distinct customers among them (rows naming a customer, less those a row
    above holds already); imported: customers filed (0 in a dry run); duplicates_in_file and
    duplicates_in_company: rows not filed because their customer is in the file already or on
    file already, handled by someone (named in `company_duplicates`).
    """

    rows: int = 0
    customers: int = 0
    imported: int = 0
    duplicates_in_file: int = 0
    duplicates_in_company: int = 0
    invalid_values: list[InvalidValue] = Field(default_factory=list)
    sensitive_in_text: list[SensitiveInText] = Field(default_factory=list)
    import_id: str | None = None
    dry_run: bool = False
    status: str = "finished"
    file: str = ""
    sha256: str = ""
    rows_without_name: int = 0
    undecided: int = 0
    file_duplicates: list[FileDuplicate] = Field(default_factory=list)
    company_duplicates: list[CompanyDuplicate] = Field(default_factory=list)
    sheets: list[SheetReport] = Field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """The numbers alone, as the import's audit event records them (no value, ever)."""
        return {
            "rows": self.rows,
            "customers": self.customers,
            "imported": self.imported,
            "duplicates_in_file": self.duplicates_in_file,
            "duplicates_in_company": self.duplicates_in_company,
            "invalid_values": len(self.invalid_values),
            "sensitive_in_text": len(self.sensitive_in_text),
            "rows_without_name": self.rows_without_name,
            "undecided": self.undecided,
        }
