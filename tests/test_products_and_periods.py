"""Quoted products as subjects, periods of months, and which-questions over change columns:

- a quoted name is a product that owns its figures where the document's title quotes it or a product noun follows
  it (“某某通”平台); any other quotation is not (“首贷户”);
- 2025年1-9月 is a period ending on September 30 (no day 2025-01-09), and its year is no part of a metric;
- 多少钱 asks an amount (金额), 钱包 stays a wallet;
- a place named beside a quoted project (某县的“某某贷”) says where it runs, not whose figure is asked;
- figures that restate the ones before (这两项数据分别为A和B), 为N家企业发放贷款X, counts of pilot projects by what
  every pilot is (纳入试点的项目共23个，其中甲市11个), 去年同期为 (the figure before, a year earlier), a date restating
  one figure (6月末为…) that dates nothing after it;
- questions: 前三季度 and a yearless 1—10月 are periods asked; 那几个项目 points and asks no number; 哪个区的贷款
  发得最多 asks 贷款.

Fixture: tests/data/rules/minjiang-notes-2025.md (fictional; the first line says so).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import question as qn
from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import to_document
from kb import dates
from kb.entities import named
from kb.products import products, with_products
from kb.records import Fact
from kb.wording import canonical, squeezed

NOTES = Path(__file__).resolve().parent / "data" / "rules" / "minjiang-notes-2025.md"


def test_a_quoted_name_is_a_product_where_the_title_quotes_it_or_a_product_noun_follows() -> None:
    title = "某数字银行“海贸通”结算平台服务企业数量增长"
    text = "“链融贷”产品上线以来，“首贷户”占比提高；“海贸通”累计结算86.2亿元。"
    assert products(title, text) == {"海贸通", "链融贷"}


def test_a_sentence_naming_a_product_names_its_owner() -> None:
    sentence = "截至2025年9月末，“海贸通”累计办理结算1.2万笔。"
    names = with_products(named(sentence), sentence, {"海贸通"})
    assert [(n.name, n.kind) for n in names] == [("“海贸通”", "project")]
    inside = "甲银行“海贸通”项目累计结算5亿元"  # inside a longer name: that name stands
    assert all(n.name != "“海贸通”" for n in with_products(named(inside), inside, {"海贸通"}))


@pytest.mark.parametrize(
    "text",
    [
        "某市推行“最多跑一次”服务，试点项目累计发放贷款45亿元。",  # a slogan
        "人民银行“两增两控”要求落实到位。",  # a regulator's policy, not a bank's product
        "各地聚焦“三农”领域。",
    ],
)
def test_slogans_and_policies_are_no_products(text: str) -> None:
    assert products("某市试点进展情况", text) == set()


def test_a_quotation_that_is_no_product_names_nothing() -> None:
    sentence = "“首贷户”比重升至41.2%，“链上企业”数量增加。"
    assert products("某市试点进展情况", sentence) == set()
    assert with_products([], sentence, products("某市试点进展情况", sentence)) == []


def test_months_from_to_are_a_period_ending_on_the_last() -> None:
    found = dates.mentions("2025年1-9月平台办理结算金额64.08亿元", "2025-10-16")
    assert [(m.text, m.iso, m.precision, m.as_of) for m in found] == [("2025年1-9月", "2025-09-30", "month", False)]


def test_a_period_keeps_its_months_not_its_year_in_the_metric() -> None:
    from ingest.metric import metric_of as _metric
    from kb.quantity import quantities

    sentence = "其中，2025年1-9月平台办理结算金额64.08亿元"
    q = next(x for x in quantities(sentence) if x.text.startswith("64.08"))
    assert _metric(sentence, q, q.end + 1) == "1-9月平台办理结算金额"


def test_how_much_money_asks_an_amount() -> None:
    assert squeezed("这个平台一共结算过多少钱？").endswith("结算过金额？")
    assert canonical("数字人民币钱包") == "数字人民币钱包"


@pytest.fixture(scope="module")
def notes() -> dict[str, Fact]:
    assert NOTES.read_text("utf-8").startswith("（本文为测试用虚构材料，数据不代表真实情况。）")
    doc = to_document(next(iter(loaders.load(NOTES, 10**7))), NOTES, 300)
    return {f.text: f for f in extract(doc)}


@pytest.mark.parametrize(
    ("text", "subject", "metric", "as_of"),
    [
        ("23个", "福建省", "试点项目", "2025-10-20"),  # 全省纳入试点的项目共23个: a count of pilots, the province's
        ("11个", "福州市", "试点项目", "2025-10-20"),  # 其中福州市11个: the city's
        ("1,204家", "“榕链贷”", "小微企业", "2025-09-30"),  # 闽江银行“榕链贷”: the product's figures
        ("42.18亿元", "“榕链贷”", "贷款", "2025-09-30"),  # 为1,204家…发放贷款: the lending, not the enterprises
        ("986家", "“榕链贷”", "小微企业", "2024-12-31"),  # 去年底，这两项数据分别为986家和…
        ("33.57亿元", "“榕链贷”", "贷款", "2024-12-31"),
        ("48.06亿元", "福建省", "试点项目发放贷款", "2024-09-30"),  # 去年同期为: last year's, same metric
        ("2.88万户", "福建省", "试点项目服务企业", "2025-06-30"),  # 6月末为…
        ("1,936台", "福建省", "各试点单位布放智能终端", "2025-09-30"),  # not carried from 6月末为
        ("652家", "“茶链通”", "茶企", "2025-09-30"),  # 闽江银行“茶链通”: a bank's product
    ],
)
def test_figures_read_from_what_the_sentences_say(notes: dict[str, Fact], text: str, subject: str, metric: str,
                                                  as_of: str) -> None:  # fmt: skip
    f = notes[text]
    assert (f.subject, f.metric, f.as_of) == (subject, metric, as_of)


def test_a_reference_to_the_figures_is_no_figure(notes: dict[str, Fact]) -> None:
    assert "两项" not in notes and all("数据分别" not in f.metric for f in notes.values())


@pytest.mark.parametrize(
    ("question", "newest", "since", "until"),
    [
        ("2024年前三季度发放了多少贷款？", None, "2024-09-01", "2024-09-30"),
        ("泉州1—10月试点贷款新增了多少？", "2025-12-02", "2025-10-01", "2025-10-31"),  # the newest report's year
        ("11月末放了多少？", "2026-01-15", "2025-11-30", "2025-11-30"),  # not yet come in 2026: 2025's
    ],
)
def test_periods_asked(question: str, newest: str | None, since: str, until: str) -> None:
    asked = dates.asked(question, "2026-12-07", newest)
    assert asked is not None and (asked.since, asked.until) == (since, until)


def test_those_few_projects_point_and_ask_no_number() -> None:
    assert qn._unit("闽侯那几个项目一共帮了多少个体户？", qn.QUANTITY) == "户"
    assert qn._unit("有几个试点项目？", qn.QUANTITY) == "个"


def test_which_district_lent_most_asks_the_lending() -> None:
    assert qn.asked_phrase("福州哪个县的试点贷款发得最多？") == "福州哪个县的试点贷款"


def test_places_listed_with_their_own_figures_restate_nothing() -> None:
    from ingest.respective import restating

    assert not restating("甲市、乙市分别为30亿元和20亿元")  # the places' own figures
    assert restating("去年底，这两项数据分别为986家和33.57亿元")


def test_a_ratio_to_last_year_is_no_figure_of_last_year(notes: dict[str, Fact]) -> None:
    from ingest.facts import _YEAR_BEFORE

    assert _YEAR_BEFORE.search("新增贷款50亿元，为去年同期的") is None
    assert _YEAR_BEFORE.search("去年同期为") is not None


def test_only_a_documents_issue_is_asked_as_its_date() -> None:
    from assistant.issued import asks

    assert asks("那份通知是什么时候下发的？") and asks("这份简报的印发日期是哪天？")
    assert not asks("进展情况报告里首笔试点贷款是什么时候发的？")  # a loan's date, in a report


@pytest.mark.parametrize(
    ("question", "of_two"),
    [
        ("仓山区和晋安区比，哪个试点服务的企业更多？", True),
        ("福州和厦门的试点中，哪个项目累计发放贷款最多？", False),  # which project, not which of the two places
        ("福建福州哪个银行放款更多？", False),  # a city within its province is one place
    ],
)
def test_which_of_two_places(question: str, of_two: bool) -> None:
    from assistant.compare import _of_two

    assert _of_two(question) is of_two


def test_a_noun_counted_in_the_facts_unit_asks_its_metric() -> None:
    from assistant.fit import counts_it

    fact = Fact(doc_id="d", subject="“榕链贷”", metric="民宿经营户", value=1212.0, text="1,212户", unit="户")
    assert counts_it("榕链贷一共服务了多少户民宿？", fact)  # 民宿 counted in 户: 民宿经营户
    assert not counts_it("榕链贷一共服务了多少家民宿？", fact)  # counted in 家: another count


def test_a_figure_is_not_the_questions_own_because_its_digits_stand_in_a_year() -> None:
    from assistant.match import _answering

    # 2项 answers though the question says 2025: only whole numbers the question says are its own
    assert _answering("某大学在2025年度基金中获得多少项立项？", "2025年12月3日，该校2项申请均获立项。")
    assert not _answering("某大学在2025年度基金中获得多少项立项？", "2025年12月3日，基金公布立项名单。")  # a date only
