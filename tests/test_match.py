"""Golden tables for reading a report as a careful reader would (places, period ends, dates relative to a
document's own date, changes against a base, rowspan headers) and for the last check of every rules answer.
Every example is written for these tests; none comes from an evaluation set."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import match
from assistant import question as qn
from assistant.extract import Candidate, Draft
from assistant.fit import counted
from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import to_document
from kb import dates
from kb.places import PLACE, other_place, province_of
from kb.quantity import change
from kb.records import Chunk, Document, Hit, Section
from kb.segment import Segmenter


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("郑州市和济宁市、宁波的试点", ["郑州市", "济宁市", "宁波"]),
        ("白银价格上涨", []),  # a common word, a place only with 市
        ("白银市的试点", ["白银市"]),
        ("宁夏回族自治区银川市", ["宁夏回族自治区", "银川市"]),
    ],
)
def test_places_come_from_the_gazetteer(text: str, places: list[str]) -> None:
    assert [m.group(0) for m in PLACE.finditer(text)] == places


def test_another_place_does_not_answer() -> None:
    assert province_of("洛阳") == "河南省"
    assert other_place("河南省", "洛阳有几个试点项目？")  # a province's figure is not a city's
    assert other_place("开封市", "洛阳有几个试点项目？")
    assert not other_place("洛阳市", "洛阳有几个试点项目？")
    assert not other_place("洛阳市", "河南哪个城市承担的试点项目最多？")  # which city of the province: each of them
    assert not other_place("试点项目", "洛阳有几个试点项目？")  # no place named: the other checks decide


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("2019年末，贷款余额是多少？", "2019-12-31", "2019-12-31"),  # that day, not 2019年6月末
        ("截至2019年9月底，贷款余额是多少？", "2019-09-30", "2019-09-30"),
        ("2019年时行长是谁？", "2019-01-01", "2019-12-31"),
        ("截至2019年5月8日，贷款余额是多少？", "0000-01-01", "2019-05-08"),
    ],
)
def test_a_period_end_asked_is_that_day(question: str, since: str, until: str) -> None:
    asked = dates.asked(question, "2026-01-01")
    assert asked is not None and (asked.since, asked.until) == (since, until)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("截至去年底", "2018-12-31"),
        ("上年末", "2018-12-31"),
        ("2018.06.30", "2018-06-30"),
        ("今年上半年末", "2019-06-30"),
    ],
)
def test_relative_dates_read_against_the_documents_date(text: str, iso: str) -> None:
    assert [m.iso for m in dates.mentions(text, "2019-08-01")] == [iso]


@pytest.mark.parametrize(
    ("text", "words"),
    [("较上年末增加5.5亿元", "较上年末增加"), ("同比增长12.5%", "同比增长"), ("比年初提高1.2个百分点", "比年初提高"),
     ("累计发放贷款5.5亿元", ""), ("较2018年末的40.2亿元", "")],
)  # fmt: skip
def test_changes_against_a_base(text: str, words: str) -> None:
    at = next(i for i, ch in enumerate(text) if ch.isdigit() and not text[i - 1].isdigit() and text[i - 1] != "年")
    assert change(text, at) == words


def _doc(text: str, title: str = "虚构市金融科技试点进展", date: str = "2019-04-10") -> Document:
    return Document(doc_id="d1", title=title, text=text, source="x.md", date=date, sections=(Section(0, len(text)),))


def test_a_documents_own_place_and_its_changes_are_read() -> None:
    text = "截至2019年3月末，我市6个试点项目累计发放贷款40.5亿元，较上年末增加7.5亿元。服务小微企业1.2万户。"
    facts = {f.text: f for f in extract(_doc(text, "洛阳市金融科技试点进展"))}
    assert facts["40.5亿元"].subject == "洛阳市"  # 我市: the document's city, not a generic 试点项目
    assert facts["40.5亿元"].as_of == "2019-03-31"
    assert facts["7.5亿元"].qualifier == "较上年末增加" and facts["7.5亿元"].as_of == "2019-03-31"
    assert facts["1.2万户"].as_of == "2019-03-31"  # the paragraph's stated date carries on


def test_a_rowspan_header_keeps_columns_in_line(tmp_path: Path) -> None:
    html = (
        "<table><caption>表1 虚构市主要指标</caption><tr><th rowspan='2'>指标</th><th rowspan='2'>2018年末</th>"
        "<th colspan='2'>2019年3月末</th></tr><tr><th>数值</th><th>较上年末增加</th></tr>"
        "<tr><td>贷款（亿元）</td><td>33.0</td><td>40.5</td><td>7.5</td></tr></table>"
    )
    path = tmp_path / "t.html"
    path.write_text(f"<html><body><h1>虚构市指标</h1>{html}</body></html>", "utf-8")
    doc = to_document(next(iter(loaders.load(path, 10**7))), path, 300)
    assert "表1 虚构市主要指标" in doc.text
    cells = {f.text: f for f in extract(doc)}
    assert cells["40.5"].as_of == "2019-03-31" and cells["33.0"].as_of == "2018-12-31"
    assert "较上年末增加" in cells["7.5"].metric


def _draft(sentence: str, lead: str) -> Draft:
    chunk = Chunk("c", "d", 0, sentence, 0, len(sentence))
    hit = Hit(chunk, 1.0, "t", None, "x")
    return Draft(lead, (Candidate(hit, 0, len(sentence), sentence, 1.0, 1.0),), True)


@pytest.mark.parametrize(
    ("question", "sentence", "lead", "answers"),
    [
        ("甲项目的逾期率是多少？", "甲项目累计放款12.5亿元。", "12.5亿元", False),
        ("甲项目中小微企业占比多少？", "甲项目服务企业300家，其中小微企业占比61.5%。", "300家", True),
        ("乙市有几个试点项目已完成验收？", "乙市共有8个试点项目。", "8个", False),
        ("乙市有几个试点项目已完成验收？", "乙市8个试点项目已完成验收。", "8个", True),
        ("丙项目是哪一年终止的？", "截至2018年5月，丙项目签约用户3万户。", "2018年5月", False),
        ("丙项目是何时上线的？", "截至2018年5月，丙项目已全部上线。", "2018年5月", True),
        ("乙市有多少个试点项目？", "乙市将推动试点项目申报。", "", False),
        ("丁项目的贷款利率在什么区间？", "丁项目授信期限最长3年，贷款利率区间3.1%至4.2%。", "3年", True),
        ("一季度丁项目贷款比年初增加了多少？", "丁项目贷款余额52亿元，比年初增加6.5亿元。", "52亿元", True),
    ],
)
def test_the_last_check(segmenter: Segmenter, question: str, sentence: str, lead: str, answers: bool) -> None:
    checked = match.check(qn.parse(question, segmenter), _draft(sentence, lead))
    assert checked.grounded is answers, checked.reason
    expected = {"占比": "61.5%", "区间": "3.1%至4.2%", "增加": "比年初增加6.5亿元"}
    for word, lead_said in expected.items():
        if answers and word in question:
            assert checked.lead == lead_said  # the figure of the kind asked, from the same sentence


def test_what_a_question_counts() -> None:
    assert counted("甲项目接入了多少家定点药店？") == "定点药店"
    assert counted("甲市一共有多少个？") == ""
