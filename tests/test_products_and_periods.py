"""Quoted products as subjects, periods of months, and which-questions over change columns:

- a quoted name is a product that owns its figures where the document's title quotes it or a product noun follows
  it (“某某通”平台); any other quotation is not (“首贷户”);
- 2025年1-9月 is a period ending on September 30 (no day 2025-01-09), and its year is no part of a metric;
- 多少钱 asks an amount (金额), 钱包 stays a wallet;
- a place named beside a quoted project (清徐的“某某贷”) says where it runs, not whose figure is asked.
"""

from __future__ import annotations

from kb import dates
from kb.entities import named
from kb.products import products, with_products
from kb.wording import canonical, squeezed


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


def test_a_quotation_that_is_no_product_names_nothing() -> None:
    sentence = "“首贷户”占比达39.4%，“链上企业”数量增加。"
    assert products("某市试点进展情况", sentence) == set()
    assert with_products([], sentence, products("某市试点进展情况", sentence)) == []


def test_months_from_to_are_a_period_ending_on_the_last() -> None:
    found = dates.mentions("2025年1-9月平台办理结算金额101.73亿元", "2025-10-16")
    assert [(m.text, m.iso, m.precision, m.as_of) for m in found] == [("2025年1-9月", "2025-09-30", "month", False)]
    assert dates.mentions("9-3月", "2025-10-16") == []  # no period runs backwards


def test_a_period_keeps_its_months_not_its_year_in_the_metric() -> None:
    from ingest.facts import _metric
    from kb.quantity import quantities

    sentence = "其中，2025年1-9月平台办理结算金额101.73亿元"
    q = next(x for x in quantities(sentence) if x.text.startswith("101.73"))
    assert _metric(sentence, q, q.end + 1) == "1-9月平台办理结算金额"


def test_how_much_money_asks_an_amount() -> None:
    assert squeezed("平台累计结算了多少钱？").endswith("结算金额？")
    assert canonical("数字人民币钱包") == "数字人民币钱包"
