"""The 文档 page: what is in the knowledge base, each document readable and searchable.

Owns: the document list (title, date, chunks, file name), choosing one by its id, reading it with
its headings, highlighting a search's lexical matches, and deleting a document after
a confirmation, with the outcome shown after the page reloads, and placing the knowledge base's check
(``ui.check``). Does not own: storage (``kb.store``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.core import Assistant
from assistant.serialize import OCR_MARK
from ingest.loaders import TYPES
from kb.records import DocInfo, Document
from ops import api as ops
from ui import check, state
from ui.text import find_all, highlight, md_escape

CONFIRM, DELETED = "confirm_delete", "deleted_message"


def _sections(doc: Document, terms: list[str]) -> None:
    shown: tuple[str, ...] = ()
    for s in doc.sections:
        for depth, heading in enumerate(s.heading_path):
            if shown[: depth + 1] != s.heading_path[: depth + 1]:
                st.markdown("#" * min(depth + 3, 6) + " " + md_escape(heading))
        shown = s.heading_path
        body = doc.text[s.start : s.end]
        where = "，".join(x for x in (f"第{s.page}页" if s.page else "", OCR_MARK if s.ocr else "") if x)
        page = f"（{where}）" if where else ""
        st.markdown(highlight(body, find_all(body, terms)) + (f"  \n_{page}_" if page else ""))


def _name(d: DocInfo) -> str:
    """How a document is named in the picker: title, date and file (a label only: documents are keyed by id)."""
    file = Path(d.source).name + (f"（记录 {d.record}）" if d.record else "")
    return f"{d.title}（{d.date}） · {file}" if d.date else f"{d.title} · {file}"


def page(assistant: Assistant) -> None:
    kb = assistant.res.kb
    if st.session_state.get(DELETED):
        st.success(st.session_state.pop(DELETED))
    docs = kb.documents()
    st.subheader("文档")
    check.section(assistant)
    if not docs:
        st.info(f"知识库里还没有文档。请在左侧栏上传文件（{TYPES}）。")
        return
    st.dataframe(
        [{"标题": d.title, "日期": d.date or "", "片段数": d.n_chunks, "清除模板文字": d.removed,
          "文件": Path(d.source).name} for d in docs],
        hide_index=True, width="stretch",
    )  # fmt: skip
    names = {d.doc_id: _name(d) for d in docs}  # keyed by id: two documents may share a title and a date
    chosen = st.selectbox("打开文档", list(names), format_func=names.__getitem__)
    query = st.text_input("在文档中搜索", placeholder="输入词语，例如：电子社保卡")
    terms = kb.segmenter.words(query) if query.strip() else []
    doc = kb.document(str(chosen))
    if doc is None:
        st.warning("该文档已被删除。")
        return
    if any(s.ocr for s in doc.sections):
        st.info(f"标有“{OCR_MARK}”的部分由扫描页或图片经文字识别（OCR）得到，可能有误，引用前请对照原件核对。")
    if terms:
        st.caption(f"共 {len(find_all(doc.text, terms))} 处匹配")
    _sections(doc, terms)
    delete(assistant, doc)


def delete(assistant: Assistant, doc: Document) -> None:
    """删除此文档 asks first; the confirmed delete's message survives the reload it causes."""
    if st.session_state.get(CONFIRM) != doc.doc_id:
        if st.button("删除此文档", key=f"delete-{doc.doc_id}"):
            st.session_state[CONFIRM] = doc.doc_id
            st.rerun()
        return
    st.warning(f"确定要从知识库删除《{md_escape(doc.title)}》吗？删除后需重新导入才能再查询。")
    yes, no = st.columns(2)
    if yes.button("确认删除", type="primary", key=f"confirm-{doc.doc_id}"):
        # as every front end deletes (ops.api): the uploaded copy goes too, once no other document comes from it
        ops.delete(state.library(), doc.doc_id, assistant.res.kb.name)
        st.session_state[DELETED] = f"已删除：{md_escape(doc.title)}"
        st.session_state[CONFIRM] = None
        st.rerun()
    if no.button("取消", key=f"cancel-{doc.doc_id}"):
        st.session_state[CONFIRM] = None
        st.rerun()
