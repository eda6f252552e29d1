"""Lines as they were printed: a date or a figure that a text layer broke over several lines read as one.

Owns: joining the line fragments a PDF's text layer (or text copied from it) leaves when each text
run becomes a line of its own — ``至`` / ``2022`` / ``年`` / ``12`` / ``月`` / ``20`` / ``日`` becomes
``至2022年12月20日`` — and a line that starts with a closing mark (``。``, ``，同比下降``) joined to the line
it continues; in text wrapped at a width (several lines share one printed width), a full line joined
to the next (``服`` / ``务小微企业``). Otherwise only fragments are joined: a number joins its neighbours
only where a date unit (年 月 日 号) stands beside it, so a column of figures stays a column, and a
sentence's end or a stated date line (``日期：2016-03-04``) keeps its break. Does not own: headings
(``ingest.structure``), table rows (kind ``row``, never touched) or formats that mark their own
paragraphs (HTML, DOCX).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace

from kb import dates
from kb.records import Block

_CLOSING = re.compile(
    r"[。，、；：！？）》」』”’%％]"
)  # a line never starts with a mark that closes what stands before it
_UNIT_AFTER = re.compile(r"(?<![\d.:/-])(\d{1,4})$")  # the number a line ends with …
_UNIT_FIRST = re.compile(r"[年月日号]")  # … and the date unit the next line starts with
_NUMBER = re.compile(r"\d{1,4}")
_ENDS_UNIT = re.compile(r"[年月]$")  # a day or month after 年 or 月 continues the date
_ENDS_DATE = re.compile(r"[\d年月日号]$")
_SENTENCE_END = re.compile(r"[。！？!?]$")
_DATE_END = re.compile(dates.FULL_DAY.pattern + "$")


def _unit_fits(number: str, unit: str) -> bool:
    """Whether ``number`` can stand before the date unit ``unit`` (2022年, 12月, 20日; not 695693日语)."""
    if unit == "年":
        return len(number) in (2, 4)
    return len(number) <= 2 and 1 <= int(number) <= (12 if unit == "月" else 31)


def _joins(prev: str, cur: str, nxt: str | None) -> bool:
    """Whether ``cur`` continues the line ``prev`` (``nxt`` is the line after ``cur``)."""
    if _CLOSING.match(cur):  # … but a stated date (日期：2016-03-04) is a line of its own before a passage's text
        return len(cur) <= 2 or not _DATE_END.search(prev)
    ending = _UNIT_AFTER.search(prev)
    if ending and _UNIT_FIRST.match(cur):
        return _unit_fits(ending.group(1), cur[0])
    if not _NUMBER.fullmatch(cur):
        return False
    if _ENDS_UNIT.search(prev):  # 2022年 / 12
        return _unit_fits(cur, "月" if prev.endswith("年") else "日")
    # a year or month that a date unit follows, after a line that neither ended its sentence nor a date (至 / 2022 / 年)
    fits = nxt is not None and bool(_UNIT_FIRST.match(nxt)) and _unit_fits(cur, nxt[0])
    return fits and not _SENTENCE_END.search(prev) and not _ENDS_DATE.search(prev)


def width(line: str) -> int:
    """A line's printed width: a Chinese character is two columns, a digit or letter one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


# how many lines must share the printed width before the text reads as wrapped at it, and how much narrower (in
# columns: three characters) a wrapped line may end (a word that did not fit went to the next line)
WRAP_LINES = 3
WRAP_SLACK = 6
_HEADING_START = re.compile(
    r"[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．]|第[一二三四五六七八九十\d]+[章节条]"
)


def wrap_width(blocks: list[Block]) -> int | None:
    """The width a text was wrapped at, when at least ``WRAP_LINES`` of its lines (of 40 columns or more) share
    one printed width; None for text whose lines are its paragraphs."""
    widths = Counter(width(b.text.strip()) for b in blocks if b.kind == "paragraph" and width(b.text.strip()) >= 40)
    common = widths.most_common(1)
    return common[0][0] if common and common[0][1] >= WRAP_LINES else None


def _wrapped(prev: str, cur: str, wrap: int | None) -> bool:
    """``prev`` filled its line (the text is wrapped at ``wrap``) without ending its sentence, and ``cur`` goes on
    with text, not a heading: 服 / 务小微企业5.63万户 is one word."""
    return (wrap is not None and width(prev) >= wrap - WRAP_SLACK and not _SENTENCE_END.search(prev)
            and bool(cur) and not _HEADING_START.match(cur))  # fmt: skip


def join_broken(blocks: list[Block]) -> list[Block]:
    """``blocks`` with the fragments of a broken line joined onto the line they continue (same kind, same page),
    and, in text wrapped at a width, a full line joined to the line it runs on into."""
    out: list[Block] = []
    wrap = wrap_width(blocks)
    for i, b in enumerate(blocks):
        prev = out[-1] if out else None
        nxt = blocks[i + 1].text.strip() if i + 1 < len(blocks) and blocks[i + 1].kind == b.kind else None
        joinable = prev is not None and prev.kind == b.kind == "paragraph" and prev.page == b.page
        last = blocks[i - 1].text.rstrip() if i else ""  # the line before, as printed (not as joined so far)
        runs_on = _joins(prev.text.rstrip(), b.text.strip(), nxt) if prev is not None else False
        if prev is not None and joinable and (runs_on or _wrapped(last, b.text.strip(), wrap)):
            out[-1] = replace(prev, text=prev.text.rstrip() + b.text.strip())
        else:
            out.append(b)
    return out
