"""Tables of dated columns read as staff read them (ingest.facts): whose figure a row gives (a place row, a 其中
row, the table's own place 全省), what it measures (a 指标 cell, the table's note 注：表中数据为…), its unit (单位：
亿元, or per metric: 单位：贷款为亿元，市场主体为万户), its as-of date (the column's), a change column beside dated
ones, and a second header row under a vertically merged first cell.

Every fixture is fictional and written for these tests (tests/data/tables/, first line says so; the DOCX is made
here with python-docx). The folder is kept apart from tests/data/reports, whose files other tests count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import to_document
from kb.quantity import amount
from kb.records import Document, Fact

TABLES = Path(__file__).resolve().parent / "data" / "tables"
NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"
FIXTURES = ["hunan-loans-table.md", "jiangxi-indicators.html", "guangxi-change.md"]


def _document(path: Path) -> Document:
    parsed = next(iter(loaders.load(path, 10**7)))
    return to_document(parsed, path, 300)


def _cells(path: Path) -> dict[str, Fact]:
    """The document's table facts by the cell's text (every cell of these fixtures is a distinct figure)."""
    facts = [f for f in extract(_document(path)) if f.source_kind == "cell"]
    by_text = {f.text: f for f in facts}
    assert len(by_text) == len(facts), [f.text for f in facts]
    return by_text


def _value(f: Fact) -> float | None:
    return amount(f.value, f.unit)


@pytest.mark.parametrize("name", FIXTURES)
def test_the_fixtures_say_they_are_fictional(name: str) -> None:
    assert (TABLES / name).read_text("utf-8").splitlines()[0] == NOTE


# -- Markdown: a 单位 line above, a 注 line below, place rows -------------------------------------------------
@pytest.fixture(scope="module")
def hunan() -> dict[str, Fact]:
    return _cells(TABLES / "hunan-loans-table.md")


@pytest.mark.parametrize(
    ("text", "subject", "as_of"),
    [
        ("86.4", "湖南省", "2022-12-31"),  # 全省: the table's own place, the document title's province
        ("112.7", "湖南省", "2023-06-30"),
        ("41.2", "长沙市", "2022-12-31"),  # 其中：长沙市 is 长沙市's figure, not the province's
        ("55.8", "长沙市", "2023-06-30"),
        ("12.6", "株洲市", "2022-12-31"),  # a plain place row
        ("17.3", "株洲市", "2023-06-30"),
    ],
)
def test_place_rows_give_their_places_figures_of_the_notes_metric(
    hunan: dict[str, Fact], text: str, subject: str, as_of: str
) -> None:
    # rule: a row named by a place (or 其中：place, or the table's own place 全省) is that place's figure; the
    # metric comes from the table's note 注：表中数据为… when no cell names it; the unit from the 单位：亿元 line;
    # the as-of from the column's date
    f = hunan[text]
    assert (f.subject, f.as_of) == (subject, as_of)
    assert "发放贷款" in f.metric, f.metric
    assert not any(w in f.metric for w in ("长沙", "株洲", "全省", "其中", "地区", "2022", "2023")), f.metric
    assert f.unit == "亿元"
    assert _value(f) == pytest.approx(float(text) * 1e8)


def test_the_markdown_table_gives_no_fact_to_a_row_or_column_word(hunan: dict[str, Fact]) -> None:
    # rule: the header row (地区 | 2022年末 | …) and a row's name are no figures and no subjects
    assert len(hunan) == 6
    assert {f.subject for f in hunan.values()} == {"湖南省", "长沙市", "株洲市"}


# -- HTML: a rowspan 地区 column, a 指标 column, per-metric unit line ------------------------------------------
@pytest.fixture(scope="module")
def jiangxi() -> dict[str, Fact]:
    return _cells(TABLES / "jiangxi-indicators.html")


@pytest.mark.parametrize(
    ("text", "subject", "metric", "unit", "as_of"),
    [
        ("27.5", "南昌市", "贷款", "亿元", "2022-12-31"),
        ("33.9", "南昌市", "贷款", "亿元", "2023-12-31"),
        ("4.6", "南昌市", "市场主体", "万户", "2022-12-31"),  # the rowspan cell still names this row
        ("5.8", "南昌市", "市场主体", "万户", "2023-12-31"),
        ("15.2", "赣州市", "贷款", "亿元", "2022-12-31"),
        ("2.9", "赣州市", "市场主体", "万户", "2023-12-31"),
    ],
)
def test_a_rowspan_place_and_a_metric_cell_with_per_metric_units(
    jiangxi: dict[str, Fact], text: str, subject: str, metric: str, unit: str, as_of: str
) -> None:
    # rule: 地区 | 指标 | dates: the row's place is the subject, the 指标 cell before the dates the metric; a unit
    # line pairing words with units (单位：贷款为亿元，市场主体为万户) gives each metric its own unit
    f = jiangxi[text]
    assert (f.subject, f.metric, f.unit, f.as_of) == (subject, metric, unit, as_of)


def test_no_html_fact_is_of_the_metric_cell_itself(jiangxi: dict[str, Fact]) -> None:
    # rule: the 指标 cell names the metric; it is no fact of its own (its column has no date)
    assert len(jiangxi) == 8
    assert not [f for f in jiangxi.values() if f.value is None]


# -- a change column beside dated ones ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def guangxi() -> dict[str, Fact]:
    return _cells(TABLES / "guangxi-change.md")


def test_a_change_column_is_the_rows_metrics_change_at_the_last_date(guangxi: dict[str, Fact]) -> None:
    # rule: 指标 | 2022-12-31 | 2023-03-31 | 比年初增加: the change cell's metric is the row's metric + the column,
    # its as-of the last dated column's (not the document's date, not the first column's)
    level, change = guangxi["73.5"], guangxi["8.7"]
    assert "发放贷款" in level.metric and "比年初增加" not in level.metric
    assert "发放贷款" in change.metric and "比年初增加" in change.metric, change.metric
    assert change.metric.index("发放贷款") < change.metric.index("比年初增加")
    assert change.as_of == "2023-03-31"
    assert guangxi["2.5"].as_of == "2023-03-31" and "比年初增加" in guangxi["2.5"].metric


def test_a_qizhong_row_is_the_citys_figure_of_the_row_aboves_metric(guangxi: dict[str, Fact]) -> None:
    # rule: 其中：柳州市（亿元） under 全区累计发放贷款（亿元）: 柳州市's figure of that metric, the unit from the note
    for text, as_of in [("10.4", "2022-12-31"), ("12.9", "2023-03-31"), ("2.5", "2023-03-31")]:
        f = guangxi[text]
        assert f.subject == "柳州市" and f.as_of == as_of, f
        assert "发放贷款" in f.metric and "柳州" not in f.metric and "其中" not in f.metric
        assert f.unit == "亿元"
    whole = guangxi["64.8"]
    assert whole.subject == "广西壮族自治区" and "全区" not in whole.metric  # 全区: the title's region


# -- DOCX: a two-row header whose first cell is vertically merged -------------------------------------------
def _docx(path: Path) -> Path:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph(NOTE)
    d.add_heading("湖南省普惠金融数字化试点授信情况", level=1)
    d.add_paragraph("三季度，各地试点银行持续加大授信投放。")
    t = d.add_table(rows=5, cols=3)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "地区"  # vertically merged: 地区 over both header rows
    for j, (name, day) in enumerate([("累计授信金额", "2023年6月末"), ("累计授信金额", "2023年9月末")], start=1):
        t.cell(0, j).text, t.cell(1, j).text = name, day
    rows = [("长沙市", "23.6亿元", "28.1亿元"), ("岳阳市", "9.4亿元", "11.2亿元"), ("株洲市", "7.8亿元", "8.5亿元")]
    for i, row in enumerate(rows, start=2):
        for j, text in enumerate(row):
            t.cell(i, j).text = text
    d.add_paragraph("下一步将继续扩大授信覆盖面。")
    d.save(str(path))
    return path


def test_a_second_header_row_of_dates_under_a_merged_cell(tmp_path: Path) -> None:
    # rule: a row right under the header whose first cell repeats the header's (a vertically merged 地区) and that
    # holds no figure is a header row; a metric column's own date (累计授信金额 2023年6月末) is the as-of, not part
    # of the metric
    doc = _document(_docx(tmp_path / "hunan-credit.docx"))
    [table] = doc.tables
    assert table.header_rows == 2
    facts = {f.text: f for f in extract(doc) if f.source_kind == "cell"}
    assert len(facts) == 6
    assert not [f for f in facts.values() if f.subject == "地区" or "2023" in f.subject]
    expected = {"23.6亿元": ("长沙市", "2023-06-30"), "28.1亿元": ("长沙市", "2023-09-30"),
                "9.4亿元": ("岳阳市", "2023-06-30"), "8.5亿元": ("株洲市", "2023-09-30")}  # fmt: skip
    for text, (subject, as_of) in expected.items():
        f = facts[text]
        assert (f.subject, f.as_of) == (subject, as_of), f
        assert f.metric == "累计授信金额", f.metric
        assert _value(f) == pytest.approx(float(text.removesuffix("亿元")) * 1e8)
