"""Named subjects in Chinese text: places, institutions and projects.

Owns: the patterns for provinces and cities, institutions (the alias table's names, and names ending in 银行,
农商行, 分行 …) and project names (…项目), used by question analysis and by the fact registry to tell whose a figure
is. Does not own: the alias table itself (``kb.segment``) or what an answer does with a subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.segment import aliases

PLACE = re.compile(
    r"(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|"
    r"云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|济南|青岛|威海|临沂|泰安|东营|日照|烟台|潍坊|淄博|"
    r"深圳|广州|杭州|南京|苏州|成都|武汉|西安|雄安)(省|市|自治区)?"
)
# Institutions the alias table does not know (招商银行, 某某农商行): a name, not a question word.
ORG = re.compile(r"[\u4e00-\u9fffA-Za-z]{2,10}?(?:银行|农商行|农商银行|信用社|农联社|证券|保险公司|分行|支行|分公司)")
PROJECT = re.compile(r"[\u4e00-\u9fffA-Za-z“”\"]{4,24}?项目(?!组)")
# what makes a would-be name a question word or a reference (哪家银行, 该行), not a name
NOT_A_NAME = re.compile(r"[哪几些各该这那其每多]|什么")
_NOT_A_START = "与和及、由在对向从被把将为的"  # joining words and prepositions, never a name's first character


@dataclass(frozen=True)
class Named:
    """A subject named in a text, where it stands."""

    name: str
    start: int
    end: int
    kind: str  # "place", "org" or "project"


def _trimmed(name: str, start: int, kind: str) -> Named:
    """A name without the joining word or preposition the pattern took in front of it (与齐鲁银行 → 齐鲁银行)."""
    cut = len(name) - len(name.lstrip(_NOT_A_START))
    return Named(name[cut:], start + cut, start + len(name), kind)


def named(text: str) -> list[Named]:
    """The places, institutions and projects ``text`` names, in text order (overlaps: the longest wins)."""
    found: list[Named] = [Named(m.group(0), m.start(), m.end(), "place") for m in PLACE.finditer(text)]
    for name in sorted(aliases(), key=len, reverse=True):
        at = text.find(name)
        while at >= 0:
            found.append(Named(name, at, at + len(name), "org"))
            at = text.find(name, at + len(name))
    found += [_trimmed(m.group(0), m.start(), "org") for m in ORG.finditer(text)]
    found += [Named(m.group(0), m.start(), m.end(), "project") for m in PROJECT.finditer(text)]
    found = [n for n in found if not NOT_A_NAME.search(n.name)]
    kept: list[Named] = []
    for n in sorted(found, key=lambda n: (-(n.end - n.start), n.start)):
        if all(n.end <= k.start or n.start >= k.end for k in kept):
            kept.append(n)
    return sorted(kept, key=lambda n: n.start)
