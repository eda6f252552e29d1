"""Named subjects in Chinese text: institutions and projects, with the places ``kb.places`` finds.

Owns: institutions (the alias table's names, and names ending in 银行, 农商行, 分行 …), project names (…项目) and
what every pilot is (no project's name), a document's reference to its own place (我市, 全省), and ``named``: every
place, institution and project a text names, used by question analysis and by the fact registry to tell whose a
figure is. Does not own: places and which lies in which (``kb.places``), the alias table (``kb.segment``) or what
an answer does with a subject.
"""

from __future__ import annotations

import re

from kb.places import NOT_A_START, PLACE, Named, places
from kb.segment import aliases

# an institution's type said short and in full (涪江农商银行 = 涪江农村商业银行): one institution either way
_TYPE_FORMS = (("农商银行", "农村商业银行"), ("农商行", "农村商业银行"), ("农信社", "农村信用社"),
               ("农合行", "农村合作银行"), ("城商行", "城市商业银行"), ("信用联社", "农村信用合作联社"))  # fmt: skip


def other_forms(name: str) -> list[str]:
    """The other ways to write an institution's name by the short or full form of its type."""
    out = []
    for short, full in _TYPE_FORMS:
        if name.endswith(short):
            out.append(name[: -len(short)] + full)
        elif name.endswith(full):
            out.append(name[: -len(full)] + short)
    return out


# Institutions the alias table does not know (招商银行, 某某农商行): a name, not a question word.
# 行 that begins the next word (部分行政收费, 分行业看, 银行业金融机构) ends no name; a verb after a name (银行为…) may
ORG = re.compile(
    r"[\u4e00-\u9fffA-Za-z]{2,10}?(?:(?:银行|农商银行)(?!业)|(?:农商行|分行|支行)(?![政业])|信用社|农联社|证券|保险公司"
    r"|分公司)"
)
# a project's name: words, or a name in quotes, before 项目 (a quote closed and another opened — “…”中“… — is two
# quotations, no name)
PROJECT = re.compile(r"(?:[\u4e00-\u9fffA-Za-z]|“[^“”]{1,20}”|\"[^\"]{1,20}\"){2,24}?项目(?!组)")
# a document speaking of its own place (我市, 全省, 本区): whose figures they are is the document's to say
SELF_REFERENCE = re.compile(r"(?:我|本|全)(?:省|市|区|县|自治区)(?!域|间|场)")
# a project named only by what every pilot is (金融科技试点项目, 首批试点项目, 洛阳市试点项目): no name of a
# project (the place in it is named on its own)
_PILOTS = (
    r"[个项家批]?(?:[我本全][省市区县]|金融科技|科技|金融|应用|创新|试点|示范|重点|相关|各类|首批|第.批|[的等]"
    r"|在推|在建|在研|已上线|上线|入选|纳入|运行中|推进中|承担|参与|实施|开展"
    r"|[一二三四五六七八九十百千两\d]+[个项家批])*项目"  # (全区在推的试点项目, 全市十一个…项目: the place's)
)
_PILOTS_ONLY = re.compile(_PILOTS)


def _generic_project(name: str) -> bool:
    """A place (if any) and then only what every pilot is (洛阳市试点项目, 全市十一个…项目): no project's name."""
    m = PLACE.match(name)
    return bool(_PILOTS_ONLY.fullmatch(name[m.end() :] if m else name))


def _place_projects(name: str) -> bool:
    """A name ending in a place's pilots (简报中某市示范项目): the place's, no project's name."""
    return any(_PILOTS_ONLY.fullmatch(name[m.end() :]) for m in PLACE.finditer(name))


def pilots_only(words: str) -> bool:
    """``words`` name pilot projects by what every pilot is (纳入试点的项目, 在推的试点项目), no project by name."""
    return _generic_project(words) and not PLACE.match(words)


# what makes a would-be name a question word or a reference (哪家银行, 该行), not a name
NOT_A_NAME = re.compile(r"[哪几些各该这那其每多]|什么")
_JOINING = "与和及、"  # a name never spans one
_AGENT = "由被把将从向"  # nor a preposition before the one who acts (平台由某某银行承建)


def _in_place(name: str, i: int) -> bool:
    """The character at ``i`` is inside a place's name (the 和 of 呼和浩特, a city, joins nothing)."""
    return any(m.start() <= i < m.end() for m in PLACE.finditer(name))


def _unquoted_cut(name: str, start: int) -> Named:
    """A project's name from after the last joining word outside its quotes (甲市和乙市的示范项目 → 乙市的示范项目;
    “数据和模型”项目 keeps its 和)."""
    cut, depth = 0, 0
    for i, ch in enumerate(name):
        if ch in '“"' and depth == 0:
            depth = 1
        elif ch in '”"' and depth > 0:
            depth = 0
        if depth == 0 and ch in _JOINING and not _in_place(name, i):
            cut = i + 1
    where = _WHERE_PROMOTED.match(name, cut)  # 彭州市推广的“郫香贷”项目: where it is promoted is no part of its name
    cut = where.end() if where else cut
    return Named(name[cut:], start + cut, start + len(name), "project")


_WHERE_PROMOTED = re.compile(rf"[在于]?(?:{PLACE.pattern})[^“”的]{{0,6}}的(?=“)")


_COUNTED = re.compile(r"[一二三四五六七八九十百千两\d]+[个项家批]项目$")  # 三十四个项目: a count, no name
_DATE_TAIL = re.compile(r"^(?:年|月|日|季度)(?:末|底|初)?")  # what is left of a date before the name (2023年末…)


def _after_date(n: Named) -> Named:
    """A project's name from after the tail of a date run into it (截至2023年末全省…项目 → 全省…项目)."""
    m = _DATE_TAIL.match(n.name)
    return Named(n.name[m.end() :], n.start + m.end(), n.end, n.kind) if m and m.end() < len(n.name) else n


def _trimmed(name: str, start: int, kind: str) -> Named:
    """A name without the joining word or preposition the pattern took in front of it (与齐鲁银行 → 齐鲁银行)."""
    # 社保费和部分行: no name across 和 (the 和 of a place's name joins nothing)
    cut = max((i + 1 for i, c in enumerate(name) if c in _JOINING + _AGENT and not _in_place(name, i)), default=0)
    cut += len(name[cut:]) - len(name[cut:].lstrip(NOT_A_START))
    return Named(name[cut:], start + cut, start + len(name), kind)


def _from_place(org: Named, places: list[Named], text: str) -> Named:
    """An institution whose name the pattern began inside a place's name (…安新区白洋淀农村商业银行, too long for
    it): the whole name, from the place's first character."""
    inside = next((p for p in places if p.kind == "place" and p.start < org.start < p.end), None)
    return Named(text[inside.start : org.end], inside.start, org.end, "org") if inside else org


def named(text: str) -> list[Named]:
    """The places, institutions and projects ``text`` names, in text order (overlaps: the longest wins)."""
    found: list[Named] = places(text)
    for name in sorted(aliases(), key=len, reverse=True):
        at = text.find(name)
        while at >= 0:
            found.append(Named(name, at, at + len(name), "org"))
            at = text.find(name, at + len(name))
    orgs = [_trimmed(m.group(0), m.start(), "org") for m in ORG.finditer(text) if "的" not in m.group(0)]
    found += [_from_place(n, found, text) for n in orgs]
    projects = [_after_date(_unquoted_cut(m.group(0), m.start())) for m in PROJECT.finditer(text)]
    found += [p for p in projects if not _generic_project(p.name) and not _place_projects(p.name)
              and not _COUNTED.search(p.name)]  # fmt: skip
    # 鄂尔多斯 asks nothing, in a bank's name either (鄂尔多斯农商银行)
    found = [n for n in found if n.kind == "place" or not NOT_A_NAME.search(PLACE.sub("", n.name))]
    kept: list[Named] = []
    for n in sorted(found, key=lambda n: (-(n.end - n.start), n.start)):
        if all(n.end <= k.start or n.start >= k.end for k in kept):
            kept.append(n)
    return sorted(kept, key=lambda n: n.start)
