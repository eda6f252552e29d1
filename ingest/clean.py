"""Web boilerplate removal that never touches content.

Owns: recognising page furniture (展开全文, share and print widgets, 扫一扫 下载APP,
bylines such as 编辑：某某, repost and copyright notices with their ICP numbers,
上一篇/下一篇 links, 相关阅读 and what follows it at the end of a page) as phrases
inside a line, removing those phrases and keeping whatever content shares the
line, and counting what it removed. A line is read as pieces split at whitespace
and after 。！？; a piece goes only when it is furniture as a whole. Does not own:
HTML structure (``ingest.loaders.html``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from kb.records import Block

_OPEN, _CLOSE = "【[（(", "】]）)"
# A piece that is a page widget as a whole (brackets around it allowed).
_WIDGET = re.compile(
    r"(展开全文|收起全文|阅读全文|查看全文|点击查看全文|展开|收起|返回顶部|打印本页|打印|关闭窗口|纠错|我要纠错|点赞|"
    r"收藏|举报|资讯查询\S{0,6}|扫一扫|扫码|扫描二维码\S{0,12}|下载APP|下载客户端|打开APP|APP内打开|关注我们|分享|"
    r"(?:分享到|分享至)[:：]?(?:微信|微博|朋友圈|QQ空间|QQ|新浪微博|腾讯微博|豆瓣|空间|好友|更多)*)",
    re.I,
)
_SHARE_TARGET = re.compile(r"微信|微博|朋友圈|QQ空间|QQ|新浪微博|腾讯微博|豆瓣|空间|好友|更多", re.I)
# A byline: the name short, no sentence punctuation (编辑：本期重点是… is content).
_BYLINE = re.compile(r"(?:责任编辑|编辑)[:：][^\s，。！？；,]{0,8}|来源[:：][^\s，。！？；,]{0,30}")
_BYLINE_LABEL = re.compile(r"(?:责任编辑|编辑|来源)[:：]")
_FONT_SIZE = re.compile(r"字号[:：]?[大中小]*")
_FONT_CHOICE = re.compile(r"[大中小]|默认")
_NAV = re.compile(r"[【\[]?(?:上一篇|下一篇)")  # a link to another article: the rest of the line is its title
# Repost / copyright notices: short pieces that say nothing about the subject.
_NOTICE = re.compile(
    r"版权归|如有侵权|转载请注明|未经授权|免责声明|版权所有|copyright|©|本文转载|本文来源于网络|保留所有权利|"
    r"all rights reserved",
    re.I,
)
# ... and what makes a piece that names one a notice: it speaks of copying, rights or removal (未经授权，不得转载),
# where content that names the words speaks of something else (未经授权的交易由银行先行赔付)
_NOTICE_MARK = re.compile(r"转载|复制|摘编|镜像|版权|侵权|删除|权利|声明|copyright|©|rights", re.I)
NOTICE_LEAD = 8  # a notice's keyword stands within its first characters (本文转载…, （版权所有：…）)
_REGISTRATION = re.compile(r"\S{0,4}(?:ICP[备证]|公网安备)\S*", re.I)
# What may follow a notice and still belong to it: years, Latin words, a site or publisher's short name.
_NOTICE_TAIL = re.compile(
    r"\d{4}(?:\s*-\s*\d{4})?|[A-Za-z][A-Za-z.,&-]*|[\u4e00-\u9fff]{1,12}(?:网|报|报社|社|站|台|中心|公司|集团)[。.]?"
)
# A heading that starts the list of other articles at the foot of a page.
_TAIL = re.compile(
    r"^[【\[]?(相关阅读|相关新闻|相关文章|相关推荐|推荐阅读|热门推荐|猜你喜欢|延伸阅读|热点推荐)[】\]]?[:：]?$"
)
_PIECES = re.compile(r"(\s+)|(?<=[。！？])")
NOTICE_MAX = 60  # a piece longer than this is a sentence of content even if it names a notice


def _pieces(line: str) -> list[str]:
    """The line as pieces and the whitespace between them, in order ("".join gives the line back)."""
    return [p for p in _PIECES.split(line) if p]


def _bare(piece: str) -> str:
    return piece.strip(_OPEN + _CLOSE + "|｜·")


def _furniture(words: list[str], i: int) -> int:
    """How many of ``words`` (pieces without whitespace) from ``i`` are one phrase of furniture; 0 for content."""
    word = _bare(words[i])
    if _NAV.match(words[i]):
        return len(words) - i
    if _WIDGET.fullmatch(word) or _REGISTRATION.fullmatch(word):
        return 1 + _run(words, i + 1, _SHARE_TARGET) if word.startswith("分享") else 1
    if _FONT_SIZE.fullmatch(word):
        return 1 + _run(words, i + 1, _FONT_CHOICE)
    if _BYLINE.fullmatch(word):
        bare_label = _BYLINE_LABEL.fullmatch(word) and i + 1 < len(words)
        return 2 if bare_label and _BYLINE.fullmatch(word + _bare(words[i + 1])) else 1
    if _notice(word):
        return 1 + _run(words, i + 1, _NOTICE_TAIL, _REGISTRATION, _NOTICE)
    return 0


def _notice(word: str) -> bool:
    """A short piece that opens with a repost or copyright notice and speaks of copying, rights or removal."""
    m = _NOTICE.search(word)
    return len(word) <= NOTICE_MAX and m is not None and m.start() <= NOTICE_LEAD and bool(_NOTICE_MARK.search(word))


def _run(words: list[str], i: int, *patterns: re.Pattern[str]) -> int:
    """How many words from ``i`` each match one of ``patterns`` whole (search for the notice keywords)."""
    n = 0
    while i + n < len(words):
        word = _bare(words[i + n])
        if not any(p.fullmatch(word) or (p is _NOTICE and _notice(word)) for p in patterns):
            break
        n += 1
    return n


def is_boilerplate(text: str) -> bool:
    """True when ``text`` is furniture through and through."""
    return not clean_line(text.strip())[0]


def clean_line(line: str) -> tuple[str, int]:
    """``line`` without its furniture phrases, and how many phrases went."""
    parts = _pieces(line)
    words = [p for p in parts if not p.isspace()]
    keep: list[bool] = []
    removed = i = 0
    while i < len(words):
        n = _furniture(words, i)
        keep += [not n] * max(n, 1)
        removed += bool(n)
        i += max(n, 1)
    if not removed:
        return line, 0
    flags = iter(keep)
    out = "".join(p if p.isspace() or next(flags) else "\x00" for p in parts)
    return re.sub(r"\s*\x00[\s\x00]*", " ", out).strip(), removed


def _block(b: Block) -> tuple[Block | None, int]:
    if b.kind == "row":  # a table row is data: it goes only when every cell is furniture
        gone = all(not c.strip() or not clean_line(c)[0] for c in b.cells) if b.cells else not clean_line(b.text)[0]
        return (None, 1) if gone else (b, 0)
    text, removed = clean_line(b.text)
    if not removed:
        return b, 0
    return (replace(b, text=text) if text else None), removed


def clean(blocks: list[Block]) -> tuple[list[Block], int]:
    """Blocks without page furniture, and how many phrases and blocks were removed; a trailing 相关阅读 list goes
    with its heading (each of its blocks counted)."""
    kept = list(blocks)
    removed = 0
    for i in range(len(kept) - 1, -1, -1):
        if i >= len(kept) * 0.5 and _TAIL.match(kept[i].text.strip()):
            removed += len(kept) - i
            kept = kept[:i]
    out: list[Block] = []
    for b in kept:
        block, n = _block(b)
        removed += n
        if block is not None:
            out.append(block)
    return out, removed
