"""The 文档 page: what is in the knowledge base, each document readable and searchable.

Owns: the document list (title, date, chunks), reading one document with its
headings, highlighting a search's lexical matches, and deleting a document. Does not
own: storage (``kb.store``).
"""

from __future__ import annotations

import streamlit as st

from assistant.core import Assistant
from kb.records import Document
from ui.text import find_all, highlight, md_escape


def _sections(doc: Document, terms: list[str]) -> None:
    shown: tuple[str, ...] = ()
    for s in doc.sections:
        for depth, heading in enumerate(s.heading_path):
            if shown[: depth + 1] != s.heading_path[: depth + 1]:
                st.markdown("#" * min(depth + 3, 6) + " " + md_escape(heading))
        shown = s.heading_path
        body = doc.text[s.start : s.end]
        page = f"（第{s.page}页）" if s.page else ""
        st.markdown(highlight(body, find_all(body, terms)) + (f"  \n_{page}_" if page else ""))


def page(assistant: Assistant) -> None:
    kb = assistant.res.kb
    docs = kb.documents()
    st.subheader("文档")
    if not docs:
        st.info("知识库里还没有文档。请在左侧栏上传 txt、md、html、pdf 或 docx 文件。")
        return
    st.dataframe(
        [{"标题": d.title, "日期": d.date or "", "片段数": d.n_chunks, "来源": d.source} for d in docs],
        hide_index=True, use_container_width=True,
    )  # fmt: skip
    titles = {f"{d.title}（{d.date or '日期不详'}）": d for d in docs}
    choice = st.selectbox("打开文档", list(titles))
    info = titles[str(choice)]
    query = st.text_input("在文档中搜索", placeholder="输入词语，例如：电子社保卡")
    terms = kb.segmenter.words(query) if query.strip() else []
    doc = kb.document(info.doc_id)
    if doc is None:
        st.warning("该文档已被删除。")
        return
    if terms:
        st.caption(f"共 {len(find_all(doc.text, terms))} 处匹配")
    _sections(doc, terms)
    if st.button("删除此文档", key=f"delete-{doc.doc_id}"):
        kb.delete_documents([doc.doc_id])
        st.success(f"已删除：{md_escape(doc.title)}")
        st.rerun()
