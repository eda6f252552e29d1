"""PilotQA's Streamlit chat: ``streamlit run app.py`` (``make run`` does it on 127.0.0.1:8501).

Owns: page set-up, logging, choosing the page (对话 / 文档), the chat loop and the
briefing export buttons. Everything else lives in ``ui/`` and below. Document text is
always escaped; nothing from a document is rendered as HTML.
"""

from __future__ import annotations

import logging

import streamlit as st

from assistant.briefing import as_of, build
from assistant.core import Assistant
from kb.errors import PilotQAError
from kb.records import Answer
from ui import chat, docs, sidebar, state

st.set_page_config(page_title="试点问答 PilotQA", page_icon="📑", layout="wide")
log = logging.getLogger("pilotqa.app")


def export(history: list[Answer]) -> None:
    if not history:
        return
    labels = [f"{i + 1}. {a.question}" for i, a in enumerate(history)]
    with st.expander("简报导出"):
        chosen = st.multiselect("选择要导出的回答（默认全部）", labels)
        picked = [history[labels.index(x)] for x in chosen] or history
        st.caption(f"资料截至 {as_of(picked) or '日期不详'}；文件在点击下载时生成，导出时间记在文件里")
        left, right = st.columns(2)
        # the files are built only when a button is clicked, not on every rerun of the chat
        left.download_button(
            "下载 Markdown", lambda: build(picked).markdown.encode("utf-8"), "briefing.md", "text/markdown",
            on_click="ignore",
        )  # fmt: skip
        right.download_button(
            "下载 Word", lambda: build(picked).docx, "briefing.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document", on_click="ignore",
        )  # fmt: skip


def chat_page(assistant: Assistant) -> None:
    st.title("试点问答")
    history = state.history()
    if assistant.res.kb.counts()[1] == 0:
        st.info(
            "知识库里还没有文档。请在左侧栏“上传文档”中选择 txt、md、html、pdf 或 docx 文件并导入，"
            "或在命令行运行 `pilotqa ingest 文件夹`，然后就可以提问了。"
        )
    for i, answer in enumerate(history):
        with st.chat_message("user"):
            st.markdown(chat.md_escape(answer.question))
        with st.chat_message("assistant"):
            chat.show_answer(assistant, answer, i)
    question = st.chat_input("请输入问题，例如：刷脸付受理终端布放了多少台？")
    if question:
        with st.chat_message("user"):
            st.markdown(chat.md_escape(question))
        chat.ask(assistant, question, st.session_state.get(state.MODE, "extractive"))
    export(state.history())


def main() -> None:
    settings = state.settings()
    logging.basicConfig(level=getattr(logging, settings.log_level.upper(), logging.WARNING))
    try:
        kb_name = sidebar.choose_kb()
        assistant = state.assistant(kb_name)
        sidebar.overview(assistant)
        page = st.sidebar.radio("页面", ["对话", "文档"], horizontal=True)
        st.session_state[state.MODE] = sidebar.mode(assistant)
        sidebar.upload(assistant)
        sidebar.clear()
        if page == "文档":
            docs.page(assistant)
        else:
            chat_page(assistant)
    except PilotQAError as exc:
        st.error(str(exc))
    except Exception:
        log.exception("the app failed")
        st.error("出现意外错误，已记录到日志。请刷新页面重试；若仍然出错，请联系管理员。")


main()
