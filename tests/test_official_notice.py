"""Official notices (公文): the sign-off date line, the 关于…的通知 title, a document number that is no heading,
institution names that stop at 和 and at 行政/行业, and one fictional notice end to end (its issuer's city owns
its figures, 去年末 reads against its sign-off date).

All texts are written for these tests; the fixture tests/data/notices/mianyang-ecny-notice.txt is fictional and
says so in its first line. It is kept out of tests/data/reports, whose files other tests ingest and count
(tests/test_backup.py expects 12 documents).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import loaders
from ingest.facts import extract
from ingest.pipeline import to_document
from ingest.structure import find_date, find_title, mark_headings
from kb.entities import named
from kb.records import Block, Document

NOTICE = Path(__file__).resolve().parent / "data" / "notices" / "mianyang-ecny-notice.txt"

NOTE = "（本文为测试用虚构材料，数据不代表真实情况。）"
ISSUER = "东川市地方金融工作局"
TITLE = "关于做好数字人民币试点推广工作的通知"
BODY = [
    "各县（区）人民政府，市直有关部门：",
    "为深入推进数字人民币试点工作，现将有关事项通知如下。",
    "一、提高思想认识",
    "各单位要高度重视试点推广工作，明确责任分工，切实抓好落实，确保各项任务按期完成。",
    "二、加强宣传引导",
    "要通过多种渠道宣传数字人民币的便利性和安全性，有关情况请及时报送市金融工作局。",
]


def _blocks(*lines: str) -> list[Block]:
    return [Block(line) for line in lines]


def _notice(*ending: str, top: tuple[str, ...] = ()) -> list[Block]:
    return _blocks(*top, NOTE, ISSUER, TITLE, *BODY, *ending)


# -- the date -----------------------------------------------------------------------------------------------
def test_the_sign_off_date_line_is_the_documents_date() -> None:
    blocks = _notice(ISSUER, "2024年5月20日")
    assert len(blocks) > 6 + 4  # the date line is no top line: only the sign-off rule can find it
    assert find_date(blocks, TITLE, "notice.txt") == "2024-05-20"


def test_the_sign_off_date_wins_over_the_file_name() -> None:
    assert find_date(_notice(ISSUER, "2024年5月20日"), TITLE, "notice-2022-01-02.txt") == "2024-05-20"


def test_a_sign_off_date_followed_by_a_note_line() -> None:
    """An attachment or note line after the issuer and date: still among the last lines."""
    blocks = _notice(ISSUER, "2024年5月20日", "（此件公开发布）")
    assert find_date(blocks, TITLE, "notice.txt") == "2024-05-20"


def test_a_date_at_the_top_wins_over_the_sign_off() -> None:
    blocks = _notice(ISSUER, "2024年5月20日", top=("发布日期：2024年5月22日",))
    assert find_date(blocks, TITLE, "notice.txt") == "2024-05-22"


def test_a_date_inside_a_closing_sentence_is_not_the_documents() -> None:
    blocks = _notice(ISSUER, "本通知自2024年6月1日起施行，请遵照执行。")
    assert find_date(blocks, TITLE, "notice.txt") is None
    blocks = _notice("本通知自2024年6月1日起施行", ISSUER)  # a line with more than the date on it
    assert find_date(blocks, TITLE, "notice.txt") is None


def test_a_date_line_in_the_middle_is_no_sign_off() -> None:
    blocks = _blocks(NOTE, ISSUER, TITLE, *BODY[:3], "2024年5月20日", *BODY[3:], ISSUER, "联系人：张三")
    assert find_date(blocks, TITLE, "notice.txt") is None


def test_a_table_rows_date_is_no_sign_off() -> None:
    blocks = [*_notice(), Block("2024年5月20日", kind="row", cells=("2024年5月20日",))]
    assert find_date(blocks, TITLE, "notice.txt") is None


# -- the title ----------------------------------------------------------------------------------------------
def test_the_official_title_is_its_issuer_and_the_guanyu_line() -> None:
    # a 公文's full title is 发文机关 + 关于…的通知: the issuer's line above it names whose document it is
    assert find_title(_notice(ISSUER, "2024年5月20日"), "fallback") == ISSUER + TITLE
    heading_above = [Block(ISSUER, kind="heading", level=2), *_blocks(TITLE, *BODY)]  # the issuer read as heading
    assert find_title(heading_above, "fallback") == ISSUER + TITLE
    # two issuers side by side, or a line that is no organ's name, stay out of the title
    joint = _blocks(f"{ISSUER}　某银行营业管理部", TITLE, *BODY)
    assert find_title(joint, "fallback") == TITLE
    assert find_title(_blocks("各有关单位：", TITLE, *BODY), "fallback") == TITLE


@pytest.mark.parametrize(
    "title",
    ["关于印发东川市金融科技发展规划的通知", "关于东川市数字人民币试点工作情况的通报", "关于支持小微企业融资的意见"],
)
def test_other_official_titles(title: str) -> None:
    assert find_title(_blocks(NOTE, ISSUER, "东金工〔2024〕12号", title, *BODY), "fallback") == title


def test_without_an_official_title_the_first_heading_stays_the_title() -> None:
    blocks = [
        Block(NOTE),
        Block("东川市金融科技试点工作简报", kind="heading", level=2),
        Block("一、总体情况", kind="heading", level=2),
        Block("今年以来，全市金融科技试点工作稳步推进。"),
    ]
    assert find_title(blocks, "fallback") == "东川市金融科技试点工作简报"
    # a 关于… line that is a sentence, not a title, changes nothing
    blocks.insert(3, Block("关于试点工作的安排，各单位要抓好落实。"))
    assert find_title(blocks, "fallback") == "东川市金融科技试点工作简报"


# -- the document number ------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["东金工〔2024〕12号", "东金工[2024]12号", "东政办发（2023）第5号"])
def test_a_document_number_is_no_heading(number: str) -> None:
    long = "各县（区）人民政府，市直有关部门：为深入推进数字人民币试点工作，现将有关事项通知如下，请认真贯彻执行。"
    marked = mark_headings(_blocks(number, long))
    assert [b.kind for b in marked] == ["paragraph", "paragraph"]
    # the same short line without the number is still read as a bare heading (the rule is the number's only)
    assert mark_headings(_blocks("东金工试点工作安排", long))[0].kind == "heading"


# -- institution names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "减免部分行政事业性收费",
        "社保费和部分行政事业性收费",
        "全省银行业金融机构累计开立钱包",
        "引导辖内银行业金融机构加大支持力度",
    ],
)
def test_no_institution_before_xingzheng_or_hangye(text: str) -> None:
    assert [n.name for n in named(text) if n.kind == "org"] == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("东川银行和西岭银行联合推出数字人民币缴费场景", ["东川银行", "西岭银行"]),
        ("东川银行与西岭银行签署合作协议", ["东川银行", "西岭银行"]),
        ("东川银行、西岭银行和南屏农商银行参与试点", ["东川银行", "西岭银行", "南屏农商银行"]),
        ("社保费和东川银行代收业务", ["东川银行"]),
        ("由西岭银行牵头建设", ["西岭银行"]),
    ],
)
def test_joined_institutions_are_separate_names(text: str, names: list[str]) -> None:
    found = [n for n in named(text) if n.kind == "org"]
    assert [n.name for n in found] == names
    for n in found:
        assert text[n.start : n.end] == n.name  # the offsets follow the trimmed name
        assert not n.name.startswith(("和", "与", "及", "、")) and "和" not in n.name


@pytest.mark.parametrize(
    "text", ["西岭银行为小微企业发放贷款3.5亿元", "西岭银行使用区块链技术", "西岭银行列入首批试点"]
)
def test_a_bank_before_wei_shi_lie_is_still_named(text: str) -> None:
    assert [n.name for n in named(text) if n.kind == "org"] == ["西岭银行"]


# -- end to end ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def notice() -> Document:
    parsed = next(iter(loaders.load(NOTICE, 10**7)))
    return to_document(parsed, NOTICE, 300)


def test_the_fixture_says_it_is_fictional() -> None:
    assert NOTICE.read_text("utf-8").splitlines()[0] == NOTE


def test_notice_date_and_title(notice: Document) -> None:
    assert notice.date == "2024-03-08"  # the sign-off line; the file name has no date
    assert notice.title == "绵阳市地方金融工作局关于进一步推广数字人民币应用场景的通知"  # issuer + 关于…
    assert all("〔2024〕" not in part for s in notice.sections for part in s.heading_path)  # the number no heading


def test_notice_figures_are_the_issuers_citys_at_last_year_end(notice: Document) -> None:
    facts = extract(notice)
    by_metric = {f.metric: f for f in facts}
    for metric, text in [("对公钱包", "3.7万个"), ("交易金额", "52.6亿元")]:
        assert metric in by_metric, sorted(by_metric)
        f = by_metric[metric]
        assert (f.subject, f.text, f.as_of) == ("绵阳市", text, "2023-12-31")  # 去年末 of 2024-03-08
    assert by_metric["交易金额"].value == pytest.approx(52.6e8)
    assert not [f.metric for f in facts if f.metric.startswith(("全市", "去年", "累计"))]
    assert all(f.subject == "绵阳市" for f in facts)
