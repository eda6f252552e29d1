"""Document structure: headings in plain text, the document text, its sections.

Owns: recognising Chinese and Markdown heading lines (一、 （一） 1. 第X章/节 #),
assembling cleaned blocks into the one text every offset refers to, the sections
(heading path and page per span), the title and a stated publication date. Does not
own: sentence splitting (``kb.segment``) or chunk packing (``ingest.chunk``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import replace

from ingest.tables import TableBuilder
from kb import dates
from kb.records import Block, Section, Table

_CN_NUM = "一二三四五六七八九十百零〇两"
# (pattern, level); a heading line must also be short and not read as a sentence.
_HEADINGS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(rf"^第[{_CN_NUM}\d]+[章篇部分]"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+节"), 2),
    (re.compile(rf"^[{_CN_NUM}]+[、.．]"), 2),
    (re.compile(rf"^[（(][{_CN_NUM}]+[)）]"), 3),
    (re.compile(r"^\d{1,2}(?:[、．]|\.(?!\d))"), 4),
    (re.compile(r"^[（(]\d{1,2}[)）]"), 5),
)
_MARKDOWN = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_SENTENCE_END = re.compile(r"[。！？!?；;：:]$")
# a full date, its parts joined the same way throughout (2023年3月14日, 2023-03-14, 2023/3/14, 2023.3.14): not
# 2025年1-10月, a period of months
_DATE = re.compile(
    r"((?:19|20)\d{2})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?|([-/.])\s*(\d{1,2})\s*\4\s*(\d{1,2})(?!\d))"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_DOC_NUMBER = re.compile(r"[〔\[［(（](?:19|20)\d{2}[〕\]］)）]\s*第?\d+\s*号$")
_PLANNED = re.compile(r"规划|计划|目标|展望|纲要|方案")
_COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
MAX_HEADING = 40
SIGN_OFF_LINES = 4  # an official document ends with its issuer(s) and date, a note or an attachment line after them


def heading_level(line: str) -> int:
    """The heading level of a plain-text line (2 for short unnumbered lines), or 0."""
    if len(line) > MAX_HEADING or "。" in line[:-1] or _SENTENCE_END.search(line):
        return 0
    for pattern, level in _HEADINGS:
        if pattern.match(line):
            return level
    return 0


def mark_headings(blocks: list[Block]) -> list[Block]:
    """Plain-text blocks with heading lines marked (Markdown ``#`` included)."""
    out: list[Block] = []
    for i, b in enumerate(blocks):
        if b.kind == "row":
            out.append(b)
            continue
        md = _MARKDOWN.match(b.text)
        if md:
            out.append(replace(b, text=md.group(2), kind="heading", level=len(md.group(1))))
            continue
        level = heading_level(b.text)
        if not level and _is_bare_heading(b.text, blocks[i + 1] if i + 1 < len(blocks) else None):
            level = 2
        out.append(replace(b, kind="heading", level=level) if level else b)
    return out


def _is_bare_heading(line: str, nxt: Block | None) -> bool:
    """A short unnumbered line with no sentence punctuation, followed by a longer paragraph."""
    if nxt is None or len(line) > 24 or len(line) < 4 or _DATE.search(line) or _SENTENCE_END.search(line):
        return False
    if _DOC_NUMBER.search(line):  # 穗金管〔2023〕9号: an official document's number, no heading
        return False
    if any(p in line for p in "。，,？！"):
        return "," in line and len(nxt.text) > 2 * len(line) and not _SENTENCE_END.search(line)
    return len(nxt.text) > 2 * len(line)


def assemble(blocks: list[Block]) -> tuple[str, tuple[Section, ...], tuple[Table, ...]]:
    """Join blocks into the document text; sections cover body text under one heading path; tables record
    where their rows and cells stand."""
    parts: list[str] = []
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    tables = TableBuilder()
    pos = 0
    for b in blocks:
        start = pos
        parts.append(b.text)
        tables.add(b, start)
        pos += len(b.text) + 1  # the "\n" that joins blocks
        if b.kind == "heading":
            while stack and stack[-1][0] >= b.level:
                stack.pop()
            stack.append((b.level, b.text))
            continue
        path = tuple(t for _, t in stack)
        last = sections[-1] if sections else None
        if last and last.heading_path == path and last.page == b.page and last.ocr == b.ocr and last.end == start - 1:
            sections[-1] = replace(last, end=start + len(b.text))
        else:
            sections.append(Section(start, start + len(b.text), path, b.page, b.ocr))
    tables.close()
    return "\n".join(parts), tuple(sections), tuple(tables.tables)


def find_date(blocks: list[Block], title: str = "", file_name: str = "") -> str | None:
    """The document's date: a full date stated near its top (``日期：2021年4月12日``, ``2020/11/10 9:24:24``), else
    the date line an official document signs off with (its issuer, then ``2023年3月14日`` alone on the last lines),
    else one in its file name (``report-2021-04-12.txt``, ``20210412``), else the end of the period its title names
    (…2021年度报告 → 2021-12-31); None when none says."""
    for b in blocks[:6]:
        m = _DATE.search(b.text)
        if m and len(b.text) <= 60:
            return normalize_date(m.group(0))
    for b in blocks[-SIGN_OFF_LINES:]:
        m = _DATE.fullmatch(b.text.strip())
        if m and b.kind != "row":
            return normalize_date(m.group(0))
    m = _DATE.search(file_name) or _COMPACT_DATE.search(file_name)
    named = "-".join(g for g in m.groups() if g and g not in "-/.") if m else ""
    if named and normalize_date(named):
        return normalize_date(named)
    if _PLANNED.search(title):  # 2021—2025年规划, 2022年工作计划: the years planned for, not the document's
        return None
    said = dates.mentions(title)
    return said[0].iso if said and said[0].iso <= datetime.date.today().isoformat() else None


def normalize_date(raw: str) -> str | None:
    m = _DATE.search(raw)
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups() if g and g not in "-/.")
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def find_title(blocks: list[Block], fallback: str) -> str:
    """An official document's 关于…的通知 line among the first lines, after its issuer's line above it when that
    names one organ of a place (某市地方金融管理局关于…的通知: the 公文's full title),
    else the first heading among them (a note above it is not the title), else the first short line that is not a
    sentence, else ``fallback``."""
    for i, b in enumerate(blocks[:6]):
        if _OFFICIAL_TITLE.match(b.text) and len(b.text) <= 80:
            issuer = blocks[i - 1].text.strip() if i else ""
            # a 公文's full title names its issuer first (某市地方金融管理局关于…的通报): whose document it is
            organ = _ISSUER.fullmatch(issuer) and (_OF_A_PLACE.match(issuer) or issuer.startswith(_NATIONAL))
            return f"{issuer}{b.text}" if organ else b.text
    for b in blocks[:3]:
        if b.kind == "heading":
            return b.text
    for b in blocks[:3]:
        if len(b.text) <= 80 and not b.text.endswith("。") and not _NOTE.match(b.text):
            return b.text
    return fallback


# the kinds of official document (公文) a 关于… title names at its end
_OFFICIAL_TITLE = re.compile(r"^关于\S+的(?:通知|通报|意见|决定|报告|说明|函|批复|请示|方案|办法|规定|公告|复函)$")
# an issuer's line above a 关于… title: one organ's name (…管理局, …分行, …人民政府办公室), no sentence
_ISSUER = re.compile(
    r"[\u4e00-\u9fff（）()]{2,30}?(?:局|厅|委员会|委|办公室|办公厅|人民政府|政府|分行|支行|中心|处|部|署)"
)
_OF_A_PLACE = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:省|市|自治区|州|县|区)")  # 某市地方金融管理局, 某省分行
_NATIONAL = ("中国人民银行", "国家", "中国银行保险", "国务院")  # organs named by no place
_NOTE = re.compile(r"^[（(【\[].*[）)】\]]$")  # a line wholly in brackets is a note (（本文为虚构材料）), not a title
