"""What the time a question asks (2014年时, 截至2021年3月31日, 2021年末, 去年) does to its evidence.

Owns: taking the time's words out of what the evidence must hold (the time chooses the evidence by date instead) and
keeping the hits of that time (their document's date, or a date their text, caption or header states). Does not own:
reading dates (``kb.dates``) or a fact's own date check (``assistant.facts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assistant import question as qn
from kb import dates
from kb.records import Hit


def annual(question: str, asked: dates.TimeAsked) -> bool:
    """The time asked is a year's work (2023年度评估, 2023年度报告), not a point in it."""
    return question[asked.end : asked.end + 1] == "度"


def without_time_words(q: qn.Question, asked: dates.TimeAsked | None) -> qn.Question:
    """The question with the words of the time it is bound to (2014年时，中国人民大学校长是谁？) neither required
    of its evidence nor held against it when it is weighed for a refusal: that time chooses the evidence by date
    (``in_time``). Its terms still rank a sentence that states the time first."""
    if asked is None:
        return q
    return replace(q, entities=tuple(e for e in q.entities if e not in asked.text),
                   given=tuple(t for t in q.terms if t in asked.text))  # fmt: skip


def in_time(hits: Sequence[Hit], asked: dates.TimeAsked, yearly: bool = False) -> list[Hit]:
    """The hits dated in the time asked (their document's date, or a date their text, caption or header states,
    in range), in retrieval order; for a year's work asked (``yearly``: 2023年度评估里…), the year its document's
    title names too (…2023年度评估情况通报, published in 2024, is of 2023; not for 2023年时 or a day asked)."""
    whole_year = yearly and asked.since[5:] == "01-01" and asked.until[5:] == "12-31"
    return [
        h for h in hits
        if asked.covers(h.date)
        or asked.stated_in(f"{h.title if whole_year else ''} {h.chunk.caption} {h.chunk.header} {h.chunk.text}",
                           h.date)
    ]  # fmt: skip
