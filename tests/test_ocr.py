"""Scanned PDFs and photographed pages through the real OCR engine (RapidOCR's bundled models), the real embedder
and knowledge base: read in order, cited as recognised text, cached, reported per page. The pages are drawn in the
tests (tests/ocr_fixture.py) with fictional content, so every answer can only come from the recognised text."""

from __future__ import annotations

import concurrent.futures
import io
import logging
import math
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant import briefing, fact_briefing, factsheet
from assistant.core import Assistant, Resources
from assistant.serialize import answer_dict, source_line
from ingest.loaders import load, ocr_layout, pdf_render
from ingest.loaders import ocr as ocr_module
from ingest.loaders.ocr import Ocr
from ingest.loaders.pdf import garbage, usable
from ingest.pipeline import Ingestor
from ingest.summary import Status, Summary
from kb.catalog import Catalog, FactQuery
from kb.errors import InputError
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from models.embed import Embedder
from models.ocr import Recognizer, TextBox, shared
from tests.conftest import make_settings
from tests.ocr_fixture import PAGES, photo, scanned_page, scanned_pdf


class CountingRecognizer(Recognizer):
    """The real engine, counting the pages it is asked to read (to show what the cache saves)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def read(self, image: np.ndarray) -> list[TextBox]:
        self.calls += 1
        return super().read(image)


def box(text: str, x: float, y: float, em: float = 20.0, angle: float = 0.0, end: float = 0.0) -> TextBox:
    """A detected line: ``text`` at (x, y), each character ``em`` wide (or spread to ``end``, as justified text
    is), turned by ``angle`` radians about 0,0."""
    w = end - x if end else sum(0.55 * em if ord(c) < 0x2E80 else em for c in text)
    corners = [(x, y), (x + w, y), (x + w, y + em), (x, y + em)]
    cos, sin = math.cos(angle), math.sin(angle)
    return TextBox(text, 0.99, tuple((a * cos - b * sin, a * sin + b * cos) for a, b in corners))


def test_layout_reads_lines_and_paragraphs_in_order_on_a_turned_page() -> None:
    angle = math.radians(3)  # a photo taken slightly askew: lines slope by about 50 px across the page
    boxes = [
        box("- 2 -", 480, 1500, angle=angle),
        box("二、下一步安排", 100, 100, angle=angle),
        box("同时，农商银行将上线线上产品，首期授信额度为2", 140, 140, angle=angle, end=600),
        box("亿元，重点支持茶叶种植户。", 100, 180, angle=angle),
        box("签发人：", 100, 220, angle=angle),
        box("林某", 300, 220, angle=angle),
        box("下一阶段计划将试点范围扩大到下辖两个县，力争到", 140, 260, angle=angle, end=600),
        box("2024年末达到40个，并开展数字金融和Open", 100, 300, angle=angle, end=600),
        box("Banking 试点。", 100, 340, angle=angle),
    ]
    assert ocr_layout.paragraphs(boxes[::-1]) == [
        ("二、下一步安排", False),
        ("同时，农商银行将上线线上产品，首期授信额度为2亿元，重点支持茶叶种植户。", False),
        ("签发人： 林某", False),
        (
            "下一阶段计划将试点范围扩大到下辖两个县，力争到2024年末达到40个，并开展数字金融和Open Banking 试点。",
            False,
        ),
    ]  # the page number is gone; a number broken across lines is whole; Latin words keep their space


def test_layout_marks_a_title_by_its_type_size() -> None:
    boxes = [
        box("青川市试点进展报告", 200, 60, em=34),
        box("一、总体情况", 100, 140),
        box("正文第一段内容。", 140, 180),
    ]
    assert [title for _, title in ocr_layout.paragraphs(boxes)] == [True, False, False]


def test_which_pdf_pages_have_a_usable_text_layer() -> None:
    assert usable("截至2023年6月末，青川市纳入试点的项目共27个。")
    assert not usable("- 3 -")  # a page number or a stamp over a scan
    assert not usable("\ue000\ue001\ue002\ue003\ue004\ue005截至\ue006\ue007\ue008\ue009\ue00a")  # a broken font map
    assert not usable("ÀÏÊ¦Ð¹ÓÃÊÔµã¿ª·¢ÒøÐÐ")  # GBK bytes read as Latin-1


def test_ocr_off_refuses_scans_and_images_clearly(tmp_path: Path) -> None:
    scan, picture = tmp_path / "scan.pdf", tmp_path / "notice.png"
    scan.write_bytes(scanned_pdf(PAGES[:1]))
    picture.write_bytes(photo())
    for path, words in ((scan, "PILOTQA_OCR=on"), (picture, "PILOTQA_OCR=off")):
        with pytest.raises(InputError) as err:
            list(load(path, 10**8, ocr=Ocr(enabled=False)))
        assert err.value.path == str(path) and words in err.value.problem


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (3000, 2000), 255).save(path)
    with pytest.raises(InputError) as err:
        list(load(path, 10**8, ocr=Ocr(max_pixels=5_000_000, recognizer=CountingRecognizer())))
    assert "3000×2000" in err.value.problem and "上限 5 百万像素" in err.value.problem
    assert "PILOTQA_MAX_IMAGE_PIXELS" in err.value.problem
    assert make_settings(tmp_path).max_image_pixels == 50_000_000


def test_older_catalogue_gains_the_ocr_column(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE chunks DROP COLUMN ocr")  # as a catalogue written before OCR was
    catalog = Catalog(path)
    assert "ocr" in {r["name"] for r in catalog._rows("PRAGMA table_info(chunks)")}
    catalog.close()


@pytest.mark.slow
def test_low_confidence_and_empty_pages_are_named(tmp_path: Path) -> None:
    blank = Image.new("RGB", (1240, 1754), "white")
    out = io.BytesIO()
    scanned_page(PAGES[1], 1).convert("RGB").save(out, "PDF", resolution=150, save_all=True, append_images=[blank])
    path = tmp_path / "scan.pdf"
    path.write_bytes(out.getvalue())
    # a confidence floor no real page reaches: the engine's own scores decide, the page is named, its text kept
    (parsed,) = load(path, 10**8, ocr=Ocr(min_confidence=0.999999))
    assert parsed.notes[0].startswith("第 1 页文字识别可信度低（最低 ") and parsed.notes[1] == "第 2 页未识别出文字"
    assert any("首期授信额度为2亿元" in b.text for b in parsed.blocks if b.page == 1 and b.ocr)


@pytest.mark.slow
def test_a_page_scanned_upside_down_is_read_the_right_way_up(tmp_path: Path) -> None:
    path = tmp_path / "fed-the-wrong-way-round.png"
    scanned_page(PAGES[1], 1).rotate(180).save(path)
    (parsed,) = load(path, 10**8, ocr=Ocr())
    texts = [b.text for b in parsed.blocks]
    assert texts[0] == "三、下一步安排" and len(texts) == 3, texts
    assert "力争到2024年末试点项目达到40个" in texts[1] and "首期授信额度为2亿元" in texts[2]
    assert parsed.notes == ()  # read as surely as an upright page


def short_pages_pdf(scan: bool) -> bytes:
    """A born-digital PDF (reportlab's Chinese font): a page of text, a page holding only "附件1", a blank page and,
    when ``scan``, a scanned page (its image) under a text layer of only its page number, as a scanner's software
    leaves it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 700, "青川市金融科技试点项目共计二十七个，覆盖全市各区县。")
    c.showPage()
    c.setFont("STSong-Light", 12)
    c.drawString(72, 700, "附件1")
    c.showPage()
    c.showPage()  # blank
    if scan:
        c.drawImage(ImageReader(scanned_page(PAGES[1], 2)), 0, 0, *A4)
        c.setFont("STSong-Light", 10)
        c.drawString(290, 40, "- 2 -")
        c.showPage()
    c.save()
    return out.getvalue()


def test_born_digital_short_and_blank_pages_are_not_recognised(tmp_path: Path) -> None:
    """A short readable page stays text (not marked recognised), a blank page gives nothing and no note; with no
    page holding an image the engine is never even loaded."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(short_pages_pdf(scan=False))
    engine = Recognizer()
    (parsed,) = load(path, 10**8, ocr=Ocr(cache=None, recognizer=engine))
    assert [(b.page, b.ocr, b.text) for b in parsed.blocks] == [
        (1, False, "青川市金融科技试点项目共计二十七个，覆盖全市各区县。"),
        (2, False, "附件1"),
    ]
    assert parsed.notes == () and engine._engine is None


def test_garbage_is_told_from_a_short_page() -> None:
    assert garbage("ÀÏÊ¦Ð¹ÓÃÊÔµã¿ª·¢ÒøÐÐ") and garbage("\ue000\ue001\ue002\ue003\ue004\ue005截至\ue006\ue007\ue008")
    assert not garbage("附件1") and not garbage("- 3 -")  # short: kept, or recognised when over an image
    assert not garbage("截至2023年6月末，青川市纳入试点的项目共27个。")


@pytest.mark.slow
def test_only_pages_holding_an_image_are_recognised_and_their_cache_key_is_the_render_scale(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(short_pages_pdf(scan=True))
    read: list[tuple[int, int]] = []
    counting = CountingRecognizer()
    ocr = Ocr(cache=tmp_path / "ocr", on_page=lambda _name, n, total: read.append((n, total)), recognizer=counting)
    (parsed,) = load(path, 10**8, ocr=ocr)
    assert read == [(1, 1)] and counting.calls == 1  # the scan alone
    assert [(b.page, b.ocr) for b in parsed.blocks if b.page in (1, 2)] == [(1, False), (2, False)]
    assert any("首期授信额度为2亿元" in b.text for b in parsed.blocks if b.page == 4 and b.ocr)
    assert parsed.notes == ()
    list(load(path, 10**8, ocr=ocr))
    assert counting.calls == 1  # unchanged: from the cache
    smaller = Ocr(cache=tmp_path / "ocr", max_pixels=1_000_000, recognizer=counting)
    list(load(path, 10**8, ocr=smaller))
    assert counting.calls == 2  # rendered smaller under a lower pixel limit: not the entry of the larger page
    assert not list((tmp_path / "ocr").rglob("*.tmp"))


def test_the_cache_key_of_a_pdf_page_is_the_scale_it_renders_at() -> None:
    data = scanned_pdf(PAGES[1:])  # one A4 page: 2.2 million pixels at 150 dpi

    def how(dpi: int, max_pixels: int) -> str:
        with pdf_render.Pages(data, dpi, max_pixels) as doc:
            return doc.how(1)

    assert how(150, 50_000_000) == how(150, 3_000_000)  # under either limit it renders at 150 dpi
    assert len({how(150, 50_000_000), how(150, 1_000_000), how(100, 50_000_000)}) == 3
    with pdf_render.Pages(data, 150, 1_000_000) as small:
        height, width, _ = small.render(1).shape
    assert width * height <= 1_000_000


def test_a_failed_cache_write_leaves_no_temporary_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The entry's name is taken by a folder, so replacing it with the written file fails (a real failure of the
    file system, as a full disk or a lost mount would give): no ``*.tmp`` is left behind, and recognition goes on."""
    entry = tmp_path / "ab" / "abcdef.json"
    (entry / "in-the-way").mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="ingest.loaders.ocr"):
        ocr_module._write(entry, "[]")
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["abcdef.json"] and entry.is_dir()
    assert "not written" in caplog.text


def test_pdfium_is_called_by_one_thread_at_a_time() -> None:
    """PDFium is not thread-safe: while one call holds the lock, opening another document waits for it; pages
    rendered from several threads at once come out as rendered one by one."""
    data = scanned_pdf(PAGES)
    opened = threading.Event()

    def open_one() -> None:
        with pdf_render.Pages(data):
            opened.set()

    with pdf_render._LOCK:
        other = threading.Thread(target=open_one)
        other.start()
        assert not opened.wait(0.3)  # held up while the lock is taken
    other.join(10)
    assert opened.is_set()
    with pdf_render.Pages(data, 72) as doc:
        expected = [doc.render(n) for n in (1, 2)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        docs = [pdf_render.Pages(data, 72) for _ in range(4)]
        try:
            images = list(pool.map(lambda i: docs[i].render(1 + i % 2), range(4)))
        finally:
            for doc in docs:
                doc.__exit__(None, None, None)
    assert all(np.array_equal(image, expected[i % 2]) for i, image in enumerate(images))


def test_one_engine_per_process(tmp_path: Path) -> None:
    """Every ingest run (a CLI run, each upload in the UI or the service) shares the process's one engine."""
    s = make_settings(tmp_path)
    assert Ocr.of(s).recognizer is Ocr.of(s).recognizer is Ocr().recognizer is shared()


@pytest.mark.slow
def test_the_shared_engine_reads_from_several_threads_at_once() -> None:
    page = np.asarray(scanned_page(PAGES[1], 2).crop((0, 0, 1240, 700)).convert("RGB"))[:, :, ::-1].copy()
    expected = shared().read(page)
    engine = shared()._engine
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: shared().read(page), range(3)))
    assert shared()._engine is engine and all(r == expected for r in results)
    assert any("首期授信额度为2亿元" in b.text for b in expected)


@dataclass
class Scanned:
    """A knowledge base that ingested a scanned PDF and a photo, with what the first run did."""

    res: Resources
    folder: Path
    first: Summary
    pages: list[tuple[str, int, int]]
    recognizer: CountingRecognizer


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder) -> Scanned:
    folder = tmp_path_factory.mktemp("scans")
    (folder / "青川市试点进展（扫描件）.pdf").write_bytes(scanned_pdf())
    (folder / "白鹭湾通报照片.png").write_bytes(photo())
    s = make_settings(folder.parent / "home")
    kb = KnowledgeBase.open(s, "default", segmenter, embedder.name)
    pages: list[tuple[str, int, int]] = []
    ocr = Ocr.of(s, on_page=lambda name, n, total: pages.append((Path(name).name, n, total)))
    counting = ocr.recognizer = CountingRecognizer()
    ocr.engines = ()  # one engine, to count what it reads (side by side: test_pages_are_read_side_by_side…)
    first = Ingestor(kb, embedder, s.chunk_chars, s.max_file_mb, ocr=ocr).run([folder])
    return Scanned(Resources(s, segmenter, embedder, kb), folder, first, pages, counting)


@pytest.mark.slow
def test_scans_and_photos_are_ingested_page_by_page_and_cached(scanned: Scanned) -> None:
    s, kb = scanned.res.settings, scanned.res.kb
    assert scanned.first.count(Status.ADDED) == 2, scanned.first.results
    assert sorted(scanned.pages) == [("白鹭湾通报照片.png", 1, 1), ("青川市试点进展（扫描件）.pdf", 1, 2),
                                     ("青川市试点进展（扫描件）.pdf", 2, 2)]  # fmt: skip
    assert scanned.recognizer.calls == 3 and any((s.home / "ocr").rglob("*.json"))
    scan = next(d for d in kb.documents() if d.source.endswith(".pdf"))
    assert scan.title == "青川市金融科技应用试点进展报告"
    doc = kb.document(scan.doc_id)
    assert doc is not None and all(x.ocr for x in doc.sections) and {x.page for x in doc.sections} == {1, 2}
    assert "一、总体情况" in {h for x in doc.sections for h in x.heading_path}
    assert "- 1 -" not in doc.text and "-1-" not in doc.text  # the page numbers are not text

    ocr = Ocr.of(s)
    ocr.recognizer = counting = CountingRecognizer()
    ocr.engines = ()
    again = Ingestor(kb, scanned.res.embedder, s.chunk_chars, s.max_file_mb, ocr=ocr).run([scanned.folder])
    assert again.count(Status.UNCHANGED) == 2 and counting.calls == 0  # read back from the cache: nothing to do


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "figure", "page"),
    [
        ("青川市纳入试点的项目共有多少个？", "27个", 1),
        ("试点银行累计发放了多少普惠小微贷款？", "3.8亿元", 1),
        ("云岭e贷首期授信额度是多少？", "2亿元", 2),
        ("白鹭湾镇共布放移动支付受理终端多少台？", "1850台", None),
    ],
)
def test_questions_answered_from_recognised_text_say_so(scanned: Scanned, question: str, figure: str,
                                                       page: int | None) -> None:  # fmt: skip
    answer = Assistant(scanned.res.settings, scanned.res).ask(question)
    assert answer.grounded and figure in answer.text, answer
    c = answer.citations[0]
    assert c.ocr and c.page == page and figure in c.quote
    doc = scanned.res.kb.document(c.doc_id)
    assert doc is not None and doc.text[c.start : c.end] == c.quote
    assert "识别文字" in source_line(c) and answer_dict(answer)["citations"][0]["ocr"] is True
    assert "识别文字" in briefing.build([answer]).markdown


def test_settings_turn_ocr_off(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, ocr="off")  # type: ignore[arg-type]  # as PILOTQA_OCR=off gives it
    assert Ocr.of(settings).enabled is False and Ocr.of(settings).cache == tmp_path / "ocr"


@pytest.mark.slow
def test_facts_from_recognised_text_say_so(scanned: Scanned) -> None:
    """The registry's figures from a scanned page carry the mark into the command line's rows, the workbook's
    sources and the fact briefing, as citations do; a typed document's do not."""
    rows = factsheet.lookup(scanned.res.kb, FactQuery())
    scanned_rows = [r for r in rows if r.source.endswith((".pdf", ".png"))]
    assert {"3.8亿元", "1850台"} <= {r.fact.text for r in scanned_rows}, [r.fact.text for r in scanned_rows]
    assert scanned_rows and all(r.ocr for r in scanned_rows)
    assert all(not r.ocr for r in rows if r not in scanned_rows)
    assert factsheet.record(scanned_rows[0])["ocr"] is True
    assert "（识别文字）" in fact_briefing.build(scanned_rows).markdown


@pytest.mark.slow
def test_pages_are_read_side_by_side_as_one_after_another(tmp_path: Path) -> None:
    """Two single-threaded engines read a two-page scan at once, each a page; the text is what one engine reading
    the pages in turn makes, and progress is told in page order."""
    path = tmp_path / "two-pages.pdf"
    path.write_bytes(scanned_pdf())
    one = CountingRecognizer()
    (alone,) = load(path, 10**8, ocr=Ocr(cache=None, recognizer=one))
    first, second = CountingRecognizer(), CountingRecognizer()
    told: list[int] = []
    both = Ocr(cache=None, recognizer=one, engines=(first, second), on_page=lambda _name, n, _total: told.append(n))
    (paired,) = load(path, 10**8, ocr=both)
    assert (first.calls, second.calls) == (1, 1) and one.calls == 2 and told == [1, 2]
    assert [(b.page, b.text) for b in paired.blocks] == [(b.page, b.text) for b in alone.blocks]


@pytest.mark.slow
def test_a_tiffs_frames_read_side_by_side_keep_their_pages(tmp_path: Path) -> None:
    """Two engines read a two-frame TIFF at once: each page's text is its own frame's (the frames share one image
    whose seek and decode must not interleave)."""
    path = tmp_path / "two-frames.tif"
    first, second = (scanned_page(blocks, n) for n, blocks in enumerate(PAGES, start=1))
    first.save(path, save_all=True, append_images=[second], compression="tiff_deflate")
    (parsed,) = load(path, 10**8, ocr=Ocr(cache=None, engines=(Recognizer(1), Recognizer(1))))
    text = {n: "".join(b.text for b in parsed.blocks if b.page == n) for n in (1, 2)}
    assert "纳入试点的项目共27个" in text[1] and "首期授信额度为2亿元" not in text[1], text
    assert "首期授信额度为2亿元" in text[2] and "纳入试点的项目共27个" not in text[2], text
