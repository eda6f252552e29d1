"""Starter questions for an empty chat, made from the knowledge base's own documents.

Owns: asking first about the registry's newest facts whose subject is a place or an institution
(青岛市试点项目有多少个？: a question that names whose figure it wants), then about clauses that state a count
(…布放受理终端4821台 → …布放受理终端多少台？), and keeping only those the assistant's rules answer with that
figure (no language model is called, whatever the mode chosen or the endpoint configured). Does not own: showing
them (``ui.chat``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import chain

from assistant.core import Assistant
from kb.catalog import FactQuery
from kb.entities import named
from kb.quantity import COUNTERS, MEASURE_WORDS
from kb.records import Chunk, Fact, Mode

_CLAUSE = re.compile(r"[^，,；;：:。！？!?\n]+")
_COUNT = re.compile(
    rf"^(?P<what>[\u4e00-\u9fff“”\"0-9]{{5,22}}?)(?P<n>\d+(?:\.\d+)?)(?P<scale>万|亿)?(?P<unit>[{MEASURE_WORDS}元])$"
)
_BAD_START = re.compile(r"^(?:其中|如|例如|该|其|此|这|并|且|和|与|等|达|约)")
_AS_OF = re.compile(r"^截至\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?[末底]?")  # the date stays in the answer
SCANNED = 400  # chunks (and facts) looked at: enough for a few questions, cheap on a large knowledge base
MAX_METRIC = 12  # a longer metric reads as a clause, not a question's subject


def candidates(chunks: list[Chunk], noun_head: Callable[[str], bool] = lambda _: True) -> Iterator[tuple[str, str]]:
    """(question, the number it should be answered with), in document order."""
    for chunk in chunks:
        for clause in _CLAUSE.findall(chunk.text):
            m = _COUNT.match(_AS_OF.sub("", clause.strip()))
            if m is None or _BAD_START.match(m["what"]) or m["what"][-1].isdigit() or not noun_head(m["what"]):
                continue
            yield f"{m['what']}多少{m['unit']}？", m["n"] + (m["scale"] or "") + m["unit"]


def from_facts(facts: list[Fact], noun_head: Callable[[str], bool] = lambda _: True) -> Iterator[tuple[str, str]]:
    """(question, the figure it should be answered with) for facts whose subject is a named place or institution,
    newest first, one per subject."""
    subjects: set[str] = set()
    for f in facts:
        names = named(f.subject)
        whole = len(names) == 1 and names[0].name == f.subject and names[0].kind in ("place", "org")
        unit = f.unit.lstrip("余")
        if not whole or f.source_kind != "text" or f.value is None or f.subject in subjects:
            continue
        if not unit or unit[-1] not in COUNTERS + "元" or not 2 <= len(f.metric) <= MAX_METRIC or f.subject in f.metric:
            continue
        if f.qualifier or not noun_head(f.metric):  # staff ask for a level named by a noun (not 可复制推广, 误将)
            continue
        subjects.add(f.subject)
        yield f"{f.subject}{f.metric}有多少{unit}？", f.text


def starters(assistant: Assistant, n: int = 3) -> list[str]:
    """Up to ``n`` questions about different passages, each answered by the assistant with its number: about named
    subjects' facts first, then about counts the text states."""
    kb = assistant.res.kb
    ids = kb.chunk_ids()[:SCANNED]
    chunks = sorted(kb.chunks(ids).values(), key=lambda c: (c.doc_id, c.ordinal))
    found: list[str] = []
    head = assistant.res.segmenter.noun_head
    for question, number in chain(from_facts(kb.facts(FactQuery(limit=SCANNED)), head), candidates(chunks, head)):
        answer = assistant.ask(question, mode=Mode.EXTRACTIVE)  # the rules alone: a starter never calls a model
        if answer.grounded and number in answer.text.split("。")[0] and question not in found:
            found.append(question)
        if len(found) == n:
            break
    return found
