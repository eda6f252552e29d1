"""PilotQA's Streamlit chat: ``streamlit run app.py`` (``make run`` does it on 127.0.0.1:8501).

Owns: page set-up, the order things appear in, and choosing the page (对话 / 文档 / 事实). The
title, the page switch and the chat input are drawn before anything heavy is imported
or opened, so the page is usable at once; a question typed while the knowledge base
and the model are still loading is answered as soon as they are up. Everything else
lives in ``ui/`` and below. Document text is always escaped; nothing from a document
is rendered as HTML.
"""

from __future__ import annotations

import logging

import streamlit as st

st.set_page_config(page_title="试点问答 PilotQA", page_icon="📑", layout="wide")
log = logging.getLogger("pilotqa.app")
PLACEHOLDER = "请输入问题，例如：终端布放了多少台？"


def main() -> None:
    page = st.sidebar.radio("页面", ["对话", "文档", "事实"], horizontal=True, key="page")
    question = st.chat_input(PLACEHOLDER) if page == "对话" else None
    st.title("试点问答")
    with st.spinner("正在打开知识库……"):
        from ui import body  # the heavy part: the assistant, the knowledge base, the model

    body.run(page, question)


try:
    main()
except Exception:  # the last edge: PilotQA's own errors are shown by ``ui.body``
    log.exception("the app failed")
    st.error("出现意外错误，已记录到日志。请刷新页面重试；若仍然出错，请联系管理员。")
