"""Reading rules of the fourteenth session, each with what it must read and what it must not:

- who leads, builds or launches a pilot (是谁牵头的, 由谁承建, 牵头的是谁) asks an institution, not a person; the
  lead of such an answer is the institution the sentence says does that deed (assistant.question,
  assistant.keyfact);
- a province said with and without its suffix (湖北, 湖北省) is one subject: two reports' figures for it on one date
  are one series, shown side by side when they differ (assistant.series).

Examples are our own (fictional banks and projects).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant import question as qn
from assistant.keyfact import _doer
from assistant.series import Scored, same_day, same_series
from kb.records import Fact


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("那个冷链仓单项目是谁牵头的？", qn.INSTITUTION),
        ("智慧茶园贷由谁承建？", qn.INSTITUTION),
        ("渔船保险那个项目，牵头的是谁？", qn.INSTITUTION),
        ("该行分管科技的副行长是谁？", qn.PERSON),  # a person asked: no pilot deed
        ("谁提出了数据共享的方案？", qn.PERSON),
    ],
)
def test_who_does_a_pilot_deed_asks_an_institution(text: str, kind: qn.Kind) -> None:
    assert qn.classify(text) is kind


@pytest.mark.parametrize(
    ("question", "sentence", "doer"),
    [
        ("是谁牵头的？", "云岭互联银行牵头的“冷链仓单融资”项目于2025年3月上线。", "云岭互联银行"),
        ("由谁承建？", "平台由乌蒙农村商业银行承建，2024年底投入运行。", "乌蒙农村商业银行"),
        ("由谁牵头？", "由雪山银行和洱海农村商业银行联合牵头，覆盖三个县。", "雪山银行、洱海农村商业银行"),
        # a list is read as a list (the enumeration rule), not cut to its last name
        ("由哪几家银行牵头？", "该方向由雪山银行、乌蒙银行和洱海银行牵头。", ""),
        # two projects, each led by its own bank: no one doer
        ("是谁牵头的？", "雪山银行牵头的“茶园贷”项目和乌蒙银行牵头的“煤链通”项目均已上线。", ""),
        # the deed asked is not the deed said
        ("是谁承建的？", "雪山银行牵头的“茶园贷”项目已上线。", ""),
    ],
)
def test_the_doer_is_the_institution_the_sentence_says_does_it(question: str, sentence: str, doer: str) -> None:
    assert _doer(question, sentence) == doer


def _served(subject: str, doc: str, value: float) -> Fact:
    return Fact(doc_id=doc, subject=subject, metric="服务小微企业（万户）", value=value * 1e4, text=f"{value}",
                unit="万户", as_of="2025-12-31", as_of_text="2025.12.31", source_kind="cell")  # fmt: skip


def test_a_province_with_and_without_its_suffix_is_one_series() -> None:
    said, short = _served("云南省", "a", 8.12), _served("云南", "b", 8.21)
    assert same_series(said, short)
    assert not same_series(said, replace(short, subject="贵州"))  # another province
    assert not same_series(said, replace(short, subject="昆明市"))  # a city in it


def test_two_reports_differing_for_one_province_and_date_are_both_shown() -> None:
    facts = (_served("云南省", "a", 8.12), _served("云南", "b", 8.21))
    a, b = (Scored(f, 1.8, None, 1.0, 0.0, True) for f in facts)  # type: ignore[arg-type]  # no hit needed
    assert same_day(a, [a, b]) == [b]
