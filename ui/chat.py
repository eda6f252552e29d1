"""The chat: answers with [n] markers, a 来源 section you can open, refusals with 可能相关.

Owns: rendering one answer (escaped text whose [n] markers show their quote on hover
and lead to the 来源 section, one expander per citation with the quoted sentence
highlighted in its passage, nearest passages for a refusal, copy and rating
controls), starter questions on an empty chat, and running a question with a
streamed answer. Does not own: answering.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from assistant import cite
from assistant.core import Assistant
from assistant.serialize import answer_text, place
from assistant.starters import starters
from kb.errors import PilotQAError
from kb.records import CELL_SEP, Answer, Chunk, Citation, Mode, Progress
from ops import api as ops
from ui import state
from ui.text import highlight, md_escape, title_escape

log = logging.getLogger(__name__)


def _title_section(c: Citation) -> tuple[str, str]:
    """The document's title (its file name when it has none) and the section, unless the section repeats it."""
    title = c.title or Path(c.source).name
    return title, (c.section if c.section != title else "")


def _label(c: Citation) -> str:
    """An expander label: Streamlit renders Markdown (links, images) in labels, so every part is escaped."""
    title = _title_section(c)[0]
    bits = [title, c.date or "", *place(c, title)]
    return f"[{c.n}] " + " · ".join(md_escape(b) for b in bits if b)


def row_table(header_rows: str, row: str) -> dict[str, list[str]]:
    """A table row under its (last) header row, as columns of text; repeated or empty header cells are made unique
    so that no cell is lost."""
    header = header_rows.split("\n")[-1].split(CELL_SEP)
    cells = row.split(CELL_SEP)
    names: list[str] = []
    for i in range(max(len(header), len(cells))):
        name = header[i].strip() if i < len(header) and header[i].strip() else f"列{i + 1}"
        names.append(name if name not in names else f"{name}（{i + 1}）")
    return {name: [cells[i] if i < len(cells) else ""] for i, name in enumerate(names)}


def _passage(chunks: dict[str, Chunk], c: Citation) -> str:
    chunk = chunks.get(c.chunk_id)
    if chunk is None:  # the document changed since: show the quote alone
        return highlight(c.quote, [(0, len(c.quote))])
    return highlight(chunk.text, [(c.start - chunk.start, c.end - chunk.start)])


def with_markers(answer: Answer, index: int) -> str:
    """The escaped answer text, each of its markers a link to this answer's 来源 whose hover title is the quote
    (a bracketed number in the text itself, such as a document's own [1], stays text)."""
    quotes = {c.n: c.quote for c in answer.citations}
    return "".join(
        f'[\\[{n}\\]](#sources-{index} "{title_escape(quotes[n])}")' if n else md_escape(text)
        for text, n in cite.pieces(answer)
    )


def show_answer(assistant: Assistant, answer: Answer, index: int) -> None:
    st.markdown(with_markers(answer, index))
    if answer.notice and answer.notice != answer.text:
        st.caption(md_escape(answer.notice))
    st.caption(md_escape(f"答案方式：{mode_line(answer)}"))
    if answer.citations:
        st.subheader("来源", anchor=f"sources-{index}")
        chunks = assistant.res.kb.chunks([c.chunk_id for c in answer.citations])  # one query per answer
        for c in answer.citations:
            with st.expander(_label(c)):
                if c.header:  # a table row, shown under its header as a small table (cells as data, never HTML)
                    st.caption(md_escape(c.caption))
                    st.table(row_table(c.header, c.quote))
                st.markdown(_passage(chunks, c))
                st.caption(md_escape(Path(c.source).name))  # the file's name, never a path on the server
    if answer.related:
        items = [f"- {md_escape(_where(c))}：{md_escape(c.quote)}" for c in answer.related]
        st.info("可能相关（并非答案依据）：\n\n" + "\n\n".join(items))
    left, right = st.columns([3, 1])
    with left, st.popover("复制答案和来源"):
        st.code(answer_text(answer), language=None, wrap_lines=True)
    with right:
        rating = st.feedback("thumbs", key=f"feedback-{index}")
        if rating is not None and st.session_state.get(f"saved-{index}") != rating:
            state.save_feedback(answer, "up" if rating == 1 else "down", st.session_state[state.KB])
            st.session_state[f"saved-{index}"] = rating
            st.toast("已记录反馈，谢谢！")


def _where(c: Citation) -> str:
    return " · ".join(x for x in _title_section(c) if x)


@st.cache_data(show_spinner=False, max_entries=16)
def _starters(_assistant: Assistant, kb_name: str, counts: tuple[int, int]) -> list[str]:
    """Cached per knowledge base and its size (an import or a delete makes new ones)."""
    return starters(_assistant)


def starter_clicked(assistant: Assistant, history: list[Answer]) -> str:
    """On an empty chat, up to three questions the knowledge base answers; the one clicked, or ""."""
    kb = assistant.res.kb
    counts = kb.counts()
    if history or not counts[1]:
        return ""
    questions = _starters(assistant, kb.name, counts)
    if not questions:
        return ""
    holder = st.empty()
    with holder.container():
        st.caption("可以这样问：")
        clicked = [q for i, q in enumerate(questions) if st.button(q, key=f"starter-{i}")]
    if clicked:
        holder.empty()
    return clicked[0] if clicked else ""


MODE_LABELS = {Mode.EXTRACTIVE: "离线抽取", Mode.READER: "模型阅读", Mode.LLM: "模型生成"}


def mode_line(answer: Answer) -> str:
    """How the answer was made, in Chinese: the mode and, where one took part, the language model."""
    return " · ".join(x for x in (MODE_LABELS[answer.mode], answer.trace.model) if x)


def show_progress(progress: Progress) -> None:
    """What the answer waits on: the line, and the sentences the model is reading (escaped, as text)."""
    st.caption(md_escape(progress.message))
    for c in progress.evidence:
        st.caption(f"{c.n}. {md_escape(c.quote)}")


def ask(assistant: Assistant, question: str, mode: str) -> None:
    """Answer ``question`` in a new assistant message: a progress line at once, what a language model reads
    while it reads, then the text as it comes."""
    history = state.history()
    final: list[Answer] = []

    with st.chat_message("assistant"):
        waiting = st.empty()
        waiting.caption("正在查找相关资料…")

        def pieces() -> Iterator[str]:
            steps = ops.stream(state.library(), question, history, assistant.res.kb.name, mode, threading.Event())
            for item in steps:  # as every front end asks (ops.api): its limits, its locks
                if isinstance(item, Answer):
                    final.append(item)
                elif isinstance(item, Progress):
                    with waiting.container():
                        show_progress(item)
                else:
                    yield md_escape(item)

        try:
            holder = st.empty()
            with holder.container():
                st.write_stream(pieces())
            holder.empty()
            waiting.empty()
        except PilotQAError as exc:
            st.error(str(exc))
            return
        except Exception:
            log.exception("answering %r failed", question)
            st.error("出现意外错误，已记录到日志。请稍后重试；若仍然出错，请联系管理员。")
            return
        if final:
            history.append(final[-1])
            show_answer(assistant, final[-1], len(history) - 1)
