"""Quantities and units in Chinese text: find them, normalise them, check them against quotes.

Owns: reading Arabic and Chinese numerals with 万/亿 multipliers, 百分之 and full-width digits into values, the
units and measure words a quantity is counted in (``UNIT_AFTER``: 台, 万户, 亿元, 平方公里, % …) and the
qualifiers around it (约, 超过, 近, 左右), and the rule that every number an answer states must appear in one of
its cited quotes. Used by question analysis, the extractor, the reader and the fact registry. Does not own:
choosing sentences or formatting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10**4, "亿": 10**8}
_CN = "零〇一二三四五六七八九两十百千万亿"
_NUMBER = re.compile(
    rf"(?P<pct>百分之)?(?<![A-Za-z0-9.])(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?|[{_CN}]{{2,}}|[一二两三四五六七八九十])"
    r"(?P<mult>万亿|万|亿)?(?P<pct2>%|％)?"
)
UNITS = "台张户人笔元项家条份个件次亿元万元所名批类"
# the measure words that count things (33个项目, 9项, 4821台, 30名, 5门课程, 12本教材): the one list question
# analysis, the extractor, the reader, the starter questions and the registry read
MEASURE_WORDS = "个项家所位名件条份座批类只台张户笔次人门本篇"
# the measure words whose noun follows them and names what is counted (33个项目, 4821台终端); not 人 (120人参与试点:
# what follows is what they did)
COUNTERS = "个项家所位名件条份座批类台张户笔次门本篇"
# units of measure a question may ask a figure in (多少公里, 几岁), longest first, as a regex alternative
MEASURES = "平方公里|平方米|公里|公分|厘米|毫米|公尺|公顷|公斤|千克|米|克|吨|岁"


@dataclass(frozen=True)
class Quantity:
    value: float
    percent: bool
    text: str
    start: int
    end: int


def chinese_to_int(text: str) -> int | None:
    """一百二十三 → 123, 两万 → 20000, 三十三 → 33; None if not a Chinese numeral."""
    if any(ch not in _CN for ch in text):
        return None
    if all(ch in _DIGITS for ch in text):  # 二〇二〇 style: digit by digit
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL:
            section += (digit or 1) * _SMALL[ch]
            digit = 0
        else:
            total = (total + section + digit) * _BIG[ch]
            section, digit = 0, 0
    return total + section + digit


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its value (万/亿 applied, percentages marked)."""
    norm = unicodedata.normalize("NFKC", text)
    out = []
    for m in _NUMBER.finditer(norm):
        raw = m.group("num")
        value: Decimal
        if raw[0].isdigit():
            value = Decimal(raw.replace(",", ""))
        else:
            parsed = chinese_to_int(raw)
            after = norm[m.end() : m.end() + 1]
            counted = m.group("mult") or m.group("pct") or (after and after in UNITS + "年月日")
            if parsed is None or not counted:
                continue  # 一 in 进一步 is not a quantity
            value = Decimal(parsed)
        for mult in m.group("mult") or "":
            value *= _BIG[mult]
        pct = bool(m.group("pct") or m.group("pct2"))
        out.append(Quantity(float(value), pct, m.group(0), m.start(), m.end()))
    return out


# the unit or measure word right after a number (余 and 万/亿 included): 台, 万户, 亿元, 平方公里, % …
UNIT_AFTER = re.compile(
    r"余?(?:个?百分点|[万亿]?(?:分钟|小时|个月|平方公里|平方米|公里|公斤|千克|公分|公尺|厘米|毫米|公顷|英尺|英里|"
    r"[美港日欧]?元|项(?!目)|[台张户人笔家条份个件次所名批类位天周倍米克吨岁亩座分门本篇])|%|％|"
    r" ?(?:GHz|MHz|km²|km|m²|cm|mm|kg|m)(?![A-Za-z]))"
)
# the qualifiers before and after a figure: 约876亿元, 超过876亿元, 80人左右
_BEFORE = re.compile(r"(约|大约|超过|逾|近|将近|接近|不足|不到|突破)$")
_AFTER = re.compile(r"^(左右|以上|以下|多|余)")


def unit_end(text: str, at: int) -> int:
    """Where the unit right after ``text[:at]`` ends (``at`` itself when there is none)."""
    m = UNIT_AFTER.match(text, at)
    return m.end() if m else at


def qualifier(text: str, start: int, end: int) -> str:
    """The qualifier around the quantity at ``text[start:end]`` (its unit included): 约, 超过, 左右 … or ""."""
    before = _BEFORE.search(text[max(0, start - 2) : start])
    after = _AFTER.match(text[end : end + 2])
    return (before.group(1) if before else "") or (after.group(1) if after else "")


# a figure that is a change against a base (较上年末增加75.8亿元, 同比增长36.4%, 比年初提高3.6个百分点), not a level
_CHANGE = re.compile(
    r"(?:较|比|同比|环比|相比)[^，,；;。：:]{0,20}?(?:增加|增长|提高|上升|下降|减少|降低|回落|扩大|缩小|新增|多|少)了?"
    r"(?:额|量)?(?:应?(?:调整|修改|更正|修正)为)?$|"  # 较年初增加额调整为4.35亿元: a change, corrected
    r"(?:同比|环比)$|"
    r"(?:增加|增长|提高|上升|下降|减少|降低|回落|新增)了?$"  # 效率提高83%, 一季度新增放款8.36亿元 (增长至: a level)
)
CHANGE_ASKED = re.compile(
    r"增加|增长|提高|上升|下降|减少|降低|新增|同比|环比|增幅|增速|降幅|涨|(?<!占)比.{1,8}?[多少]了|(?<!占)比.{1,12}?[高低]了?(?:多少|几)"
)  # 比2023年末高了多少: a change


def change(text: str, start: int) -> str:
    """The words that make the figure at ``text[start:]`` a change against a base (较上年末增加), or ""."""
    clause = re.split(r"[，,；;。：:]", text[:start])[-1]
    m = _CHANGE.search(clause)
    return _CORRECTED_TO.sub("", m.group(0)) if m else ""


_CORRECTED_TO = re.compile(r"(?:额|量)?应?(?:调整|修改|更正|修正)为$")  # 较年初增加额调整为: 较年初增加


def values(text: str) -> set[tuple[float, bool]]:
    """Each number of ``text`` by value and whether it is a share; the plain numbers of a table row labelled in %
    (线上化率（%） | 84.6 | 88.1) are shares too."""
    found = {(round(q.value, 6), q.percent) for q in quantities(text)}
    for row in text.splitlines():
        if _PERCENT_ROW.match(row):
            found |= {(round(q.value, 6), True) for q in quantities(row)}
    return found


_PERCENT_ROW = re.compile(r"[^|\n]*[（(]\s*[%％]\s*[）)]\s*\|")  # 线上化率（%） | …: a row of shares


def unsupported(answer: str, quotes: Iterable[str]) -> list[str]:
    """Numbers stated in ``answer`` that no quote contains (by value, so 10.29万 == 102900)."""
    known: set[tuple[float, bool]] = set()
    for quote in quotes:
        known |= values(quote)
    missing = []
    for q in quantities(strip_markers(answer)):
        if (round(q.value, 6), q.percent) not in known:
            missing.append(q.text)
    return missing


def strip_markers(text: str) -> str:
    """The text with citation markers such as [1] or [2][3] replaced by a break (a quote ending in 341.95[2]
    before one starting 2025年 holds two numbers, not 341.952025)."""
    return re.sub(r"(?:\[\d+\])+", "\n", text)


def scaled(value: float, unit: str) -> float:
    """A figure counted in the unit stated beside it (158.4 under a header 万张) as a plain value (1584000), so that
    figures read from a table and from a sentence compare."""
    return value * _BIG.get(unit[:1], 1)


def amount(value: float | None, unit: str) -> float | None:
    """A figure as a plain value (万/亿 in its unit applied), for telling figures apart; None when it has none."""
    return float(f"{scaled(value, unit):.12g}") if value is not None else None  # 318.4亿 whichever way it is scaled


def with_qualifier(text: str, qualifier: str) -> str:
    """A figure's words with the qualifier that stood beside it put back (100万张, 超过 → 超过100万张)."""
    if not qualifier or qualifier in text:
        return text
    return f"{text}{qualifier}" if _AFTER.match(qualifier) else f"{qualifier}{text}"


# measure words that count the same things (33个项目 and 9项; 359人 and 30名学生)
SAME_COUNT = ("个项家所", "人名位")


def same_count(asked: str, unit: str) -> bool:
    """``unit`` counts what a question asking in ``asked`` counts (个 and 项; 人 and 名)."""
    return asked == unit or any(asked in group and unit in group for group in SAME_COUNT)


def counted_in(asked: str) -> str:
    """The measure words a figure asked for in ``asked`` may be written in, as a regex: a head count in any of
    人/名/位 (多少人 → 30名); every other measure word as asked, so that a sentence's 9项 answers 几项 and its 33个
    does not."""
    return f"[{SAME_COUNT[1]}]" if asked in SAME_COUNT[1] else re.escape(asked)
