"""A messy ledger, made here, with every trait issue 12 lists, and what importing it must give.

客户台账.xlsx: a merged title row and a merged 制表 line above the header of 客户名单; headers in
Chinese, in another order on the second data sheet (新客户, whose header is under its own merged
title); a sheet of notes (说明); blank rows, a 合计 row, full-width digits, dashes and spaces in
phones, two phones in a cell, a phone stored as a number, a retired county's ID number (valid),
bad check digits, a bad e-mail, an amount that is no amount, a row without a name, the same
customer twice (once within a sheet, once across sheets), a customer on file already (handled by
zhaoliu), and identifiers written into 备注. 客户名单.csv, in GB 18030: a title line, a repeated
customer, a 合计 line, a bad phone and a phone in 备注.

The expected numbers are counted by hand below, row by row, and the tests hold the import to them
exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from baomi.demo.identifiers import credit_code, luhn_digit, resident_id
from tests.detect.corpus import ID_RETIRED

USCC = credit_code(random.Random(1))
USCC_BAD = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
ID_IN_NOTE = resident_id(random.Random(3))
ID_CSV = resident_id(random.Random(4))
CARD = "622202123456789012" + luhn_digit("622202123456789012")
# zhaoliu's customer, filed before the import: its phone is in the ledger (row 14).
ON_FILE_PHONE = "13912345678"


@dataclass(frozen=True)
class Expected:
    rows: int
    customers: int
    imported: int
    duplicates_in_file: int
    duplicates_in_company: int
    # (sheet, row, field, problem), in the order the report lists them.
    invalid: list[tuple[str, int, str, str]]
    # (sheet, row, field, kind)
    sensitive: list[tuple[str, int, str, str]]
    rows_without_name: int


XLSX = Expected(
    # 客户名单: rows 5, 6, 7, 9, 10, 11, 13, 14 (8 blank, 12 合计); 新客户: rows 3, 4, 6 (5 blank).
    rows=11,
    # 10 rows name a customer (not row 11); row 9 repeats row 5 (its phone), 新客户 row 3 repeats
    # row 7 (its second phone): 8 customers.
    customers=8,
    # Row 14 is zhaoliu's customer: 7 filed.
    imported=7,
    duplicates_in_file=2,
    duplicates_in_company=1,
    invalid=[
        ("客户名单", 6, "emails", "email_invalid"),
        ("客户名单", 7, "id_number", "id_number_invalid"),
        ("客户名单", 10, "purchases.amount", "amount_invalid"),
        ("客户名单", 10, "phones", "phone_invalid"),
        ("客户名单", 10, "id_number", "id_number_invalid"),
        ("客户名单", 11, "name", "blank"),
        ("新客户", 6, "emails", "email_invalid"),
    ],
    sensitive=[
        ("客户名单", 7, "notes", "id_number"),
        ("客户名单", 7, "notes", "phone"),
        ("客户名单", 13, "notes", "bank_card"),
    ],
    rows_without_name=1,
)

CSV = Expected(
    # Four customer lines (the 合计 line is not one); 北京己公司 twice.
    rows=4,
    customers=3,
    imported=3,
    duplicates_in_file=1,
    duplicates_in_company=0,
    invalid=[("客户名单", 5, "phones", "phone_invalid")],
    sensitive=[("客户名单", 7, "notes", "phone")],
    rows_without_name=0,
)


def build_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户名单"
    sheet["A1"] = "2024年华东区客户台账"
    sheet.merge_cells("A1:K1")
    sheet["A2"] = "制表人：张三        日期：2024-12-31"
    sheet.merge_cells("A2:K2")
    header = ["序号", "客户名称", "联系人", "手机/电话", "邮箱", "身份证号", "统一社会信用代码"]
    header += ["地址", "成交金额（元）", "成交日期", "备注"]
    for column, title in enumerate(header, 1):
        sheet.cell(row=4, column=column, value=title)
    rows: dict[int, list[object]] = {
        5: [
            1,
            "上海甲科技有限公司",
            "王经理",
            "138 0013 8000",
            "wang@jia-tech.com",
            None,
            USCC,
            "上海市浦东新区世纪大道 100 号",
            "¥12,800.00",
            datetime(2024, 3, 1),
            "老客户",
        ],
        6: [
            2,
            "李四",
            None,
            "１３９-００１３-９０００",
            "li4@example",
            ID_RETIRED,
            None,
            "广州市越秀区",
            5000,
            None,
            "客户要求开发票",
        ],
        7: [
            3,
            "苏州乙贸易",
            "赵总",
            "021-6888 9999 / 13700137000",
            None,
            None,
            USCC_BAD,
            None,
            None,
            None,
            f"备注：法人身份证 {ID_IN_NOTE}，电话 136 0013 6000",
        ],
        9: [
            4,
            "上海甲科技有限公司（重复）",
            None,
            "13800138000",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        10: [
            5,
            "钱七",
            None,
            13800,
            "qian7@example.com",
            "110101199003071234",
            None,
            None,
            "abc",
            None,
            None,
        ],
        11: [6, None, None, "13500135000", None, None, None, None, None, None, None],
        12: ["合计", None, None, None, None, None, None, None, 17800, None, None],
        13: [
            7,
            "孙八",
            None,
            15900159000.0,
            "sun8@example.com",
            None,
            None,
            None,
            None,
            None,
            f"银行卡 {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
        ],
        14: [8, "已有客户丙", None, ON_FILE_PHONE, None, None, None, None, None, None, None],
    }
    for number, values in rows.items():
        for column, value in enumerate(values, 1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    second = book.create_sheet("新客户")
    second["A1"] = "2025年新增客户"
    second.merge_cells("A1:F1")
    for column, title in enumerate(
        ["电话", "公司名称", "备注", "E-mail", "证件号码", "负责区域"], 1
    ):
        second.cell(row=2, column=column, value=title)
    for number, values in {
        3: ["13700137000", "苏州乙贸易有限公司", None, None, None, "华东"],
        4: ["13300133000", "杭州丁网络", "微信 wxid_123，需求：扩容", "DING@Example.COM"],
        6: ["+86 188 0018 8000", "南京戊", None, "bad@", None, None],
    }.items():
        for column, value in enumerate(values, 1):
            if value is not None:
                second.cell(row=number, column=column, value=value)
    notes = book.create_sheet("说明")
    notes["A1"] = "本表仅供内部使用，不得外传。"
    notes["A3"] = "注：身份证号需与原件核对；成交金额单位为元。"
    book.save(path)
    return path


def build_csv(path: Path) -> Path:
    lines = [
        "客户名单（导出）,,,,",
        "客户名称,手机,邮箱,身份证号,备注",
        "北京己公司,13100131000,ji@example.com,,",
        "北京己公司,131 0013 1000,,,",
        f"庚先生,1310013,,{ID_CSV},",
        "合计,,,,",
        "辛女士,13200132000,,,手机13200132001 晚上联系",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path
