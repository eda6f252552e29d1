"""The reader's checks, which decide what a model's reply may become: locating its span, units, entities.

The replies here stand in for an endpoint (a fake at the model boundary only): they are replies a real server
does not give on demand, a span that is in no sentence, a count in the wrong unit, or text that is not the JSON
asked for. The real model answering through the same path is in tests/test_local_llm.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from assistant import question as qn
from assistant.extract import Candidate, Draft
from assistant.llm import yes_probability
from assistant.reader import beside_the_rules, counted_in, evidence, find_all, find_near, in_context, read
from kb.errors import EndpointError
from kb.records import Chunk, Hit
from kb.segment import Segmenter

SENTENCES = [
    "人民银行济南分行精心组织了涉及4个方向的33个项目(含青岛市9项)作为金融科技试点内容。",
    "截至2020年9月3日共计布放“刷脸付”受理终端４８２１台,实现人脸绑卡29.98万张。",
    "如,省工行、农行、中行等6家银行发放电子社保卡。",
]


@pytest.mark.parametrize(
    ("text", "answer", "found"),
    [
        ("涉及4个方向的33个项目", "33", "33"),
        ("涉及4个方向的33个项目", "3", None),  # a number is found whole, never inside 33
        ("受理终端４８２１台", "4821台", "４８２１台"),  # full width in the text, half width in the reply
        ("省工行、农行、中行", "省工行、 农行", "省工行、农行"),  # spaces the model added
        ("截至2020年9月3日", "2020年9月", "2020年9月"),
        ("共计布放受理终端", "发放", None),
    ],
)
def test_find(text: str, answer: str, found: str | None) -> None:
    span = next(iter(find_all(text, answer)), None)
    assert (text[span[0] : span[1]] if span else None) == found


@pytest.mark.parametrize(
    ("lead", "unit", "ok"),
    [("33项", "个", True), ("33个", "个", True), ("4821台", "元", False), ("876亿元", "元", True), ("9项", "", True)],
)
def test_counted_in(lead: str, unit: str, ok: bool) -> None:
    assert counted_in(lead, unit) is ok


def candidates() -> list[Candidate]:
    text = "".join(SENTENCES)
    spans, pos = [], 0
    for s in SENTENCES:
        spans.append((pos, pos + len(s)))
        pos += len(s)
    hit = Hit(Chunk("c1", "d1", 0, text, 0, len(text), sentences=tuple(spans)), 1.0, title="山东试点报告")
    return [Candidate(hit, a, b, text[a:b], 1.0 - i / 10, 0.9) for i, (a, b) in enumerate(spans)]


def replying(raw: str) -> Any:
    return lambda system, user, schema: raw


def test_the_span_becomes_the_lead_with_its_unit_and_the_sentence_is_quoted(segmenter: Segmenter) -> None:
    draft = read(
        qn.parse("山东省一共有多少个试点项目？", segmenter), candidates(), replying('{"answer": "33", "sentence": 1}')
    )
    assert draft.grounded and draft.lead == "33个" and [c.text for c in draft.sentences] == [SENTENCES[0]]


def test_the_models_sentence_number_is_only_a_hint(segmenter: Segmenter) -> None:
    draft = read(
        qn.parse("刷脸付受理终端布放了多少台？", segmenter),
        candidates(),
        replying('{"answer": "4821台", "sentence": 3}'),
    )
    assert draft.grounded and draft.lead == "４８２１台" and draft.sentences[0].text == SENTENCES[1]


@pytest.mark.parametrize(
    ("question", "raw", "reason"),
    [
        ("刷脸付受理终端布放了多少台？", '{"answer": "5000台", "sentence": 2}', "answer not in the evidence"),
        ("一台刷脸付终端的采购价格是多少钱？", '{"answer": "4821", "sentence": 2}', "answer not counted in 元"),
        ("广东省有多少个试点项目？", '{"answer": "33", "sentence": 1}', "entity not in evidence: 广东"),
        ("刷脸付受理终端布放了多少台？", '{"answer": "", "sentence": 0}', "the model found no answer"),
    ],
)
def test_what_cannot_be_checked_is_refused(question: str, raw: str, reason: str, segmenter: Segmenter) -> None:
    draft = read(qn.parse(question, segmenter), candidates(), replying(raw))
    assert not draft.grounded and draft.reason.startswith(reason)


def test_a_list_in_its_sentence_is_not_said_twice_and_the_opener_is_dropped(segmenter: Segmenter) -> None:
    draft = read(
        qn.parse("哪几家银行发放了电子社保卡？", segmenter),
        candidates(),
        replying('{"answer": "省工行、农行、中行", "sentence": 3}'),
    )
    assert draft.grounded and draft.lead == ""
    assert [c.text for c in draft.sentences] == [SENTENCES[2].removeprefix("如,")]


@pytest.mark.parametrize("raw", ["4821台", '{"answer": 4821}', "[1, 2]", ""])
def test_a_reply_that_is_not_the_json_asked_for_is_rejected(raw: str, segmenter: Segmenter) -> None:
    with pytest.raises(EndpointError, match="格式不对"):
        read(qn.parse("刷脸付受理终端布放了多少台？", segmenter), candidates(), replying(raw))


def test_each_part_of_a_two_part_answer_is_located_and_quoted(segmenter: Segmenter) -> None:
    draft = read(
        qn.parse("刷脸付受理终端和人脸绑卡分别有多少？", segmenter),
        candidates(),
        replying('{"answer": "4821台；29.98万张", "sentence": 2}'),
    )
    assert draft.grounded and draft.lead == "４８２１台；29.98万张"
    assert [c.text for c in draft.sentences] == [SENTENCES[1]]  # one sentence holds both


def test_a_part_found_nowhere_is_dropped_and_the_rest_stands(segmenter: Segmenter) -> None:
    draft = read(
        qn.parse("试点项目和青岛的项目分别有多少个？", segmenter),
        candidates(),
        replying('{"answer": "33个；12个", "sentence": 1}'),
    )
    assert draft.grounded and draft.lead == "33个" and [c.text for c in draft.sentences] == [SENTENCES[0]]


def rows_hit(lines: list[str]) -> list[Candidate]:
    text = "\n".join(lines)
    spans, pos = [], 0
    for line in lines:
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    hit = Hit(Chunk("c1", "d1", 0, text, 0, len(text), sentences=tuple(spans)), 1.0, title="试点清单")
    return [Candidate(hit, a, b, text[a:b], 0.9, 0.9) for a, b in spans]


def test_the_model_reads_a_table_row_under_its_header_and_a_back_reference_after_its_sentence() -> None:
    cands = rows_hit(["试点项目一览。", "银行 | 项目 | 上线时间", "齐鲁银行 | 刷脸付 | 2020年6月", "其中两项在青岛。"])
    shown = evidence([cands[2], cands[3], cands[0]])
    assert "[1]（试点清单）（表头：银行 | 项目 | 上线时间）齐鲁银行 | 刷脸付 | 2020年6月" in shown
    assert "[2]（试点清单）（上文：齐鲁银行 | 刷脸付 | 2020年6月）其中两项在青岛。" in shown
    assert "[3]（试点清单）试点项目一览。" in shown  # a plain sentence stands alone
    assert in_context(cands[1]) == cands[1].text  # the header row itself has no header above it


def test_the_rules_sentence_is_quoted_beside_the_models_when_they_differ(segmenter: Segmenter) -> None:
    cands = candidates()
    q = qn.parse("刷脸付受理终端布放了多少台？", segmenter)
    read_draft = read(q, cands, replying('{"answer": "4821台", "sentence": 2}'))
    agree = beside_the_rules(read_draft, Draft("", (cands[1],), True))
    assert agree == read_draft  # one sentence: the model and the rules chose the same
    differ = beside_the_rules(read_draft, Draft("", (cands[0],), True))
    assert differ.lead == read_draft.lead and [c.text for c in differ.sentences] == [SENTENCES[1]]
    assert differ.also == (cands[0],)  # quoted after the model's own sentence, which holds the lead
    refused = Draft("", (), False, "the model found no answer")
    assert beside_the_rules(refused, Draft("", (cands[0],), True)) == refused


@pytest.mark.parametrize(
    ("text", "answer", "found"),
    [
        (
            "爱普格评分的五个指标分别为：外观Appearance",
            "五项指标分别为：外观Appearance",
            "五个指标分别为：外观Appearance",
        ),
        ("云朵甜品店铺遍布12个国家和地区", "店铺遍布10个国家和地区", None),  # one change, but in a number
        ("林秀是南安县令陈远的第二任妻子", "林秀是南安县令的第二任妻子", None),  # two left out of 13: too many
        ("共有三项", "两项", None),  # a short answer must be copied exactly
    ],
)
def test_find_near_takes_the_texts_own_span_for_a_slightly_reworded_answer(
    text: str, answer: str, found: str | None
) -> None:
    assert find_all(text, answer) == []
    span = find_near(text, answer)
    assert (text[span[0] : span[1]] if span else None) == found


def test_a_lead_that_is_most_of_its_sentence_is_not_said_twice(segmenter: Segmenter) -> None:
    cands = candidates()
    reply = '{"answer": "截至2020年9月3日共计布放“刷脸付”受理终端４８２１台。", "sentence": 2}'
    draft = read(qn.parse("刷脸付受理终端布放情况如何？", segmenter), cands, replying(reply))
    assert draft.grounded and draft.lead == "" and [c.text for c in draft.sentences] == [SENTENCES[1]]


def test_an_answer_the_model_then_doubts_is_refused(segmenter: Segmenter) -> None:
    q = qn.parse("刷脸付受理终端布放了多少台？", segmenter)
    asked: list[str] = []

    def judging(p: float) -> Any:
        def judge(system: str, user: str) -> float:
            asked.append(user)
            return p

        return judge

    reply = replying('{"answer": "4821台", "sentence": 2}')
    sure = read(q, candidates(), reply, judging(0.9), 0.6)
    assert sure.grounded and sure.lead == "４８２１台" and sure.judged == 0.9
    assert asked == [f"句子：{SENTENCES[1]}\n问题：刷脸付受理终端布放了多少台？\n答案：４８２１台"]
    doubted = read(q, candidates(), reply, judging(0.3), 0.6)
    assert not doubted.grounded and doubted.reason == "the model doubts the sentence answers (0.30)"
    assert doubted.judged == 0.3  # kept on the refusal too: eval --details shows how sure the model was


@pytest.mark.parametrize(
    ("token", "logprobs", "p"),
    [
        ("是", {"content": [{"top_logprobs": [{"token": "是", "logprob": -0.5}, {"token": "否", "logprob": -1.5}]}]},
         0.731),
        ("否", {"content": [{"top_logprobs": [{"token": " 否", "logprob": -0.1}, {"token": "Yes", "logprob": -3}]}]},
         0.0),
        ("是", None, 1.0),  # an endpoint without log-probabilities: the token it chose
        ("不", {"content": []}, 0.0),
    ],
)  # fmt: skip
def test_yes_probability_from_an_openai_logprobs_record(token: str, logprobs: Any, p: float) -> None:
    assert yes_probability(token, logprobs) == pytest.approx(p, abs=1e-3)


def test_a_bare_number_is_located_where_it_is_counted_in_the_unit_asked(segmenter: Segmenter) -> None:
    # 9 stands first in 2020年9月3日 (sentence 2, the model's hint) but is counted in 项 only in sentence 1
    draft = read(
        qn.parse("青岛市有几项试点项目？", segmenter), candidates(), replying('{"answer": "9", "sentence": 2}')
    )
    assert draft.grounded and draft.lead == "9项" and [c.text for c in draft.sentences] == [SENTENCES[0]]
