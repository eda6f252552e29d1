"""Headings, cleaning, title and date on generated text and on the shipped report."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clean import clean, is_boilerplate
from ingest.loaders.text import lines_to_blocks
from ingest.structure import assemble, find_date, find_title, heading_level, mark_headings
from kb.records import Block

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

HEADINGS = [
    ("一、总体要求", 2),
    ("（一）工作目标", 3),
    ("(二)基本原则", 3),
    ("1.探索运用新技术,实现金融科技快速发展", 4),
    ("2、加强组织领导", 4),
    ("（3）做好宣传", 5),
    ("第一章 总则", 1),
    ("第二节 试点范围", 2),
    ("1.5万户用户已签约。", 0),  # a sentence, not a heading
    ("10.29万户", 0),  # a number, not "10." as a list marker
    ("一、这是一句很长很长的话，它有句号。后面还有更多内容，所以它不是标题而是正文段落。", 0),
]


@pytest.mark.parametrize(("line", "level"), HEADINGS)
def test_heading_levels(line: str, level: int) -> None:
    assert heading_level(line) == level


def test_markdown_headings_and_paths() -> None:
    blocks = mark_headings(lines_to_blocks("# 报告\n## 背景\n正文一。\n## 成效\n正文二。"))
    text, sections, _tables = assemble(blocks)
    assert [s.heading_path for s in sections] == [("报告", "背景"), ("报告", "成效")]
    assert [text[s.start : s.end] for s in sections] == ["正文一。", "正文二。"]


def test_shipped_report_is_cleaned_without_losing_content() -> None:
    raw = (CORPUS / "shandong-fintech-pilots-2020-11-10.txt").read_text("utf-8")
    blocks, removed = clean(mark_headings(lines_to_blocks(raw)))
    text, sections, _tables = assemble(blocks)
    for junk in ("展开全文", "相关阅读", "资讯查询", "如有侵权"):
        assert junk not in text
    assert removed == 4  # the repost notice, 展开全文, and the 相关阅读 tail (heading and one item)
    for fact in ("4821台", "10.29万户", "53.87万张", "358张", "2453条", "876亿元", "三是进一步拓宽金融科技应用视野"):
        assert fact in text
    assert find_date(blocks) == "2020-11-10"
    paths = {s.heading_path for s in sections}
    assert ("有效助力新旧动能转换和高质量发展", "1.安全应用水平进一步提升") in paths


def test_boilerplate_lines() -> None:
    assert is_boilerplate("本文转载目的在于知识分享,版权归原作者和原刊所有。如有侵权,请及时联系我们删除。")
    assert is_boilerplate("展开全文")
    assert is_boilerplate("责任编辑：张三")
    assert not is_boilerplate("截至2020年8月末,6家银行累计线上发行电子社保卡53.87万张。")
    # a long paragraph that mentions copyright is content
    assert not is_boilerplate("版权归属问题" + "是本项目讨论的重点之一，" * 20)


def test_related_list_only_cut_at_the_tail() -> None:
    blocks = (
        [Block("相关阅读")] + [Block(f"正文第{i}段。") for i in range(5)] + [Block("相关阅读"), Block("别的文章标题")]
    )
    kept = [b.text for b in clean(blocks)[0]]
    assert kept == ["相关阅读"] + [f"正文第{i}段。" for i in range(5)]


def test_old_catalogue_splits_jsonl_sources_into_file_and_record(tmp_path: Path) -> None:
    """Catalogues written before the record column stored "path#doc_id"; paths that merely hold # stay whole."""
    import sqlite3

    from kb.catalog import Catalog

    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, date TEXT, "
        "content_hash TEXT NOT NULL, text TEXT NOT NULL, sections TEXT NOT NULL, n_chunks INTEGER NOT NULL, "
        "ingested_at REAL NOT NULL)"
    )
    rows = [("a-1", "/data/报告#1/c.jsonl#a-1"), ("r-1", "/data/报告#1/r#2.txt")]
    db.executemany("INSERT INTO documents VALUES (?, 't', ?, NULL, 'h', 'x', '[]', 0, 0)", rows)
    db.commit()
    db.close()
    infos = {d.doc_id: (d.source, d.record, d.removed) for d in Catalog(path).documents()}
    assert infos == {"a-1": ("/data/报告#1/c.jsonl", "a-1", 0), "r-1": ("/data/报告#1/r#2.txt", None, 0)}


DATES = [
    # (first lines, title, file name, date): the text first, then the file name, then the title's period
    (["日期：2021年4月12日"], "某报告", "report-2022-01-01.txt", "2021-04-12"),
    (["正文。"], "某报告", "report-2022-01-05.txt", "2022-01-05"),
    (["正文。"], "某报告", "简报20210715.docx", "2021-07-15"),
    (["正文。"], "山东省金融科技应用试点2021年度报告", "annual.html", "2021-12-31"),
    (["正文。"], "威海市金融科技应用试点简报", "weihai-pilots-brief.txt", None),
    (["正文。"], "某报告", "scan-20219999.pdf", None),  # not a date
    (["正文。"], "金融科技发展规划（2021—2025年）", "plan.docx", None),  # years planned for
    (["正文。"], "2021年和2022年试点情况对比", "compare.txt", "2021-12-31"),  # the first year the title names
]


@pytest.mark.parametrize(("lines", "title", "name", "expected"), DATES, ids=[d[2] for d in DATES])
def test_document_date(lines: list[str], title: str, name: str, expected: str | None) -> None:
    assert find_date([Block(t) for t in lines], title, name) == expected


def test_title_is_the_first_heading_not_a_note_above_it() -> None:
    blocks = mark_headings(lines_to_blocks("（测试用虚构报告，数字均为虚构。）\n# 山东省试点进展\n正文。"))
    assert find_title(blocks, "fallback") == "山东省试点进展"
    assert find_title([Block("没有标题的一句话。")], "file-stem") == "file-stem"
