"""Corrections as correction notices word them (kb.corrections): which figure of a correcting sentence is the
published, wrong one (已更正) and which its correction (更正后) — 正确数据为X，原通报所列Y (Y wrong though it stands
after the marker), 相应调整为X; ``supersede`` on the registry's facts (a correction quoting no wrong figure
replaces the same subject, metric and date in another document; a figure stated twice, in a sentence and a table
cell, is replaced in both places; ``keep_wrong`` keeps it marked 已更正); and the 事实 page's conflict check, which
never flags a corrected figure against its correction.

Facts are built by hand (the registry's ``kb.records.Fact``); sentences are written for these tests.
"""

from __future__ import annotations

from typing import Literal

import pytest

from assistant.factsheet import conflicts
from ingest.facts import extract
from kb.corrections import CORRECTED, CORRECTION, qualifier, supersede
from kb.quantity import amount, quantities
from kb.records import Document, Fact, Section


def _marks(sentence: str, notice: bool = True) -> dict[str, str]:
    """Each figure of ``sentence`` (as written, 亿 included) → the qualifier a correction gives it, in a document
    that corrects figures (``notice``) or not."""
    return {sentence[q.start : q.end]: qualifier(sentence, q.start, notice) for q in quantities(sentence)}


# -- qualifier ----------------------------------------------------------------------------------------------
def test_published_figure_after_the_marker_is_the_wrong_one() -> None:
    # rule: 原通报所列Y quotes the published figure: Y is 已更正 even though it stands after 正确数据为
    marks = _marks("经核实，正确数据为318.4亿元，原通报所列336.2亿元有误，特此更正。")
    assert marks == {"318.4亿": CORRECTION, "336.2亿": CORRECTED}


def test_published_figure_before_the_marker() -> None:
    # rule: the wrong figure before the marker, the right one after it (the plain order)
    marks = _marks("原通报所列洞庭农商银行贷款余额56.2亿元有误，正确数据应为58.4亿元。")
    assert marks == {"56.2亿": CORRECTED, "58.4亿": CORRECTION}


@pytest.mark.parametrize(
    "sentence",
    [
        "经核实，截至2023年末全省试点项目累计发放贷款相应调整为2378.9亿元。",
        "麓山银行累计放款金额正确数据为45.7亿元。",
        "麓山银行累计放款金额应更正为45.7亿元。",
    ],
)
def test_a_correction_quoting_no_wrong_figure(sentence: str) -> None:
    # rule: 相应调整为 / 正确数据为 / 应更正为 mark the figure after them 更正后
    figures = [m for m in _marks(sentence).items() if "亿" in m[0]]
    assert len(figures) == 1 and figures[0][1] == CORRECTION, figures


@pytest.mark.parametrize("sentence", ["额度相应调整为30万元。", "将贷款期限修改为3年，利率调整为3.5%。"])
def test_policy_wording_corrects_only_in_a_document_that_corrects(sentence: str) -> None:
    # rule: 相应调整为 and 修改为 are ordinary policy wording; they mark a correction only in a correcting document
    assert set(_marks(sentence, notice=False).values()) == {""}
    assert CORRECTION in _marks(sentence.split("，")[0], notice=True).values()


def test_a_sentence_without_a_marker_corrects_nothing() -> None:
    # rule: no correction wording, no qualifier (原… alone is no correction)
    assert set(_marks("原计划投放36.5亿元，截至6月末麓山银行实际投放38.2亿元。").values()) == {""}


# -- supersede ----------------------------------------------------------------------------------------------
def _fact(doc: str, subject: str, metric: str, value: float, unit: str, text: str, *, at: int, sentence: int = -1,
          q: str = "", as_of: str = "2023-12-31", as_of_text: str = "截至2023年末",
          kind: Literal["text", "cell"] = "text") -> Fact:  # fmt: skip
    start = at if sentence < 0 else sentence
    return Fact(doc_id=doc, subject=subject, metric=metric, value=value, unit=unit, text=text, qualifier=q,
                as_of=as_of, as_of_text=as_of_text, start=start, end=start + 40, value_start=at,
                value_end=at + len(text), source_kind=kind)  # fmt: skip


PUBLISHED = _fact("d1", "湖南省", "金融科技应用试点项目累计发放贷款", 2356.4e8, "元", "2356.4亿元", at=10)
MID_YEAR = _fact("d1", "湖南省", "金融科技应用试点项目累计发放贷款", 2101.5e8, "元", "2101.5亿元", at=60,
                 as_of="2023-06-30", as_of_text="截至2023年6月末")  # fmt: skip
CITY = _fact("d1", "长沙市", "金融科技应用试点项目累计发放贷款", 980.2e8, "元", "980.2亿元", at=110)
RESTATED = _fact("d2", "湖南省", "试点项目累计发放贷款相应调整", 2378.9e8, "元", "2378.9亿元", at=30, q=CORRECTION)


def test_a_correction_quoting_no_wrong_figure_replaces_the_same_subject_metric_and_date() -> None:
    # rule: a correcting figure that names no wrong one restates the other document's figure of the same subject,
    # same metric words (累计/相应/调整 aside) and same date; it takes that figure's metric and date
    out = supersede([PUBLISHED, MID_YEAR, CITY, RESTATED])
    assert PUBLISHED not in out
    assert MID_YEAR in out and CITY in out  # another date, another place: untouched
    [new] = [f for f in out if f.qualifier == CORRECTION]
    assert new.text == "2378.9亿元" and new.subject == "湖南省"
    assert (new.metric, new.as_of, new.as_of_text) == (PUBLISHED.metric, "2023-12-31", "截至2023年末")
    assert len(out) == 3


def test_a_restating_correction_leaves_other_figures_alone() -> None:
    # rule: the restated figure must share the subject and the date (and stand in another document)
    other_day = _fact("d2", "湖南省", "试点项目累计发放贷款相应调整", 2378.9e8, "元", "2378.9亿元", at=30,
                      q=CORRECTION, as_of="2023-09-30", as_of_text="截至2023年9月末")  # fmt: skip
    assert PUBLISHED in supersede([PUBLISHED, other_day])
    other_place = _fact("d2", "株洲市", "试点项目累计发放贷款相应调整", 2378.9e8, "元", "2378.9亿元", at=30,
                        q=CORRECTION)  # fmt: skip
    assert PUBLISHED in supersede([PUBLISHED, other_place])
    same_doc = _fact("d1", "湖南省", "试点项目累计发放贷款相应调整", 2378.9e8, "元", "2378.9亿元", at=200,
                     q=CORRECTION)  # fmt: skip
    assert PUBLISHED in supersede([PUBLISHED, same_doc])


# a figure published twice in d1 (a sentence, and a table cell whose unit stands in its header), corrected in d2 by
# 原通报所列318.4亿元有误，正确数据为331.8亿元 (one sentence: both facts start where it starts)
STATED = _fact("d1", "湖南省", "试点项目累计发放贷款", 318.4e8, "元", "318.4亿元", at=12)
CELL = _fact("d1", "湖南省", "累计发放贷款（亿元）", 318.4, "亿元", "318.4", at=300, kind="cell")
WRONG = _fact("d2", "湖南省", "原通报所列", 318.4e8, "元", "318.4亿元", at=25, sentence=20, q=CORRECTED)
RIGHT = _fact("d2", "湖南省", "累计发放贷款", 331.8e8, "元", "331.8亿元", at=45, sentence=20, q=CORRECTION)
TWICE = [STATED, CELL, WRONG, RIGHT]


def test_the_same_figure_in_either_scale_is_one_figure() -> None:
    # rule: figures compared at 12 significant digits: 318.4 亿元 and 31840000000 元 are equal
    assert amount(CELL.value, CELL.unit) == amount(STATED.value, STATED.unit)


def test_a_figure_stated_twice_is_replaced_in_both_places() -> None:
    # rule: a correction applies once for each place the figure was stated (a sentence and a table cell), each
    # copy with that place's metric and date; the correction's own quote of the wrong figure is dropped
    out = supersede(TWICE)
    assert not [f for f in out if amount(f.value, f.unit) == pytest.approx(318.4e8)], out
    assert all(f.qualifier == CORRECTION and f.text == "331.8亿元" for f in out), out
    assert sorted(f.metric for f in out) == sorted([STATED.metric, CELL.metric])


def test_keep_wrong_keeps_the_corrected_figure_marked() -> None:
    # rule: with keep_wrong the published figure stays, its qualifier starting 已更正, beside its correction; the
    # correcting notice's own quote of it is still not shown twice
    out = supersede(TWICE, keep_wrong=True)
    kept = [f for f in out if f.doc_id == "d1"]
    assert {f.text for f in kept} == {"318.4亿元", "318.4"}
    assert all(f.qualifier.startswith(CORRECTED) for f in kept)
    assert [f for f in out if f.qualifier == CORRECTION and f.text == "331.8亿元"]
    assert WRONG not in out and len(out) == 4


def test_keep_wrong_on_a_restated_figure() -> None:
    # rule: as above for a correction quoting no wrong figure
    out = supersede([PUBLISHED, RESTATED], keep_wrong=True)
    old = [f for f in out if f.text == "2356.4亿元"]
    assert len(old) == 1 and old[0].qualifier.startswith(CORRECTED)


# -- sentences to corrections -------------------------------------------------------------------------------
def _doc(doc_id: str, title: str, line: str, date: str) -> Document:
    text = f"{title}\n{line}"
    return Document(doc_id=doc_id, title=title, text=text, source=f"{doc_id}.txt", date=date,
                    sections=(Section(0, len(text)),))  # fmt: skip


@pytest.mark.parametrize(
    "wording",
    ["相应调整为", "正确数据为", "应更正为"],
)  # fmt: skip
def test_a_notice_that_quotes_no_wrong_figure_replaces_the_published_one(wording: str) -> None:
    # rule: end to end from sentences: a notice's 全省…<wording>318.4亿元 (no wrong figure quoted) replaces the
    # other document's figure of the same subject, metric and date
    said = "截至2023年末，全省金融科技应用试点项目累计发放贷款"
    report = _doc("d1", "湖南省金融科技试点2023年工作通报", f"{said}336.2亿元。", "2024-01-10")
    notice = _doc("d2", "湖南省金融科技试点数据更正说明", f"经核实，{said}{wording}318.4亿元。", "2024-02-01")
    facts = extract(report) + extract(notice)
    assert [f.qualifier for f in facts if f.doc_id == "d2"] == [CORRECTION]
    out = supersede(facts)
    assert [f.text for f in out] == ["318.4亿元"], [(f.metric, f.text) for f in out]


# -- the 事实 page's conflicts ------------------------------------------------------------------------------
def test_a_corrected_figure_is_no_conflict_with_its_correction() -> None:
    # rule: a figure marked 已更正 disagrees with no one (its correction replaces it) ...
    shown = supersede(TWICE, keep_wrong=True)
    assert conflicts(shown) == set()
    shown = supersede([PUBLISHED, RESTATED], keep_wrong=True)
    assert conflicts(shown) == set()


def test_two_unmarked_figures_of_one_subject_metric_and_date_conflict() -> None:
    # ... while the same two figures with no correction between them are a conflict (the check is live)
    other = _fact("d3", "湖南省", "金融科技应用试点项目累计发放贷款", 2378.9e8, "元", "2378.9亿元", at=5)
    assert conflicts([PUBLISHED, other]) == {0, 1}
