"""检查知识库 on the 文档 page: ``pilotqa kb check`` in the app.

Owns: the check and repair buttons, showing each part's line (agreeing, repaired, disagreeing; escaped, never
HTML) until the next check. Does not own: the check itself (``ops.api.check`` on the app's library, which opens
the knowledge base afresh after a repair: its vector collection may be new).
"""

from __future__ import annotations

import streamlit as st

from assistant.core import Assistant
from kb import health
from kb.errors import PilotQAError
from ops import api as ops
from ui import state
from ui.text import md_escape

REPORT = "kb_check_report"


def _run(name: str, repair: bool) -> health.Report | None:
    try:
        return ops.check(state.library(), name, repair=repair)
    except PilotQAError as exc:
        st.error(md_escape(str(exc)))
        return None


def section(assistant: Assistant) -> None:
    """The 检查知识库 expander: each part against the catalogue, and 修复 when something disagrees."""
    name = assistant.res.kb.name
    box = st.expander("检查知识库", icon=":material/health_and_safety:")
    box.caption("核对目录、向量索引、BM25 快照、事实登记、上传文件夹和文字识别缓存是否一致"
                "（与 pilotqa kb check 相同）。")  # fmt: skip
    if box.button("检查", key="kb-check"):
        st.session_state[REPORT] = _run(name, repair=False)
    report: health.Report | None = st.session_state.get(REPORT)
    if report is None or report.name != name:
        return
    for line in report.lines:
        box.markdown(md_escape(f"✓ {line}"))
    for line in report.repaired:
        box.markdown(md_escape(f"已修复：{line}"))
    for line in report.problems:
        box.markdown(md_escape(f"✗ {line}"))
    (box.success if report.ok else box.error)(md_escape(report.summary()))
    if not report.ok and box.button("修复", key="kb-repair", type="primary"):
        st.session_state[REPORT] = _run(name, repair=True)
        st.rerun()
