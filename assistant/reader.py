"""The reader: a language model picks the answer out of the evidence; the product checks it.

Owns: the evidence the model reads (the best candidate sentences, each with its document's
title and section, a table row under its header, a back-reference after its sentence), the
answer schema (short spans copied from the sentences, one per part the question asks for,
and a sentence number), locating each span in the evidence (normalised, then by a small edit
distance; numbers exact; the model's number is only a hint), the checks the rules do well
(the unit asked for, the entities the question names), the model's judgement of whether
its sentence answers at all, and the draft it yields: the located spans as the lead, the
sentences that hold them, and the rules' own sentence beside them when it is another one.
A span found nowhere is dropped, so grounding is decided by where the answer was found,
never by the model's wording. Does not own: talking to the model (``assistant.llm``) or
citations (``assistant.core``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant import question as qn
from assistant.extract import Candidate, Draft, missing_entity, says_twice, sentence_before, trimmed
from assistant.keyfact import extend_span
from kb.errors import EndpointError
from kb.quantity import MEASURE_WORDS
from kb.segment import normalize

SYSTEM = (
    "你从给出的编号句子中摘出问题的答案。answer 是句子里能回答问题的最短原文片段（数字连同单位、名称、日期照抄）；"
    "问题同时问几样（如“分别”“和”）时，按问题的顺序写出各部分，用“；”隔开。"
    "sentence 是答案所在句子的编号。句子里没有答案时 answer 为空字符串、sentence 为 0。不要解释。"
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": 60}, "sentence": {"type": "integer"}},
    "required": ["answer", "sentence"],
}
VERIFY = "判断给出的句子是否直接回答了问题。只回答“是”或“否”。"
Read = Callable[[str, str, dict[str, Any]], str]  # (system, user, schema) -> the model's raw JSON text
Judge = Callable[[str, str], float]  # (system, user) -> the model's probability of 是

# A model's span that is at least this share of its sentence is not said before the quote (it would say it twice).
SAYS_SHARE = 0.6


@dataclass(frozen=True)
class Reading:
    """What the model said, parsed."""

    answer: str
    sentence: int


def evidence(cands: Sequence[Candidate]) -> str:
    """The numbered sentences the model reads, each with where it stands and what it needs to be read right."""
    lines = []
    for i, c in enumerate(cands, start=1):
        where = " · ".join(x for x in (c.hit.title, c.hit.chunk.section) if x)
        lines.append(f"[{i}]（{where}）{in_context(c)}" if where else f"[{i}]{in_context(c)}")
    return "\n".join(lines)


_ROW = " | "  # how loaders join a table row's cells
_REFERS = re.compile(r"^(?:其|该|此|这|上述|以上|他|她|它|前者|后者|同时|此外|另外)")


def in_context(c: Candidate) -> str:
    """A table row under its header row; a sentence that opens by referring back (其、该、此…) after the sentence
    it refers to; any other sentence as it stands."""
    text = c.text.strip()
    chunk = c.hit.chunk
    if _ROW in text:
        lines = chunk.text[: c.start - chunk.start].split("\n")[:-1]  # the lines above the row, in its chunk
        table = []
        for line in reversed(lines):
            if _ROW not in line:
                break
            table.append(line.strip())
        return f"（表头：{table[-1]}）{text}" if table else text
    if _REFERS.match(text):
        prev = sentence_before(c)
        said = chunk.text[prev[0] - chunk.start : prev[1] - chunk.start].strip() if prev else ""
        return f"（上文：{said}）{text}" if said else text
    return text


def parse(raw: str) -> Reading:
    """The model's reply as a Reading; anything else is the endpoint's failure (it is never shown)."""
    try:
        data = json.loads(raw)
        return Reading(str(data["answer"]).strip(), int(data["sentence"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise EndpointError("语言模型的回答格式不对，已改用离线抽取") from exc


_PARTS = re.compile(r"[；;]")


def read(q: qn.Question, cands: Sequence[Candidate], ask_model: Read, judge: Judge | None = None,
         min_yes: float = 0.0) -> Draft:  # fmt: skip
    """The reader's draft for ``q`` from ``cands`` (the best sentences as the extractor ranks them, all of which
    the model reads): every part of the model's answer that stands in the evidence and passes the checks, with
    the sentences that hold them; with ``judge``, refused unless the model then rates the first sentence as
    answering the question with a probability of at least ``min_yes``."""
    draft = _located(q, cands, ask_model)
    if judge is None or not draft.grounded:
        return draft
    yes = judge(VERIFY, claim(q, draft))
    if yes < min_yes:
        return Draft("", (), False, f"the model doubts the sentence answers ({yes:.2f})", judged=yes)
    return replace(draft, judged=yes)


def claim(q: qn.Question, draft: Draft) -> str:
    """What the model is asked to confirm: the sentence, the question and the answer taken from the sentence."""
    lead = f"\n答案：{draft.lead}" if draft.lead else ""
    return f"句子：{draft.sentences[0].text.strip()}\n问题：{q.text}{lead}"


def _located(q: qn.Question, cands: Sequence[Candidate], ask_model: Read) -> Draft:
    if not cands:
        return Draft("", (), False, "no evidence")
    reading = parse(ask_model(SYSTEM, f"句子：\n{evidence(cands)}\n\n问题：{q.text}", SCHEMA))
    parts = [p.strip() for p in _PARTS.split(reading.answer) if p.strip()]
    if not parts:
        return Draft("", (), False, "the model found no answer")
    leads: list[str] = []
    quotes: list[Candidate] = []
    reasons: list[str] = []
    for part in parts:
        lead, cand, reason = check_part(q, Reading(part, reading.sentence), cands)
        if cand is None:
            reasons.append(reason)
            continue
        leads.append(lead)
        if not any(_overlap(cand, c) for c in quotes):
            quotes.append(cand)
    if not leads:
        return Draft("", (), False, reasons[0])
    lead = "；".join(dict.fromkeys(leads))
    quoted = [trimmed(c) for c in quotes]
    return Draft("" if len(quoted) == 1 and _says(q, lead, quoted[0]) else lead, tuple(quoted), True)


def _says(q: qn.Question, lead: str, quote: Candidate) -> bool:
    """The quote already says the lead: the lead is most of the sentence (a clause the model copied whole), or
    the rules would not lead with it either."""
    return len(lead) >= SAYS_SHARE * len(quote.text.strip()) or says_twice(q, lead, quote)


def beside_the_rules(read: Draft, rules: Draft) -> Draft:
    """The model's answer with the rules' own best sentence quoted too when it is another sentence: where the
    two disagree the user sees both pieces of evidence, and where they agree the answer stays one sentence."""
    if not (read.grounded and rules.grounded):
        return read
    first = rules.sentences[0]
    if any(_overlap(first, c) for c in read.sentences):
        return read
    return replace(read, also=(first,))


def _overlap(a: Candidate, b: Candidate) -> bool:
    return a.hit.chunk.doc_id == b.hit.chunk.doc_id and a.start < b.end and b.start < a.end


def check_part(q: qn.Question, part: Reading, cands: Sequence[Candidate]) -> tuple[str, Candidate | None, str]:
    """One answer part as its lead (a number with its unit) and the sentence that holds it, or why it is dropped:
    found in no sentence, not counted in the unit asked for, or in evidence that lacks an entity the question
    names."""
    found = locate(part, cands, q.unit if q.kind is qn.QUANTITY else "")
    if found is None:
        return "", None, f"answer not in the evidence: {part.answer[:20]}"
    cand, start, end = found
    lead = extend_span(cand.text, start, end).strip("。；;，,、 ")
    if q.kind is qn.QUANTITY and not counted_in(lead, q.unit):
        return "", None, f"answer not counted in {q.unit}: {lead}"
    missing = missing_entity(q, cand, cand.hit.title)
    if missing:
        return "", None, f"entity not in evidence: {missing}"
    return lead, cand, ""


def counted_in(lead: str, unit: str) -> bool:
    """The answer is counted in the unit asked for; 多少个 takes any measure word (33项 answers 多少个项目)."""
    if not unit:
        return True
    if unit == "个":
        return any(ch in MEASURE_WORDS for ch in lead) or not any(ch.isdigit() for ch in lead)
    return unit in lead


def locate(reading: Reading, cands: Sequence[Candidate], unit: str = "") -> tuple[Candidate, int, int] | None:
    """The sentence that holds the answer (the model's choice first) and the answer's span in its text; a bare
    number is taken where it is counted in ``unit`` (9 in 青岛市9项, not in 9月) when such a place exists."""
    order = list(cands)
    if 1 <= reading.sentence <= len(cands):
        order.insert(0, order.pop(reading.sentence - 1))
    for finder in (find_all, _near_all):  # copies anywhere before a near copy in the model's sentence
        spans = [(c, a, b) for c in order for a, b in finder(c.text, reading.answer)]
        counted = [s for s in spans if counted_in(extend_span(s[0].text, s[1], s[2]), unit)]
        if spans:
            return (counted or spans)[0]
    return None


def _near_all(text: str, answer: str) -> list[tuple[int, int]]:
    span = find_near(text, answer)
    return [span] if span else []


_SPACE = re.compile(r"\s+")


def _flat(text: str) -> tuple[str, list[int]]:
    """``text`` normalised (width, case) without spaces, and each of its characters' offset in ``text``."""
    pieces = [_SPACE.sub("", normalize(ch)) for ch in text]
    return "".join(pieces), [i for i, piece in enumerate(pieces) for _ in piece]


def _cuts_number(flat: str, at: int, end: int) -> bool:
    """The span ``flat[at:end]`` begins or ends inside a number (3 inside 33)."""
    return (flat[at : at + 1].isdigit() and at > 0 and flat[at - 1].isdigit()) or (
        flat[end - 1 : end].isdigit() and end < len(flat) and flat[end].isdigit()
    )


def find_all(text: str, answer: str) -> list[tuple[int, int]]:
    """Everywhere ``answer`` stands in ``text`` after normalising both (width, case, spaces), as offsets into
    ``text``; a number is found whole (3 is not found inside 33)."""
    want = _SPACE.sub("", normalize(answer))
    if not want:
        return []
    flat, owner = _flat(text)
    spans = []
    at = flat.find(want)
    while at >= 0:
        end = at + len(want)
        if not _cuts_number(flat, at, end):
            spans.append((owner[at], owner[end - 1] + 1))
        at = flat.find(want, at + 1)
    return spans


_DIGITS = re.compile(r"\d+")


def find_near(text: str, answer: str) -> tuple[int, int] | None:
    """Where a slightly reworded ``answer`` stands in ``text`` (at most one character in eight changed, added
    or left out: 五项指标 for 五个指标), as the text's own span; its numbers must be the text's, whole and exact."""
    want = _SPACE.sub("", normalize(answer))
    budget = len(want) // 8
    if not budget:
        return None
    flat, owner = _flat(text)
    cost, at, end = _align(want, flat)
    if cost > budget or end <= at or _cuts_number(flat, at, end):
        return None
    if _DIGITS.findall(want) != _DIGITS.findall(flat[at:end]):
        return None
    return owner[at], owner[end - 1] + 1


def _align(want: str, flat: str) -> tuple[int, int, int]:
    """The span of ``flat`` closest to ``want`` by edit distance (free to start and end anywhere): its
    distance, start and end."""
    cost = [0] * (len(flat) + 1)
    start = list(range(len(flat) + 1))
    for i, ch in enumerate(want, start=1):
        row, row_start = [i] + [0] * len(flat), [0] * (len(flat) + 1)
        for j in range(1, len(flat) + 1):
            row[j], row_start[j] = min(
                (cost[j - 1] + (ch != flat[j - 1]), start[j - 1]),  # keep or change a character
                (cost[j] + 1, start[j]),  # a character the model added
                (row[j - 1] + 1, row_start[j - 1]),  # a character the model left out
            )
        cost, start = row, row_start
    end = min(range(len(flat) + 1), key=lambda j: (cost[j], j))
    return cost[end], start[end], end
