"""The sidebar: which knowledge base, what is in it, uploads, answer mode, clearing.

Owns: switching knowledge bases, the counts and model line, uploading files (through ``ops.api.upload``, as every
front end does) with a progress bar and one result line per file (kept until dismissed; file names and messages
escaped), the answer-mode choice and the clear-conversation button. Does not own: uploading itself (``ops``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.core import Assistant
from ingest.loaders import TYPES
from ingest.summary import Status
from kb import store
from ops import api as ops
from ui import state
from ui.text import md_escape

log = logging.getLogger(__name__)
MODES = {"离线抽取": "extractive", "模型阅读": "reader", "模型生成": "llm"}
RESULTS, UPLOADER = "upload_results", "uploader_round"


def choose_kb() -> str:
    s = state.settings()
    names = sorted(set(store.list_names(s)) | {s.kb})
    current = st.session_state.get(state.KB, s.kb)
    name = st.sidebar.selectbox("知识库", names, index=names.index(current) if current in names else 0)
    if name != st.session_state.get(state.KB):
        st.session_state[state.KB] = name
        st.session_state[state.HISTORY] = []
    return str(name)


def overview(assistant: Assistant) -> None:
    docs, chunks = assistant.res.kb.counts()
    st.sidebar.caption(f"{docs} 篇文档 · {chunks} 个片段")


def about(assistant: Assistant) -> None:
    """Details a user rarely needs, behind 关于."""
    s, kb = state.settings(), assistant.res.kb
    with st.sidebar.expander("关于"):
        st.caption(md_escape(f"嵌入模型：{kb.model}"))
        st.caption(md_escape(f"向量库：{'Chroma 服务器 ' + s.chroma_url if s.chroma_url else '本机（嵌入式 Chroma）'}"))
        llm = f"{s.llm_model}（{s.llm_base_url}）" if assistant.llm_available else "未配置（PILOTQA_LLM_BASE_URL）"
        st.caption(md_escape(f"语言模型：{llm}"))
        st.caption("试点问答只根据知识库中的文档回答，每个事实都标出来源句子；资料中没有的，会直接说明。")


def upload(assistant: Assistant) -> None:
    shown_results()
    files = st.sidebar.file_uploader(
        "上传文档", accept_multiple_files=True,
        help=f"{TYPES}；扫描版 PDF 和图片经文字识别（OCR）导入",
        key=f"uploads-{st.session_state.get(UPLOADER, 0)}",
    )  # fmt: skip
    if not files or not st.sidebar.button("导入上传的文档", type="primary"):
        return
    bar = st.sidebar.progress(0.0, text="正在导入……")

    at = [0.0, 1.0]  # the file being read: its share of the bar, and the share of one file

    def progress(done: int, total: int, name: str) -> None:
        at[:] = [done / max(total, 1), 1 / max(total, 1)]
        bar.progress(at[0], text=md_escape(f"正在导入 {Path(name).name}") if name else "完成")

    def page(name: str, number: int, pages: int) -> None:  # a scanned file is read page by page
        share = at[0] + at[1] * (number - 1) / max(pages, 1)
        bar.progress(min(share, 1.0), text=md_escape(f"正在识别文字 {Path(name).name}：第 {number}/{pages} 页"))

    def waiting(message: str) -> None:  # another process writing this knowledge base (an ingest): said, then on
        bar.progress(0.0, text=message)

    # as every front end uploads (ops.api): kept (none replaces another; the same content twice is one file), read
    # without holding the knowledge base, stored under its locks, the copies no document came from removed
    result = ops.upload(state.library(), [(f.name, f.getvalue()) for f in files], assistant.res.kb.name,
                        progress=progress, on_page=page, on_wait=waiting)  # fmt: skip
    st.session_state[RESULTS] = result_lines(result)
    st.session_state[UPLOADER] = st.session_state.get(UPLOADER, 0) + 1  # a fresh, empty uploader
    st.rerun()  # the counts above and the document list now include what was imported


def result_lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, escaped line) per file of an upload's result (``ops.api.upload``): the file's name, never a server
    path, and the problem in Chinese; kind is error (failed), warning (read, with something to check: pages
    recognised with low confidence) or success."""
    lines = []
    for r in result["results"]:
        line = f"{r['label']}：{r['file']}" + (f"（{r['message']}）" if r["message"] else "")
        kind = "error" if r["status"] == Status.FAILED.value else "warning" if r["message"] else "success"
        lines.append((kind, md_escape(line)))
    return [*lines, ("success", md_escape(result["summary"]))]


def shown_results() -> None:
    """The last import's result lines, until the user closes them."""
    lines = st.session_state.get(RESULTS)
    if not lines:
        return
    for kind, line in lines[:-1]:
        {"error": st.sidebar.error, "warning": st.sidebar.warning}.get(kind, st.sidebar.success)(line)
    st.sidebar.caption(lines[-1][1])
    if st.sidebar.button("关闭导入结果"):
        st.session_state[RESULTS] = None
        st.rerun()


def mode(assistant: Assistant) -> str:
    """The answer mode: the rules, or a language model reading the evidence (the bundled one, or the configured
    endpoint's); writing the answer is offered only with an endpoint (the bundled model is too small for it)."""
    names = list(MODES) if assistant.llm_available else ["离线抽取", "模型阅读"]
    help_text = (
        f"离线抽取：规则选出原文句子，立即回答。模型阅读：{assistant.model_label}从最相关的句子中摘出答案，"
        "再逐项核对原文，答案更短，本机每问约需数秒。"
        + ("模型生成：语言模型根据资料写出答案，每句标注出处。" if assistant.llm_available else "")
    )
    choice = st.sidebar.radio("答案方式", names, horizontal=True, help=help_text)
    return MODES[str(choice)]


def clear() -> None:
    if st.sidebar.button("清空对话"):
        st.session_state[state.HISTORY] = []
