"""Writes tests/data/reports/weifang-pilots-2021.pdf, the fictional PDF fixture with a ruled table (reportlab's
built-in Chinese font, not embedded). Run ``python -m tests.pdf_fixture`` to write it again."""

from __future__ import annotations

import io
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "reports" / "weifang-pilots-2021.pdf"
LINES = [
    "（虚构测试报告：本文件为 PilotQA 测试而编写，机构、数字和日期均为虚构。）",
    "潍坊市金融科技应用试点2021年报告（测试用虚构报告）",
    "日期：2022年2月8日",
    "一、项目情况",
    "截至2021年末，潍坊市纳入试点的项目共6个，累计服务客户8.4万户。",
    "潍坊市试点项目一览如下。",
]
ROWS = [("序号", "项目名称", "牵头机构", "上线时间"), ("1", "农业供应链金融服务", "潍坊银行", "2021年5月"),
        ("2", "智慧农贸市场支付", "寿光农商行", "2021年8月")]  # fmt: skip


def build() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=11, leading=16)
    table = Table([list(r) for r in ROWS])
    table.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("GRID", (0, 0), (-1, -1), 0.5, "black")])
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="潍坊市金融科技应用试点2021年报告（测试用虚构报告）", invariant=1)
    doc.build([*(Paragraph(line, style) for line in LINES), Spacer(1, 8), table,
               Paragraph("表中项目均已通过评估。", style)])  # fmt: skip
    return buf.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(OUT)
