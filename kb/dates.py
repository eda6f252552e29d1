"""Dates in Chinese text: stated dates and periods, normalised, with the original words kept.

Owns: finding date expressions (2020年9月3日, 2020/11/10, 截至2020年8月末, 2021年末, 2021年年末, 2022年年中 (its first
half's end), 2021年一季度末, 8月末, 上半年),
completing a missing year from a reference date, normalising each to the ISO date its period ends on
(2021年末 → 2021-12-31, 8月末 → 2020-08-31) with its precision, and reading the time a question is bound to
(2014年时, 截至2020年末, 去年) as a date range. Does not own: which date a figure is as of (``ingest.facts``) or
how answers use dates (``assistant``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Literal

Precision = Literal["day", "month", "quarter", "half", "year"]

# a day written out whole, as a line of its own states it (2021年12月20日, 2014 - 07 - 16, 2020/11/10)
FULL_DAY = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?")
# a year named relative to the text's own date (its document's, or today for a question)
_RELATIVE_YEAR = {"去年": -1, "上年": -1, "上一年": -1, "今年": 0, "本年": 0, "当年": 0, "前年": -2}
_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"(?P<y>(?:19|20)\d{2})\s*年"
_EXPR = re.compile(
    r"(?P<lead>截至|截止|截止到|到|至)?\s*"
    r"(?:"
    r"(?P<iso>(?P<iy>(?:19|20)\d{2})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2}))"
    r"|(?:" + _YEAR + r"|(?P<rel>去年|上年|上一年|今年|本年|当年|前年))?(?:"
    r"(?:(?P<m0>\d{1,2})\s*[-—–~～至到]\s*)?(?P<m>\d{1,2})\s*月(?:(?P<d>\d{1,2})\s*日|(?P<mend>末|底|份))?"
    r"|(?P<q3>前三季度)"
    r"|(?:第?(?P<q>[一二三四1-4])\s*季度)(?P<qend>末|底)?"
    r"|(?P<h>[上下])半年(?P<hend>末|底)?"
    r"|年?(?P<yend>末|底|初)"
    r"|年(?P<mid>中)(?!国|央|华|小|期)"
    r")"
    r"|" + _YEAR.replace("<y>", "<yo>") + r"(?!\s*\d{1,2}\s*月|[第一二三四1-4上下]|末|底|初)"
    r")"
)


@dataclass(frozen=True)
class DateMention:
    """A date or period stated in a text: where, the words, the ISO date its period ends on, how precise."""

    start: int
    end: int
    text: str
    iso: str
    precision: Precision
    as_of: bool  # worded as a point in time a figure is counted at (截至…, …末, a full day)


def _iso(year: int, month: int, day: int | None = None) -> str | None:
    if not (1 <= month <= 12):
        return None
    last = calendar.monthrange(year, month)[1]
    if day is None:
        day = last
    if not (1 <= day <= last):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def mentions(text: str, reference: str | None = None) -> list[DateMention]:
    """Every date expression in ``text``; a month or period without a year takes ``reference``'s year (ISO date)
    and is skipped when there is none."""
    ref_year = int(reference[:4]) if reference and reference[:4].isdigit() else None
    out: list[DateMention] = []
    for m in _EXPR.finditer(text):
        found = _read(m, ref_year)
        if found is None:
            continue
        iso, precision, point = found
        lead = bool(m.group("lead"))
        start = m.start("lead") if lead else m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        out.append(DateMention(start, m.end(), text[start : m.end()], iso, precision, point or lead))
    return out


def _read(m: re.Match[str], ref_year: int | None) -> tuple[str, Precision, bool] | None:
    """(ISO end date, precision, worded as a point in time) of one match, or None."""
    g = m.groupdict()
    if g["iso"]:
        iso = _iso(int(g["iy"]), int(g["im"]), int(g["id"]))
        return (iso, "day", True) if iso else None
    if g["yo"]:
        return f"{int(g['yo']):04d}-12-31", "year", False
    year = int(g["y"]) if g["y"] else ref_year
    if g["rel"] and ref_year is not None:  # 去年底 in a document of 2023 is 2022年末
        year = ref_year + _RELATIVE_YEAR[g["rel"]]
    if year is None:
        return None
    if g["q3"]:  # 前三季度: January to September, a period
        return _iso(year, 9) or "", "month", False
    if g["m"] and g["m0"]:  # 2025年1-9月: the months up to September's end, a period, no point in time
        iso = _iso(year, int(g["m"])) if not g["d"] else None  # (12-2月: a winter's months, ending in February)
        return (iso, "month", False) if iso else None
    if g["m"]:
        iso = _iso(year, int(g["m"]), int(g["d"]) if g["d"] else None)
        if iso is None:
            return None
        return (iso, "day", True) if g["d"] else (iso, "month", bool(g["mend"] and g["mend"] != "份"))
    if g["q"]:
        return _iso(year, 3 * _CN_DIGIT[g["q"]]) or "", "quarter", bool(g["qend"])
    if g["h"]:
        return _iso(year, 6 if g["h"] == "上" else 12) or "", "half", bool(g["hend"])
    if g["mid"] and (g["y"] or g["rel"]):  # 2022年年中: mid-year, the end of its first half
        return _iso(year, 6) or "", "half", True
    if g["yend"] and (g["y"] or g["rel"]):  # 2021年末 (年初 is the start of a year: dated by its first day)
        return (f"{year:04d}-01-01", "day", True) if g["yend"] == "初" else (f"{year:04d}-12-31", "year", True)
    return None


def first_day(mention: DateMention) -> str:
    """The ISO date the mention's period starts on (the day itself for a day)."""
    year, month, _ = (int(x) for x in mention.iso.split("-"))
    span = {"day": 0, "month": 1, "quarter": 3, "half": 6, "year": 12}[mention.precision]
    if not span:
        return mention.iso
    start_month = month - span + 1
    return f"{year:04d}-{start_month:02d}-01"


@dataclass(frozen=True)
class TimeAsked:
    """The time a question is bound to: facts and evidence dated in [since, until] (ISO) answer it."""

    since: str
    until: str
    text: str  # the question's words for it
    start: int
    end: int

    def covers(self, iso: str | None) -> bool:
        """The ISO date ``iso`` lies in the time asked."""
        return iso is not None and self.since <= iso <= self.until

    def stated_in(self, text: str, reference: str | None = None) -> bool:
        """``text`` states a date in the time asked (a year-less date takes ``reference``'s year)."""
        return any(self.covers(m.iso) for m in mentions(text, reference))


_RELATIVE = {"今年": 0, "去年": -1, "前年": -2}
ANY_YEAR = "2000-01-01"  # a reference year, to find a yearless date's words where its year does not matter
_PERIOD_END = re.compile(r"[末底]$")
_MONTHS = re.compile(r"\d\s*[-—–~～至到]\s*\d{1,2}\s*月$|前三季度$")  # 1—10月, 前三季度: a period of months


def asked(question: str, today: str, newest: str | None = None) -> TimeAsked | None:
    """The time ``question`` names (2014年时 → 2014, 截至2020年末 → up to 2020-12-31, 2021年一季度末 → that day,
    去年 → last year from ``today``; a period's end said without its year, 10月末 or 三季度末, in the year of
    ``newest`` — the newest report's date — or the year before when that day had not yet come), or None."""
    text = question
    for word, delta in _RELATIVE.items():
        text = text.replace(word, f"{int(today[:4]) + delta}年")
    found = mentions(text) or (_yearless_end(text, newest) if newest else [])
    if not found:
        return None
    m = found[0]
    until = m.iso
    lead = m.text.startswith(("截至", "截止", "到"))
    since = "0000-01-01" if lead and m.precision == "day" else first_day(m)
    if m.as_of and m.precision != "year" and not lead:  # 一季度末, 8月末: that point in time
        since = first_day(m) if m.precision == "month" else until
    if _PERIOD_END.search(m.text):  # 2020年末, 截至2021年3月底: figures of that day, not of 2020年8月末
        since = until
    start, end = _original_span(question, text, m)
    return TimeAsked(since, until, question[start:end], start, end)


def _yearless_end(text: str, newest: str) -> list[DateMention]:
    """A month's or quarter's end (or months from–to) said without its year, in ``newest``'s year or the year
    before."""
    for reference in (newest, f"{int(newest[:4]) - 1}{newest[4:]}"):
        found = [m for m in mentions(text, reference) if m.precision in ("month", "quarter")
                 and (_PERIOD_END.search(m.text) or _MONTHS.search(m.text)) and m.iso <= newest]  # fmt: skip
        if found:  # 10月末 asked of reports up to 2026年1月: 2025年10月末
            return found[:1]
    return []


def _original_span(question: str, text: str, m: DateMention) -> tuple[int, int]:
    """The mention's span in the question as asked (去年 was replaced by a year before matching)."""
    if question == text:
        end = m.end
        tail = re.match(r"(?:的时候|时候|时)", question[end:])
        return m.start, end + (tail.end() if tail else 0)
    for word in _RELATIVE:
        at = question.find(word)
        if at >= 0:
            return at, at + len(word)
    return 0, 0
