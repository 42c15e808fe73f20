"""The ledger the import benchmark reads: N rows of CSV, generated, with a ledger's usual faults.

Every row is a customer (客户名称, 联系人, 手机, 邮箱, 身份证号 on half of them, 地址, 成交金额,
成交日期, 备注). About one row in a hundred repeats an earlier customer's phone (in the file
twice), one in a hundred has a phone that fails its check, one in a hundred has a phone in 备注,
so that every path of the import runs at a ledger's rate, not only the clean one. Deterministic:
the same N gives the same file, for the service and for its floor.
"""

from __future__ import annotations

import csv
from pathlib import Path

from baomi.demo.identifiers import ric_check_digit

HEADER = ["客户名称", "联系人", "手机", "邮箱", "身份证号", "地址", "成交金额", "成交日期", "备注"]
# Mobile prefixes whose every eight-digit suffix is a valid number (libphonenumber).
_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "158", "186")
_REGIONS = ("110101", "310101", "320102", "330106", "440104", "510104")


def phone(i: int) -> str:
    return f"{_PREFIXES[i % len(_PREFIXES)]}{(i // len(_PREFIXES)) * 7919 % 10**8:08d}"


def resident_id(i: int) -> str:
    body = f"{_REGIONS[i % len(_REGIONS)]}19{70 + i % 30:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
    body += f"{i % 1000:03d}"
    return body + ric_check_digit(body)


def row(i: int) -> list[str]:
    """Row i: a customer, sometimes with a fault (one in a hundred each, never together)."""
    mobile = phone(i)
    note = "老客户，年底回访"
    if i % 100 == 37 and i > 100:
        mobile = phone(i - 50)  # the same customer as fifty rows up
    elif i % 100 == 61:
        mobile = mobile[:7]  # too short: kept out, reported
    elif i % 100 == 83:
        note = f"备用电话 {phone(i + 10**7)}，晚上联系"  # a phone in 备注: flagged
    # Same birth date and sequence recur; the region and check digit keep them distinct enough
    # for a benchmark, and any repeat is found by both sides alike.
    identity = resident_id(i) if i % 2 == 0 else ""
    return [
        f"客户{i:07d}有限公司",
        "王经理",
        mobile,
        f"c{i}@example.com",
        identity,
        f"上海市浦东新区世纪大道 {i % 1000} 号",
        f"{(i * 37) % 100000}.00",
        "2024-03-01",
        note,
    ]


def write(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["2024年客户台账（基准）"])
        out.writerow(HEADER)
        for i in range(rows):
            out.writerow(row(i))
    return path
