"""Questions about a table as a whole: the row at a position (湖南名单中列为第三名的中学是哪所？) and the list a
table holds (广西的推荐资格中学名单包括哪些学校？).

Owns: reading an ordinal from a question (第三名, 排在第二位, 第一个, 首个), choosing the retrieved table whose caption
names everything the question names, and answering with the cell of the row at that position (by its 序号 when the
table numbers its rows) or the cells of every row of a short table, each row quoted under its header. Does not own:
table records (``kb.records.Table``), single cells matched by subject and metric (``assistant.facts``) or sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant import question as qn
from assistant.extract import Candidate, Draft
from kb.quantity import chinese_to_int
from kb.records import Document, Hit, Table
from kb.segment import QUESTION_WORDS, bigrams
from kb.store import KnowledgeBase

_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]{1,3})(?=[个所名位家行])|(首个|首家|首位)")  # not 第三条, 第一项措施
_WHOLE_LIST = re.compile(
    r"(?:名单|列表|一览)\S{0,6}(?:包括|包含|有)(?:哪些|什么)|(?:有|包括)哪些\S{0,8}(?:被列出|入选|在列)"
)
_ROW_NUMBER = re.compile(r"^(?:序号|编号|序|No\.?|#)$", re.I)
MAX_LISTED = 12  # a table of more body rows than this is not listed whole in an answer
# the question's content bigrams a table's caption (with its document's title) must share: the table is the one asked
# about (湖南名单 … 推荐资格中学 share 6 or more with 2014年“圆梦计划”推荐资格中学名单(湖南)), not any table retrieved
MIN_SHARED = 3
_NOT_CONTENT = {g for w in (*QUESTION_WORDS, "第一", "第二", "第三", "排在", "列为") for g in bigrams(w)}
_NOT_A_ROW = (qn.TIME, qn.QUANTITY, qn.REASON, qn.YESNO)  # 首个试点项目何时启动: a date, not a row's name


def ordinal(question: str) -> int | None:
    """The position a question asks about (第三名 → 3, 首个 → 1), or None."""
    m = _ORDINAL.search(question)
    if m is None:
        return None
    if m.group(2):
        return 1
    word = m.group(1)
    n = int(word) if word.isdigit() else chinese_to_int(word)
    return n if n and n >= 1 else None


def answer(kb: KnowledgeBase, q: qn.Question, hits: Sequence[Hit]) -> Draft | None:
    """The row at the position ``q`` asks about, or every row of the table it asks to list; None when the
    question asks neither or no retrieved table's caption names what it names."""
    n = ordinal(q.text)
    listing = n is None and _WHOLE_LIST.search(q.text) is not None
    if (n is None and not listing) or q.kind in _NOT_A_ROW:
        return None
    found = _table(kb, q, hits)
    if found is None:
        return None
    doc, table, hit = found
    body = list(range(table.header_rows, len(table.rows)))
    if listing:
        chosen = body if len(body) <= MAX_LISTED else []
    else:
        chosen = [i for i in body if _number(doc, table, i) == n] or (body[n - 1 : n] if n and n <= len(body) else [])
    if not chosen:
        return None
    column = _column(doc, table, q.text)
    cands = [_candidate(kb, doc, table, hit, i) for i in chosen]
    if any(c is None for c in cands):
        return None
    lead = "、".join(_cell(doc, table, i, column) for i in chosen)
    key = _key_column(doc, table)
    if not listing and column != key:  # 青岛农商行（牵头机构 · 移动端声纹认证服务）
        lead += f"（{_cell(doc, table, 0, column)} · {_cell(doc, table, chosen[0], key)}）"
    return Draft(lead, tuple(c for c in cands if c is not None), True, reason="table position")


def _table(kb: KnowledgeBase, q: qn.Question, hits: Sequence[Hit]) -> tuple[Document, Table, Hit] | None:
    """The table of a retrieved document whose caption (with its document's title) names every place, institution
    and year the question names, sharing the most words with it."""
    grams = set(bigrams(q.text)) - _NOT_CONTENT
    best: tuple[float, Document, Table, Hit] | None = None
    of_doc = {h.chunk.doc_id: h for h in reversed(hits)}  # each retrieved document's best hit
    for doc_id, hit in of_doc.items():
        doc = kb.document(doc_id)
        for table in doc.tables if doc else ():
            context = f"{table.caption} {hit.title}"
            if any(not qn.mentions(e, context) for e in q.entities):
                continue
            shared = len(grams & set(bigrams(context)))
            score = shared / (len(grams) or 1)
            if doc is not None and shared >= MIN_SHARED and (best is None or score > best[0]):
                best = (score, doc, table, hit)
    return best[1:] if best else None


def _number(doc: Document, table: Table, i: int) -> int | None:
    """Row ``i``'s own number, where the table's first column is a 序号 column."""
    header = table.cells[0]
    if not header or not _ROW_NUMBER.match(doc.text[slice(*header[0])].strip()) or not table.cells[i]:
        return None
    value = doc.text[slice(*table.cells[i][0])].strip()
    return int(value) if value.isdigit() else None


def _column(doc: Document, table: Table, question: str) -> int:
    """The column the question asks for: the one whose header shares most with it, else the row's first named
    cell (not its number)."""
    grams = set(bigrams(question))
    headers = [doc.text[a:b] for a, b in table.cells[0]]
    shares = [len(grams & set(bigrams(h))) if not _ROW_NUMBER.match(h.strip()) else -1 for h in headers]
    best = max(range(len(headers)), key=lambda j: shares[j]) if headers else 0
    return best if shares and shares[best] > 0 else _key_column(doc, table)


def _key_column(doc: Document, table: Table) -> int:
    """The column that names a row: the first that is not its number."""
    headers = [doc.text[a:b] for a, b in table.cells[0]]
    return next((j for j, h in enumerate(headers) if not _ROW_NUMBER.match(h.strip())), 0)


def _cell(doc: Document, table: Table, i: int, column: int) -> str:
    cells = table.cells[i]
    a, b = cells[min(column, len(cells) - 1)]
    return doc.text[a:b].strip()


def _candidate(kb: KnowledgeBase, doc: Document, table: Table, hit: Hit, i: int) -> Candidate | None:
    start, end = table.rows[i]
    chunk = kb.chunk_at(doc.doc_id, start, end)
    if chunk is None:
        return None
    return Candidate(replace(hit, chunk=chunk), start, end, doc.text[start:end], hit.score, 1.0)
