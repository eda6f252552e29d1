"""Reading rules of the fourteenth session, each with what it must read and what it must not:

- whose figures a document gives: 全省 in a speech given in a city by the provincial branch is the province; the
  meeting's venue owns nothing; a product in a title owns the figures, not the places it serves; 该项目 refers to the
  project named before, and where it is promoted is no part of its name (ingest.facts, kb.entities);
- names: an autonomous prefecture by its short name (昌吉州), a city that is a common word too when listed with
  places (普洱、临沧), an institution whose name begins inside a place's (kb.places, kb.entities);
- a question: asked in speech (贷款到现在一共放了多少), naming a product the registry knows, or one a character from
  it (another product), a one-character noun counted (多少个县) (assistant.question, assistant.fit);
- who leads, builds or launches a pilot (是谁牵头的, 由谁承建, 牵头的是谁) asks an institution, not a person; the
  lead of such an answer is the institution the sentence says does that deed (assistant.question,
  assistant.keyfact);
- a province said with and without its suffix (湖北, 湖北省) is one subject: two reports' figures for it on one date
  are one series, shown side by side when they differ (assistant.series).

Examples are our own (fictional banks and projects); fixtures: tests/data/rules/yunling-*.txt.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant import question as qn
from assistant.fit import counts_it
from assistant.keyfact import _doer
from assistant.series import Scored, same_day, same_series
from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import to_document
from kb.entities import named
from kb.places import also_called, lies_in, places, province_of, same_place
from kb.quantity import unsupported
from kb.records import Fact
from kb.segment import Segmenter

RULES = Path(__file__).resolve().parent / "data" / "rules"
NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"


def _facts(name: str) -> list[Fact]:
    path = RULES / name
    return extract(to_document(next(iter(loaders.load(path, 10**7))), path, 300))


def _of(facts: list[Fact], text: str) -> Fact:
    found = [f for f in facts if f.text == text]
    assert len(found) == 1, [(f.subject, f.metric, f.text) for f in found]
    return found[0]


@pytest.mark.parametrize("name", ["yunling-speech-2026.txt", "yunling-bank-release-2026.txt"])
def test_the_fixtures_say_they_are_fictional(name: str) -> None:
    assert (RULES / name).read_text("utf-8").splitlines()[0] == NOTE


def test_a_provincial_speech_given_in_a_city_speaks_of_the_province() -> None:
    facts = _facts("yunling-speech-2026.txt")
    assert _of(facts, "612.35亿元").subject == "云南省"  # 全省, said in 曲靖 by the provincial branch
    assert (_of(facts, "六万户").qualifier, _of(facts, "六万户").metric) == ("接近", "小微企业")
    assert _of(facts, "141.26亿元").subject == "曲靖市"  # a city named is still that city


def test_a_product_in_a_title_owns_the_figures_not_the_places_it_serves() -> None:
    facts = _facts("yunling-bank-release-2026.txt")
    for text in ("4,217户", "27.46亿元", "41.3%"):
        assert _of(facts, text).subject == "“滇茶链贷”", text
    assert _of(facts, "27.46亿元").metric == "贷款"  # 为普洱、临沧两地…茶农发放贷款: lent, to whom aside
    assert not [f for f in facts if f.text.startswith("一项")]  # 这一项目 is no count of 项


def test_where_a_project_is_promoted_is_no_part_of_its_name() -> None:
    text = "雪岭互联银行在普洱市、临沧市推广的“滇茶链贷”项目围绕茶叶产业链提供线上信用贷款。"
    assert [n.name for n in named(text) if n.kind == "project"] == ["“滇茶链贷”项目"]
    assert [n.name for n in named("苍山白族农村商业银行牵头的“洱海渔e贷”项目")][-1].startswith("苍山")


def test_an_institution_named_after_a_new_area_is_read_whole() -> None:
    assert [n.name for n in named("雄安新区白洋淀农村商业银行的“淀区渔苇贷”")] == ["雄安新区白洋淀农村商业银行"]
    assert [n.name for n in named("该平台由乌蒙农商银行承建")] == ["乌蒙农商银行"]


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("昌吉州", "昌吉回族自治州"),
        ("大理州", "大理白族自治州"),
        ("伊犁州", "伊犁哈萨克自治州"),
        ("湘西州", "湘西土家族苗族自治州"),
    ],
)
def test_an_autonomous_prefecture_by_its_short_name(short: str, full: str) -> None:
    assert [n.name for n in places(f"{short}的试点项目")] == [short]
    assert same_place(short, full) and also_called(short) == (full,) and also_called(full) == (short,)
    assert province_of(short) == province_of(full) != ""
    assert not same_place("昌吉市", "昌吉州") and lies_in("昌吉市", "昌吉州")  # the city in it is another place


def test_a_common_word_is_a_city_only_listed_with_places() -> None:
    assert [n.name for n in places("为普洱、临沧两地茶农")] == ["普洱", "临沧"]
    assert places("普洱、龙井等名茶") == []  # teas, not cities


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("滇中那边的试点贷款到现在一共放了多少？", "滇中那边的试点贷款"),
        ("滇茶链贷目前累计放款做到多少了？", "滇茶链贷目前累计放款"),
        ("滇中试点放贷多少？", "滇中试点放贷"),  # 放贷 is the metric, not a verb of asking
    ],
)
def test_a_how_much_question_asked_in_speech_reads_to_its_metric(question: str, phrase: str) -> None:
    assert qn.asked_phrase(question) == phrase


def test_a_product_the_registry_knows_and_one_a_character_from_it_are_names_asked(segmenter: Segmenter) -> None:
    known = {"滇茶链贷"}
    assert "滇茶链贷" in qn.parse("滇茶链贷在临沧放了多少？", segmenter, known).entities
    assert "滇茶仓贷" in qn.parse("滇茶仓贷是什么时候上线的？", segmenter, known).entities  # another product
    assert "滇茶链贷" not in qn.parse("临沧的试点贷款有多少？", segmenter, known).entities


def test_a_one_character_noun_counted_asks_the_metric_that_is_that_noun() -> None:
    county = Fact(doc_id="d", subject="云南省", metric="县", value=41.0, text="四十一个", unit="个")
    assert counts_it("云南的试点铺到多少个县（市、区）了？", county)
    assert not counts_it("云南的试点有多少个项目？", county)


def test_a_row_labelled_in_percent_supports_its_figures_said_as_shares() -> None:
    assert unsupported("83.7%；此前为81.2%", ["线上化率（%） | 81.2 | 83.7"]) == []
    assert unsupported("81.2%", ["贷款（亿元） | 81.2 | 83.7"]) == ["81.2%"]  # amounts, not shares


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
