"""Each loader on small files the tests generate, and every kind of bad input."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from PIL import Image
from pypdf import PdfWriter

from ingest.loaders import Limits, Parsed, load
from ingest.pipeline import to_document
from kb.errors import InputError
from kb.settings import Settings
from tests.pdfgen import pdf_with_bad_filter, pdf_with_huge_tounicode, pdf_with_pages

TEXT = "一、试点概况\n截至2020年9月3日共计布放“刷脸付”受理终端4821台。\n展开全文\n"


DEFAULT = Limits()


def one(path: Path, max_bytes: int = 10**7, limits: Limits = DEFAULT) -> Parsed:
    items = list(load(path, max_bytes, limits))
    assert len(items) == 1, items
    return items[0]


def error(path: Path, max_bytes: int = 10**7, limits: Limits = DEFAULT) -> str:
    """The problem a loader raises for ``path``, having yielded nothing."""
    items: list[Parsed] = []
    with pytest.raises(InputError) as raised:
        items.extend(load(path, max_bytes, limits))
    assert not items and raised.value.path == str(path) and str(path) in str(raised.value)
    return raised.value.problem


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_text_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"report-{encoding}.txt"
    path.write_bytes(TEXT.encode(encoding))
    doc = to_document(one(path), path, 300)
    assert "受理终端4821台" in doc.text
    assert "展开全文" not in doc.text
    assert doc.sections[0].heading_path == ("一、试点概况",)


def test_markdown(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("# 山东试点\n\n## 成效\n\n签约用户10.29万户。\n", "utf-8")
    doc = to_document(one(path), path, 300)
    assert doc.title == "山东试点"
    assert doc.sections[0].heading_path == ("山东试点", "成效")


def test_html_main_text_without_navigation(tmp_path: Path) -> None:
    html = """<html><head><title>试点新闻 - 某某网</title><meta name="pubdate" content="2020-11-10 09:24">
    <script>var x = "不要我";</script></head><body>
    <nav><a href="/">首页</a><a>导航栏目</a></nav>
    <div class="sidebar">热门文章列表</div>
    <article><h1>山东省试点项目全部上线</h1><h2>成效</h2>
    <p>截至2020年9月3日共计布放受理终端4821台。</p>
    <table><tr><th>银行</th><th>数量</th></tr><tr><td>省工行</td><td>358张</td></tr></table>
    <p>展开全文</p></article>
    <footer>版权所有 © 某某网</footer></body></html>"""
    path = tmp_path / "news.html"
    path.write_text(html, "utf-8")
    parsed = one(path)
    doc = to_document(parsed, path, 300)
    assert doc.title == "山东省试点项目全部上线"
    assert doc.date == "2020-11-10"
    assert "4821台" in doc.text and "省工行 | 358张" in doc.text
    for junk in ("不要我", "导航栏目", "热门文章", "版权所有", "展开全文"):
        assert junk not in doc.text


def test_pdf_pages_kept(tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf_with_pages(["Pilot terminals 4821 units.", "Users reached 102900."]))
    doc = to_document(one(path), path, 300)
    assert [s.page for s in doc.sections] == [1, 2]
    assert "4821" in doc.text[doc.sections[0].start : doc.sections[0].end]


def test_pdf_ruled_table_is_read_as_a_table_under_its_caption() -> None:
    """The PDF fixture (reportlab, Chinese font): its ruled table's rows come out as rows with the header first,
    the lines around it in reading order, and the document keeps the table with its caption and cell offsets."""
    path = Path(__file__).parent / "data" / "reports" / "weifang-pilots-2021.pdf"
    parsed = one(path)
    rows = [b for b in parsed.blocks if b.kind == "row"]
    assert [b.cells for b in rows] == [
        ("序号", "项目名称", "牵头机构", "上线时间"),
        ("1", "农业供应链金融服务", "潍坊银行", "2021年5月"),
        ("2", "智慧农贸市场支付", "寿光农商行", "2021年8月"),
    ]
    assert rows[0].header and not rows[1].header
    texts = [b.text for b in parsed.blocks]
    assert texts.index("潍坊市试点项目一览如下。") < texts.index(rows[0].text) < texts.index("表中项目均已通过评估。")
    doc = to_document(parsed, path, 300)
    (table,) = doc.tables
    assert table.caption == "潍坊市试点项目一览如下。" and table.header_rows == 1
    assert [doc.text[a:b] for a, b in table.cells[1]] == ["1", "农业供应链金融服务", "潍坊银行", "2021年5月"]


def test_scanned_pdf_says_no_text_layer(tmp_path: Path) -> None:
    """A page that is only an image (a scan) with recognition off says how to turn it on; a PDF of blank pages says
    it holds no text at all."""
    scan = io.BytesIO()
    Image.new("L", (620, 877), 255).save(scan, "PDF", resolution=75)
    path = tmp_path / "scan.pdf"
    path.write_bytes(scan.getvalue())
    assert error(path) == (
        "扫描版 PDF，没有文字层，无法提取文字：文字识别（OCR）已关闭，请开启（PILOTQA_OCR=on）或先做文字识别再导入"
    )
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    blank = io.BytesIO()
    writer.write(blank)
    path = tmp_path / "blank.pdf"
    path.write_bytes(blank.getvalue())
    assert error(path) == "PDF 中没有可提取的文字（没有文字层，也没有扫描的页面）：请用 PDF 阅读器打开检查"


def test_encrypted_pdf(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    path = tmp_path / "locked.pdf"
    path.write_bytes(buf.getvalue())
    assert "加密" in error(path)


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    assert error(path) == "PDF 文件已损坏或无法解析：请用 PDF 阅读器打开检查，或另存后重试"


@pytest.mark.parametrize("make", [pdf_with_bad_filter, pdf_with_huge_tounicode])
def test_pdf_that_pypdf_fails_on_in_its_own_way(tmp_path: Path, make: Callable[[str], bytes]) -> None:
    """An unknown filter (NotImplementedError) or a /ToUnicode map over pypdf's limit (LimitReachedError) is the
    file's own failure, said like any damaged PDF."""
    path = tmp_path / "damaged.pdf"
    path.write_bytes(make("Pilot terminals 4821 units."))
    assert error(path) == "PDF 文件已损坏或无法解析：请用 PDF 阅读器打开检查，或另存后重试"


def test_docx_headings_and_table(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("试点报告", level=1)
    d.add_heading("电子社保卡", level=2)
    d.add_paragraph("截至2020年8月末，6家银行累计线上发行电子社保卡53.87万张。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "银行", "张数"
    table.cell(1, 0).text, table.cell(1, 1).text = "省工行", "358"
    path = tmp_path / "r.docx"
    d.save(str(path))
    doc = to_document(one(path), path, 300)
    assert doc.title == "试点报告"
    assert "省工行 | 358" in doc.text
    assert doc.sections[0].heading_path == ("试点报告", "电子社保卡")


def test_damaged_docx(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("内容")
    buf = io.BytesIO()
    d.save(buf)
    path = tmp_path / "bad.docx"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert "损坏" in error(path)


def docx_of(paragraphs: int) -> bytes:
    """A .docx Word wrote, its one report paragraph repeated in the XML: a few KB that unzip to ~150 bytes of XML
    per paragraph (the shape of a small file that expands a thousandfold)."""
    d = docx.Document()
    d.add_paragraph("截至2020年8月末，6家银行累计线上发行电子社保卡53.87万张。")
    buf, out = io.BytesIO(), io.BytesIO()
    d.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for name in src.namelist():
            data = src.read(name)
            if name == "word/document.xml":
                start, end = data.index(b"<w:p>"), data.index(b"</w:p>") + len(b"</w:p>")
                data = data[:start] + data[start:end] * paragraphs + data[end:]
            dest.writestr(name, data)
    return out.getvalue()


def test_docx_that_unzips_too_far_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(docx_of(20_000))
    assert path.stat().st_size < 100_000
    limits = Limits(max_docx_expanded_mb=2)
    assert error(path, limits=limits) == "Word 文件解压后过大（3 MB，上限 2 MB，可调 PILOTQA_MAX_DOCX_EXPANDED_MB）"
    assert len(one(path, limits=Limits(max_docx_expanded_mb=5)).blocks) == 20_000


def test_docx_image_that_unzips_too_far_counts(tmp_path: Path) -> None:
    """An image is counted only when it unzips far past its stored size (a bomb named as media), not a photo."""

    def with_media(name: str, data: bytes, how: int) -> Path:
        buf = io.BytesIO(docx_of(1))
        with zipfile.ZipFile(buf, "a") as z:
            z.writestr(f"word/media/{name}", data, compress_type=how)
        path = tmp_path / f"{name}.docx"
        path.write_bytes(buf.getvalue())
        return path

    bomb = with_media("image1.png", b"\0" * 3_000_000, zipfile.ZIP_DEFLATED)  # unzips ~1000 times its size
    assert "Word 文件解压后过大" in error(bomb, limits=Limits(max_docx_expanded_mb=2))
    photo = with_media("image2.jpg", bytes(range(256)) * 12_000, zipfile.ZIP_STORED)  # 3 MB, stored as it is
    assert one(photo, limits=Limits(max_docx_expanded_mb=2)).blocks


def test_html_too_large_or_nested_too_deep_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_text(
        "<html><body>" + "<p>截至2020年9月3日共计布放受理终端4821台。</p>" * 30_000 + "</body></html>", "utf-8"
    )
    assert error(page, limits=Limits(max_html_mb=1)) == "网页过大（1.9 MB，上限 1 MB，可调 PILOTQA_MAX_HTML_MB）"
    nested = tmp_path / "nested.html"  # nested tables, the shape that took minutes: refused at once
    nested.write_text(
        "<html><body>" + "<table><tr><td>格" * 2000 + "</td></tr></table>" * 2000 + "</body></html>", "utf-8"
    )
    started = time.perf_counter()
    assert (
        error(nested)
        == "网页标签嵌套过深（超过 100 层，可调 PILOTQA_MAX_HTML_DEPTH）：请在浏览器中另存为纯文本后再导入"
    )
    assert time.perf_counter() - started < 10
    shallow = tmp_path / "shallow.html"
    shallow.write_text(
        "<html><body>" + "<table><tr><td>格" * 20 + "</td></tr></table>" * 20 + "</body></html>", "utf-8"
    )
    assert one(shallow).blocks


def test_limits_default_to_the_settings() -> None:
    assert Limits() == Limits.of(Settings()) == Limits(50.0, 10.0, 100)


def test_jsonl_keeps_ids_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    lines = [json.dumps({"doc_id": "a-1", "title": "甲", "text": "甲文。"}, ensure_ascii=False), "{not json",
             json.dumps({"doc_id": "a-2", "title": "乙"}), json.dumps({"doc_id": "a-3", "text": "丙文。"})]  # fmt: skip
    path.write_text("\n".join(lines), "utf-8")
    items: list[Parsed] = []
    with pytest.raises(InputError) as raised:  # after the good records: one error naming each bad line
        items.extend(load(path, 10**7))
    assert [i.record for i in items] == ["a-1", "a-3"]
    assert raised.value.path == str(path)
    assert raised.value.problem == (
        "第 2 行不是合法的 JSON（第 2 列）；"
        '第 3 行缺少字符串字段 text（每行应为 {"doc_id", "title", "text"}）（其余记录已导入）'
    )


def test_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert error(tmp_path / "empty.txt") == "文件为空"
    (tmp_path / "garbage.txt").write_bytes(bytes(range(256)) * 50)
    assert error(tmp_path / "garbage.txt") == "不是文本文件（含二进制内容）"
    (tmp_path / "high.txt").write_bytes(bytes(range(128, 256)) * 50)  # no NUL, but no text in any encoding
    assert error(tmp_path / "high.txt") == "无法识别文件编码或内容不是文本（请另存为 UTF-8 后重试）"
    (tmp_path / "x.xyz").write_text("hi")
    assert "不支持" in error(tmp_path / "x.xyz")
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    assert "另存为 .docx" in error(tmp_path / "old.doc")  # converted by LibreOffice: not a Word file
    (tmp_path / "big.txt").write_text("很长的文字。" * 1000, "utf-8")
    assert "过大" in error(tmp_path / "big.txt", max_bytes=1000)
