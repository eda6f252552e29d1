"""Limits against work bombs, checked on what a file expands to: the characters a .docx, HTML page or PDF yields,
tables nested in tables, pages (an image's frames too), pixels; each refusal names the file, the limit and the
setting that raises it. (OFD's are in test_ofd.py, the conversion time of .doc files in test_office.py.)"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw

import ingest.loaders.image  # noqa: F401  # importing it leaves Pillow's guard on
from ingest.loaders import Limits, Parsed, load
from ingest.loaders.ocr import Ocr
from kb.errors import InputError
from kb.settings import Settings
from models.ocr import Recognizer
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


def frames(kind: str, count: int) -> bytes:
    """A multi-page TIFF or an animated WebP of ``count`` frames, each different (an encoder may merge alike ones)."""
    pictures = []
    for n in range(count):
        picture = Image.new("RGB", (64, 64), "white")
        ImageDraw.Draw(picture).rectangle((n, n, n + 8, n + 8), fill="black")
        pictures.append(picture)
    buf = io.BytesIO()
    pictures[0].save(buf, kind, save_all=True, append_images=pictures[1:])
    return buf.getvalue()


def refusal(path: Path, limits: Limits, ocr: Ocr) -> str:
    with pytest.raises(InputError) as raised:
        list(load(path, 10**8, limits, ocr))
    assert raised.value.path == str(path)
    return raised.value.problem


def test_frames_of_an_image_count_as_its_pages(tmp_path: Path) -> None:
    for name, kind in (("scan.tif", "TIFF"), ("moving.webp", "WEBP")):
        path = tmp_path / name
        path.write_bytes(frames(kind, 12))
        with Image.open(path) as check:
            assert getattr(check, "n_frames", 1) == 12
        engine = Recognizer()  # its own, to see that it was never loaded: no frame was read
        assert refusal(path, Limits(max_pages=10), Ocr(cache=None, recognizer=engine)) == (
            "图片页数过多（12 帧，上限 10 页，可调 PILOTQA_MAX_PAGES）：请拆分后再导入"
        )
        assert engine._engine is None


def test_pillows_own_guard_stays_on_at_the_configured_pixel_limit(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # as it was, again after the test
    assert Image.MAX_IMAGE_PIXELS is not None  # the loader is imported (above): the guard is on
    path = tmp_path / "huge.png"
    Image.new("L", (4000, 3000), 255).save(path)  # 12 million pixels: past twice a limit of 5 million
    engine = Recognizer()
    assert refusal(path, Limits(), Ocr(max_pixels=5_000_000, cache=None, recognizer=engine)) == (
        "图片过大（超过上限 5 百万像素的两倍，可调 PILOTQA_MAX_IMAGE_PIXELS）：请缩小后再导入"
    )
    assert Image.MAX_IMAGE_PIXELS == 5_000_000 and engine._engine is None
    with pytest.raises(Image.DecompressionBombError):  # for any other reader of images in the process too
        Image.open(path)
