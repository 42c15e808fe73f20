"""The access copy (PIPL art. 45): what the company holds about a person, as a PDF in Chinese.

The font is embedded (a subset of a CJK TrueType font), so the copy reads the same on any
machine, the customer's included. reportlab embeds TrueType outlines only: Noto CJK (CFF
outlines) cannot be used, WenQuanYi Zen Hei (Debian fonts-wqy-zenhei, installed by .ci/run)
can. Pure: the values in, the bytes out; the reading and the audit are the service's.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "BaomiCJK"
# TrueType CJK fonts, first found wins: Debian's WenQuanYi, then the common Droid fallback.
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)

# Field labels as the access copy shows them (the web UI's are in its catalogs).
LABELS = {
    "name": "名称",
    "contacts": "联系人",
    "phones": "电话",
    "emails": "电子邮箱",
    "address": "地址",
    "id_number": "证件号码 / 统一社会信用代码",
    "purchases": "购买记录",
    "contract_terms": "合同条款",
    "prices": "价格",
    "payment_methods": "支付方式",
    "requirements": "需求",
    "purchase_intent": "购买意向",
    "competitor_products": "在用竞品",
    "notes": "敏感备注",
}


class FontMissing(RuntimeError):
    """No CJK TrueType font is installed (see FONT_FILES)."""


def _font() -> str:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    for path in FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            return FONT
    raise FontMissing("install fonts-wqy-zenhei: the access copy embeds a CJK TrueType font")


def _text(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value)
    return json.dumps(value, ensure_ascii=False, indent=1)


def access_copy(
    *,
    company: str,
    request_id: str,
    received_at: datetime,
    generated_at: datetime,
    data: dict[str, Any],
    masked: Iterable[str],
    consents: Sequence[tuple[str, str, str]],
) -> bytes:
    """Lay out the copy: the request, the fields held (masked ones said so), the consents."""
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=10)
    masked_fields = set(masked)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    rows = [[p("项目"), p("内容")]]
    for name, label in LABELS.items():
        if name not in data:
            continue
        shown = _text(data[name])
        if name in masked_fields and data[name] is not None:
            shown += "（已脱敏显示，C4.3.2）"
        rows.append([p(label), p(shown)])
    table = Table(rows, colWidths=[45 * mm, 125 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story: list[Any] = [
        p("个人信息副本", title),
        p(f"{company}依据《个人信息保护法》第四十五条，向您提供本公司持有的您的个人信息。"),
        p(f"申请编号：{request_id}"),
        p(f"收到申请：{received_at:%Y-%m-%d}　　生成时间：{generated_at:%Y-%m-%d %H:%M} UTC"),
        Spacer(1, 4 * mm),
        p("一、本公司持有的信息", heading),
        table,
        p("二、同意与合法性基础", heading),
    ]
    if consents:
        for basis, purposes, state in consents:
            story.append(p(f"· {basis}：{purposes}（{state}）"))
    else:
        story.append(p("无记录。"))
    story += [
        p("三、说明", heading),
        p(
            "如发现信息不准确或不完整，您可以要求更正；也可以要求删除或撤回同意。"
            "本副本仅供您本人使用。"
        ),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title="个人信息副本",
        author=company,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    )
    document.build(story)
    return out.getvalue()
