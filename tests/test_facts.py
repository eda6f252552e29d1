"""Tables, dates and the fact registry: golden tables for the pieces, then the fixture reports on the real stack.

The fixture reports under tests/data/reports are fictional (each says so in its first line): later reports that
restate the shipped report's figures, with project tables and a year-end indicator table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core import Assistant, Resources
from ingest import loaders
from ingest.chunk import chunk
from ingest.facts import extract
from ingest.pipeline import Ingestor, to_document
from ingest.tables import mark_rows, pipe_cells
from kb import dates
from kb.catalog import FactQuery
from kb.entities import named
from kb.records import Block, Document
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CORPUS, make_settings

DATA = Path(__file__).parent / "data"
REPORTS = DATA / "reports"
SHIPPED = CORPUS / "shandong-fintech-pilots-2020-11-10.txt"


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("截至2020年9月3日", "2020-09-03", "day"),
        ("截至2020年8月末", "2020-08-31", "month"),
        ("2021年末", "2021-12-31", "year"),
        ("2021年一季度末", "2021-03-31", "quarter"),
        ("8月末", "2020-08-31", "month"),  # the year comes from the document's date
        ("2020/11/10 9:24:24", "2020-11-10", "day"),
        ("上半年", "2020-06-30", "half"),
        ("2019年", "2019-12-31", "year"),
    ],
)
def test_date_mentions(text: str, iso: str, precision: str) -> None:
    found = dates.mentions(text, "2020-11-10")
    assert [(m.iso, m.precision) for m in found] == [(iso, precision)]
    assert text[found[0].start : found[0].end] == found[0].text


@pytest.mark.parametrize(
    ("question", "since", "until", "words"),
    [
        ("2014年时，青川师范学院院长是谁？", "2014-01-01", "2014-12-31", "2014年时"),
        ("截至2021年3月31日，终端有多少台？", "0000-01-01", "2021-03-31", "截至2021年3月31日"),
        ("2021年一季度末贷款多少？", "2021-03-31", "2021-03-31", "2021年一季度末"),
        ("去年发放了多少贷款？", "2025-01-01", "2025-12-31", "去年"),
    ],
)
def test_time_asked(question: str, since: str, until: str, words: str) -> None:
    asked = dates.asked(question, "2026-12-02")
    assert asked is not None
    assert (asked.since, asked.until, asked.text) == (since, until, words)
    assert dates.asked("刷脸付终端有多少台？", "2026-12-02") is None


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ("国际政治 | 646 | 645 |  | ", ("国际政治", "646", "645", "", "")),
        ("| 1 | 智慧医保 | 齐鲁银行 |", ("1", "智慧医保", "齐鲁银行")),
        ("新闻|某网", None),  # a lone pipe in prose is no row
        ("普通的一句话。", None),
    ],
)
def test_pipe_cells(line: str, cells: tuple[str, ...] | None) -> None:
    assert pipe_cells(line) == cells


def _doc(path: Path) -> Document:
    parsed = next(iter(loaders.load(path, 10**7)))
    return to_document(parsed, path, 300)


@pytest.mark.parametrize("name", ["jinan-pilots-2021-q1.md", "jinan-pilots-2021-annual.html"])
def test_tables_keep_header_caption_and_cell_offsets(name: str) -> None:
    doc = _doc(REPORTS / name)
    assert doc.tables, "the table was not read as a table"
    for t in doc.tables:
        assert t.header_rows == 1
        for (a, b), cells in zip(t.rows, t.cells, strict=True):
            assert cells[0][0] == a and cells[-1][1] == b  # cells slice back out of their row
    chunks = [c for c in chunk(doc, 300) if c.is_table]
    assert chunks and all(c.header.startswith(("序号", "指标")) for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    assert all(c.caption for c in chunks)


def test_markdown_separator_marks_the_header_and_is_dropped() -> None:
    blocks = mark_rows([Block("| 项目 | 城市 |"), Block("|---|---|"), Block("| 甲 | 济南 |")])
    assert [(b.kind, b.header) for b in blocks] == [("row", True), ("row", False)]


def test_facts_of_the_shipped_report() -> None:
    doc = _doc(SHIPPED)
    facts = extract(doc)
    said = {(f.subject, f.text) for f in facts}
    assert ("山东省", "33个") in said and ("青岛市", "9项") in said
    # a list closed by 等 is the subject as a whole, not its last name
    assert ("省工行、农行、中行、建行、邮储银行、农联社", "6家") in said
    assert any(f.text == "7项" and "金融+民生" in f.subject for f in facts)
    terminals = next(f for f in facts if f.text == "4821台")
    assert (terminals.as_of, terminals.as_of_text, terminals.unit) == ("2020-09-03", "截至2020年9月3日", "台")
    loans = next(f for f in facts if f.text == "876亿元")
    assert (loans.qualifier, loans.value) == ("超过", 876e8)
    for f in facts:  # every fact points into the stored text
        assert f.start <= f.value_start < f.value_end <= f.end
        assert doc.text[f.value_start : f.value_end] == f.text


def test_a_figure_no_name_claims_is_its_section_or_documents_place() -> None:
    """截至2021年3月31日共计布放“刷脸付”受理终端6350台 under 总体进展 in 山东省…一季度进展: 山东省's, not 总体进展's;
    a heading's own place wins over the title's."""
    facts = extract(_doc(REPORTS / "jinan-pilots-2021-q1.md"))
    assert next(f.subject for f in facts if f.text == "6350台") == "山东省"
    shipped = {f.text: f.subject for f in extract(_doc(SHIPPED))}
    assert shipped["4821台"] == "山东省"  # the title 央行刘振海:山东省33项… names a place after an institution


def test_names_do_not_take_the_word_before_them() -> None:
    assert [n.name for n in named("青岛农商行与齐鲁银行分别上线3个项目，由恒丰银行牵头。")] == [
        "青岛农商行", "齐鲁银行", "恒丰银行",
    ]  # fmt: skip


def test_table_facts_read_row_and_column_headers() -> None:
    doc = _doc(REPORTS / "jinan-pilots-2021-annual.html")
    cells = [f for f in extract(doc) if f.source_kind == "cell"]
    terminals = {f.as_of: f for f in cells if f.metric.startswith("刷脸付")}
    assert terminals["2021-12-31"].text == "9120" and terminals["2021-12-31"].unit == "台"
    assert terminals["2020-12-31"].as_of_text == "2020年末"
    doc = _doc(REPORTS / "jinan-pilots-2021-q1.md")
    lead = next(f for f in extract(doc) if f.metric == "牵头机构" and f.subject == "智慧医保结算服务")
    assert lead.text == "齐鲁银行" and lead.value is None


@pytest.mark.slow
def test_facts_come_and_go_with_their_document(tmp_path: Path, segmenter: Segmenter, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "home")
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    report = tmp_path / "r.txt"
    report.write_text("（虚构测试报告）\n截至2021年末，青岛市共有12个试点项目上线运行。", "utf-8")
    ingest = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb)
    ingest.run([report])
    assert [f.text for f in kb.facts(FactQuery(subject="青岛"))] == ["12个"]
    report.write_text("（虚构测试报告）\n截至2022年末，青岛市共有15个试点项目上线运行。", "utf-8")
    ingest.run([report])
    assert [f.text for f in kb.facts(FactQuery(subject="青岛"))] == ["15个"]  # the old figure went with its text
    assert [f.as_of for f in kb.facts(FactQuery(since="2022-01-01", until="2022-12-31"))] == ["2022-12-31"]
    report.unlink()
    ingest.run([tmp_path], prune=True)
    assert kb.fact_count() == 0


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder) -> Assistant:
    settings = make_settings(tmp_path_factory.mktemp("facts-home"))
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    summary = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb).run([CORPUS, REPORTS])
    assert summary.count(summary.results[0].status.__class__("failed")) == 0
    return Assistant(settings, Resources(settings, segmenter, embedder, kb))


QUESTIONS = [json.loads(line) for line in (DATA / "fact_questions.jsonl").read_text("utf-8").splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("row", QUESTIONS, ids=[r["question"] for r in QUESTIONS])
def test_fact_question_table(assistant: Assistant, row: dict[str, object]) -> None:
    answer = assistant.ask(str(row["question"]))
    if row.get("refuse"):
        assert not answer.grounded, answer.text
        return
    assert answer.grounded, answer.text
    for part in row["expect"]:  # type: ignore[attr-defined]
        assert part in answer.text, answer.text
    lead = answer.text.split("。")[0]  # the figure said first (a quoted table row may hold other dates' too)
    for part in row.get("not", []):  # type: ignore[attr-defined]
        assert part not in lead, answer.text
    for c in answer.citations:
        stored = assistant.res.kb.document(c.doc_id)
        assert stored is not None and stored.text[c.start : c.end] == c.quote


@pytest.mark.slow
def test_language_models_read_the_matched_facts_first(assistant: Assistant) -> None:
    """The reader and LLM modes read the rows and sentences of the figures the registry matched before the other
    ranked sentences (each once)."""
    from assistant.core import evidence_first
    from assistant.retrieve import NO_FILTERS

    ev = assistant._evidence("刷脸付受理终端布放了多少台？", NO_FILTERS, [])
    assert ev.rules.reason == "fact"
    read = evidence_first(ev.rules, ev.cands)
    n = len(ev.rules.sentences)
    assert [(c.hit.chunk.doc_id, c.start) for c in read[:n]] == [
        (c.hit.chunk.doc_id, c.start) for c in ev.rules.sentences
    ]
    keys = [(c.hit.chunk.doc_id, c.start) for c in read]
    assert len(keys) == len(set(keys))


@pytest.mark.slow
def test_starter_questions_name_their_subject_and_are_answered(assistant: Assistant) -> None:
    """Over several reports, the empty chat's first questions say whose figure they ask for (青岛市…, 山东省…), from the
    registry's newest facts, and the rules answer each with its figure."""
    from assistant.starters import starters
    from kb.entities import named

    found = starters(assistant)
    assert len(found) == 3 and all(named(q) and named(q)[0].start == 0 for q in found), found
    assert len({named(q)[0].name for q in found}) == 3  # three different subjects
    for q in found:
        assert assistant.ask(q).grounded
