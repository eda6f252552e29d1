"""OFD, .doc and .wps files through the real stack (LibreOffice, jieba, the bundled model, embedded Chroma), in one
batch with a file over a limit: each question is answered only from one fixture's text, cited to its file and page."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core import Assistant, Resources
from ingest.loaders import Limits, office
from ingest.pipeline import Ingestor
from ingest.summary import Status, Summary
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import make_settings
from tests.ofdgen import Doc, Page, ofd, report
from tests.pdfgen import pdf_with_pages
from tests.test_office import needs_office, old_word, report_docx

pytestmark = pytest.mark.slow
HAS_OFFICE = office.converter() is not None


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("arrivals")
    notice = Doc(
        "关于开展试点评估的通知",
        "2022-03-01",
        [Page().line("一、评估范围").paragraph("本次评估覆盖全省36个试点项目。")],
    )
    (folder / "青岛进展.ofd").write_bytes(ofd([report()]))
    (folder / "通知合集.ofd").write_bytes(
        ofd([notice, Doc("附件", "2022-03-01", [Page().paragraph("附件为评估表。")])])
    )
    (folder / "过长.pdf").write_bytes(pdf_with_pages([f"Page {n} of a long report." for n in range(5)]))
    if HAS_OFFICE:
        old_word(folder, "枣庄.doc")
        wps = report_docx("滕州市数字乡村试点", "一、支付终端", "截至2021年6月末，滕州市“数字乡村”支付终端布放1058台。")
        old_word(folder, "滕州.wps", wps)
    settings = make_settings(tmp_path_factory.mktemp("home"))
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    summary = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb, Limits(max_pages=4)).run([folder])
    return {"summary": summary, "assistant": Assistant(settings, Resources(settings, segmenter, embedder, kb))}


def test_the_batch_goes_on_past_a_file_over_a_limit(batch: dict[str, object]) -> None:
    summary = batch["summary"]
    assert isinstance(summary, Summary)
    results = {r.name: r for r in summary.results}
    assert results["过长.pdf"].status is Status.FAILED
    assert results["过长.pdf"].message == "PDF 页数过多（5 页，上限 4 页，可调 PILOTQA_MAX_PAGES）"
    added = sorted(r.name for r in summary.results if r.status is Status.ADDED)
    records = [n for n in added if n.startswith("通知合集.ofd（记录 ")]
    assert "青岛进展.ofd" in added and len(records) == 2
    assert ("枣庄.doc" in added and "滕州.wps" in added) == HAS_OFFICE


def ask(batch: dict[str, object], question: str) -> tuple[str, list[tuple[str, int | None]]]:
    assistant = batch["assistant"]
    assert isinstance(assistant, Assistant)
    answer = assistant.ask(question)
    assert answer.grounded, answer.text
    return answer.text, [(Path(c.source).name, c.page) for c in answer.citations]


def test_questions_answered_from_an_ofd(batch: dict[str, object]) -> None:
    text, cited = ask(batch, "智慧渔港支付项目累计服务渔船多少艘？")
    assert "1376艘" in text and cited[0] == ("青岛进展.ofd", 1), (text, cited)
    text, cited = ask(batch, "海洋牧场贷计划新增授信多少？")
    assert "3.2亿元" in text and cited[0] == ("青岛进展.ofd", 2), (text, cited)
    text, cited = ask(batch, "试点评估覆盖全省多少个试点项目？")
    assert "36个" in text and cited[0][0] == "通知合集.ofd", (text, cited)


@needs_office
def test_questions_answered_from_doc_and_wps(batch: dict[str, object]) -> None:
    text, cited = ask(batch, "鲁担惠农贷惠及农户多少户？")
    assert "2316户" in text and cited[0][0] == "枣庄.doc", (text, cited)
    text, cited = ask(batch, "滕州市数字乡村支付终端布放了多少台？")
    assert "1058台" in text and cited[0][0] == "滕州.wps", (text, cited)
