"""Golden tables for sentence splitting, jieba words and bigrams (after spaCy's zh tests)."""

from __future__ import annotations

import pytest

from kb.segment import Segmenter, bigrams, sentence_spans

SENTENCES = [
    ("截至2020年9月10日,山东省33项金融科技试点项目已全部上线。目前进展顺利！",
     ["截至2020年9月10日,山东省33项金融科技试点项目已全部上线。", "目前进展顺利！"]),
    ("签约用户数量已达10.29万户,逐步构建体系。", ["签约用户数量已达10.29万户,逐步构建体系。"]),
    ("效率提高了83%；准确性接近100%。", ["效率提高了83%；", "准确性接近100%。"]),
    ("他说：“项目已上线。”随后离开。", ["他说：“项目已上线。”", "随后离开。"]),
    ("第一行没有句号\n第二行也没有", ["第一行没有句号", "第二行也没有"]),
    ("真的吗？！是的……确实如此", ["真的吗？！", "是的……", "确实如此"]),
    ("1.探索运用新技术,实现金融科技快速发展", ["1.探索运用新技术,实现金融科技快速发展"]),
    ("  前后有空格。  ", ["前后有空格。"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_sentences(text: str, expected: list[str]) -> None:
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == expected


def test_sentence_spans_respect_a_range() -> None:
    text = "甲。乙。丙。"
    assert sentence_spans(text, 2, 6) == [(2, 4), (4, 6)]


# A report's local institutions are not dictionary words (kb/data/aliases.txt holds national ones only): 齐鲁银行
# may come out as 齐鲁 + 银行, and the entity patterns find the name by its suffix (tests/test_numbers_question.py).
WORDS = [
    ("齐鲁银行分散密钥线上身份认证服务项目", ["分散密钥", "身份认证"]),
    ("共计布放“刷脸付”受理终端4821台", ["刷脸付", "受理终端", "4821"]),
    ("以手机银行为平台面向群众发放电子社保卡", ["手机银行", "电子社保卡"]),
    ("通过支付标记化从源头遏制信息泄露", ["支付标记化"]),
    ("利用机器人实现自动筛选信贷准入白名单", ["白名单", "信贷准入"]),
    ("省工行实现线上挂失补办电子社保卡358张", ["省工行", "电子社保卡", "358"]),
    ("青岛农商行、临商银行、恒丰银行", ["农商行"]),
    ("中国工商银行与建行、农行", ["中国工商银行", "建行", "农行"]),
    ("签约用户数量已达10.29万户", ["10.29", "万户"]),
    ("截至2020年9月10日", ["2020", "年", "9", "月", "10", "日"]),
]


@pytest.mark.parametrize(("text", "must_have"), WORDS)
def test_domain_words(segmenter: Segmenter, text: str, must_have: list[str]) -> None:
    words = segmenter.words(text)
    for w in must_have:
        assert w in words, (w, words)


def test_numbers_are_single_terms(segmenter: Segmenter) -> None:
    terms = segmenter.terms("累计发行电子社保卡53.87万张")
    assert "53.87" in terms
    assert "53" not in terms and "87" not in terms


def test_query_terms_add_aliases(segmenter: Segmenter) -> None:
    terms = segmenter.query_terms("工行补办了多少张电子社保卡？")
    assert "中国工商银行" in terms and "工行" in terms
    assert "多少" not in terms  # a question word, not content


def test_full_width_digits_and_letters_normalise(segmenter: Segmenter) -> None:
    assert segmenter.terms("４８２１台") == segmenter.terms("4821台")
    assert bigrams("ＡＢ１") == bigrams("ab1")


def test_bigrams() -> None:
    assert bigrams("刷脸付4821台") == ["刷脸", "脸付", "付4", "48", "82", "21", "1台"]
    assert bigrams("甲，乙") == ["甲", "乙"]
