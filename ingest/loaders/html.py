"""HTML: the page's main text as headings, paragraphs and table rows.

Owns: the only BeautifulSoup import; dropping scripts, navigation, headers,
footers, sidebars and share widgets; choosing the main content element; the page
title and a stated publication date; refusing a page over ``Limits.max_html_mb`` before parsing and one nested
deeper than ``Limits.max_html_depth`` (or its tables deeper than ``Limits.max_table_depth``) before reading it (both
would take minutes). Does not own: line-level
boilerplate (``ingest.clean``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from ingest.loaders import Limits, Parsed
from ingest.loaders.text import decode
from kb.errors import InputError
from kb.records import CELL_SEP, Block

_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "aside", "form", "button",
              "select", "svg", "template")  # fmt: skip
_NOISE_WORDS = "nav|menu|footer|header|sidebar|breadcrumb|share|comment|related|copyright|advert|ad|banner|toolbar"
_NOISE = re.compile(rf"(^|[-_ ])({_NOISE_WORDS}|login|recommend)s?($|[-_ ])", re.I)
_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dd", "dt")
_DATE_META = ("pubdate", "publishdate", "article:published_time", "date", "dc.date", "publish_date")


def _main(soup: BeautifulSoup) -> Tag:
    for selector in ("article", "main", "[role=main]", "#content", ".content", "#article", ".article"):
        found = soup.select_one(selector)
        if isinstance(found, Tag) and len(found.get_text(strip=True)) > 50:
            return found
    body = soup.body or soup
    best, best_len = body, 0
    for div in body.find_all(["div", "section", "td"]):
        direct = sum(len(p.get_text(strip=True)) for p in div.find_all("p", recursive=False))
        if direct > best_len:
            best, best_len = div, direct
    return best if best_len > 200 else body


def _blocks(root: Tag) -> list[Block]:
    blocks: list[Block] = []
    spans: dict[int, dict[int, tuple[str, int]]] = {}  # per table: column → (text, rows still covered) of rowspans
    for el in root.find_all(_BLOCK_TAGS):
        if el.find_parent(_BLOCK_TAGS) is not None and el.name != "tr":
            continue  # nested: the outer block already holds this text
        if el.name == "tr":
            table = el.find_parent("table")
            key = id(table)
            if key not in spans and isinstance(table, Tag):  # the table's caption says what its figures are
                spans[key] = {}
                caption = table.find("caption")
                if isinstance(caption, Tag) and caption.get_text(strip=True):
                    blocks.append(Block(" ".join(caption.get_text(" ", strip=True).split())))
            row = _row(el, spans.setdefault(key, {}))
            if row is not None:
                blocks.append(row)
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            blocks.append(Block(text, kind="heading", level=int(el.name[1:])))
        else:
            blocks.append(Block(text))
    if not blocks:  # a page of bare text in divs
        text = root.get_text("\n", strip=True)
        blocks = [Block(line.strip()) for line in text.split("\n") if line.strip()]
    return blocks


def _span(c: Tag, name: str) -> int:
    value = str(c.get(name) or "1")
    return max(1, min(int(value) if value.isdigit() else 1, 20))


def _row(tr: Tag, pending: dict[int, tuple[str, int]]) -> Block | None:
    """A table row with its cells (empty ones kept; a cell spanning columns repeated so columns line up, and one
    spanning rows repeated in the rows below, from ``pending``); a header row when all its cells are <th> or it
    sits in <thead>."""
    found = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
    cells: list[str] = []
    for c in found:
        while len(cells) in pending:  # a cell of a row above that spans down into this one
            cells.append(_take(pending, len(cells)))
        text = " ".join(c.get_text(" ", strip=True).split())
        for _ in range(_span(c, "colspan")):
            if _span(c, "rowspan") > 1:
                pending[len(cells)] = (text, _span(c, "rowspan") - 1)
            cells.append(text)
    while len(cells) in pending:
        cells.append(_take(pending, len(cells)))
    if not any(cells):
        return None
    header = tr.find_parent("thead") is not None or all(c.name == "th" for c in found)
    return Block(CELL_SEP.join(cells), kind="row", cells=tuple(cells), header=header)


def _take(pending: dict[int, tuple[str, int]], column: int) -> str:
    """The text a rowspan carries into this row's ``column``, one row of its span used."""
    text, left = pending[column]
    if left > 1:
        pending[column] = (text, left - 1)
    else:
        del pending[column]
    return text


def _date(soup: BeautifulSoup) -> str | None:
    for meta in soup.find_all("meta"):
        key = str(meta.get("name") or meta.get("property") or "").lower()
        if key in _DATE_META and meta.get("content"):
            return str(meta["content"])
    time_el = soup.find("time")
    if isinstance(time_el, Tag):
        return str(time_el.get("datetime") or time_el.get_text(strip=True)) or None
    return None


def _title(soup: BeautifulSoup, blocks: list[Block]) -> str:
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    if h1:
        return h1
    raw = soup.title.get_text(strip=True) if soup.title else ""
    return re.split(r"\s+[-_|–—]\s+|_", raw)[0].strip() if raw else ""


def _deeper_than(root: Tag, limit: int, tag: str | None = None) -> bool:
    """True when some element (some ``tag`` element, when given) is nested more than ``limit`` levels below
    ``root`` (a walk without recursion)."""
    stack = [(root, 0)]
    while stack:
        el, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((c, depth + (tag is None or c.name == tag)) for c in el.children if isinstance(c, Tag))
    return False


def _soup(path: Path, data: bytes, limits: Limits) -> BeautifulSoup:
    name, size = str(path), len(data) / 1e6
    if size > limits.max_html_mb:
        raise InputError(name, f"网页过大（{size:.1f} MB，上限 {limits.max_html_mb:.0f} MB，可调 PILOTQA_MAX_HTML_MB）")
    soup = BeautifulSoup(decode(path, data), "lxml")
    if _deeper_than(soup, limits.max_html_depth):
        raise InputError(name, f"网页标签嵌套过深（超过 {limits.max_html_depth} 层，可调 PILOTQA_MAX_HTML_DEPTH）："
                               "请在浏览器中另存为纯文本后再导入")  # fmt: skip
    if _deeper_than(soup, limits.max_table_depth, "table"):
        raise InputError(
            name, f"网页中的表格嵌套过深（超过 {limits.max_table_depth} 层，可调 PILOTQA_MAX_TABLE_DEPTH）"
        )
    return soup


def load(path: Path, data: bytes, limits: Limits) -> Iterator[Parsed]:
    soup = _soup(path, data, limits)
    for el in soup.find_all(_DROP_TAGS):
        el.decompose()
    for el in soup.find_all(True):
        if not isinstance(el, Tag) or el.decomposed or el.attrs is None:
            continue
        marks = " ".join([str(el.get("id") or ""), *[str(c) for c in el.get("class") or []]])
        if marks.strip() and _NOISE.search(marks) and el.name not in ("body", "html", "article", "main"):
            el.decompose()
    blocks = _blocks(_main(soup))
    if not blocks:
        raise InputError(str(path), "网页中没有找到正文内容")
    yield Parsed(title=_title(soup, blocks), blocks=blocks, date=_date(soup), structured=True)
