"""Web boilerplate removal that never touches content.

Owns: recognising lines that are page furniture (展开全文, 相关阅读 and what follows
it at the end of a page, repost and copyright notices, share and print widgets) and
dropping them. Does not own: HTML structure (``ingest.loaders.html``).
"""

from __future__ import annotations

import re

from kb.records import Block

# Whole lines that are page widgets, never content.
_WIDGET = re.compile(
    r"^[【\[]?(展开全文|收起全文|阅读全文|查看全文|点击查看全文|展开|收起|返回顶部|打印本页|关闭窗口|"
    r"分享到.*|分享至.*|扫一扫.*|扫描二维码.*|上一篇.*|下一篇.*|责任编辑[:：].*|编辑[:：].*|来源[:：].{0,30}|"
    r"字号[:：]?.*|资讯查询.*|纠错|我要纠错|点赞|收藏|举报)[】\]]?$"
)
# A heading that starts the list of other articles at the foot of a page.
_TAIL = re.compile(
    r"^[【\[]?(相关阅读|相关新闻|相关文章|相关推荐|推荐阅读|热门推荐|猜你喜欢|延伸阅读|热点推荐)[】\]]?[:：]?$"
)
# Repost / copyright notices: short lines that say nothing about the subject.
_NOTICE = re.compile(r"版权归|如有侵权|转载请注明|未经授权|免责声明|版权所有|copyright|©|本文转载|本文来源于网络", re.I)


def is_boilerplate(text: str) -> bool:
    line = text.strip()
    return bool(_WIDGET.match(line)) or (len(line) <= 160 and bool(_NOTICE.search(line)))


def clean(blocks: list[Block]) -> list[Block]:
    """Blocks without page furniture; a trailing 相关阅读 list goes with its heading."""
    kept = list(blocks)
    for i in range(len(kept) - 1, -1, -1):
        if i >= len(kept) * 0.5 and _TAIL.match(kept[i].text.strip()):
            kept = kept[:i]
    return [b for b in kept if not is_boilerplate(b.text)]
