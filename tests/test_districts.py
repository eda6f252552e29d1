"""Districts, counties and county-level cities as places (kb/data/counties.txt, kb.entities), tables whose change
columns sit under a date group, and two reports that word one figure differently:

- a district's figure is the district's, and answers neither its city nor another district; a city's does not
  answer a district; a district said short (仓山) is read in full when the knowledge base names it;
- a county's 县 that begins another word (湖南县域) makes no county;
- a change column under a date group (2025年9月末 | 较上年末增加) is a change as of the group's date, its base in
  the metric; a percent cell is a rate whatever the row's unit;
- the same district's figure for one date from a table (服务企业（万户）) and from a bulletin's sentence (服务企业…
  9月末为…万户) are shown together, each cited;
- around them: a period's end asked without its year (10月末) is of the newest report's year; 服务了多少企业 asks a
  count, never 亿元; a document's own date is asked (那份通知是什么时候下发的) and read from its sign-off line, not
  from the 1-10月 of its title.

Fixtures: tests/data/districts/ (fictional; the first line says so).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import question as qn
from assistant.core import Assistant, Resources
from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import Ingestor, to_document
from kb.places import other_place, province_of
from kb.places import places as named_places
from kb.records import Answer, Fact
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import make_settings

DISTRICTS = Path(__file__).resolve().parent / "data" / "districts"
NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"
CITY = "fuzhou-pilots-2025q3.html"
BULLETIN = "cangshan-bulletin-2025-10.md"
NOTICE = "fuzhou-notice-2025-11.txt"


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("仓山区和晋安区的试点", ["仓山区", "晋安区"]),  # districts by their full names
        ("福清市、闽侯县", ["福清市", "闽侯县"]),  # a county-level city, a county
        ("达拉特旗的牧区", ["达拉特旗"]),  # a banner
        ("长沙县的试点项目", ["长沙县"]),  # a county named after its city is the county, not the city
        ("湖南县域经济", ["湖南"]),  # 县域 begins another word: no county 南县
        ("河南县级支行", ["河南"]),  # nor 河南县 before 级
        ("东区和西区", []),  # two-character 区 names are any part of a city, no place
        ("南湖新区的试点", ["南湖新区"]),  # a new area no division code names
        ("城市新区建设", []),  # 城市 is no name
        ("金融创新区和打造全新区域", []),  # a new area's name begins no word
        ("沿海城市的试点", []),  # 海城市 runs into 沿海城市
        ("推动市和县两级联动，担任县长", []),  # 和县, 任县: one-character names only where a name begins
        ("安徽省和县的试点", ["安徽省", "和县"]),
        ("新城西区改造", []),
    ],
)
def test_counties_are_places_by_their_full_names(text: str, places: list[str]) -> None:
    assert [n.name for n in named_places(text)] == places


@pytest.mark.parametrize(
    ("subject", "question", "other"),
    [
        ("福州市", "仓山区试点项目贷款多少", True),  # a city's figure does not answer its district
        ("晋安区", "仓山区试点项目贷款多少", True),  # nor another district's
        ("仓山区", "福州市试点项目贷款多少", True),  # nor a district's its city
        ("仓山区", "福州市仓山区试点项目贷款多少", False),  # a district named with its city is asked
        ("晋安区", "福州哪个区的贷款最多", False),  # which district: each of the city's is asked
        ("福州市", "福州哪个区的贷款最多", True),
        ("浦东新区", "福州哪个区的贷款最多", True),  # not another city's district
        ("福州市", "福州市各区块链试点项目一共放了多少贷款", False),  # 各区块链 asks no district
    ],
)
def test_a_district_is_its_own_place(subject: str, question: str, other: bool) -> None:
    assert other_place(subject, question) is other


def test_a_new_area_is_its_own_place() -> None:
    assert other_place("嘉兴市", "南湖新区的试点服务了多少户？")


def test_a_county_lies_in_its_province() -> None:
    assert (province_of("福清市"), province_of("浦东新区"), province_of("仓山区")) == ("福建省", "上海市", "福建省")


def test_a_district_said_short_is_read_in_full_only_where_the_knowledge_base_names_it() -> None:
    known = {"仓山区", "新建区"}.__contains__
    assert qn.with_full_places("仓山的试点贷款有多少？", known) == "仓山区的试点贷款有多少？"
    assert qn.with_full_places("晋安的试点贷款有多少？", known) == "晋安的试点贷款有多少？"  # not in the base
    assert qn.with_full_places("仓山区的贷款", known) == "仓山区的贷款"  # already in full
    assert qn.with_full_places("福州市的贷款", known) == "福州市的贷款"  # a city is no district
    everywhere = lambda _: True  # noqa: E731  (a knowledge base naming every place)
    assert qn.with_full_places("平安银行试点贷款多少？", everywhere) == "平安银行试点贷款多少？"  # a bank's name
    assert qn.with_full_places("西南部战区", everywhere) == "西南部战区"  # inside a word; 南部 is a common word too
    # and a text that says the short name names the place in full (a club's 大埔, a report's 仓山)
    assert qn.mentions("仓山区", "他转投仓山的球会") and not qn.mentions("鼓楼区", "鼓楼的试点")  # 鼓楼: four districts


def _facts(name: str) -> list[Fact]:
    path = DISTRICTS / name
    parsed = next(iter(loaders.load(path, 10**7)))
    return extract(to_document(parsed, path, 300))


@pytest.mark.parametrize("name", [CITY, BULLETIN, NOTICE])
def test_the_fixtures_say_they_are_fictional(name: str) -> None:
    assert NOTE in (DISTRICTS / name).read_text("utf-8")[:300]  # the html's first paragraph, the md's first line


def test_a_change_column_under_a_date_group_is_a_change_as_of_that_date() -> None:
    cells = {(f.subject, f.text): f for f in _facts(CITY) if f.source_kind == "cell"}
    change = cells[("仓山区", "0.35")]
    assert (change.metric, change.as_of, change.unit) == ("服务企业较上年末增加（万户）", "2025-09-30", "万户")
    level = cells[("仓山区", "2.28")]
    assert (level.metric, level.as_of) == ("服务企业（万户）", "2025-09-30")
    rate = cells[("仓山区", "21.7%")]
    assert (rate.unit, rate.as_of) == ("%", "2025-09-30")  # a rate, not 万户


def test_a_district_sentence_is_the_district_s() -> None:
    facts = {f.text: f for f in _facts(CITY) if f.source_kind == "text"}
    assert facts["231.58亿元"].subject == "仓山区"
    assert facts["812.46亿元"].subject == "福州市"  # 全市 in the city's report
    bulletin = {f.text: f for f in _facts(BULLETIN)}
    assert bulletin["246.03亿元"].subject == "仓山区"  # 全区 in the district's own bulletin


# -- end to end: the real assistant on a real knowledge base -------------------------------------------------
@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder) -> Assistant:
    settings = make_settings(tmp_path_factory.mktemp("districts-home"))
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb).run([DISTRICTS])
    return Assistant(settings, Resources(settings, segmenter, embedder, kb))


def _lead(answer: Answer) -> str:
    return answer.text.split("[1]")[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "figure", "not_figure"),
    [
        ("2025年9月末仓山区的试点项目累计发放贷款多少亿元？", "231.58", "812.46"),
        ("截至2025年9月末，福州全市试点项目累计发放贷款多少亿元？", "812.46", "231.58"),
        ("仓山的试点项目一共放了多少贷款？", "246.03", "812.46"),  # said short; the newest, the bulletin's
    ],
)
def test_a_district_question_gets_the_district_figure(assistant: Assistant, question: str, figure: str,
                                                      not_figure: str) -> None:  # fmt: skip
    lead = _lead(assistant.ask(question, mode="extractive"))
    assert figure in lead and not_figure not in lead


@pytest.mark.slow
def test_a_district_nobody_reports_on_is_refused(assistant: Assistant) -> None:
    answer = assistant.ask("2025年9月末晋安区服务企业多少万户？", mode="extractive")
    assert "1.39" in _lead(answer)  # the table's row
    refused = assistant.ask("2025年9月末长乐区的试点项目累计发放贷款多少亿元？", mode="extractive")
    assert refused.text.startswith("资料中没有") and "812.46" not in _lead(refused)


@pytest.mark.slow
def test_two_reports_wording_one_figure_differently_are_both_shown(assistant: Assistant) -> None:
    answer = assistant.ask("仓山区2025年9月末服务企业有多少万户？", mode="extractive")
    lead = answer.text.split("。")[0]
    assert "2.31" in lead and "2.28" in lead  # the bulletin's sentence and the city's table, each cited
    assert len(answer.citations) >= 2


def test_a_notice_is_dated_by_its_sign_off_not_by_the_months_its_title_names() -> None:
    path = DISTRICTS / NOTICE
    doc = to_document(next(iter(loaders.load(path, 10**7))), path, 300)
    assert doc.date == "2025-11-18"  # not 2025年1-10月 read as 2025-01-10


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("福州市的试点服务了多少企业？", True),
        ("服务了几户个体工商户？", True),
        ("多少资金流向小微企业？", False),  # an amount
        ("放了多少贷款？", False),
    ],
)
def test_how_many_of_those_served_asks_a_count(question: str, count: bool) -> None:
    assert qn.asks_a_count(question) is count


@pytest.mark.slow
def test_a_period_end_said_without_its_year_is_of_the_newest_reports_year(assistant: Assistant) -> None:
    assert "1.45" in _lead(assistant.ask("晋安区的试点项目10月末服务企业多少万户？", mode="extractive"))
    later = assistant.ask("晋安区的试点项目11月末服务企业多少万户？", mode="extractive")
    assert later.text.startswith("资料中没有11月末") and "1.45万户" in later.text  # what is held instead, cited


@pytest.mark.slow
def test_how_many_served_is_never_answered_by_an_amount(assistant: Assistant) -> None:
    assert "4.72" in _lead(assistant.ask("截至2025年9月末，福州市的试点服务了多少企业？", mode="extractive"))
    refused = assistant.ask("闽侯县的试点服务了多少企业？", mode="extractive")  # only its loans are reported
    assert refused.text.startswith("资料中没有") and "38.06" not in _lead(refused)


@pytest.mark.slow
def test_a_documents_issue_date_is_its_own(assistant: Assistant) -> None:
    answer = assistant.ask("福州市地方金融工作办公室那份推进情况的通报，印发日期是哪天？", mode="extractive")
    assert _lead(answer) == "2025年11月18日" and answer.citations[0].quote == "2025年11月18日"


@pytest.mark.slow
def test_which_district_grew_fastest_compares_the_change_column(assistant: Assistant) -> None:
    lead = _lead(assistant.ask("福州哪个区县的试点服务企业同比增长最快？", mode="extractive"))
    assert lead.startswith("福清市最快") and "23.9%" in lead and "21.7%" in lead


@pytest.mark.slow
def test_which_of_two_named_districts_has_more(assistant: Assistant) -> None:
    lead = _lead(assistant.ask("仓山区和晋安区比，哪个试点服务的企业更多？", mode="extractive"))
    assert lead.startswith("仓山区更多") and "2.41" in lead and "1.45" in lead
