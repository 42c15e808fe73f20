"""Finding the header row of a sheet and what each of its columns holds.

Real ledgers have title rows, merged cells and blank lines above the header, Chinese headers in
any order and in many wordings (客户名称 / 公司名称 / 客户, 手机 / 电话 / 联系方式 …), and sheets
that hold notes rather than customers. A header row is the first of a sheet's first rows in
which at least two cells are known header words and one of them names the customer; a sheet
without one is not a customer list and is skipped (and said so in the report). A header word
is compared whole, after folding full-width forms, spaces, marks such as * and ：, and a unit
or hint in brackets (成交金额（元） is 成交金额): a title such as 客户台账 names no column.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Target(StrEnum):
    """What a column of a ledger may hold; each becomes part of a customer record."""

    NAME = "name"
    CONTACT = "contact"
    CONTACT_TITLE = "contact_title"
    PHONES = "phones"
    EMAILS = "emails"
    ID_NUMBER = "id_number"
    ADDRESS = "address"
    AMOUNT = "amount"
    DATE = "date"
    ITEM = "item"
    NOTES = "notes"
    REQUIREMENTS = "requirements"
    INTENT = "purchase_intent"
    COMPETITOR = "competitor_products"
    CONTRACT = "contract_terms"
    BANK_CARD = "bank_card"
    # A column known to hold nothing of the customer (序号, 开户行, 业务员): read, not kept.
    IGNORE = "ignore"


_WORDS: dict[Target, tuple[str, ...]] = {
    Target.NAME: (
        "客户名称", "客户名", "客户", "客户姓名", "客户全称", "姓名", "名称", "公司名称", "公司",
        "单位名称", "单位", "企业名称", "企业", "customer", "name", "company",
    ),
    Target.CONTACT: ("联系人", "联系人姓名", "对接人", "联络人", "contact"),
    Target.CONTACT_TITLE: ("职务", "职位", "title"),
    Target.PHONES: (
        "手机", "电话", "手机/电话", "电话/手机", "手机号", "手机号码", "联系电话", "电话号码",
        "座机", "固话", "联系方式", "手机或电话", "phone", "mobile", "tel", "telephone",
    ),
    Target.EMAILS: ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail"),
    Target.ID_NUMBER: (
        "身份证号", "身份证", "身份证号码", "证件号", "证件号码", "证件", "统一社会信用代码",
        "信用代码", "社会信用代码", "纳税人识别号", "税号",
    ),
    Target.ADDRESS: ("地址", "联系地址", "公司地址", "详细地址", "通讯地址", "办公地址", "address"),
    Target.AMOUNT: ("成交金额", "金额", "合同金额", "成交额", "订单金额", "amount"),
    Target.DATE: ("成交日期", "日期", "签约日期", "下单日期", "成交时间", "date"),
    Target.ITEM: ("产品", "商品", "产品名称", "成交产品", "购买产品", "品名", "item", "product"),
    Target.NOTES: ("备注", "说明", "备考", "附注", "remark", "remarks", "note", "notes"),
    Target.REQUIREMENTS: ("需求", "客户需求", "requirements"),
    Target.INTENT: ("购买意向", "意向"),
    Target.COMPETITOR: ("竞品", "竞争对手", "在用竞品"),
    Target.CONTRACT: ("合同条款", "合同约定"),
    Target.BANK_CARD: ("银行卡号", "卡号", "银行账号", "账号", "开户账号", "银行卡"),
    Target.IGNORE: (
        "序号", "编号", "no", "no.", "开户行", "开户银行", "业务员", "负责人", "销售", "跟进人",
        "录入人", "录入时间", "创建时间",
    ),
}  # fmt: skip
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_MARKS = re.compile(r"[\s*：:#＊]")


def fold(text: Any) -> str:
    """A header cell as compared: full-width folded, lower-case, no spaces, marks or (hints)."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).lower()
    return _MARKS.sub("", _BRACKETED.sub("", folded))


VOCABULARY: dict[str, Target] = {fold(word): t for t, words in _WORDS.items() for word in words}
# Rows of a sheet looked at for its header: titles and notes rarely take more.
HEADER_SEARCH = 30


@dataclass(frozen=True, slots=True)
class Header:
    """A sheet's header row: where it is, its cells as read, and what each column holds."""

    row: int
    cells: tuple[str, ...]
    # Column index -> target, for the columns read; the others are in `unmapped`.
    columns: dict[int, Target]
    unmapped: tuple[str, ...]

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold(c) for c in self.cells)

    @property
    def signature(self) -> str:
        """The header row's fingerprint, under which a person's mapping of it is saved."""
        return signature(self.cells)


def signature(cells: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join(fold(c) for c in cells).encode()).hexdigest()


def target_of(cell: Any, overrides: Mapping[str, str] | None = None) -> Target | None:
    """The target a header cell names: the person's mapping first, then the vocabulary."""
    key = fold(cell)
    if not key:
        return None
    if overrides and key in overrides:
        return Target(overrides[key])
    return VOCABULARY.get(key)


def find_header(
    rows: Sequence[tuple[int, Sequence[Any]]], overrides: Mapping[str, str] | None = None
) -> Header | None:
    """The header among a sheet's first rows, or None: a sheet of notes, not customers."""
    for number, cells in rows[:HEADER_SEARCH]:
        targets = {i: target_of(cell, overrides) for i, cell in enumerate(cells)}
        known = {t for t in targets.values() if t is not None and t is not Target.IGNORE}
        if Target.NAME in known and len(known) >= 2:
            texts = tuple("" if c is None else str(c).strip() for c in cells)
            return Header(
                row=number,
                cells=texts,
                columns={i: t for i, t in targets.items() if t is not None},
                unmapped=tuple(texts[i] for i, t in targets.items() if t is None and texts[i]),
            )
    return None


def normalised_overrides(pairs: Mapping[str, str]) -> dict[str, str]:
    """A person's mapping {header as written: target}, keyed as headers are compared; an
    unknown target is refused by the caller (ValueError here)."""
    return {fold(header): Target(target).value for header, target in pairs.items()}
