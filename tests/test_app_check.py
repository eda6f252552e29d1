"""The 文档 page's 检查知识库 through AppTest: the same check as ``pilotqa kb check``, a disagreement named, 修复
repairing it, and the knowledge base answering after the repair."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import app, ask, home, texts  # noqa: F401  (fixtures)


def shown(at: AppTest) -> str:
    return "\n".join([texts(at), *(e.value for e in at.success), *(e.value for e in at.error)])


pytestmark = pytest.mark.slow


def test_the_documents_page_checks_and_repairs(app: AppTest, home: Path) -> None:  # noqa: F811
    stray = home / "uploads" / "default" / "孤立<b>.txt"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("没有文档来自这个文件", "utf-8")
    app.sidebar.radio[0].set_value("文档").run()
    next(b for b in app.button if b.label == "检查").click().run()
    page = shown(app)
    assert "有 1 处不一致" in page and "孤立" in page and "<b>" not in page  # named, escaped
    assert "BM25 快照" in page and "向量" in page  # every part's line
    next(b for b in app.button if b.label == "修复").click().run()
    assert not app.exception, app.exception
    assert "已修复" in shown(app) and "各部分与目录一致" in shown(app) and not stray.exists()
    app.sidebar.radio[0].set_value("对话").run()
    assert "4821台" in texts(ask(app, "刷脸付受理终端布放了多少台？"))
