"""When and by whom a document was issued (…的那份通知是什么时候下发的？是哪个部门发的？): what the document
states of itself.

Owns: reading a question that asks a document's own date or issuer (印发, 发布, 下发 … of a 通报, 通知, 简报 …) and
answering it with that document's date, quoting the line that states it (its top or its sign-off), or with its
issuer, quoting the sign-off above its date or the issuer's line above its title. Does not own: how a document's
date is read at ingest (``ingest.structure.find_date``), nor any other when- or who-question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import question as qn
from assistant.extract import Candidate, Draft
from kb.records import Document, Hit
from kb.segment import bigrams, sentence_spans
from kb.store import KnowledgeBase
from kb.wording import squeezed

_ISSUING = r"(?:印发|发布|下发|出台|发文|签发|公布|发出|成文)"
_WHEN = r"(?:哪天|哪一天|哪日|什么时候|什么时间|何时|几月几[日号]|哪年哪月|几号)"
# a question about a document's own date: when it was issued, or its issuing date
_ISSUED = re.compile(rf"{_WHEN}.{{0,3}}{_ISSUING}|{_ISSUING}的?(?:日期|时间){_WHEN}?|{_ISSUING}于?{_WHEN}")
_DOCUMENT = re.compile(r"通报|通知|简报|报告|意见|办法|公告|方案|文件|新闻稿|通稿|总结|说明|函|纪要|公报")
MAX_LINE = 60  # a date line, not a sentence that names the date in passing


def asks(text: str) -> bool:
    """The question asks when a document was issued (那份通知是哪天下发的): a document word, then within a few
    characters the issuing asked."""
    return _asks(_ISSUED, text)


def asks_who(text: str) -> bool:
    """The question asks who issued a document (那份通报是哪个部门发的, 发文机关是哪个)."""
    return _asks(_ISSUER, text)


def _asks(pattern: re.Pattern[str], text: str) -> bool:
    issued = pattern.search(text)
    return bool(issued and _DOCUMENT.search(text, max(0, issued.start() - MAX_GAP), issued.start() + 2))


_WHO = r"(?:哪个|哪家|什么|哪一?个?)(?:部门|单位|机构|机关)|谁"
_ISSUER = re.compile(rf"(?:{_WHO}).{{0,2}}(?:{_ISSUING[3:-1]}|发的|出的)|(?:发文|印发|发布)(?:机关|单位|部门)")


MAX_GAP = 8  # characters between the document named and the issuing asked (通报是哪天印发的, 通知的印发日期)


def answer(kb: KnowledgeBase, q: qn.Question, hits: Sequence[Hit]) -> Draft | None:
    """The date or the issuer of the retrieved document the question names best, quoting the line that states it;
    None when the question asks neither or that document states none."""
    who = asks_who(q.text)
    if not (who or asks(q.text)) or not hits:
        return None
    grams = set(bigrams(squeezed(q.text)))
    of_doc = {h.chunk.doc_id: h for h in reversed(hits)}
    best = max(of_doc.values(), key=lambda h: (len(grams & set(bigrams(squeezed(h.title)))), -hits.index(h)))
    doc = kb.document(best.chunk.doc_id)
    if doc is None or not doc.date:
        return None
    found = _issuer_line(doc) if who else _date_line(doc)
    if found is None:
        return None
    start, end, said = found
    chunk = kb.chunk_at(doc.doc_id, start, end)  # the line's own chunk, which the citation quotes
    if chunk is None:
        return None
    hit = Hit(chunk, best.score, best.title, best.date, best.source)
    cand = Candidate(hit, start, end, doc.text[start:end], 1.0, 1.0)
    return Draft(said, (cand,), True, reason="document issuer" if who else "document date")


# a line that is an issuing body's name alone (北京市通州区人民政府办公室, 中国人民银行某省分行科技处)
_ISSUER_LINE = re.compile(
    r"[\u4e00-\u9fff（）()]{4,40}?(?:人民政府办公室|人民政府|办公室|办公厅|局|委员会|分行|支行|中心|处|厅|室|银行|小组)"
)


def _issuer_line(doc: Document) -> tuple[int, int, str] | None:
    """Where ``doc`` names its issuer: the sign-off line above (or before) its date, else a line of its own above its
    title; the line, and the issuer as written."""
    dated = _date_line(doc)
    lines = [(m.start(), m.end(), m.group(0).strip()) for m in re.finditer(r"[^\n]+", doc.text)]
    lines = [ln for ln in lines if ln[2]]
    if dated is not None:
        at = next((i for i, ln in enumerate(lines) if ln[0] <= dated[0] < ln[1] + 1), None)
        for ln in [lines[at]] + ([lines[at - 1]] if at else []) if at is not None else []:
            m = _ISSUER_LINE.match(ln[2])
            if m and len(ln[2]) <= MAX_LINE:
                return ln[0], ln[1], m.group(0)
    for ln in lines[:4]:  # 某某人民政府办公室 above 文号 and the title
        if doc.title and doc.title in ln[2]:
            break
        m = _ISSUER_LINE.fullmatch(ln[2])
        if m:
            return ln[0], ln[1], m.group(0)
    return None


def _date_line(doc: Document) -> tuple[int, int, str] | None:
    """Where ``doc`` states its own date: the line, and the date as it is written there."""
    assert doc.date is not None
    year, month, day = (int(x) for x in doc.date.split("-"))
    forms = re.compile(
        rf"{year}\s*年\s*0?{month}\s*月\s*0?{day}\s*日|{year}(?P<sep>[-/.])0?{month}(?P=sep)0?{day}(?!\d)"
    )
    # a line of its own (落款 2025年11月14日, 发布日期：2025-10-21) before a sentence naming the day
    matches = sorted(forms.finditer(doc.text), key=lambda m: _line_length(doc.text, m.start()) > MAX_LINE)
    if not matches:
        return None
    m = matches[0]
    spans = [(a, b) for a, b in sentence_spans(doc.text) if a <= m.start() < b]
    start, end = spans[0] if spans else (m.start(), m.end())
    return start, end, m.group(0)


def _line_length(text: str, at: int) -> int:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return (len(text) if end < 0 else end) - start
