"""The fact registry's extraction from tables: each cell read by its role, as subject, metric, value, unit and date.

Owns: the roles of a table's rows and columns (a row named by a place or institution, or by the table's own place; a
其中 row as a part of the row above; a 指标 cell before dated columns; the table's note or caption as its metric; a
change column beside dated ones; 指标 | 数值 pairs; ordinal columns), units stated in headers, captions and unit lines,
and a cell's value (a text cell is a fact whose value stays text). Does not own: running text (``ingest.facts``),
numerals and units (``kb.quantity``), dates (``kb.dates``) or where the table stands (``ingest.tables``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb import dates
from kb.entities import SELF_REFERENCE, named
from kb.quantity import COUNTERS, UNIT_AFTER, Quantity, qualifier, quantities, unit_end
from kb.records import Document, Fact, Table


def facts(doc: Document) -> Iterator[Fact]:
    """Every fact the tables of ``doc`` state, each pointing at its row and cell."""
    for table in doc.tables:
        if not table.header_rows or len(table.rows) <= table.header_rows:
            continue
        columns = _column_headers(doc, table)
        header = "\n".join(doc.text[a:b] for a, b in table.rows[: table.header_rows])
        caption_dates = dates.mentions(table.caption, doc.date)
        dated = [j for j, c in enumerate(columns) if _is_date(c, dates.mentions(c, doc.date))]
        context = (_owner(table.caption, doc.title), _table_metric(doc, table))
        parent = ""  # the last row that is no 其中 row: what the rows under it are parts of
        in_parts = False  # the row before was a part: a bare place or institution under it lists on
        for (row_start, row_end), cells in zip(table.rows[table.header_rows :], table.cells[table.header_rows :],
                                               strict=True):  # fmt: skip
            texts = [doc.text[a:b] for a, b in cells]
            key = _row_key(texts, columns)
            label = texts[key] if key is not None else ""
            part = _part_of(label, parent) or (_part_of(f"其中{label}", parent) if in_parts else None)
            parent, in_parts = (parent, True) if part else (label, False)  # 其中：甲市 | 乙市 | 丙市: all parts
            # text cells between the row's name and the dated columns name the row's metric (地区 | 指标 | 2022年末)
            named_by = [j for j in range(len(texts)) if j != key and texts[j] and dated and j < dated[0]
                        and not _is_ordinal_column(columns, j)]  # fmt: skip
            subject, metric, by_name = _roles(label, part, [texts[j] for j in named_by], context)
            for j, (a, b) in enumerate(cells):
                if (
                    j == key
                    or j in named_by
                    or not texts[j]
                    or _is_ordinal_column(columns, j)
                    or _names_next(columns, j)
                ):
                    continue
                column = columns[j] if j < len(columns) else ""
                when = _points(column, doc.date)
                if j in dated:  # 指标 | 2020年末 | 2021年末: the row names the metric
                    yield _cell_fact(doc, texts[j], (a, b), (row_start, row_end), subject, metric, when, header, table)
                    continue
                measured = _without_dates(column, when)  # 累计授信金额 2023年6月末: its date is the fact's as-of
                if j > 0 and _NAMES_METRIC.search(columns[j - 1]) and _VALUE_WORDS.fullmatch(_last_word(measured)):
                    measured = texts[j - 1] or measured  # 指标 | 数值: the value's metric is its row's 指标 cell
                # a change beside dated columns (2022年末 | 2023年3月末 | 比年初增加) is as of the last of them
                when = when or (_column_dates(columns, dated, doc.date) if dated else []) or caption_dates
                if _ONLY_CHANGE.fullmatch(_UNIT_NOTE.sub("", measured).strip()):  # 较上年末增加 after 累计发放贷款
                    measured = _changed(columns, j, doc.date) + measured
                owner, measured = _undated_roles(label, (subject, metric, by_name), measured, bool(dated))
                yield _cell_fact(doc, texts[j], (a, b), (row_start, row_end), owner, measured, when, header, table)


_BASE = re.compile(r"(?:较|比|与|同)$")  # what a change's base date follows (较上年末, 比年初, 同上年末)


# a column that names only a change (较上年末增加（亿元）, 同比增长): a change of the level column before it
_ONLY_CHANGE = re.compile(
    r"(?:较|比|同比|环比)?(?:上年末|年初|上年同期|去年同期|上年|上月末|上季末|[\d年月末底.]*)?(?:增加|增长|增幅|增速|减少|下降)"
    r"(?:额|率|幅度)?"
)


def _changed(columns: list[str], j: int, reference: str | None) -> str:
    """The metric of the nearest column before ``j`` that names a level (累计发放贷款), or "" when none does."""
    for k in range(j - 1, -1, -1):
        words = _UNIT_NOTE.sub("", _without_dates(columns[k], _points(columns[k], reference))).strip()
        if not words or _VALUE_WORDS.fullmatch(words) or _NAMES_METRIC.search(words):
            return ""  # 指标 | 2025年9月末 (数值) | 较上年末增加: the row names the metric
        if words and not _ONLY_CHANGE.fullmatch(words):
            return words
    return ""


def _points(column: str, reference: str | None) -> list[dates.DateMention]:
    """The dates a column's figures are counted at: not one a change is measured against (较上年末增加 keeps its
    base in the metric and is dated by the column's other date)."""
    return [m for m in dates.mentions(column, reference) if not _BASE.search(column, 0, m.start)]


def _names_next(columns: list[str], j: int) -> bool:
    """Column ``j`` names the metric of the value column after it (指标 | 数值): no fact of its own."""
    return (
        j + 1 < len(columns)
        and bool(_NAMES_METRIC.search(columns[j]))
        and bool(_VALUE_WORDS.fullmatch(_last_word(columns[j + 1])))
    )


def _last_word(header: str) -> str:
    words = header.split()
    return words[-1] if words else ""


def _without_dates(column: str, when: list[dates.DateMention]) -> str:
    for m in when:
        column = column.replace(m.text, " ")
    return " ".join(column.split()) or column


def _column_dates(columns: list[str], dated: list[int], reference: str | None) -> list[dates.DateMention]:
    return dates.mentions(columns[dated[-1]], reference) if dated[-1] < len(columns) else []


def _undated_roles(label: str, roles: tuple[str, str, bool], column: str, dated: bool) -> tuple[str, str]:
    """Subject and metric of a cell under a column that is no date: in a table of dated columns, the row
    subject's change or share of the row's metric (全市授信余额（亿元） | … | 比年初增加 → 授信余额比年初增加
    （亿元）); else the row's subject (or its name) and the column (项目 | 牵头机构)."""
    subject, metric, by_name = roles
    if dated:
        note = _UNIT_NOTE.search(metric)
        return subject, f"{_UNIT_NOTE.sub('', metric).strip()}{column}{note.group(0) if note else ''}"
    return (subject if by_name else label), column


def _roles(label: str, part: tuple[str, str] | None, naming: list[str], context: tuple[str, str]
           ) -> tuple[str, str, bool]:  # fmt: skip
    """Whose figures a row's dated cells give and of what: a 其中 row's place and the row above's metric; a row
    named by a place or institution (绵阳市, 其中：杭州市) or by the table's own place (全省, 全省合计): that one, the
    metric its other text cells or the table name; else the table's owner, the row's name as the metric."""
    owner, table_metric = context
    if part:  # the row above may be the table's own place alone (全省 | …): the table names the metric then
        return part[0], part[1] if _UNIT_NOTE.sub("", part[1]) else "".join(naming) or table_metric or part[1], True
    whole = _OWN_PLACE.sub("", _UNIT_NOTE.sub("", label)).strip()
    names = named(label)
    if _OWN_PLACE.match(label) and whole in ("", "合计", "总计", "小计"):
        return owner, "".join(naming) or table_metric or label, True
    if len(names) == 1 and names[0].name == label and names[0].kind != "project":
        return label, "".join(naming) or table_metric or label, True
    if len(names) == 1 and names[0].kind == "place" and names[0].start == 0:  # 某市放款余额 | …: the city's
        return names[0].name, label[names[0].end :] + "".join(naming), True
    return owner, _OWN_PLACE.sub("", label) + "".join(naming), False


# 注：表中数据为…, 注：以上均为…: what the table's figures are (注：授信户数为… defines one metric, not all)
_NOTE_SAYS = re.compile(r"^注[:：](?P<what>[^。；\n]*?)(?:均为|为|指)([^。；\n]{2,40})")
_NOTE_ON_ALL = re.compile(r"^\s*$|数据|数字|数值|指标|表|以上|上述")
_NOT_MEASURED = re.compile(r"^各?[^，,。]*?项目|自[^，,。]{0,8}以来|的$")


def _table_metric(doc: Document, table: Table) -> str:
    """What a table's figures measure when no row or column says: its note (注：表中数据为各项目授信余额 →
    授信余额), else its caption when that is more than a unit line; "" when neither says."""
    after = doc.text[table.rows[-1][1] :].lstrip("\n")
    m = _NOTE_SAYS.match(after)
    if m and _NOTE_ON_ALL.search(m.group("what")):
        return _NOT_MEASURED.sub("", m.group(2)).strip()
    caption = _UNIT_NOTE.sub("", table.caption).strip()
    return "" if _UNIT_LINE.match(caption) else caption


_PART = re.compile(r"^其中[:：]?\s*")
_OWN_PLACE = re.compile("^" + SELF_REFERENCE.pattern)  # 全省 | …: the table's own place (one home: kb.entities)


def _part_of(label: str, parent: str) -> tuple[str, str] | None:
    """A 其中 row that names a place or institution (其中：某市（万户） under 全省服务农户（万户）): that one's
    figure of the row above's metric, as (subject, metric); None for any other row."""
    m = _PART.match(label)
    if not m or not parent:
        return None
    rest = label[m.end() :]
    name = _UNIT_NOTE.sub("", rest).strip()
    names = named(name)
    if len(names) != 1 or names[0].name != name:
        return None
    metric = _OWN_PLACE.sub("", _UNIT_NOTE.sub("", parent).strip())
    note = _UNIT_NOTE.search(rest) or _UNIT_NOTE.search(parent)
    return name, metric + (note.group(0) if note else "")


_UNIT_NOTE = re.compile(r"[（(][^（()）]{1,6}[)）]$")
_ORDINAL = re.compile(r"^(?:序号|编号|序|No\.?|#)$", re.I)


def _is_ordinal_column(columns: list[str], j: int) -> bool:
    return j < len(columns) and bool(_ORDINAL.match(columns[j].strip()))


def _row_key(texts: list[str], columns: list[str]) -> int | None:
    """The cell that names the row: its name column's (项目名称: a project's row, whatever place a 地区 cell before
    it gives), else the first non-empty one that is not a row number (序号 1, 2, 3)."""
    named_by = [j for j, c in enumerate(columns) if _NAME_COLUMN.search(c) and j < len(texts) and texts[j]]
    if named_by:
        return named_by[0]
    for j, text in enumerate(texts):
        if text and not _is_ordinal_column(columns, j) and not text.isdigit():
            return j
    return None


_NAME_COLUMN = re.compile(r"(?:项目|机构|单位|银行|场景)名称$")
# a header's words that say "the figure" and nothing of what it counts (2023年3月末 数值)
_VALUE_WORDS = re.compile(r"数值|数据|数量|指标值|金额|合计|总计|累计")
_NAMES_METRIC = re.compile(r"指标(?:名称)?$|^项目$")  # a column that names each row's metric (指标 | 数值)


def _is_date(column: str, when: list[dates.DateMention]) -> bool:
    """The column header is a date or period and little else (2021年末, 截至2021年3月31日 数值), not a metric
    at a date (累计授信金额 2023年6月末)."""
    if not when:
        return False
    rest = column
    for m in when:
        rest = rest.replace(m.text, "")
    rest = rest.strip()
    return len(rest) <= 2 or not _VALUE_WORDS.sub("", rest).strip()


def _owner(caption: str, title: str) -> str:
    """Whose figures a table of dated columns holds: the first place, institution or project its caption or the
    document's title names, else the caption."""
    for text in (caption, title):
        names = named(text)
        if names:
            return names[0].name
    return caption or title


def _column_headers(doc: Document, table: Table) -> list[str]:
    """Each column's header: its header rows' cells joined (a merged cell repeats across its columns)."""
    width = max(len(c) for c in table.cells)
    columns = []
    for j in range(width):
        parts = [doc.text[a:b] for row in table.cells[: table.header_rows] if j < len(row) for a, b in [row[j]]]
        columns.append(" ".join(dict.fromkeys(p for p in parts if p)))
    return columns


def _cell_fact(doc: Document, text: str, cell: tuple[int, int], row: tuple[int, int], subject: str, metric: str,
               when: list[dates.DateMention], header: str, table: Table) -> Fact:  # fmt: skip
    found = quantities(text)
    q = found[0] if len(found) == 1 and _is_whole_value(text, found[0]) else None
    unit = text[q.end : unit_end(text, q.end)].lstrip("余") if q else ""
    if q and q.percent:
        unit = "%"  # 24.8% under 服务企业（万户）: a rate, whatever the row's unit
    elif q and not unit:
        unit = _unit_in(metric) or _unit_of(metric, table.caption)
    as_of = when[-1] if when else None
    return Fact(
        doc_id=doc.doc_id, subject=subject, metric=metric, value=q.value if q else None, text=text, unit=unit,
        qualifier=qualifier(text, q.start, q.end) if q else "", as_of=as_of.iso if as_of else doc.date,
        as_of_text=as_of.text if as_of else "", start=row[0], end=row[1], value_start=cell[0], value_end=cell[1],
        source_kind="cell", header=header, caption=table.caption,
    )  # fmt: skip


def _is_whole_value(text: str, q: Quantity) -> bool:
    """The cell is one figure (with its unit and qualifier), not text that holds a number."""
    rest = text[: q.start] + text[unit_end(text, q.end) :]
    return len(re.sub(r"[约近超过逾左右以上多余\s]", "", rest)) <= 1


_UNIT_IN = re.compile(r"[（(](?:单位[:：])?([万亿]?[^（()）]{1,4})[)）]|^单位[:：]\s*([万亿]?[^\s，,。；（()）]{1,4})")
_UNIT_LINE = re.compile(r"^单位[:：]")


_UNIT_PAIR = re.compile(
    r"([\u4e00-\u9fff]{1,8}?)(?:为|以|按|[:：])([万亿千]?[\u4e00-\u9fff%]{1,2})(?=[，,；;。\s)）]|$)"
)


def _unit_of(metric: str, caption: str) -> str:
    """The unit a caption line states for ``metric``: the one it pairs with a word of the metric (单位：贷款为亿元，
    市场主体为万户; （存款：亿元；商户：万户）), else the one unit it states for all."""
    pairs = [(word, unit) for word, unit in _UNIT_PAIR.findall(caption)
             if word != "单位" and UNIT_AFTER.fullmatch(unit)]  # fmt: skip
    paired = next((unit for word, unit in pairs if word in metric), "")  # 贷款户数 before 贷款余额's 贷款
    paired = paired or next((unit for word, unit in pairs if _unit_for(word, unit, metric)), "")
    # 单位：亿元；服务户数为万户: 亿元 for every figure the pairs do not name, but a share's unit is %
    general = _unit_in(caption.split("；")[0].split(";")[0])
    return paired or ("" if _SHARE.search(metric) and general not in ("%", "％") else general)


_SHARE = re.compile(r"率|占比|比例|比重|百分比")


def _unit_for(word: str, unit: str, metric: str) -> bool:
    """A unit line's word names ``metric`` loosely: the word counts in the unit's counter (服务户数 for 万户) and
    the metric names what that counter counts (服务…个体工商户), or begins as the word does and names no amount
    (服务市场主体; not 服务金额)."""
    if unit[-1] not in COUNTERS or unit[-1] not in word:
        return False
    return metric.endswith(unit[-1]) or (metric.startswith(word[:2]) and not _AMOUNT.search(metric))


_AMOUNT = re.compile(r"金额|额|贷款|资金|融资|余额|元")


def _unit_in(text: str) -> str:
    """A unit a header or caption states for its figures: 终端（台）, 贷款（亿元）, （单位：万户）."""
    m = _UNIT_IN.search(text.strip())
    return (m.group(1) or m.group(2)) if m else ""
