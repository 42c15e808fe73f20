"""The detector of customer identifiers in free text (C4.1.1 checksums, C4.1.3 private ledgers).

`find_sensitive(text)` returns `Found(kind, value, start, end)` items: phones (E.164), resident
ID numbers and unified social credit codes (compact, upper-case), bank cards (digits) and
e-mails (lower-case). Pure: no database, no keys; the scanner and the customer door call it.
"""

from __future__ import annotations

from baomi.detect.finder import KINDS, Found, find_sensitive

__all__ = ["KINDS", "Found", "find_sensitive"]
