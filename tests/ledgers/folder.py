"""A salesperson's folder of private ledgers, one file of each kind the scanner reads (C4.1.3).

`build(root)` writes the files and returns what a careful reader would mark in each, as
{relative path: {kind: {normalised values}}}. Traps (order, invoice and waybill numbers, dates,
amounts) sit beside the identifiers in every file.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from tests.detect.corpus import C1, C2, E1, E2, ID1, ID3, L1, P1, P2, P3, U1, U2

Expected = dict[str, dict[str, set[str]]]


def _xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "手机", "身份证", "邮箱", "订单号", "金额"])
    # Excel keeps a typed phone as a number: the scanner must read 13800138000, not 1.38e10.
    sheet.append(["张三", 13800138000, ID1, "Zhang.San@example.com", "20230512000123456", 12800.5])
    sheet.append(["王经理", "186 1234 5678", "", "", "202305120001234566", 9900])
    book.create_sheet("备注").append(["下单日期", "2023-05-12", "发票代码 044031900111"])
    book.save(path)


def _csv(path: Path) -> None:
    rows = [
        "客户,电话,税号,付款卡号,备注",
        f"某某贸易,{P2[3:]},{U2},{C2},发票号码04403190",
        "某某物流,,,,运单号 773012345678901",
    ]
    path.write_bytes("\r\n".join(rows).encode("gb18030"))  # Excel's CSV on a Chinese Windows


def _docx(path: Path) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("拜访记录：客户电话 186-1234-5678，会议时间 14:30，报价 ¥128,000.00")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "法人身份证"
    table.rows[0].cells[1].text = ID3
    document.add_paragraph(f"对接人邮箱 {E2}")
    document.save(str(path))


def _pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawString(72, 760, "Quotation Q2023-0512-0001, valid until 2023-06-30")
    pdf.drawString(72, 740, "Contact: Tel +86 139 1234 5678, order 202305120001234566")
    pdf.drawString(72, 720, "Total CNY 239,970.00")
    pdf.save()


def _txt(path: Path) -> None:
    path.write_text(
        "张三的手机１３８００１３８０００，退款卡号 6222 0212 3456 7890 128。\n"
        "流水号20230512083015123，快递单号 SF1234567890123。\n",
        encoding="utf-8",
    )


def _eml(path: Path) -> None:
    message = EmailMessage()
    message["From"] = f"张三 <{E1}>"
    message["To"] = "sales@baomi.example"
    message["Subject"] = "开票信息"
    message.set_content(f"您好，开票信息如下：税号 {U1}，电话 010-65529988。订单 20230512000123456")
    path.write_bytes(bytes(message))


def build(root: Path) -> Expected:
    """Write the folder; return the identifiers each file holds."""
    (root / "2023").mkdir(parents=True)
    _xlsx(root / "客户台账.xlsx")
    _csv(root / "2023" / "contacts.csv")
    _docx(root / "拜访记录.docx")
    _pdf(root / "2023" / "quote.pdf")
    _txt(root / "notes.txt")
    _eml(root / "开票.eml")
    (root / "clean.txt").write_text(
        "订单号 20230512000123456，金额 12,800.00 元。", encoding="utf-8"
    )
    (root / "broken.xlsx").write_bytes(b"not a spreadsheet at all")
    (root / "photo.png").write_bytes(b"\x89PNG not read")
    return {
        "客户台账.xlsx": {"phone": {P1, P3}, "id_number": {ID1}, "email": {E1}},
        "2023/contacts.csv": {"phone": {P2}, "uscc": {U2}, "bank_card": {C2}},
        "拜访记录.docx": {"phone": {P3}, "id_number": {ID3}, "email": {E2}},
        "2023/quote.pdf": {"phone": {P2}},
        "notes.txt": {"phone": {P1}, "bank_card": {C1}},
        "开票.eml": {"email": {E1, "sales@baomi.example"}, "uscc": {U1}, "phone": {L1}},
        "clean.txt": {},
    }
