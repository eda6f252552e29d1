"""Boilerplate goes, the content beside it stays: golden pages in the shapes news sites and reposts take
(fictional text), through the real loaders and ``to_document``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.chunk import chunk
from ingest.clean import clean_line
from ingest.loaders import load
from ingest.pipeline import to_document
from kb.catalog import Catalog
from kb.records import Document

NEWS_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>春节档票房创新高_某某财经网</title></head>
<body><div class="top-nav"><a href="/">首页</a> <a href="/finance">财经</a></div>
<div class="main"><h1>春节档票房创新高</h1>
<p class="info"><span>2021-04-02 09:30</span> <span>来源：某某财经网</span> <span>字号：大 中 小</span></p>
<p>分享到： <a>微信</a> <a>微博</a> <a>QQ空间</a></p>
<p>扫一扫 下载APP 截至2021年3月31日，全国电影总票房突破68亿元。</p>
<p>分享到朋友圈的观影评价超过120万条，较去年同期增长35%。</p>
<p>编辑：本期重点是春节档的12部新片。</p>
<p>其中，动画电影贡献票房9.6亿元。 版权所有：某某网 京ICP备123号</p>
<p>（责任编辑：李四）</p>
<p>【打印本页】 【关闭窗口】</p>
<p>上一篇：清明档预售开启</p>
<h3>相关阅读</h3><ul><li>三月票房榜出炉</li><li>影院复工率达98%</li></ul>
</div></body></html>"""

NEWS_TEXT = (
    "春节档票房创新高\n"
    "2021-04-02 09:30\n"
    "截至2021年3月31日，全国电影总票房突破68亿元。\n"
    "分享到朋友圈的观影评价超过120万条，较去年同期增长35%。\n"
    "编辑：本期重点是春节档的12部新片。\n"
    "其中，动画电影贡献票房9.6亿元。"
)


def document(path: Path, content: str) -> Document:
    path.write_text(content, "utf-8")
    return to_document(next(load(path, 10**7)), path, 300)


def test_news_page_golden(tmp_path: Path) -> None:
    doc = document(tmp_path / "news.html", NEWS_PAGE)
    assert doc.title == "春节档票房创新高" and doc.date == "2021-04-02"
    assert doc.text == NEWS_TEXT
    # 来源, 字号 (with 大 中 小), 分享到 (with its targets), 扫一扫, 下载APP, 版权所有 (with its ICP number),
    # 责任编辑, 打印本页, 关闭窗口, 上一篇, and the 相关阅读 tail (heading + 2 items)
    assert doc.removed == 13


def test_repost_in_plain_text_keeps_the_sentence_it_shares_a_line_with(tmp_path: Path) -> None:
    """The three shapes that lost content: a notice after the sentence (alone, and under a title line, where the
    file was added with no chunks at all), and a widget before it."""
    sentence = "截至2021年3月31日，全国电影总票房突破68亿元。"
    alone = document(tmp_path / "alone.txt", f"{sentence} 版权所有：某某网 京ICP备123号\n")
    assert alone.text == sentence and alone.removed == 1  # the notice with its ICP number: one phrase
    titled = document(tmp_path / "titled.txt", f"春节档电影票房报告\n{sentence} 版权所有：某某网 京ICP备123号\n")
    assert titled.text == f"春节档电影票房报告\n{sentence}" and titled.removed == 1
    assert [c.text for c in chunk(titled, 300)] == [sentence]
    widget = document(tmp_path / "widget.txt", f"扫一扫 下载APP {sentence}\n")
    assert widget.text == sentence and widget.removed == 2


def test_lines_that_start_like_furniture_but_are_content() -> None:
    for line in (
        "分享到微信后，试点银行签约用户增长到10万户。",
        "编辑：本期重点是试点项目上线33个。",
        "来源：本次调查覆盖全国31个省份，共回收问卷2.4万份。",
        "收藏家数量增长了10%。",
        "版权归属问题" + "是本项目讨论的重点之一，" * 10,
        "客户资金安全，未经授权的交易由银行先行赔付。",  # names a notice's words, speaks of something else
        "免费声明？不，未经授权使用他人账户的行为已被查处。",
    ):
        assert clean_line(line) == (line, 0)


def test_notices_and_widgets_inside_a_line() -> None:
    assert clean_line("Copyright © 2021 某某网 All Rights Reserved") == ("", 1)
    assert clean_line("本文来源于网络，如有侵权请联系删除。") == ("", 1)
    assert clean_line("试点银行共3家。展开全文") == ("试点银行共3家。", 1)
    assert clean_line("试点银行共3家。 收藏 举报 试点项目共33个。") == ("试点银行共3家。 试点项目共33个。", 2)
    assert clean_line("（来源：新华社） 截至2020年末，签约用户10.29万户。") == ("截至2020年末，签约用户10.29万户。", 1)


def test_the_count_is_stored_with_the_document(tmp_path: Path) -> None:
    doc = document(tmp_path / "news.html", NEWS_PAGE)
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.replace([(doc, [], [], [], [], np.zeros((0, 384), np.float32))])
    stored = catalog.document(doc.doc_id)
    assert catalog.documents()[0].removed == 13 and stored is not None and stored.removed == 13
