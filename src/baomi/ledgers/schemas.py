"""What a scan reports: per file, counts of identifiers by kind and of customers matched.

Counts only: a scan's report and its audit event never hold a value found (C4.3.2).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from baomi.detect import KINDS


class FileFindings(BaseModel):
    path: str = Field(description="relative to the folder scanned")
    counts: dict[str, int] = Field(description="identifiers found, by kind (distinct values)")
    matched: int | None = Field(
        description="how many of them are customers in the vault (phones, ID numbers, credit "
        "codes, e-mails; cards have no index); None when not looked up"
    )
    error: str | None = Field(default=None, description="why the file could not be read")

    @property
    def holds_data(self) -> bool:
        return any(self.counts.values())


class ScanReport(BaseModel):
    root: str
    files_seen: int = Field(description="files of a kind the scanner reads (xlsx, csv, …)")
    files: list[FileFindings] = Field(description="files holding identifiers, or unreadable")
    totals: dict[str, int]
    matched: int | None
    scope: str | None = Field(
        description="customers matched against: own (handler / head) or company (the security "
        "officer); None when the vault was not asked"
    )


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)
