"""Everything the app draws once the title, page switch and chat input are up.

Owns: configuring logging, the sidebar's order, the chat page (history, starter
questions, the new question) and handing the 文档 page its assistant; PilotQA's own
errors shown as their message. Does not own: the early skeleton (``app.py``) or the
pieces it places (``ui.chat``, ``ui.sidebar``, ``ui.docs``, ``ui.export``).
"""

from __future__ import annotations

import logging

import streamlit as st

from assistant.core import Assistant
from ingest.loaders import TYPES
from kb.errors import PilotQAError
from ui import chat, docs, export, facts, sidebar, state, style
from ui.text import md_escape

EMPTY = (
    f"知识库里还没有文档。请在左侧栏“上传文档”中选择文件（{TYPES}）并导入，"
    "或在命令行运行 pilotqa ingest 文件夹，然后就可以提问了。"
)


def run(page: str, question: str | None) -> None:
    settings = state.settings()
    logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.WARNING))
    style.apply(settings.max_file_mb)
    try:
        kb_name = sidebar.choose_kb()
        assistant = state.assistant(kb_name)
        sidebar.overview(assistant)
        st.session_state[state.MODE] = sidebar.mode(assistant)
        sidebar.upload(assistant)
        briefing = st.sidebar.container()  # filled last: it lists the answer this run adds too
        sidebar.clear()
        sidebar.about(assistant)
        if page == "文档":
            docs.page(assistant)
        elif page == "事实":
            facts.page(assistant)
        else:
            chat_page(assistant, question)
        export.section(briefing, state.history())
    except PilotQAError as exc:
        st.error(str(exc))


def chat_page(assistant: Assistant, question: str | None) -> None:
    history = state.history()
    if assistant.res.kb.counts()[1] == 0:
        st.info(EMPTY)
    for i, answer in enumerate(history):
        with st.chat_message("user"):
            st.markdown(md_escape(answer.question))
        with st.chat_message("assistant"):
            chat.show_answer(assistant, answer, i)
    question = (question or "").strip() or chat.starter_clicked(assistant, history)
    if question:
        with st.chat_message("user"):
            st.markdown(md_escape(question))
        chat.ask(assistant, question, st.session_state.get(state.MODE, "extractive"))
