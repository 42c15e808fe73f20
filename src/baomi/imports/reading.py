"""Reading a ledger row by row: XLSX sheets (openpyxl, read-only, streamed) and CSV text.

A ledger of a million rows must not be held in memory (issue 12: under 300 MB throughout), so
sheets are iterated, never loaded: openpyxl's read-only mode parses the XML as rows are asked
for, and a CSV file is read through the csv module line by line.

CSV encodings (C4.1.3: the ledgers people keep): UTF-8, UTF-8 with a byte-order mark (Excel's
"CSV UTF-8"), or GB 18030 (Excel's CSV on a Chinese Windows, a superset of GBK and GB 2312).
The file is read once in full before any row is used (its SHA-256 is taken then, for the audit
event and for resuming), and that pass also decides the encoding: UTF-8 if every byte of the
file decodes as UTF-8, else GB 18030 if every byte decodes as that. Both are strict decoders of
the whole file: a GB 18030 file is almost never valid UTF-8, so a guess from its first kilobytes
would be a guess. A file that is neither is refused, never read as mojibake.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baomi.errors import ValidationFailed

SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")
_BLOCK = 1 << 20
_BOM = codecs.BOM_UTF8
_DELIMITERS = ",\t;"


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What is known of the file before a row is read: its fingerprint and how to read it."""

    name: str
    size: int
    sha256: str
    # "utf-8-sig" or "gb18030" for CSV; None for a workbook.
    encoding: str | None
    # Line breaks in a CSV file (an upper bound of its rows, for the progress bar).
    lines: int


@dataclass(frozen=True, slots=True)
class SheetRows:
    """One sheet's rows as (row number as the spreadsheet shows it, cell values)."""

    name: str
    rows: Iterator[tuple[int, tuple[Any, ...]]]
    # The sheet's own count of rows (XLSX), or the file's lines (CSV): for progress only.
    size: int


def unreadable(message: str) -> ValidationFailed:
    return ValidationFailed([{"field": "file", "code": "file_unreadable", "message": message}])


def examine(path: Path) -> FileFacts:
    """Fingerprint the file and, for CSV, find its encoding (a second pass only if the file
    turns out not to be UTF-8)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise unreadable(f"import reads {', '.join(SUFFIXES)} files, not {suffix or 'this one'}")
    text = suffix in (".csv", ".txt")
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = text
    lines = size = 0
    for block in _blocks(path):
        digest.update(block)
        size += len(block)
        if text:
            lines += block.count(b"\n")
            is_utf8 = is_utf8 and _decodes(utf8, block)
    encoding: str | None = None
    if text:
        if is_utf8 and _decodes(utf8, b"", final=True):
            # utf-8-sig reads a file with or without the byte-order mark, and drops the mark.
            encoding = "utf-8-sig"
        else:
            gb = codecs.getincrementaldecoder("gb18030")()
            if all(_decodes(gb, block) for block in _blocks(path)) and _decodes(gb, b"", True):
                encoding = "gb18030"
            else:
                raise unreadable(
                    "the file is neither UTF-8 nor GB 18030 text: save it as CSV UTF-8"
                )
    return FileFacts(path.name, size, digest.hexdigest(), encoding, lines + 1)


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            yield block


def _decodes(decoder: codecs.IncrementalDecoder, block: bytes, final: bool = False) -> bool:
    """Whether `block` continues valid text (a file cut inside a character is not, at the end)."""
    try:
        decoder.decode(block, final)
    except UnicodeDecodeError:
        return False
    return True


def sheets(path: Path, facts: FileFacts) -> Iterator[SheetRows]:
    """Yield the file's sheets in order; their rows are read as they are iterated."""
    if facts.encoding is not None:
        yield SheetRows(path.stem, _csv_rows(path, facts.encoding), facts.lines)
        return
    from openpyxl import load_workbook  # loaded for workbooks only: it is a large import

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        raise unreadable(f"not a readable XLSX workbook ({type(error).__name__})") from None
    try:
        for sheet in book.worksheets:
            size = sheet.max_row or 0
            # The stored dimensions may be wrong (other tools write A1:A1); read what is there.
            sheet.reset_dimensions()
            rows = (
                (number, tuple(values))
                for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
            )
            yield SheetRows(sheet.title, rows, size)
    finally:
        book.close()


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = _delimiter([handle.readline() for _ in range(20)])
        handle.seek(0)
        # Numbered as a spreadsheet shows the file: one row per record, quoted line breaks kept.
        for number, values in enumerate(csv.reader(handle, delimiter=delimiter), 1):
            yield number, tuple(values)


def _delimiter(lines: list[str]) -> str:
    """The separator used most on the first line that has one (a title line above the header
    may have none): comma, tab or semicolon; a comma if no line has any."""
    for line in lines:
        counts = {d: line.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            return best
    return ","
