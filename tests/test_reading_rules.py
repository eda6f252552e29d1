"""Reading rules of the twelfth session, each with what it must read and what it must not (ingest.facts,
ingest.table_facts, kb.entities, assistant.question, assistant.facts, assistant.factsheet):

- a unit line or caption that pairs units with metrics (单位：亿元；服务户数为万户, （贷款：亿元；棉企：万户）);
- rows listed under a 其中 row (其中：甲市 | 乙市) are parts too; a note that defines one metric
  (注：累计发放贷款为…) is not the table's metric;
- 全市 after 据某市…统计 is that city, even in a bank's release; 该项目 refers to the project or bank named last,
  not to a place it runs in;
- a sentence opening with 其中 lists parts of the figure before it;
- a place's own characters are no joining word (呼和浩特) nor a question word (鄂尔多斯);
- a how-much question that names only a metric's object (试点贷款累计数) asks the metric (发放贷款);
- a level and its change for one date never disagree on the 事实 page;
- a correction worded 应为…，原简报误为… or 较年初增加额调整为…（原为…）: the right figure, the published one, the
  change kept a change, the metric without the correcting words;
- a table's project name and a sentence's 某行牵头的“…”项目 are one subject's figures over time.

Fixtures: tests/data/rules/ (fictional; the first line says so).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant import question as qn
from assistant.extract import Candidate, Draft
from assistant.factsheet import conflicts
from assistant.fit import object_asked as _object_asked
from assistant.keyfact import enum_items, key_fact
from assistant.match import _restriction, check
from assistant.series import change_base, flow, flow_asked, same_series
from assistant.when import annual, in_time
from ingest import loaders
from ingest.facts import extract
from ingest.metric import metric_of as _metric
from ingest.pipeline import to_document
from ingest.table_facts import _unit_of
from kb import dates
from kb.entities import named
from kb.quantity import quantities, unit_end, unsupported
from kb.records import CORRECTED, CORRECTION, Chunk, Document, Fact, Hit, Section

RULES = Path(__file__).resolve().parent / "data" / "rules"
NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"
SUMMARY = "xinjiang-pilots-2025h1.md"
RELEASE = "tianshan-bank-release-2025.txt"
NOTICE = "hami-correction-2025.md"


def _facts(name: str) -> list[Fact]:
    path = RULES / name
    parsed = next(iter(loaders.load(path, 10**7)))
    return extract(to_document(parsed, path, 300))


def _one(facts: list[Fact], text: str, kind: str | None = None) -> Fact:
    found = [f for f in facts if f.text == text and (kind is None or f.source_kind == kind)]
    assert len(found) == 1, [(f.subject, f.metric, f.text, f.source_kind) for f in found]
    return found[0]


@pytest.mark.parametrize("name", [SUMMARY, RELEASE, NOTICE])
def test_the_fixtures_say_they_are_fictional(name: str) -> None:
    assert (RULES / name).read_text("utf-8").splitlines()[0] == NOTE


@pytest.fixture(scope="module")
def summary() -> list[Fact]:
    return _facts(SUMMARY)


@pytest.mark.parametrize(
    ("text", "subject", "metric", "unit"),
    [
        ("240.5", "新疆维吾尔自治区", "累计发放贷款", "亿元"),  # 单位：亿元 holds for every metric no pair names
        ("3.2", "新疆维吾尔自治区", "服务市场主体", "万户"),  # 服务户数为万户 names 服务…市场主体
        ("120.3", "乌鲁木齐市", "累计发放贷款", "亿元"),  # 其中：乌鲁木齐市
        ("60.1", "克拉玛依市", "累计发放贷款", "亿元"),  # listed under it: a part too, not the note's words
        ("12.6", "哈密市", "发放贷款", "亿元"),  # caption （贷款：亿元；棉企：万户）
        ("0.35", "哈密市", "服务棉企", "万户"),
    ],
)
def test_table_units_parts_and_metrics(summary: list[Fact], text: str, subject: str, metric: str, unit: str
                                       ) -> None:  # fmt: skip
    f = _one(summary, text, "cell")
    assert (f.subject, f.metric, f.unit) == (subject, metric, unit)


def test_a_sentence_opening_with_qizhong_divides_the_figure_before(summary: list[Fact]) -> None:
    f = _one(summary, "60.1亿元", "text")
    assert (f.subject, f.metric, f.as_of) == ("克拉玛依市", "试点项目累计发放贷款", "2025-06-30")
    # the change before it (较年初增加31.2亿元) is not what the parts divide
    assert _one(summary, "120.3亿元", "text").qualifier == ""


def test_a_noun_after_a_count_ends_before_the_next_count_or_verb(summary: list[Fact]) -> None:
    assert _one(summary, "七家").metric == "运营机构"
    assert _one(summary, "1,120家").metric == "棉企"  # 1,120家棉企提供融资


def test_a_second_figure_named_only_by_what_it_is_takes_the_firsts_noun(summary: list[Fact]) -> None:
    # 交易1,234.5万笔、金额56.78亿元: 数字人民币交易金额 (the thousands separator parts no clause; 上半年 is no
    # part of a metric)
    assert _one(summary, "1,234.5万笔").metric == "数字人民币交易"
    assert _one(summary, "56.78亿元").metric == "数字人民币交易金额"


def test_an_action_directed_at_someone_is_measured_from_the_action(summary: list[Fact]) -> None:
    f = _one(summary, "860.5万元")  # 向企业和个人发放各类补贴: not who received them
    assert (f.subject, f.metric) == ("乌鲁木齐市", "各类补贴")


def test_the_project_is_the_banks_not_the_place_it_runs_in(summary: list[Fact]) -> None:
    assert _one(summary, "12.6亿元", "text").subject.startswith("天山示范银行")


@pytest.fixture(scope="module")
def release() -> list[Fact]:
    return _facts(RELEASE)


def test_quanshi_after_a_city_statistics_office_is_that_city(release: list[Fact]) -> None:
    f = _one(release, "30.8亿元")
    assert (f.subject, f.as_of) == ("哈密市", "2025-06-30")  # not the bank whose release it is


def test_gaixiangmu_refers_to_the_bank_not_to_the_place_named_last(release: list[Fact]) -> None:
    assert _one(release, "12.6亿元").subject in (
        "天山示范银行",
        "“棉花仓单数字融资”",
    )  # the bank or its project, not the place


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("呼和浩特市试点项目累计发放贷款", ["呼和浩特市"]),  # 和 inside a place joins nothing
        ("其中：鄂尔多斯市（亿元）", ["鄂尔多斯市"]),  # 多 inside a place asks nothing
        ("甲乙农商行和丙丁银行", ["甲乙农商行", "丙丁银行"]),  # a real joining word still parts two names
    ],
)
def test_place_characters_are_no_joining_or_question_words(text: str, names: list[str]) -> None:
    assert [n.name for n in named(text)] == names


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("新疆全区试点贷款最新的累计数是多少？", "新疆全区试点贷款"),
        ("哈密试点贷款二季度环比增速是多少？", "哈密试点贷款"),
        ("哈密试点贷款余额是多少？", "哈密试点贷款余额"),
        ("哈密市有几个试点项目", "哈密市"),
    ],
)
def test_the_metric_phrase_a_question_asks(question: str, phrase: str) -> None:
    assert qn.asked_phrase(question) == phrase


def _fact(metric: str, text: str = "1亿元", qualifier: str = "", unit: str = "元", value: float = 1e8) -> Fact:
    return Fact(doc_id="d", subject="哈密市", metric=metric, value=value, text=text, unit=unit, qualifier=qualifier,
                as_of="2025-06-30", as_of_text="2025年6月末", start=0, end=1)  # fmt: skip


@pytest.mark.parametrize(
    ("question", "metric", "asked"),
    [
        ("哈密市试点贷款最新的累计数是多少？", "试点项目累计发放贷款", True),
        ("哈密全市的贷款累计是多少？", "发放贷款", True),
        ("哈密市试点贷款余额是多少？", "发放贷款", False),  # a balance is not the amount lent
        ("哈密市不良贷款是多少？", "发放贷款", False),  # nor a bad loan
        ("哈密市试点贷款是多少？", "贷款余额", False),  # 贷款余额 is no verb and its object
    ],
)
def test_a_question_may_ask_a_metrics_object_alone(question: str, metric: str, asked: bool) -> None:
    assert _object_asked(question, _fact(metric)) is asked


def test_a_level_and_its_change_never_disagree() -> None:
    level = _fact("发放贷款", "30.8亿元", value=30.8e8)
    growth = _fact("发放贷款", "8.6%", qualifier="环比增长", unit="%", value=8.6)
    other = _fact("发放贷款", "31.5亿元", value=31.5e8)
    assert conflicts([level, growth]) == set()
    assert conflicts([level, growth, other]) == {0, 2}


@pytest.mark.parametrize(
    ("text", "subject", "qualifier"),
    [
        # a district is a place (kb/data/counties.txt): its figure is the district's, not a project's
        ("8.42亿元", "伊州区", CORRECTION),  # 应为 8.42, 原简报误为 7.96
        ("7.96亿元", "伊州区", CORRECTED),
        ("31.26亿元", "哈密市", CORRECTION),  # 全市…相应调整为 31.26（原为30.8亿元）
        ("30.8亿元", "哈密市", CORRECTED),
        ("4.35亿元", "哈密市", f"{CORRECTION}较年初增加"),  # 较年初增加额调整为: a change, corrected
        ("3.89亿元", "哈密市", f"{CORRECTED}较年初增加"),  # （原为3.89亿元） after it: that change as published
    ],
)
def test_corrections_as_notices_word_them(text: str, subject: str, qualifier: str) -> None:
    f = _one(_facts(NOTICE), text)
    assert (f.subject, f.qualifier, f.metric, f.as_of) == (subject, qualifier, "贷款", "2025-06-30")


def test_a_project_named_in_a_table_and_in_a_sentence_is_one_series() -> None:
    cell = replace(_fact("累计放款"), subject="棉花仓单数字融资")
    said = replace(_fact("放款"), subject="天山示范银行牵头的“棉花仓单数字融资”项目")
    assert same_series(cell, said)
    assert not same_series(replace(cell, subject="仓单"), said)  # two characters may be any word's


@pytest.mark.parametrize(
    ("question", "required"),
    [
        ("哈密市发放消费券是和几家运营机构一起搞的？", "运营机构"),  # 一起搞的 asks nothing of what is counted
        ("哈密市有几家合作社完成了验收？", "合作社完成验收"),  # a restriction stays one
    ],
)
def test_colloquial_doing_together_is_no_restriction(question: str, required: str) -> None:
    assert _restriction(question) == required


@pytest.mark.parametrize(
    ("sentence", "items"),
    [
        (
            "绿色方向的三个项目分别由甲秀数联银行、乙江通汇银行和丙山信合银行牵头。",
            ["甲秀数联银行", "乙江通汇银行", "丙山信合银行"],
        ),
        ("试点已推广到乌鲁木齐、克拉玛依和哈密等城市。", ["克拉玛依", "哈密"]),
        ("学院开设了会计、审计和税务等课程。", ["审计"]),  # no names: what follows 和 is not cut out
    ],
)
def test_a_list_of_names_closes_with_the_name_after_he(sentence: str, items: list[str]) -> None:
    assert enum_items(sentence)[-len(items) :] == items


# -- what these rules must not read (a review's examples) ---------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "figure", "metric"),
    [
        ("全区建成12个三农服务站。", "12个", "三农服务站"),  # a numeral inside the noun is no next count
        ("对公结算量3.5亿元。", "3.5亿元", "对公结算量"),  # 对公 directs nothing to anyone
        ("保障农资供应1.2万吨。", "1.2万吨", "保障农资供应"),  # 应 ends a word here: no correction outside a notice
        ("新增贷款5亿元、余额35亿元。", "35亿元", "余额"),  # a balance is no 新增's
    ],
)
def test_metrics_these_rules_leave_alone(sentence: str, figure: str, metric: str) -> None:
    q = next(x for x in quantities(sentence) if sentence[x.start :].startswith(figure))
    assert _metric(sentence, q, unit_end(sentence, q.end)) == metric


def _document(text: str, title: str = "岳阳市金融科技应用试点进展") -> Document:
    return Document(doc_id="d", title=title, text=text, source="d.txt", date="2025-01-10",
                    sections=(Section(0, len(text)),))  # fmt: skip


def test_quanshi_compared_with_another_city_is_still_the_documents_own() -> None:
    facts = extract(_document("与衡阳市相比，全市试点项目累计发放贷款35亿元。"))
    assert [f.subject for f in facts if f.text == "35亿元"] == ["岳阳市"]


def test_a_unit_pair_does_not_lend_a_count_unit_to_an_amount() -> None:
    assert _unit_of("服务金额", "单位：亿元；服务户数为万户") == "亿元"
    assert _unit_of("服务市场主体", "单位：亿元；服务户数为万户") == "万户"


@pytest.mark.parametrize(
    ("question", "unit"),
    [("某市试点项目有多少资金流向农户？", "元"), ("某市试点项目惠及多少养殖户？", "户")],
)
def test_a_question_ending_on_a_counted_noun_asks_its_counter_unless_it_asks_money(question: str, unit: str) -> None:
    assert qn._unit(question, qn.classify(question)) == unit


def test_a_bank_named_after_a_place_with_a_question_character_is_a_bank() -> None:
    assert [(n.name, n.kind) for n in named("鄂尔多斯农商银行牵头")] == [("鄂尔多斯农商银行", "org")]


def _hit(title: str, text: str, date: str) -> Hit:
    return Hit(Chunk("c", "d", 0, text, 0, len(text)), 1.0, title=title, date=date)


def test_a_whole_year_asked_is_stated_by_the_documents_title_a_day_is_not() -> None:
    # rule: 2023年度评估 asks the year the assessment covers: a report titled …2023年度评估情况通报, published in
    # 2024, is of it; 2023年时 asks a point in the year and 2023年底 a day, which a title naming the year does not state
    hit = _hit("某省金融科技应用试点项目2023年度评估情况通报", "甲银行牵头的项目进入优秀档次。", "2024-02-20")
    yearly, point, day = (
        "某省2023年度评估里进入优秀档的银行有哪些？",
        "2023年时，某省的牵头银行是哪家？",
        "某省2023年底试点贷款是多少？",
    )
    asked = {q: dates.asked(q, "2026-12-07") for q in (yearly, point, day)}
    assert all(a is not None for a in asked.values())
    assert in_time([hit], asked[yearly], annual(yearly, asked[yearly])) == [hit]  # type: ignore[arg-type]
    assert in_time([hit], asked[point], annual(point, asked[point])) == []  # type: ignore[arg-type]
    assert in_time([hit], asked[day], annual(day, asked[day])) == []  # type: ignore[arg-type]


def test_two_names_joined_by_he_are_a_list_and_a_list_of_names_does_not_go_on_in_other_words() -> None:
    # rule: 甲银行和乙银行已完成改造 lists two names with no 、; the next sentence's enumeration of things (港口、
    # 文旅、交通) is no continuation of a list of names
    q = qn.Question(text="哈密有哪些地方法人银行完成了受理环境改造？", kind=qn.LIST, unit="", entities=(), terms=())
    texts = [
        "地方法人机构中，天山示范银行和雪莲数智银行已完成受理环境改造。",
        "各银行在港口、文旅、交通等领域推进应用。",
    ]
    assert key_fact(q, texts) == "天山示范银行、雪莲数智银行"


# -- what a figure is asked as: an average, a change of which base, a period's new figure ------------------
@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("同比增长多少", "同比"),
        ("较上年末增长24.7%", "年初"),
        ("比年初增加3亿元", "年初"),
        ("环比增速", "环比"),
        ("增长了多少", ""),
    ],
)
def test_the_base_a_change_is_against(text: str, base: str) -> None:
    assert change_base(text) == base


def test_a_period_new_figure_is_a_flow() -> None:
    assert flow(_fact("一季度新增服务小微企业和个体工商户", "0.36万户", unit="户"))
    assert not flow(_fact("服务小微企业和个体工商户", "3.2万户", unit="户"))
    assert flow_asked("一季度新增了多少户？") and not flow_asked("惠及了多少户？")


def _draft(lead: str, sentence: str) -> Draft:
    return Draft(
        lead, (Candidate(_hit("某行项目", sentence, "2025-01-01"), 0, len(sentence), sentence, 1.0, 1.0),), True
    )


@pytest.mark.parametrize(
    ("question", "lead", "sentence", "kept"),
    [
        ("某行项目平均每家企业贷了多少？", "58.3亿元", "项目累计为1,466家企业发放贷款58.3亿元。", False),  # a total
        ("某行项目平均每家企业贷了多少？", "470万元", "户均贷款470万元。", True),
        ("某行项目累计发放贷款多少？", "470万元", "户均贷款470万元。", False),  # an average for a total
    ],
)
def test_an_average_asked_is_answered_by_an_average_only(question: str, lead: str, sentence: str, kept: bool
                                                          ) -> None:  # fmt: skip
    q = qn.Question(text=question, kind=qn.QUANTITY, unit="", entities=(), terms=())
    assert check(q, _draft(lead, sentence)).grounded is kept


def test_a_date_that_introduces_a_figure_of_its_own_dates_no_figure_before_it() -> None:
    doc = _document("截至2025年10月末，全市服务企业5.79万户，9月末为5.63万户。")
    by_text = {f.text: f for f in extract(doc)}
    assert by_text["5.63万户"].as_of == "2025-09-30"
    assert by_text["5.79万户"].as_of == "2025-10-31"
    doc = _document("服务企业5.79万户，9月末为5.63万户。")
    assert {f.text: f.as_of for f in extract(doc)}["5.79万户"] == "2025-01-10"  # the document's, not 9月末


def test_a_share_row_takes_no_amount_unit_from_the_unit_line() -> None:
    assert _unit_of("线上审批占比", "单位：亿元") == ""
    assert _unit_of("累计发放贷款", "单位：亿元") == "亿元"


def test_sha_shihou_asks_a_time() -> None:
    assert qn.classify("某行那个项目啥时候上线的？") is qn.TIME


def test_a_sentence_naming_no_one_goes_on_about_its_paragraphs_bank() -> None:
    # rule: 甲银行牵头的该项目…上线。截至3月末，累计为果农发放贷款8.6亿元: the bank's figure, not the city's; a new
    # paragraph has its own topic; a date with no year is no part of a metric
    text = (
        "哈密市试点情况\n甲岭数智银行牵头的该项目于2023年6月上线。截至3月末，累计为果农发放贷款8.6亿元。\n"
        "截至3月末，全市累计发放贷款26.9亿元。"
    )
    facts = {f.text: f for f in extract(_document(text, title="哈密市金融科技应用试点一季度情况"))}
    assert facts["8.6亿元"].subject == "甲岭数智银行"
    assert facts["26.9亿元"].subject == "哈密市"
    assert "3月末" not in facts["26.9亿元"].metric


def test_markers_part_numbers_on_either_side() -> None:
    # a quote ending in a figure before one beginning with a year: two numbers, both supported
    assert unsupported("341.95[2]2025年末", ["341.95", "2025年末"]) == []


# -- a second review's examples ---------------------------------------------------------------------------
def test_a_regulator_or_two_banks_are_no_paragraph_topic() -> None:
    text = (
        "人民银行哈密市分行指导辖内机构开展试点。截至2024年末，累计发放贷款15.8亿元。\n"
        "甲岭数智银行和乙泉信合银行参与试点。截至2024年末，各试点项目累计发放贷款3.5亿元。"
    )
    facts = {f.text: f for f in extract(_document(text, title="哈密市金融科技应用试点进展"))}
    assert facts["15.8亿元"].subject == "哈密市"
    assert facts["3.5亿元"].subject not in ("甲岭数智银行", "乙泉信合银行")


def test_a_period_flow_keeps_its_period_in_the_metric() -> None:
    facts = {f.text: f for f in extract(_document("1-6月累计发放贷款8亿元。", title="哈密市试点进展"))}
    assert "月" in facts["8亿元"].metric


def test_a_name_glued_to_another_is_no_member_of_a_pair() -> None:
    assert enum_items("参与的有工商银行常德分行和建设银行。") == []
    assert enum_items("甲岭数智银行和乙泉信合银行已完成改造。") == ["甲岭数智银行", "乙泉信合银行"]


def test_an_average_asked_is_answered_by_a_facts_dated_lead() -> None:
    q = qn.Question(text="某行项目户均贷款是多少？", kind=qn.QUANTITY, unit="", entities=(), terms=())
    assert check(q, _draft("23万元（截至2024年末）", "户均贷款23万元。")).grounded
