"""Golden tables: Chinese numerals and units, number checks, question types and entities."""

from __future__ import annotations

import pytest

from assistant import question as qn
from assistant.extract import Candidate, Extractor
from assistant.keyfact import enum_items, key_fact
from kb.quantity import chinese_to_int, quantities, unsupported
from kb.records import Chunk, Hit
from kb.segment import Segmenter

NUMERALS = [("三十三", 33), ("一百二十三", 123), ("两万", 20000), ("十", 10), ("二〇二〇", 2020), ("一千零五", 1005)]


@pytest.mark.parametrize(("text", "value"), NUMERALS)
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_to_int(text) == value


QUANTITIES = [
    ("签约用户10.29万户", [(102900.0, False)]),
    ("贷款投放量超过876亿元", [(87_600_000_000.0, False)]),
    ("效率提高了83%", [(83.0, True)]),
    ("效率提高了百分之八十三", [(83.0, True)]),
    ("布放终端４８２１台", [(4821.0, False)]),
    ("共有三十三项", [(33.0, False)]),
    ("进一步加强", []),
    ("编号AGG01的物质", []),
]


@pytest.mark.parametrize(("text", "expected"), QUANTITIES)
def test_quantities(text: str, expected: list[tuple[float, bool]]) -> None:
    assert [(q.value, q.percent) for q in quantities(text)] == expected


def test_unsupported_numbers_by_value() -> None:
    quote = "截至2020年9月3日该项目签约用户数量已达10.29万户。"
    assert unsupported("签约用户102900户[1]", [quote]) == []
    assert unsupported("签约用户12万户[1]", [quote]) == ["12万"]
    assert unsupported("共33项[2]", [quote]) == ["33"]


KINDS = [
    ("刷脸付受理终端布放了多少台？", qn.QUANTITY, "台"),
    ("哪几家银行发放了电子社保卡？", qn.INSTITUTION, ""),
    ("试点项目什么时候全部上线？", qn.TIME, ""),
    ("谁是济南分行副行长？", qn.PERSON, ""),
    ("试点涵盖哪些方向？", qn.LIST, ""),
    ("济南分行如何推动试点？", qn.REASON, ""),
    ("试点项目是否已全部上线？", qn.YESNO, ""),
    ("介绍一下齐鲁银行的项目", qn.OTHER, ""),
]


@pytest.mark.parametrize(("text", "kind", "unit"), KINDS)
def test_question_kinds(text: str, kind: str, unit: str, segmenter: Segmenter) -> None:
    q = qn.parse(text, segmenter)
    assert (q.kind, q.unit) == (kind, unit)


def test_entities_and_aliases() -> None:
    assert qn.entities("广东省试点项目数量是多少？") == ("广东",)
    assert qn.entities("2021年工行补办了多少张？") == ("工行", "2021年")
    assert qn.mentions("工行", "中国工商银行发放了电子社保卡")
    assert not qn.mentions("广东", "山东省33项试点")


SCHOOLS = [
    ("2023年的合格生中，清溪中学有几人入选？", ("清溪中学", "2023年")),
    ("在2016年的江西名单中，第三所重点中学是哪所？", ("江西", "重点中学", "2016年")),  # not 第三所…
    ("获奖名单中，浙江省排首位的中学叫什么?", ("浙江",)),
    ("竞赛获奖的河北中学中，名列第三的是哪所中学？", ("河北",)),  # the province's schools, none named
    ("周书远小学时在哪所学校就读？", ()),  # his primary school years, not a school named 书远小学
    ("北京市第一中学有多少学生？", ("北京", "北京市第一中学")),
    ("实验中学毕业生有多少人？", ("实验中学",)),
]


@pytest.mark.parametrize(("text", "expected"), SCHOOLS, ids=[t for t, _ in SCHOOLS])
def test_school_names_are_entities(text: str, expected: tuple[str, ...]) -> None:
    assert qn.entities(text) == expected


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("省工行、农行、中行、邮储银行、农联社等5家银行合作。", ["省工行", "农行", "中行", "邮储银行", "农联社"]),
        # the list starts mid-clause: keep what follows 于
        ("林晓曾就学于杭州市西湖实验学校、杭州市文澜小学。", ["杭州市西湖实验学校", "杭州市文澜小学"]),
        # never an item cut out of a number (1989 → 89) or running on into the clause after the list
        ("1995年全省青年书法新秀王立群、陈思、赵一鸣、刘畅于市美术馆展出作品。", ["陈思", "赵一鸣", "刘畅"]),
        # names keep the characters that elsewhere mark a clause (有限公司, 华为, 在线)
        ("参与单位包括中国银联股份有限公司、济南农商银行等。", ["中国银联股份有限公司", "济南农商银行"]),
        ("据悉，合作方为在线支付公司、浪潮、华为等。", ["在线支付公司", "浪潮", "华为"]),
        ("没有列举。", []),
    ],
)
def test_enumeration_items(text: str, items: list[str]) -> None:
    assert enum_items(text) == items


@pytest.mark.parametrize(
    ("question", "text", "anchors", "lead"),
    [
        ("刷脸付终端布放了多少台？", "截至2020年9月3日共计布放“刷脸付”受理终端4821台,绑卡29.98万张。", (), "4821台"),
        # a range is one answer; the unit asked for may follow its far end
        ("叶片长约多少厘米？", "这种灌木的叶片长约8至12厘米。", (), "8至12厘米"),
        ("分布的区域海拔约是多少米？", "分布于海拔300米至1,500米的区域。", (), "300米至1,500米"),
        ("青年读者占读者的比例是多少？", "通常占图书馆读者总数的30%至45%。", (), "30%至45%"),
        # the unit asked for is not there: no key fact rather than a wrong one (一个 is not a length)
        ("身高约是多少公分？", "该犬是其中一个品种。", (), ""),
        # a number the question itself states is not the answer
        ("女子200米游泳有多少国家参赛？", "女子200米游泳比赛共有来自31个国家及地区的52名运动员参与。", (), "31个"),
        ("芯片主频是多少？", "芯片的主频为3.2 GHz。", (), "3.2 GHz"),
        # the date whose clause names what is asked, not the first date
        ("他是何时入党的？", "1981年7月参加工作，1982年7月入党。", ("入党",), "1982年7月"),
        ("节目是何时停播的？", "1993年（民国82年）1月24日起，节目停播。", ("停播",), "1993年（民国82年）1月24日"),
        # the count attached to what is asked, not the first count in the same unit
        ("山东省一共有多少个试点项目？", "精心组织了涉及4个方向的33个项目(含青岛市9项)作为试点内容。", (), "33个"),
        ("青岛有几项试点项目？", "精心组织了涉及4个方向的33个项目(含青岛市9项)作为试点内容。", (), "9项"),
        ("一台刷脸付终端的采购价格是多少钱？", "共计布放“刷脸付”受理终端4821台。", (), ""),  # a price is not a count
        ("远航集团斥资多少钱收购蓝湾食品？", "每股21美元现金，斥资35亿美元收购蓝湾食品品牌。", (), "35亿美元"),  # money
        # a count of something the question does not name is no answer (3个层次 for 多少个试点项目)
        ("试点项目一共有多少个？", "按照年、季、周3个层次建立项目跟踪机制。", (), ""),
        ("该区有多少个乡镇？", "全区辖3个镇、5个乡。", (), "3个"),
        # courses and books are counted in 门 and 本: the count of the kind asked, not the first count in that unit
        ("学院有多少门省级精品课程？", "现有2门国家级一流课程、6门省级精品课程、9门校级精品课程。", (), "6门"),
        ("有几本教材入选重点教材？", "4本教材获得省级优秀教材奖，15本教材入选省级重点教材。", (), "15本"),
    ],
)
def test_key_fact(question: str, text: str, anchors: tuple[str, ...], lead: str, segmenter: Segmenter) -> None:
    assert key_fact(qn.parse(question, segmenter), [text], anchors) == lead


def test_enumeration_named_by_the_question() -> None:
    """Of two enumerations, the one whose clause names the question's words is the answer's list."""
    text = "北方多用来点缀公园、路旁、湖畔，分布在非洲、亚洲、大洋洲。"
    assert enum_items(text, ("分布", "地区")) == ["非洲", "亚洲", "大洋洲"]
    assert enum_items(text, ("毒性",)) == []
    assert enum_items(text) == ["北方多用来点缀公园", "路旁", "湖畔"]


def test_list_lead_takes_items_from_the_listing_sentence_only(segmenter: Segmenter) -> None:
    """The next sentence may hold another enumeration: it is not part of the answer's list."""
    first, second = "农行、中行、建行等3家银行发放了电子社保卡。", "此外，济南、青岛、烟台推广了刷脸付。"
    text = first + second
    spans = ((0, len(first)), (len(first), len(text)))
    hit = Hit(Chunk("c1", "d1", 0, text, 0, len(text), sentences=spans), 1.0, title="报告")
    cands = [Candidate(hit, 0, len(first), first, 0.9, 0.9), Candidate(hit, len(first), len(text), second, 0.6, 0.2)]
    q = qn.parse("哪几家银行发放了电子社保卡？", segmenter)
    assert key_fact(q, [first]) == "农行、中行、建行"
    draft = Extractor().answer(q, cands)
    # the sentence is the list: quoted alone, without repeating the list as a lead or adding the next sentence
    assert draft.grounded and draft.lead == "" and [c.text for c in draft.sentences] == [first]


def test_a_found_key_fact_is_quoted_with_its_one_sentence(segmenter: Segmenter) -> None:
    """A lead and the sentence that states it, not the neighbours; a leading 如， is left out of the quote."""
    before, best, after = "试点稳步推进。", "如，省工行实现线上挂失补办电子社保卡358张。", "为全面推动积累了经验。"
    text = before + best + after
    a, b = len(before), len(before) + len(best)
    hit = Hit(Chunk("c1", "d1", 0, text, 0, len(text), sentences=((0, a), (a, b), (b, len(text)))), 1.0, title="报告")
    cands = [Candidate(hit, a, b, best, 0.9, 0.9), Candidate(hit, b, len(text), after, 0.7, 0.5),
             Candidate(hit, 0, a, before, 0.6, 0.4)]  # fmt: skip
    draft = Extractor().answer(qn.parse("省工行线上挂失补办了多少张电子社保卡？", segmenter), cands)
    assert draft.lead == "358张" and [c.text for c in draft.sentences] == [best.removeprefix("如，")]
    assert text[draft.sentences[0].start : draft.sentences[0].end] == draft.sentences[0].text


DAYS = [
    # a day asked: the day the sentence states; the end of a period when the question asks until when
    ("现场确认到几月几号结束？", "现场确认时间为2015年3月2日至3月9日。", "3月9日"),
    ("网上报名从哪一天开始？", "网上报名时间为2013年11月20日至11月30日。", "2013年11月20日"),
    ("申请的最后期限是哪一天？", "申请工作于2020年开展。", ""),  # a year is no day
    ("报名截止到哪一天？", "报名时间为11月20日—11月30日。", "11月30日"),
    ("报名截止到哪一天？", "报名时间为11月20日至30日。", "11月30日"),
    ("考试在哪一天举行？", "考试定于2021年6月7号举行。", "2021年6月7号"),
]


@pytest.mark.parametrize(("question", "text", "lead"), DAYS, ids=[q for q, _, _ in DAYS])
def test_day_asked(question: str, text: str, lead: str, segmenter: Segmenter) -> None:
    assert key_fact(qn.parse(question, segmenter), [text]) == lead
