"""``pilotqa facts`` over the fixture reports (fictional) and the shipped report, through the real command line:
filters, the three outputs, offsets that slice back to each quote, disagreements marked."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kb.segment import Segmenter
from kb.store import KnowledgeBase
from tests.conftest import CORPUS, make_settings
from tests.test_ingest import cli

REPORTS = Path(__file__).parent / "data" / "reports"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("facts-cmd") / "home"
    out, err = cli(home, "ingest", str(CORPUS), str(REPORTS), "--quiet").communicate(timeout=600)
    assert "失败 0 篇" in out, err
    return home


def facts(home: Path, *args: str) -> str:
    proc = cli(home, "facts", *args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_json_quotes_slice_back_from_their_documents(home: Path, segmenter: Segmenter) -> None:
    rows = json.loads(facts(home, "--metric", "受理终端", "--json"))
    assert {r["text"] for r in rows} >= {"9120台", "9000台", "6350台", "4821台"}
    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, None)
    for r in rows:
        doc = kb.document(r["doc_id"])
        assert doc is not None and doc.text[r["start"] : r["end"]] == r["quote"] and r["text"] in r["quote"]
    dated = [r["as_of"] for r in rows if r["as_of"]]
    assert dated == sorted(dated, reverse=True)  # newest first
    # two reports give 2021年末 figures that differ (9120 and 9000): each marked, none merged
    assert {r["text"] for r in rows if r["conflict"]} >= {"9120台", "9000台"}
    assert not any(r["conflict"] for r in rows if r["text"] == "6350台")


@pytest.mark.slow
def test_filters_csv_and_the_readable_table(home: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(facts(home, "--subject", "青岛市", "--since", "2021-01-01", "--csv"))))
    assert rows and all("青岛市" in r["subject"] and r["as_of"] >= "2021-01-01" for r in rows)
    assert "12个" in {r["text"] for r in rows} and "9项" not in {r["text"] for r in rows}  # 9项 is of 2020
    table = facts(home, "受理终端", "--until", "2021-12-31")
    assert "≠\t山东省" in table and "9000台" in table and "条与同一主体、指标、日期的另一数值不一致" in table
    assert "没有找到符合条件的事实" in facts(home, "--subject", "广东省")


@pytest.mark.slow
def test_bad_dates_and_a_missing_knowledge_base_are_told_plainly(home: Path) -> None:
    proc = cli(home, "facts", "--since", "2021/13/01")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "YYYY-MM-DD" in err
    proc = cli(home, "facts", "--kb", "typo")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "default" in err and not (home / "kb" / "typo").exists()


@pytest.mark.slow
def test_the_excel_export_reads_back_with_its_sources(home: Path, segmenter: Segmenter) -> None:
    """The workbook the 事实 page downloads: each fact with its 资料来源 number, each source once with its quote, the
    newest 截至 date and the export time stated; a quote that looks like a formula stays text."""
    import datetime as dt

    import openpyxl

    from assistant.factsheet import lookup, workbook
    from kb.catalog import FactQuery

    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, None)
    rows = lookup(kb, FactQuery(metric="受理终端"))
    data = workbook(rows, dt.datetime(2026, 12, 2, 9, 30))
    book = openpyxl.load_workbook(io.BytesIO(data))
    facts, sources = book["事实"], book["资料来源"]
    assert facts["A1"].value == "资料截至 2021-12-31；导出时间 2026-12-02 09:30"
    table = [[c.value for c in r] for r in facts.iter_rows(min_row=3)]
    assert len(table) == len(rows) and {r[4] for r in table} >= {"9120台", "9000台", "6350台"}
    quotes = {r[0].value: r[4].value for r in sources.iter_rows(min_row=3)}
    for r in table:  # every fact's source number resolves to a quote that states its figure
        assert r[4].rstrip("台") in quotes[r[9]]
    conflicted = {r[4] for r in table if r[7] == "≠"}
    assert {"9120台", "9000台"} <= conflicted and "6350台" not in conflicted


def test_a_formula_like_cell_is_written_as_text() -> None:
    import openpyxl

    from kb.xlsx_io import write_xlsx

    book = openpyxl.load_workbook(io.BytesIO(write_xlsx([("s", "note", ("a",), [['=HYPERLINK("x")'], [3.5]])])))
    assert book["s"]["A3"].value == '\'=HYPERLINK("x")' and book["s"]["A3"].data_type == "s"
    assert book["s"]["A4"].value == 3.5


@pytest.mark.slow
def test_the_facts_briefing_cites_every_figure(home: Path, segmenter: Segmenter) -> None:
    """The 事实 page's briefing: a table whose every figure carries a footnote that resolves to the sentence or row
    stating it (Markdown and Word), the newest 截至 date and the export time said."""
    import datetime as dt
    import re

    import docx
    from markdown_it import MarkdownIt

    from assistant import fact_briefing
    from assistant.factsheet import lookup
    from kb.catalog import FactQuery

    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, None)
    rows = lookup(kb, FactQuery(metric="受理终端"))
    brief = fact_briefing.build(rows, dt.datetime(2026, 12, 2, 9, 30))
    assert "资料截至 2021-12-31；导出时间 2026-12-02 09:30" in brief.markdown
    notes = dict(re.findall(r"^\[\^(\d+)\]: (.+)$", brief.markdown, re.M))
    cited = re.findall(r"\| ([^|]+?)\[\^(\d+)\] \|", brief.markdown)
    assert len(cited) == len(rows) and all(n in notes for _, n in cited)
    for figure, n in cited:  # the figure stands in its footnote's quote
        assert figure.replace("\\", "").rstrip("台") in notes[n]
    html = MarkdownIt("commonmark").enable("table").render(brief.markdown)
    assert html.count("<tr>") == len(rows) + 1 and "<script" not in html
    word = docx.Document(io.BytesIO(brief.docx))
    table = [[c.text for c in r.cells] for r in word.tables[0].rows]
    paragraphs = [p.text for p in word.paragraphs]
    for row in table[1:]:
        n = re.search(r"\[(\d+)\]$", row[2])
        assert n and any(p.startswith(f"[{n.group(1)}] 《") for p in paragraphs)


@pytest.mark.slow
def test_the_facts_briefing_compares_a_metric_with_citations(home: Path, segmenter: Segmenter) -> None:
    """One metric chosen: the briefing opens with dates down and subjects across, each figure with its footnote."""
    import re

    import docx

    from assistant import fact_briefing
    from assistant.factsheet import lookup
    from kb.catalog import FactQuery

    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, None)
    rows = lookup(kb, FactQuery(metric="受理终端", subject="山东省"))
    brief = fact_briefing.build(rows, compare=True)
    section = brief.markdown.split("## 对比")[1].split("## 明细")[0]
    assert "| 截至 | 山东省 |" in section and re.search(r"\| 2020\\-12\\-31 \| 5120\[\^\d+\] \|", section)
    notes = set(re.findall(r"^\[\^(\d+)\]:", brief.markdown, re.M))
    assert set(re.findall(r"\[\^(\d+)\]", section)) <= notes
    word = docx.Document(io.BytesIO(brief.docx))
    compared = [[c.text for c in r.cells] for r in word.tables[0].rows]
    assert compared[0] == ["截至", "山东省"] and any(r[0] == "2021-12-31" and r[1].endswith("]") for r in compared)


@pytest.mark.slow
def test_a_reader_that_goes_away_gets_no_traceback(home: Path) -> None:
    """``pilotqa facts | head -1``: the output's reader closes first; the command stops quietly."""
    proc = cli(home, "facts")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command has written anything
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
