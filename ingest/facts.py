"""The fact registry's extraction: the figures a document states, as subject, metric, value, unit and as-of date.

Owns: reading facts out of table cells (row header × column header × caption; a text cell is a fact whose
value stays text) and out of running text (the number attached to what it counts: 33个项目, not 4个方向; its
subject the nearest place, institution or project before it, or the heading a 该方向/该项目 refers to; its date
the 截至… or period its sentence states, else the document's). Does not own: numerals and units (``kb.quantity``),
dates (``kb.dates``), storage (``kb.catalog``, in the same transaction as the document) or answering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb import corrections, dates
from kb.entities import PLACE, SELF_REFERENCE, Named, named
from kb.quantity import COUNTERS, Quantity, change, qualifier, quantities, unit_end
from kb.records import Document, Fact, Table
from kb.segment import sentence_spans

_CLAUSE = re.compile(r"[，,；;。：:（()）\n]")
# the verbs between what is counted and its figure (签约用户数量已达10.29万户), stripped from a metric's end …
_LINKING = "已经|已|共计|累计|共|合计|总计|达到|达|为|有|是|约|超过|突破|近|逾|计|实现"
_TAIL_VERBS = re.compile(rf"(?:{_LINKING})+$")
# … and those, with the actions a figure counts, stripped from its start (共计布放“刷脸付”受理终端 → 刷脸付受理终端)
_VERBS = re.compile(rf"^(?:{_LINKING}|已达|完成|发放|布放|发行|推送|服务|提供|上线|投放)+")
# … and what a metric's start says of its subject or time, not of what is counted (全市累计开立…, 去年累计办理…)
_LEAD = re.compile(
    r"^(?:其中|此外|同时|另外|截至目前|目前|如|例如|[我本全][省市区县]|去年|今年|上年|当年|全年|该|本|此|这)+"
)
_REFERS = re.compile(r"(?:该|本|此|上述)(?:方向|项目|行|机构|单位|平台|领域|地区|市|省|应用|产品|业务)")
_NOUN_AFTER = re.compile(r"[\u4e00-\u9fff“”\"A-Za-z]{1,10}")
# where the noun after a measure word ends: a particle, an adverb or a verb (33项金融科技试点项目已全部上线)
_NOUN_END = re.compile(
    r"[的和与及等已均都将正在为是达由被从于共]|全部|累计|建立|开展|实现|提升|推动|完成|上线|涉及|分析"
)
# what follows a measure word that is no noun it counts (3.94万户增加0.82万户, 30人以上, 5家其中)
_NOT_COUNTED = ("以", "左右", "增加", "增长", "减少", "下降", "提高", "较", "比", "同比", "环比", "占", "其中")
_WITHIN = re.compile(
    r"(?:当中|之中|中|里|内)(?:有|共有)?$|之一$"
)  # 试点项目中有21个; 十二个项目之一  # 试点项目中有21个: the metric is 试点项目
_DATE_UNITS = ("年", "月", "日", "时", "季")
_ONLY_DATE = re.compile(
    r"(?:较|比|与|同)?(?:\d{4}年|上一?年|去年|今年|本年)?(?:\d{1,2}月|[一二三四]季度|[上下]半年|年)?(?:末|底|初)?(?:的|为)?"
)
_RANGE_TO = re.compile(r"\d[^，,；;。\d]{0,4}(?:至|到|~|～|－|—)\s*$")  # a range's low end just before a figure
MAX_METRIC = 16
OPENING_CHARS = 120  # a document's first lines, where an untitled place or issuer stands


def extract(doc: Document) -> list[Fact]:
    """Every fact ``doc`` states, table cells first, each pointing at its sentence or row."""
    return [*_table_facts(doc), *_text_facts(doc)]


# -- tables -------------------------------------------------------------------------------------------------
def _table_facts(doc: Document) -> Iterator[Fact]:
    for table in doc.tables:
        if not table.header_rows or len(table.rows) <= table.header_rows:
            continue
        columns = _column_headers(doc, table)
        header = "\n".join(doc.text[a:b] for a, b in table.rows[: table.header_rows])
        caption_dates = dates.mentions(table.caption, doc.date)
        dated = [j for j, c in enumerate(columns) if _is_date(c, dates.mentions(c, doc.date))]
        context = (_owner(table.caption, doc.title), _table_metric(doc, table))
        parent = ""  # the last row that is no 其中 row: what the rows under it are parts of
        for (row_start, row_end), cells in zip(table.rows[table.header_rows :], table.cells[table.header_rows :],
                                               strict=True):  # fmt: skip
            texts = [doc.text[a:b] for a, b in cells]
            key = _row_key(texts, columns)
            label = texts[key] if key is not None else ""
            part = _part_of(label, parent)
            parent = parent if part else label
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
                when = dates.mentions(column, doc.date)
                if j in dated:  # 指标 | 2020年末 | 2021年末: the row names the metric
                    yield _cell_fact(doc, texts[j], (a, b), (row_start, row_end), subject, metric, when, header, table)
                    continue
                measured = _without_dates(column, when)  # 累计授信金额 2023年6月末: its date is the fact's as-of
                if j > 0 and _NAMES_METRIC.search(columns[j - 1]) and _VALUE_WORDS.fullmatch(measured.split()[-1]):
                    measured = texts[j - 1] or measured  # 指标 | 数值: the value's metric is its row's 指标 cell
                # a change beside dated columns (2022年末 | 2023年3月末 | 比年初增加) is as of the last of them
                when = when or (_column_dates(columns, dated, doc.date) if dated else []) or caption_dates
                owner, measured = _undated_roles(label, (subject, metric, by_name), measured, bool(dated))
                yield _cell_fact(doc, texts[j], (a, b), (row_start, row_end), owner, measured, when, header, table)


def _names_next(columns: list[str], j: int) -> bool:
    """Column ``j`` names the metric of the value column after it (指标 | 数值): no fact of its own."""
    return (
        j + 1 < len(columns)
        and bool(_NAMES_METRIC.search(columns[j]))
        and bool(_VALUE_WORDS.fullmatch(columns[j + 1].split()[-1] if columns[j + 1].split() else ""))
    )


def _without_dates(column: str, when: list[dates.DateMention]) -> str:
    for m in when:
        column = column.replace(m.text, " ")
    return " ".join(column.split()) or column


def _column_dates(columns: list[str], dated: list[int], reference: str | None) -> list[dates.DateMention]:
    return dates.mentions(columns[dated[-1]], reference) if dated[-1] < len(columns) else []


def _undated_roles(label: str, roles: tuple[str, str, bool], column: str, dated: bool) -> tuple[str, str]:
    """Subject and metric of a cell under a column that is no date: in a table of dated columns, the row
    subject's change or share of the row's metric (全区累计发放贷款（亿元） | … | 比年初增加 → 累计发放贷款比年初增加
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
    return owner, _OWN_PLACE.sub("", label) + "".join(naming), False


_NOTE_SAYS = re.compile(r"^注[:：][^。；\n]*?(?:数据|数字|数值|指标)?(?:均为|为|指)([^。；\n]{2,40})")
_NOT_MEASURED = re.compile(r"^各?[^，,。]*?项目|自[^，,。]{0,8}以来|的$")


def _table_metric(doc: Document, table: Table) -> str:
    """What a table's figures measure when no row or column says: its note (注：表中数据为各项目累计发放贷款金额 →
    累计发放贷款金额), else its caption when that is more than a unit line; "" when neither says."""
    after = doc.text[table.rows[-1][1] :].lstrip("\n")
    m = _NOTE_SAYS.match(after)
    if m:
        return _NOT_MEASURED.sub("", m.group(1)).strip()
    caption = _UNIT_NOTE.sub("", table.caption).strip()
    return "" if _UNIT_LINE.match(caption) else caption


_PART = re.compile(r"^其中[:：]?\s*")
_OWN_PLACE = re.compile(r"^(?:[我本全](?:省|市|区|县|自治区))")


def _part_of(label: str, parent: str) -> tuple[str, str] | None:
    """A 其中 row that names a place or institution (其中：南宁市（亿元） under 全区累计发放贷款（亿元）): that one's
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
    """The cell that names the row: the first non-empty one that is not a row number (序号 1, 2, 3)."""
    for j, text in enumerate(texts):
        if text and not _is_ordinal_column(columns, j) and not text.isdigit():
            return j
    return None


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
    if q and not unit:
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


_UNIT_PAIR = re.compile(r"([\u4e00-\u9fff]{1,8}?)(?:为|以|按)([万亿千]?[\u4e00-\u9fff%]{1,2})(?=[，,；;。\s]|$)")


def _unit_of(metric: str, caption: str) -> str:
    """The unit a caption line states for ``metric``: the one it pairs with a word of the metric (单位：贷款为亿元，
    市场主体为万户), else the one unit it states for all."""
    pairs = _UNIT_PAIR.findall(caption)
    if pairs:
        return next((unit for word, unit in pairs if word in metric), "")
    return _unit_in(caption)


def _unit_in(text: str) -> str:
    """A unit a header or caption states for its figures: 终端（台）, 贷款（亿元）, （单位：万户）."""
    m = _UNIT_IN.search(text.strip())
    return (m.group(1) or m.group(2)) if m else ""


# -- running text -------------------------------------------------------------------------------------------
def _text_facts(doc: Document) -> Iterator[Fact]:
    in_table = [(t.start, t.end) for t in doc.tables]
    # the document's own place and issuer: its title's, else its first lines' (an official notice names its
    # issuer above a 关于…的通知 title)
    in_title = _owners(doc.title) or _owners(doc.text[:OPENING_CHARS])
    for section in doc.sections:
        heading = section.heading_path[-1] if section.heading_path else ""
        # whose figures a section's sentences give when they name no one: its heading's place or institution, else
        # the document title's (山东省…一季度进展 › 总体进展: 山东省), else the heading's words
        owner = next((n.name for n in sorted([*_owners(heading), *in_title], key=_place_first)), heading)
        previous = ""  # the subject of the sentence before (该项目 refers to it)
        carried: dates.DateMention | None = None  # the date the section's figures are counted at so far
        for a, b in sentence_spans(doc.text, section.start, section.end):
            if any(s <= a < e for s, e in in_table):
                continue
            names = named(doc.text[a:b])
            yield from _sentence_facts(doc, a, b, names, (heading, owner), previous, carried)
            previous = names[0].name if names else previous
            sentence = doc.text[a:b]
            stated = [m for m in dates.mentions(sentence, doc.date)
                      if _counted_at(sentence, m) and _bracket(sentence, m.start) < 0]  # fmt: skip
            carried = stated[-1] if stated else carried


def _owners(text: str) -> list[Named]:
    """The places and institutions ``text`` names that can own a figure: a place inside a longer name counts too
    (甘肃省 in 甘肃省试点项目…进展情况)."""
    found = [n for n in named(text) if n.kind != "project"]
    return found + [Named(m.group(0), m.start(), m.end(), "place") for m in PLACE.finditer(text)]


def _place_first(n: Named) -> int:
    return 0 if n.kind == "place" else 1


def _sentence_facts(doc: Document, start: int, end: int, names: list[Named], context: tuple[str, str],
                    previous: str, carried: dates.DateMention | None = None) -> Iterator[Fact]:  # fmt: skip
    """The figures of the sentence ``doc.text[start:end]``, which names ``names``; ``context``: its section's
    heading and the owner of figures no name claims."""
    sentence = doc.text[start:end]
    when = dates.mentions(sentence, doc.date)
    in_dates = [(m.start, m.end) for m in when]
    last_metric = ""
    for q in quantities(sentence):
        stop = unit_end(sentence, q.end)
        if (
            (stop == q.end and not q.percent)
            or any(s <= q.start < e for s, e in in_dates)
            or sentence[q.end : q.end + 1] in _DATE_UNITS
        ):
            continue  # a figure has a unit (a share its %); a year or a day is no figure
        moved = change(sentence, q.start)  # 较上年末增加75.8亿元: a change of the figure before it
        ranged = _RANGE_TO.search(sentence, 0, q.start) is not None  # 5万元至30万元: the range's high end
        named_as = _metric(sentence, q, stop)
        if _ONLY_DATE.fullmatch(named_as) and re.search(r"[年月季]", named_as):  # 较6月末的, （6月末为…）
            named_as = ""  # the figure before it, restated at another date: its metric
        metric = (last_metric if moved or ranged else "") or named_as or last_metric
        if not metric:
            continue
        last_metric = metric
        as_of = _as_of(sentence, when, q.start) or carried
        yield Fact(
            doc_id=doc.doc_id, subject=_subject(sentence, q.start, names, context, previous, doc.title), metric=metric,
            value=q.value, text=sentence[q.start : stop],
            unit="%" if q.percent else sentence[q.end : stop].lstrip("余"),
            # 更正后 and 较上年末增加 may both hold (应更正为“…比年初增加79.4亿元”)
            qualifier=corrections.qualifier(sentence, q.start) + (moved or qualifier(sentence, q.start, stop)),
            as_of=as_of.iso if as_of else doc.date,
            as_of_text=as_of.text if as_of else "", start=start, end=end, value_start=start + q.start,
            value_end=start + stop,
        )  # fmt: skip


def _metric(sentence: str, q: Quantity, stop: int) -> str:
    """What the figure counts: the noun right after a measure word (33个项目 → 项目), else the words before the
    figure in its clause, without the subject's verbs (签约用户数量已达10.29万户 → 签约用户数量)."""
    unit = sentence[q.end : stop]
    if unit and unit[-1] in COUNTERS:
        after = _NOUN_AFTER.match(sentence, stop)
        noun = _NOUN_END.split(after.group(0))[0] if after else ""
        if noun and not noun.startswith(_NOT_COUNTED):
            return _tidy(_WITHIN.sub("", noun))  # 三十四个项目中，31个…: 项目
    clause_start = max((m.end() for m in _CLAUSE.finditer(sentence, 0, q.start)), default=0)
    before = sentence[clause_start : q.start]
    earlier = [x for x in quantities(before) if unit_end(before, x.end) > x.end]
    if earlier:  # 6家银行累计发行电子社保卡53.87万张: what follows the earlier figure
        before = before[unit_end(before, earlier[-1].end) :]
    before = _REFERS.sub("", before)
    for m in reversed(dates.mentions(before)):
        before = before[m.end :]
        break
    for n in named(before):
        before = before.replace(n.name, " ")
    before = before.split(" ")[-1]
    before = _TAIL_VERBS.sub("", _LEAD.sub("", before.strip()))
    before = _VERBS.sub("", before)
    return _tidy(_WITHIN.sub("", before[-MAX_METRIC:]))


def _tidy(text: str) -> str:
    return text.replace("“", "").replace("”", "").replace('"', "").strip(" 的了、")


def _subject(sentence: str, at: int, names: list[Named], context: tuple[str, str], previous: str, title: str
             ) -> str:  # fmt: skip
    """Whose figure it is: the nearest place, institution or project named before it in its sentence (after it,
    when none is before); what 该方向/该项目 refers to (the heading, or the sentence before's subject); else the
    place or institution its heading or the document's title names, else the heading or the title."""
    heading, owner = context
    # a name in a bracketed scope note (全省（含深圳市）…) says what a subject includes: no subject of the figures
    # after the note (those inside it are its own: 33个项目(含青岛市9项))
    before = [n for n in names if n.end <= at and not _in_closed_note(sentence, n, at)]
    own = [m for m in SELF_REFERENCE.finditer(sentence, 0, at) if all(m.start() >= n.end for n in before)]
    if own and owner:  # 我市17个试点项目…912.7亿元: the document's own place, not a name before 我市
        return owner
    if before:
        return _listed(sentence, before) or _actor(sentence, before).name
    refer = _REFERS.search(sentence, 0, at)
    if refer:
        return previous if "项目" in refer.group(0) and previous else heading or previous or title
    if names:
        return names[0].name
    return owner or title


def _actor(sentence: str, before: list[Named]) -> Named:
    """The nearest name before a figure, unless it is only where an institution or project named before it acts
    (广发银行牵头的…项目于2021年9月在广州上线，…累计放款64.28亿元: the project's figure, not 广州's)."""
    last = before[-1]
    if last.kind == "place" and sentence[max(0, last.start - 2) : last.start].endswith(("在", "于")):
        acting = [n for n in before[:-1] if n.kind != "place"]
        if acting:
            return acting[-1]
    return last


def _listed(sentence: str, before: list[Named]) -> str:
    """The whole list when the nearest name closes one (省工行、农行、中行等5家银行: the five together, not 中行),
    else ""."""
    last = before[-1]
    if not _LIST_END.match(sentence, last.end):
        return ""
    first = len(before) - 1
    while first > 0 and sentence[before[first - 1].end : before[first].start] in ("、", "和", "及", "与"):
        first -= 1
    return sentence[before[first].start : last.end] if first < len(before) - 1 else ""


_LIST_END = re.compile(r"等")
_SCOPE_NOTE = re.compile(r"[（(](?:含|包括|包含|不含|除)$")


def _in_closed_note(sentence: str, n: Named, at: int) -> bool:
    return bool(_SCOPE_NOTE.search(sentence, 0, n.start)) and any(c in sentence[n.end : at] for c in "）)")


def _counted_at(sentence: str, m: dates.DateMention) -> bool:
    """The date is worded as the day figures are counted at (截至2021年3月末, 2021年末), not a day something was
    published or happened (发布时间：2021-10-20), nor a change's base: the figures after it in its section are as of
    it until another is stated."""
    worded = m.text.startswith(("截至", "截止")) or m.text.endswith(("末", "底"))
    return worded and not _is_base(sentence, m, len(sentence))


def _is_base(sentence: str, m: dates.DateMention, at: int) -> bool:
    """The date is what a change is measured against (较上年末, 比年初, 与2020年末相比), not the date of the figure at
    ``at`` — unless that figure is the base's own (较2021年末的367.5亿元)."""
    base = sentence[max(0, m.start - 2) : m.start].endswith(("较", "比", "与", "同")) or sentence.startswith(
        "相比", m.end
    )
    return base and not (m.end <= at and sentence[m.end : at] in ("", "的"))


def _since(sentence: str, m: dates.DateMention) -> bool:
    """The date is when something began (自2022年3月投产以来, 从2021年起), not the day figures are counted at."""
    return sentence[max(0, m.start - 2) : m.start].endswith(("自", "从", "自从", "于")) and bool(
        re.match(r"[^，,；;。]{0,8}(?:以来|起|开始)", sentence[m.end :])
    )


_EVENT = re.compile(r"[^，,；;。\d]{0,10}?(?:上线|投产|开通|成立|启动|签约|发布|落地|推出)")


def _event_day(sentence: str, m: dates.DateMention) -> bool:
    """The date is when something happened (于2023年9月在昆明上线), not a day figures are counted at."""
    return not m.as_of and bool(_EVENT.match(sentence, m.end))


def _bracket(sentence: str, at: int) -> int:
    """Where the bracket holding ``sentence[at]`` opens, or -1: a date in brackets (6月末为892.16亿元) dates only
    the figures in them."""
    opened = max(sentence.rfind("（", 0, at), sentence.rfind("(", 0, at))
    closed = max(sentence.rfind("）", 0, at), sentence.rfind(")", 0, at))
    return opened if opened > closed else -1


def _as_of(sentence: str, when: list[dates.DateMention], at: int) -> dates.DateMention | None:
    """The date a figure at ``at`` is counted at: the last point-in-time date before it in its sentence, else
    any date before it, else the first after it (never a change's base date)."""
    when = [m for m in when if not _is_base(sentence, m, at) and not _since(sentence, m) and not _event_day(sentence, m)
            and _bracket(sentence, m.start) == _bracket(sentence, at)]  # fmt: skip
    before = [m for m in when if m.end <= at]
    points = [m for m in before if m.as_of]
    if points or before:
        return (points or before)[-1]
    return when[0] if when else None
