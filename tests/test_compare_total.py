"""Comparisons and totals end to end (assistant/compare.py through the real assistant on a small real knowledge
base): which city of a province has the most, 除X外 leaving X out, and a total of two named cities — a refusal
that shows the sum computed (计算得出) with each part cited when both have a figure of one date, a plain refusal
when they do not.

The reports in tests/data/compare/ are fictional and written for these tests (first line says so): three cities
of 湖南省 and the province's total at 2023年9月末 (sentences, and a small table of 万户 figures); 南昌市 and 赣州市 of
江西省 at different dates only; a table of who leads which city's projects (two in 长沙市) and
how much each lent.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from assistant import cite
from assistant.core import Assistant, Resources
from ingest.pipeline import Ingestor
from kb.records import Answer
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import make_settings

pytestmark = pytest.mark.slow
COMPARE = Path(__file__).resolve().parent / "data" / "compare"
NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"
MOST = "湖南省哪个城市的试点项目累计发放贷款最多？"
_FIGURE = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?(?:元|户)")


@pytest.fixture(scope="module")
def res(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder) -> Resources:
    settings = make_settings(tmp_path_factory.mktemp("compare-home"))
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb).run([COMPARE])
    return Resources(settings, segmenter, embedder, kb)


@pytest.fixture(scope="module")
def assistant(res: Resources) -> Assistant:
    return Assistant(res.settings, res)


def _lead(answer: Answer) -> str:
    return answer.text.split("。")[0]


def _quotes_hold(answer: Answer, res: Resources) -> None:
    """Each citation quotes its document where it says, and each marker names a citation."""
    for c in answer.citations:
        doc = res.kb.document(c.doc_id)
        assert doc is not None and doc.text[c.start : c.end] == c.quote
    for m in answer.markers:
        assert answer.text[m.start : m.end] == f"[{m.n}]" and m.n in {c.n for c in answer.citations}


@pytest.mark.parametrize("name", sorted(p.name for p in COMPARE.iterdir()))
def test_the_fixtures_say_they_are_fictional(name: str) -> None:
    assert (COMPARE / name).read_text("utf-8").splitlines()[0] == NOTE


# -- which one most -----------------------------------------------------------------------------------------
def test_which_city_most_names_the_top_city_and_cites_every_figure(assistant: Assistant, res: Resources) -> None:
    # rule: 哪个城市…最多 compares each city's figure of the metric, names the top one first, shows the others, and
    # every figure shown is cited; the province asked within (湖南省, 158.6亿元) is no candidate
    answer = assistant.ask(MOST)
    _quotes_hold(answer, res)
    assert answer.grounded, answer.text
    lead = _lead(answer)
    assert lead.startswith("长沙市"), answer.text
    assert "72.4亿元" in lead and "31.8亿元" in lead and "24.5亿元" in lead
    assert lead.index("31.8亿元") < lead.index("24.5亿元")  # the others in order
    assert "158.6" not in lead and "湖南省" not in lead
    quoted = "".join(c.quote for c in answer.citations)
    assert all(fig in quoted for fig in _FIGURE.findall(lead)), (lead, quoted)
    assert cite.number_problems(answer.text, answer.citations) == []


def test_which_city_least_names_the_bottom_city(assistant: Assistant) -> None:
    # rule: 最少 ranks the other way
    answer = assistant.ask("湖南省哪个城市的试点项目累计发放贷款最少？")
    assert answer.grounded and _lead(answer).startswith("岳阳市"), answer.text


@pytest.mark.parametrize(
    "question",
    [
        "除长沙外，湖南省哪个城市的试点项目累计发放贷款最多？",
        "除长沙市外，湖南省哪个城市的试点项目累计发放贷款最多？",
        "湖南省除了长沙，哪个城市的试点项目累计发放贷款最多？",  # 除了X， without 外
        "截至2023年9月末，湖南省除了长沙，哪个城市的试点贷款规模最大？",  # a time asked; 贷款规模 = 发放贷款
    ],
)
def test_except_a_city_leaves_it_out(assistant: Assistant, res: Resources, question: str) -> None:
    # rule: 除X外 leaves X out of a comparison (the next city leads; X's figure is neither shown nor cited)
    answer = assistant.ask(question)
    _quotes_hold(answer, res)
    assert answer.grounded, answer.text
    lead = _lead(answer)
    assert lead.startswith("株洲市"), answer.text
    assert "24.5亿元" in lead
    assert "长沙" not in lead and "72.4" not in answer.text
    assert all("长沙" not in c.quote for c in answer.citations)


# -- totals -------------------------------------------------------------------------------------------------
def _sum_refusal(answer: Answer, parts: list[str]) -> None:
    assert not answer.grounded
    assert answer.text.startswith("资料中没有"), answer.text
    assert "计算得出" in answer.text
    assert len(answer.citations) == len(parts)
    for n, (part, c) in enumerate(zip(parts, answer.citations, strict=True), start=1):
        assert part in c.quote, (part, c.quote)  # each part cited by its own source
        assert f"[{n}]" in answer.text


def test_a_total_of_two_cities_table_figures_is_a_refusal_with_the_sum(assistant: Assistant, res: Resources) -> None:
    # rule: a total no document states stays a refusal; both cities have a figure on one date (2023年9月末), so
    # the refusal shows the sum as computed, each part cited (table cells: the unit from the caption)
    answer = assistant.ask("长沙市和株洲市的试点项目服务市场主体加在一起是多少？")
    _quotes_hold(answer, res)
    _sum_refusal(answer, ["长沙市 | 1.9", "株洲市 | 0.8"])
    assert "＝2.7万户" in answer.text, answer.text


def test_a_total_of_two_cities_sentence_figures_cites_each_part(assistant: Assistant, res: Resources) -> None:
    # rule: as above, the parts stated in sentences (72.4亿元, 31.8亿元), each cited
    answer = assistant.ask("长沙市和株洲市的试点项目累计发放贷款加在一起是多少？")
    _quotes_hold(answer, res)
    _sum_refusal(answer, ["72.4亿元", "31.8亿元"])
    assert "158.6" not in answer.text  # the province's total is not the sum asked


def test_the_sum_of_sentence_figures_is_written_in_their_unit(assistant: Assistant) -> None:
    # rule: the computed sum is the right number in the parts' unit
    answer = assistant.ask("长沙市和株洲市的试点项目累计发放贷款加在一起是多少？")
    assert "＝104.2亿元" in answer.text, answer.text


def test_a_total_without_a_common_date_is_a_plain_refusal(assistant: Assistant) -> None:
    # rule: the sum is shown only where every subject has a figure on one common date (南昌市 2023年6月末, 赣州市
    # 2023年12月末): else the plain refusal, no sum and nothing cited
    answer = assistant.ask("南昌市和赣州市的试点项目累计发放贷款加在一起是多少？")
    assert not answer.grounded
    assert answer.text.startswith("资料中没有找到关于“"), answer.text
    assert "计算得出" not in answer.text and "＝" not in answer.text
    assert not answer.citations


# -- names --------------------------------------------------------------------------------------------------
def test_which_banks_lists_every_name_each_cited(assistant: Assistant, res: Resources) -> None:
    # rule: 哪几家 asks every name the document gives for the subject and role, not the first one
    answer = assistant.ask("长沙有哪几家银行牵头做试点项目？")
    _quotes_hold(answer, res)
    lead = _lead(answer)
    assert answer.grounded and "麓山银行" in lead and "橘洲数智银行" in lead, answer.text
    assert "炎帝" not in lead  # another city's
    quoted = "".join(c.quote for c in answer.citations)
    assert "麓山银行" in quoted and "橘洲数智银行" in quoted  # each name stands in a cited row


def test_which_bank_leads_one_names_one(assistant: Assistant) -> None:
    # rule: a role asked in other words (牵的头 = 牵头机构) is answered by the name in the project's row
    answer = assistant.ask("株洲的轨道交通装备订单融资项目是哪家银行牵的头？")
    assert answer.grounded and _lead(answer).startswith("炎帝农村商业银行"), answer.text


def test_which_bank_most_reads_each_rows_institution(assistant: Assistant, res: Resources) -> None:
    # rule: a table row's figure is the figure of the one institution its row names (哪家银行牵头的…最多)
    answer = assistant.ask("湖南省哪家银行牵头的试点项目累计放款最多？")
    _quotes_hold(answer, res)
    lead = _lead(answer)
    assert answer.grounded and lead.startswith("麓山银行"), answer.text
    assert lead.index("22.9") < lead.index("18.6")


def test_a_superlative_is_not_answered_by_a_name(assistant: Assistant) -> None:
    # rule: 最多的是哪家银行 compares figures; with no figure of what is asked the leader table does not answer it
    answer = assistant.ask("湖南省哪家银行牵头的试点项目服务农户最多？")
    assert not _lead(answer).startswith(("麓山银行", "橘洲数智银行", "炎帝农村商业银行")), answer.text


# -- a relative year ----------------------------------------------------------------------------------------
def test_this_year_is_todays_and_the_refusal_says_so_with_the_newest_figure(assistant: Assistant) -> None:
    # rule: 今年 is read against today; documents of an earlier year hold no figure of it, so the answer is a
    # refusal that names the year and gives the newest figure the documents do hold, cited
    answer = assistant.ask("今年株洲市试点项目累计发放贷款是多少？")
    year = datetime.date.today().year
    assert not answer.grounded and answer.text.startswith(f"资料中没有今年（{year}年）"), answer.text
    assert "最新为31.8亿元" in answer.text and answer.citations, answer.text


# -- retrieval ----------------------------------------------------------------------------------------------
def test_chunks_naming_the_place_asked_come_first(assistant: Assistant) -> None:
    # rule: evidence for a place's figure must name the place, so the chunks that do are ranked before those
    # that share more of the question's other words
    question = "株洲市试点项目的牵头机构和累计放款是多少？"
    hits = assistant.retriever.search(question, 4, names=("株洲市",)).hits
    assert hits and all("株洲" in f"{h.title} {h.chunk.text}" for h in hits[:2]), [h.chunk.text[:40] for h in hits]
    named_first = [("株洲" in f"{h.title} {h.chunk.text}") for h in hits]
    assert named_first == sorted(named_first, reverse=True)  # no chunk without it before one with it
