"""Limits against work bombs, checked on what a file expands to: the characters a .docx, HTML page or PDF yields,
tables nested in tables, pages; each refusal names the file, the limit and the setting that raises it. (OFD's are
in test_ofd.py, the conversion time of .doc files in test_office.py.)"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from ingest.loaders import Limits, Parsed, load
from kb.errors import InputError
from kb.settings import Settings
from tests.pdfgen import pdf_with_pages

SENTENCE = "截至2020年8月末，6家银行累计线上发行电子社保卡53.87万张。"


def error(path: Path, limits: Limits) -> str:
    items: list[Parsed] = []
    with pytest.raises(InputError) as raised:
        items.extend(load(path, 10**8, limits))
    assert not items and raised.value.path == str(path)
    return raised.value.problem


def chars(path: Path, limits: Limits) -> int:
    return sum(len(b.text) for p in load(path, 10**8, limits) for b in p.blocks)


def test_settings_reach_the_limits() -> None:
    limits = Limits.of(Settings(max_chars=5000, max_pages=7, max_table_depth=3, max_convert_s=9))
    assert (limits.max_chars, limits.max_pages, limits.max_table_depth, limits.max_convert_s) == (5000, 7, 3, 9)
    assert Limits() == Limits.of(Settings())


def test_characters_a_file_expands_to(tmp_path: Path) -> None:
    d = docx.Document()
    for _ in range(100):
        d.add_paragraph(SENTENCE)
    word = tmp_path / "r.docx"
    d.save(str(word))
    html = tmp_path / "r.html"
    html.write_text("<html><body>" + f"<p>{SENTENCE}</p>" * 100 + "</body></html>", "utf-8")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(pdf_with_pages([f"Pilot terminals reached {n} units in the city." for n in range(40)]))
    for path in (word, html, pdf):
        n = chars(path, Limits())
        assert chars(path, Limits(max_chars=n)) == n
        assert error(path, Limits(max_chars=n - 1)) == (
            f"文件展开后文字过多（{n} 字，上限 {n - 1} 字，可调 PILOTQA_MAX_CHARS）"
        )
    text = tmp_path / "r.txt"  # text on disk is what it yields: its size on disk is its limit
    text.write_text(SENTENCE * 100, "utf-8")
    assert chars(text, Limits(max_chars=1000)) > 1000


def nested_docx(depth: int) -> bytes:
    d = docx.Document()
    d.add_paragraph("表格如下。")
    cell = d.add_table(rows=1, cols=1).cell(0, 0)
    for level in range(2, depth + 1):
        cell.text = f"第{level - 1}层"
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = "最里层"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_tables_nested_in_tables(tmp_path: Path) -> None:
    word = tmp_path / "nested.docx"
    word.write_bytes(nested_docx(6))
    assert error(word, Limits(max_table_depth=5)) == (
        "Word 文件中的表格嵌套过深（6 层，上限 5 层，可调 PILOTQA_MAX_TABLE_DEPTH）"
    )
    assert list(load(word, 10**8, Limits(max_table_depth=6)))
    html = tmp_path / "nested.html"
    html.write_text("<html><body>" + "<table><tr><td>格" * 6 + "</td></tr></table>" * 6 + "</body></html>", "utf-8")
    assert error(html, Limits(max_table_depth=5)) == "网页中的表格嵌套过深（超过 5 层，可调 PILOTQA_MAX_TABLE_DEPTH）"
    assert list(load(html, 10**8, Limits(max_table_depth=6)))


def test_pages(tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(pdf_with_pages(["Pilot terminals 4821 units.", "Users reached 102900.", "Banks: 6."]))
    assert error(pdf, Limits(max_pages=2)) == "PDF 页数过多（3 页，上限 2 页，可调 PILOTQA_MAX_PAGES）"
    assert len({b.page for p in load(pdf, 10**8, Limits(max_pages=3)) for b in p.blocks}) == 3
