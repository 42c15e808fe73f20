"""Find customer identifiers in free text: phones, ID numbers, credit codes, cards, e-mails.

The scanner of private ledgers (C4.1.3) and the check of notes and attachments on saving run
this one function. It is pure: text in, findings out, no database, no keys.

How a number is found. People type digits in groups ("138 0013 8000", "6222-0212-3456-7890",
"+86 (010) 1234 5678") and also put several numbers in a row ("13800138000 13900139000"). A
run of digit groups joined by single spaces or dashes is cut greedily from the left: the longest
stretch of whole groups that some check accepts (checks.py) becomes a finding, and the search
goes on after it. A stretch that no check accepts is an order number, a date or an amount, and
is not reported. Numbers glued to letters or longer runs (ORD13800138000, a 20-digit waybill)
are not cut out of them: the boundary of a token is part of what makes it a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from baomi.crypto import normalize
from baomi.detect import checks
from baomi.detect.folding import fold

KINDS = ("phone", "id_number", "uscc", "bank_card", "email")


@dataclass(frozen=True, slots=True)
class Found:
    """One identifier in the text: its kind, its normalised value, where it is (text[start:end])."""

    kind: str
    value: str
    start: int
    end: int


_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
# A credit code has letters in it more often than not; an all-digit one is a digit run below.
_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_RUN = re.compile(
    r"(?<![0-9A-Za-z])(?<![A-Za-z]-)"
    r"(?:\+\d{1,4}[ \-]?|\(0\d{2,3}\)[ \-]?)?"
    r"\d+[Xx]?(?:[ \-]\d+[Xx]?)*"
    r"(?![0-9A-Za-z])(?!-[A-Za-z])"
)
# English labels glued to a number ("Tel13800138000") are taken off it; other letters glued to
# digits make a model or an order number (MX-13800138000-B), not a phone.
_LABEL = re.compile(r"(?i)(?<![A-Za-z])(?:tel|phone|mobile|mob|cell|fax)(?=\+?\d)")
_GROUP = re.compile(r"\+?\d+[Xx]?")
# No identifier is longer than a 19-digit card behind a country prefix.
_MAX_DIGITS = 23
# A card-like number right after these labels is the labelled thing, not a card (C4.1.3: an
# order or invoice number is not customer data), unless a card label comes after them.
_NOT_CARD = (
    "订单",
    "单号",
    "发票",
    "流水",
    "编号",
    "合同号",
    "运单",
    "快递",
    "工单",
    "批次",
    "序列号",
)
_CARD_LABELS = ("卡号", "银行卡", "账号", "帐号", "信用卡", "借记卡")
_CLAUSE_END = re.compile(r"[，。；;,.!?！？\n]")
_LOOK_BACK = 14
_MASK = "\x00"  # neither a digit, a letter nor a separator: found text is not found again


def find_sensitive(text: str) -> list[Found]:
    """Return the identifiers in `text`, in order of position (C4.1.1 checks, C4.1.3)."""
    work = fold(text)
    found: list[Found] = []
    for finder in (_emails, _codes, _runs):
        batch = list(finder(work))
        for item in batch:
            work = work[: item.start] + _MASK * (item.end - item.start) + work[item.end :]
        found.extend(batch)
    return sorted(found, key=lambda f: f.start)


def _emails(work: str) -> Iterator[Found]:
    for m in _EMAIL.finditer(work):
        yield Found("email", normalize.email(m.group()), m.start(), m.end())


def _codes(work: str) -> Iterator[Found]:
    for m in _CODE.finditer(work):
        token = m.group()
        if token.isdigit():
            continue
        hit = _code_kind(normalize.id_number(token))
        if hit is not None:
            yield Found(hit[0], hit[1], m.start(), m.end())


def _code_kind(code: str) -> tuple[str, str] | None:
    if checks.resident_id(code):
        return "id_number", code
    if checks.credit_code(code):
        return "uscc", code
    return None


def _runs(work: str) -> Iterator[Found]:
    work = _LABEL.sub(lambda m: _MASK * len(m.group()), work)
    for run in _RUN.finditer(work):
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in _GROUP.finditer(run[0])]
        for item in _cut(work, groups):
            # "(010) 6552 9988": the area code's parenthesis belongs to the span too.
            if item.start == groups[0][0] and run[0].startswith("("):
                item = Found(item.kind, item.value, run.start(), item.end)
            yield item


def _cut(work: str, groups: list[tuple[int, int]]) -> Iterator[Found]:
    """Cut a run of digit groups into findings, longest accepted stretch first, left to right."""
    i = 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):
            joined = "".join(work[s:e] for s, e in groups[i : j + 1])
            if len(joined) > _MAX_DIGITS + 1:
                continue
            start, end = groups[i][0], groups[j][1]
            hit = _classify(joined, card_allowed=not _labelled_not_card(work, start))
            if hit is not None:
                yield Found(hit[0], hit[1], start, end)
                i = j + 1
                break
        else:
            i += 1


def _classify(joined: str, *, card_allowed: bool) -> tuple[str, str] | None:
    """The kind and normalised value of one stretch of digits (an ID first: it is the most
    specific; a card last, as the brief says: not a number already an ID or a phone)."""
    code = joined.upper()
    if len(code) == 18 and (hit := _code_kind(normalize.id_number(code))):
        return hit
    if "X" in code:
        return None
    if (e164 := checks.phone(code)) is not None:
        return "phone", e164
    if card_allowed and checks.bank_card(code):
        return "bank_card", code
    return None


def _labelled_not_card(work: str, start: int) -> bool:
    before = work[max(0, start - _LOOK_BACK) : start]
    clause = _CLAUSE_END.split(before)[-1]
    veto = max((clause.rfind(label) for label in _NOT_CARD), default=-1)
    card = max((clause.rfind(label) for label in _CARD_LABELS), default=-1)
    return veto > card
