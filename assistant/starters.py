"""Starter questions for an empty chat, made from the knowledge base's own documents.

Owns: finding clauses that state a count (…布放受理终端4821台), turning each into the question it answers
(…布放受理终端多少台？), and keeping only those the assistant's rules answer with that number (no language
model is called, whatever the mode chosen or the endpoint configured). Does not own:
showing them (``ui.chat``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.core import Assistant
from kb.quantity import MEASURE_WORDS
from kb.records import Chunk, Mode

_CLAUSE = re.compile(r"[^，,；;：:。！？!?\n]+")
_COUNT = re.compile(
    rf"^(?P<what>[\u4e00-\u9fff“”\"0-9]{{5,22}}?)(?P<n>\d+(?:\.\d+)?)(?P<scale>万|亿)?(?P<unit>[{MEASURE_WORDS}元])$"
)
_BAD_START = re.compile(r"^(?:其中|如|例如|该|其|此|这|并|且|和|与|等|达|约)")
_AS_OF = re.compile(r"^截至\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?[末底]?")  # the date stays in the answer
SCANNED = 400  # chunks looked at: enough for a few questions, cheap on a large knowledge base


def candidates(chunks: list[Chunk]) -> Iterator[tuple[str, str]]:
    """(question, the number it should be answered with), in document order."""
    for chunk in chunks:
        for clause in _CLAUSE.findall(chunk.text):
            m = _COUNT.match(_AS_OF.sub("", clause.strip()))
            if m is None or _BAD_START.match(m["what"]) or m["what"][-1].isdigit():
                continue
            yield f"{m['what']}多少{m['unit']}？", m["n"] + (m["scale"] or "") + m["unit"]


def starters(assistant: Assistant, n: int = 3) -> list[str]:
    """Up to ``n`` questions about different passages, each answered by the assistant with its number."""
    kb = assistant.res.kb
    ids = kb.chunk_ids()[:SCANNED]
    chunks = sorted(kb.chunks(ids).values(), key=lambda c: (c.doc_id, c.ordinal))
    found: list[str] = []
    for question, number in candidates(chunks):
        answer = assistant.ask(question, mode=Mode.EXTRACTIVE)  # the rules alone: a starter never calls a model
        if answer.grounded and answer.text.startswith(number) and question not in found:
            found.append(question)
        if len(found) == n:
            break
    return found
