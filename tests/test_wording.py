"""The metric wording lexicon (kb/data/wording.txt) and the how-many squeeze: golden tables on own examples.

Every line of the data file is read here, so a line added to it is tested too: each of its other forms is
rewritten to its first form, and the first form stays itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.wording import canonical, squeezed

WORDING = Path(__file__).resolve().parent.parent / "kb" / "data" / "wording.txt"


def _lines() -> list[tuple[str, list[str]]]:
    out = []
    for line in WORDING.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, rest = (part.strip() for part in line.split("|"))
        out.append(("" if first == "-" else first, rest.split()))
    return out


LINES = _lines()
VARIANTS = [(form, first) for first, forms in LINES for form in forms]
KEPT = [first for first, forms in LINES if not forms]  # words that hold a form but stay as written


@pytest.mark.parametrize("word", KEPT)
def test_a_word_alone_on_its_line_stays_as_written(word: str) -> None:
    assert canonical(word) == word and canonical(f"向农户{word}") == f"向农户{word}"


def test_the_data_file_is_read() -> None:
    """A broken read (no line, or a line without forms) would leave the tables below empty and passing."""
    assert len(LINES) >= 5 and sum(bool(forms) for _first, forms in LINES) >= 5
    assert ("放贷", "发放贷款") in VARIANTS and ("成交额", "交易金额") in VARIANTS


@pytest.mark.parametrize(("form", "first"), VARIANTS, ids=[f"{f}->{c}" for f, c in VARIANTS])
def test_each_variant_becomes_its_lines_first_form(form: str, first: str) -> None:
    assert canonical(form) == first
    assert canonical(f"去年{form}情况") == f"去年{first}情况"  # inside a text too, the words around it kept
    assert squeezed(form) == first


@pytest.mark.parametrize("first", [first for first, _forms in LINES if first])
def test_the_first_form_stays_itself(first: str) -> None:
    assert canonical(first) == first  # 发放贷款 holds 放贷款 and 放贷, and is not written 发发放贷款
    assert canonical(f"新增{first}") == f"新增{first}"


DROPPED = [form for first, forms in LINES if not first for form in forms]


@pytest.mark.parametrize("word", DROPPED)
def test_a_dropped_word_parts_no_form(word: str) -> None:
    """累计 says how a figure is counted: dropped, so 贷款累计发放 and 累计放贷 read as 发放贷款."""
    assert canonical(f"试点项目{word}发放贷款") == "试点项目发放贷款"
    assert canonical(f"贷款{word}发放") == "发放贷款"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("放贷款", "发放贷款"),  # the longest form first: not 发放贷款款 (放贷 rewritten, 款 left over)
        ("放贷规模", "发放贷款规模"),  # a form inside a longer word is rewritten where it stands
        ("已放贷", "已发放贷款"),
        ("贷款发放量", "发放贷款量"),
        ("投放的贷款余额", "发放贷款余额"),
        ("成交金额", "交易金额"),  # not 成交易金额 (成交额 is no part of it)
        ("成交笔数和成交额", "交易笔数和交易金额"),  # two metrics in one text, each rewritten
        ("平台上线运行", "平台上线"),  # not 上线运行 → 上线 + 运行 again
        ("惠及小微企业", "服务小微企业"),
    ],
)
def test_canonical_golden(text: str, expected: str) -> None:
    assert canonical(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "贷款余额",
        "不良贷款率",
        "贷款利率",
        "涉农贷款",
        "发放贷款",
        "新增发放贷款",
        "交易金额",
        "交易笔数",
        "服务",
        "上线",
        "开立数字人民币钱包",
        "合作药店",
        "",
    ],
)
def test_canonical_leaves_other_words_alone(text: str) -> None:
    assert canonical(text) == text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("共放了多少贷款", "共发放贷款"),  # 了多少 out: 放 meets 贷款, and 放贷款 is written 发放贷款
        ("有多少家合作药店", "有合作药店"),  # 多少 + measure word
        ("上线了几个项目", "上线项目"),  # 了 + 几 + measure word
        ("放了几笔贷款", "发放贷款"),
        ("覆盖了多少户农户", "服务农户"),  # squeezed, then the lexicon's forms
        ("累计成交额是多少？", "交易金额是多少？"),  # 多少 before no word: left as it is
        ("贷款余额", "贷款余额"),
        ("东川市开立了数字人民币钱包吗？", "东川市开立了数字人民币钱包吗？"),  # no interrogative: unchanged
        ("刷脸支付终端布放情况如何", "刷脸支付终端布放情况如何"),
    ],
)
def test_squeezed_golden(question: str, expected: str) -> None:
    assert squeezed(question) == expected


def test_canonical_does_not_double_the_verb_before_kuan() -> None:
    assert "发发放" not in canonical("向农户发放款项")


def test_squeezed_takes_a_money_unit_with_the_interrogative() -> None:
    assert "发放贷款" in squeezed("去年放了多少亿元贷款")
