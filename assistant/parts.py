"""Questions of several parts: 济南市和青岛市分别有多少个试点项目？ is asked once per subject, answered part by part.

Owns: finding two or more places, institutions, projects or dates joined by 和/与/及/、 in a question (or, with
分别/各, two or more phrases so joined), writing the question once for each, and joining the parts' drafts into one
answer: each part's answer under its name, a part the documents do not hold said plainly. Does not own: answering a
part (the assistant answers each as a question of its own) or citations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant import question as qn
from assistant.extract import Draft
from kb import dates
from kb.entities import named

_JOIN = re.compile(r"\s*(?:以及|和|与|及|跟|同|、|，|,)\s*")
_EACH = re.compile(r"分别|各自|各")
_TOGETHER = re.compile(
    r"之间|关系|区别|差距|差别|相比|比较|一共|合计|总共|共计|共有|两地|加起来|加在一起|相加|之和|总和|哪个(?:更|多|少)"
)
_EACH_WORD = re.compile(r"分别|各自|各(?=[有是为])")  # the word that asks of each (各有, 各是; not 各区, 各类)
_CLAUSE_START = re.compile(r".*[，,；;：:？?。]")
MAX_PARTS = 5
MAX_PHRASE = 16  # a joined phrase longer than this is a clause, not a subject (…在学术发展和实际应用中…)
# the kinds of question whose parts each have a short answer (a figure, a date, a name); others are read whole
_SHORT = (qn.QUANTITY, qn.TIME, qn.PERSON, qn.INSTITUTION)
_NOT_A_SUBJECT = re.compile(r"[在对从于中]")
NOT_FOUND = "资料中没有找到"


@dataclass(frozen=True)
class Part:
    name: str  # the subject, date or phrase this part asks about (济南市)
    question: str  # the question asked of it alone (济南市有多少个试点项目？)


def split(question: str) -> list[Part]:
    """The parts of ``question`` (two or more), or [] when it asks about one thing: names joined where the question
    says 分别/各, or asks how many of each (not of them together, nor how they relate)."""
    kind = qn.classify(question)
    if kind not in _SHORT or _TOGETHER.search(question) or not (_EACH.search(question) or kind is qn.QUANTITY):
        return []
    spans = [(n.start, n.end, n.kind) for n in named(question)]
    spans += [(m.start, m.end, "date") for m in dates.mentions(question)]
    run = _longest_run(question, sorted(spans))
    if run is None:
        run = _phrases_before_each(question)
    if run is None:
        return []
    start, end, names = run
    rest = _EACH_WORD.sub("", question[end:], count=1)
    return [Part(name, question[:start] + name + rest) for name in names]


def _longest_run(text: str, spans: Sequence[tuple[int, int, str]]) -> tuple[int, int, list[str]] | None:
    """The longest run of two or more names of one kind with only joining words between them."""
    best: tuple[int, int, list[str]] | None = None
    i = 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][2] == spans[i][2] and _joins(text[spans[j][1] : spans[j + 1][0]]):
            j += 1
        if j > i and (best is None or j - i + 1 > len(best[2])):
            best = (spans[i][0], spans[j][1], [text[a:b] for a, b, _ in spans[i : j + 1]])
        i = j + 1
    return best if best and len(best[2]) <= MAX_PARTS else None


def _joins(between: str) -> bool:
    return bool(between) and _JOIN.fullmatch(between) is not None


def _phrases_before_each(text: str) -> tuple[int, int, list[str]] | None:
    """刷脸付受理终端和电子社保卡线上发行量分别是多少: the joined phrases right before 分别 (its clause only)."""
    m = re.search(r"分别|各自", text)
    if m is None:
        return None
    clause = _CLAUSE_START.match(text[: m.start()])
    start = clause.end() if clause else 0
    pieces = _JOIN.split(text[start : m.start()])
    if not 2 <= len(pieces) <= MAX_PARTS or any(not 2 <= len(p) <= MAX_PHRASE for p in pieces):
        return None
    if any(_NOT_A_SUBJECT.search(p) for p in pieces):
        return None
    # 甲和乙的牵头机构分别是: what follows the last 的 is asked of every part (when no other piece has its own 的)
    shared = pieces[-1].rfind("的") if not any("的" in p for p in pieces[:-1]) else -1
    end = m.start() - (len(pieces[-1]) - shared if shared > 0 else 0)
    pieces[-1] = pieces[-1][:shared] if shared > 0 else pieces[-1]
    return start, end, pieces


def join(parts: Sequence[Part], drafts: Sequence[Draft]) -> Draft | None:
    """One draft of the parts' answers, each under its name (济南市：9项；青岛市：12个…), every quote kept in order;
    None when no part is answered."""
    if not any(d.grounded for d in drafts):
        return None
    leads, sentences = [], []
    for part, draft in zip(parts, drafts, strict=True):
        if not draft.grounded:
            leads.append(f"{part.name}：{NOT_FOUND}")
            continue
        said = (draft.lead or (draft.sentences[0].text if draft.sentences else "")).rstrip("。")
        leads.append(said if part.name in said else f"{part.name}：{said}")
        sentences += [c for c in draft.sentences if c not in sentences]
    return Draft("；".join(leads), tuple(sentences), True, reason="parts")


def checked_text(text: str) -> str:
    """An answer's text with the parts it says are not found left out (2019年末：资料中没有找到): their labels repeat
    the question, they state no figure, so the number check does not read them."""
    return _MISSING.sub("", text)


_MISSING = re.compile(rf"[^；。]*：{NOT_FOUND}")
