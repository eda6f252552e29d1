"""简报导出 in the sidebar: choose answers, download Markdown or Word.

Owns: the picker (every grounded answer by default; refusals only when chosen), the
dated file names, and building the files only when a button is clicked. Does not own:
the briefing's content (``assistant.briefing``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.briefing import as_of, build
from kb.records import Answer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def picked(history: list[Answer], chosen: list[int]) -> list[Answer]:
    """The chosen answers, or every grounded one when nothing is chosen."""
    return [history[i] for i in chosen] if chosen else [a for a in history if a.grounded]


def section(where: Any, history: list[Answer]) -> None:
    """The 简报导出 expander, drawn into ``where`` (a sidebar container)."""
    box = where.expander("简报导出", expanded=bool(history), icon=":material/description:")
    if not history:
        box.caption("提问后可在这里把回答和来源导出为 Markdown 或 Word 简报。")
        return
    labels = {i: f"{i + 1}. {a.question}" + ("" if a.grounded else "（未找到）") for i, a in enumerate(history)}
    chosen = box.multiselect("选择要导出的回答", list(labels), format_func=labels.__getitem__,
                             placeholder="默认：全部有答案的")  # fmt: skip
    answers = picked(history, chosen)
    if not answers:
        box.caption("还没有可导出的回答（未找到答案的回答默认不导出，可在上面选择）。")
        return
    stamp = dt.date.today().isoformat()
    box.caption(f"共 {len(answers)} 条回答；资料截至 {as_of(answers) or '（来源未注明日期）'}")
    # the files are built only when a button is clicked, not on every rerun of the chat
    box.download_button("下载 Markdown", lambda: build(answers).markdown.encode("utf-8"), f"简报-{stamp}.md",
                        "text/markdown", on_click="ignore")  # fmt: skip
    box.download_button("下载 Word", lambda: build(answers).docx, f"简报-{stamp}.docx", DOCX, on_click="ignore")
