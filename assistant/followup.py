"""Follow-up questions: resolve pronouns and ellipsis from the conversation.

Owns: deciding whether a question leans on an earlier turn (它的…, 其中…, 该行…, a
short question with no subject), and rewriting it with the earlier turn's entities
and key terms. Extractive mode uses these rules; LLM mode may also ask the model to
rewrite (``assistant.llm``). Does not own: answering.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import question as qn
from kb.segment import QUESTION_WORDS, Segmenter

_PRONOUN = re.compile(
    r"^(?:那么|那|而|另外|此外|还有)?(它们的|它的|它|其|该行|该项目|该机构|该银行|这家银行|这家|这个项目|他们的|他们|此项目)"
)
_ELLIPSIS = re.compile(r"^(其中|那么|那|还有|另外|此外|以及|而)")


def leans_on_history(question: str) -> bool:
    q = question.strip()
    if _PRONOUN.search(q) or _ELLIPSIS.search(q):
        return True
    return len(q) <= 8 and not qn.entities(q)


def subject(previous: str, segmenter: Segmenter) -> str:
    """What an earlier question was about: its first entity, else its leading content terms."""
    found = qn.entities(previous)
    if found:
        return found[0]
    terms = [t for t in segmenter.words(previous) if len(t) > 1 and t not in QUESTION_WORDS]
    return "".join(terms[:2])


def rewrite(question: str, history: Sequence[str], segmenter: Segmenter) -> tuple[str, list[str]]:
    """The question made self-contained, and the earlier turn's terms to add to retrieval."""
    if not history or not leans_on_history(question):
        return question, []
    previous = history[-1]
    carried = [t for t in segmenter.terms(previous) if t not in QUESTION_WORDS]
    topic = subject(previous, segmenter)
    q = question.strip()
    m = _PRONOUN.search(q)
    if m and topic:
        return q[: m.start(1)] + topic + ("的" if m.group(1).endswith("的") else "") + q[m.end(1) :], carried
    if _ELLIPSIS.search(q):
        words = [t for t in segmenter.words(previous) if len(t) > 1 and t not in QUESTION_WORDS]
        return "".join(words[-2:]) + "，" + q, carried
    return (topic + q if topic and topic not in q else q), carried
