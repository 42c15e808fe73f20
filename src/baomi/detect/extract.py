"""The text of the files a private ledger is kept in: spreadsheets, Word, PDF, text, e-mail.

C4.1.3 forbids private ledgers; finding them means reading what salespeople keep: xlsx and csv
exports, docx notes, PDFs (their text layer: a scanned image holds none, and OCR is not done),
plain text and saved e-mails (.eml: the headers that name people, and the text parts). The
readers are maintained libraries (openpyxl, python-docx, pypdf); a file they cannot read is
reported as unreadable, never guessed at. Pure: bytes in, text out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

# A ledger is a spreadsheet or a document, not a disk image: bigger files are listed, unread.
MAX_BYTES = 50 * 1024 * 1024
# Chinese spreadsheets saved as CSV or text are often GB 18030 (Excel's default on a Chinese
# Windows), not UTF-8: each is tried in turn; latin-1 never fails, so something is always read.
_ENCODINGS = ("utf-8-sig", "gb18030", "latin-1")


class Unreadable(Exception):
    """The file is damaged, encrypted, or not what its name says; it is listed, not read."""


def _decode(data: bytes) -> str:
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def _csv(data: bytes) -> str:
    text = _decode(data)
    # Cells are joined with a tab, so that a phone in one cell never runs into the next.
    return "\n".join("\t".join(row) for row in csv.reader(io.StringIO(text)))


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook  # imported when a spreadsheet is read, not at start

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                lines.append("\t".join(_cell(v) for v in row if v is not None))
    finally:
        book.close()
    return "\n".join(lines)


def _cell(value: object) -> str:
    # A phone or card typed into Excel is often stored as a number: 13800138000.0 must read as
    # the digits, and a float with a fraction is an amount, shown as it is.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _docx(data: bytes) -> str:
    from docx import Document  # python-docx

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Unreadable("encrypted")
    return "\n".join(page.extract_text() or "" for page in reader.pages)


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _eml(data: bytes) -> str:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
    headers = ("From", "To", "Cc", "Reply-To", "Subject")
    parts = [str(message[name]) for name in headers if message[name] is not None]
    for part in _leaves(message):
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        try:
            body = part.get_content()
        except (LookupError, ValueError):
            payload = part.get_payload(decode=True)
            body = _decode(payload if isinstance(payload, bytes) else b"")
        if kind == "text/html":
            reader = _HTMLText()
            reader.feed(body)
            body = " ".join(reader.parts)
        parts.append(body)
    return "\n".join(parts)


def _leaves(message: EmailMessage) -> Iterator[EmailMessage]:
    for part in message.walk():
        if not part.is_multipart():
            yield part


READERS: dict[str, Callable[[bytes], str]] = {
    ".xlsx": _xlsx,
    ".csv": _csv,
    ".docx": _docx,
    ".pdf": _pdf,
    ".txt": _decode,
    ".eml": _eml,
}
SUFFIXES = frozenset(READERS)


def text_of(data: bytes, suffix: str) -> str:
    """Return the text of a file with this suffix (".xlsx" …); raise Unreadable if it can't."""
    reader = READERS.get(suffix.lower())
    if reader is None:
        raise Unreadable(f"not a kind of file read: {suffix}")
    if len(data) > MAX_BYTES:
        raise Unreadable("too large")
    try:
        return reader(data)
    except Unreadable:
        raise
    except Exception as exc:  # a damaged or hostile file is listed unread, and the scan goes on
        raise Unreadable(type(exc).__name__) from None
