"""The chat: answers with [n] markers, a 来源 section you can open, refusals with 可能相关.

Owns: rendering one answer (escaped text, one expander per citation with the quoted
sentence highlighted in its passage, nearest passages for a refusal, copy and rating
controls) and running a question with a streamed answer. Does not own: answering.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from assistant.core import Assistant
from assistant.serialize import answer_text
from kb.errors import PilotQAError
from kb.records import Answer, Chunk, Citation
from ui import state
from ui.text import highlight, md_escape

log = logging.getLogger(__name__)


def _label(c: Citation) -> str:
    """An expander label: Streamlit renders Markdown (links, images) in labels, so every part is escaped."""
    title = c.title or c.doc_id
    section = c.section if c.section and c.section != title else ""
    bits = [title, c.date or "", section, f"第{c.page}页" if c.page else ""]
    return f"[{c.n}] " + " · ".join(md_escape(b) for b in bits if b)


def _passage(chunks: dict[str, Chunk], c: Citation) -> str:
    chunk = chunks.get(c.chunk_id)
    if chunk is None:  # the document changed since: show the quote alone
        return highlight(c.quote, [(0, len(c.quote))])
    return highlight(chunk.text, [(c.start - chunk.start, c.end - chunk.start)])


def show_answer(assistant: Assistant, answer: Answer, index: int) -> None:
    st.markdown(md_escape(answer.text))
    if answer.notice and answer.notice != answer.text:
        st.caption(md_escape(answer.notice))
    if answer.citations:
        st.markdown("**来源**")
        chunks = assistant.res.kb.chunks([c.chunk_id for c in answer.citations])  # one query per answer
        for c in answer.citations:
            with st.expander(_label(c)):
                st.markdown(_passage(chunks, c))
                st.caption(md_escape(Path(c.source).name))
    if answer.related:
        items = [f"- {md_escape(c.title)} {md_escape(c.section)}：{md_escape(c.quote)}" for c in answer.related]
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


def ask(assistant: Assistant, question: str, mode: str) -> None:
    """Answer ``question`` in a new assistant message, streaming the text as it comes."""
    history = state.history()
    final: list[Answer] = []

    def pieces() -> Iterator[str]:
        for item in assistant.stream(question, history, mode=mode):
            if isinstance(item, Answer):
                final.append(item)
            else:
                yield md_escape(item)

    with st.chat_message("assistant"):
        try:
            holder = st.empty()
            with holder.container():
                st.write_stream(pieces())
            holder.empty()
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
