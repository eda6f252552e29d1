"""Places in Chinese text: provinces, prefecture-level cities, county-level places and new areas.

Owns: the gazetteers (``kb/data/places.txt``, ``kb/data/counties.txt``), the place pattern and which place lies in
which, the places a text names, whether a subject is another place than the one asked (a province's figure for a
city, a city's for a district), county-level places said short, and the ``Named`` record of a name found in a text.
Does not own: institutions and projects (``kb.entities``) or the words that compare metrics (``kb.wording``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from kb.segment import word_tag


@dataclass(frozen=True)
class Named:
    """A subject named in a text, where it stands."""

    name: str
    start: int
    end: int
    kind: str  # "place", "org" or "project"


NOT_A_START = "与和及、由在对向从被把将为的"  # joining words and prepositions, never a name's first character

_SUFFIX = "省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区"


# the peoples autonomous prefectures are named for (昌吉回族自治州, 伊犁哈萨克自治州): what a prefecture's short name
# (昌吉州, 伊犁州) leaves out
_PEOPLES = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇"
    "|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安"
    "|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_PREFECTURE = re.compile(rf"^([\u4e00-\u9fff]{{2,4}}?)(?:(?:{_PEOPLES})族?)+自治州$")


def _lines(name: str) -> list[tuple[str, list[str]]]:
    """A gazetteer file's lines: the place above, then the places under it."""
    text = resources.files("kb").joinpath(f"data/{name}").read_text("utf-8")
    rows = [line.split("|") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(above.strip(), under.split()) for above, under in rows]


def _short_prefectures() -> dict[str, str]:
    """Each autonomous prefecture by the short name it goes by (昌吉州 → 昌吉回族自治州, 大理州 → 大理白族自治州)."""
    names = [n for _, under in _lines("counties.txt") for n in under]
    return {f"{m.group(1)}州": m.group(0) for n in names if (m := _PREFECTURE.match(n))}


_FULL_NAME = _short_prefectures()


def _gazetteer() -> tuple[dict[str, str], set[str]]:
    """Every province and prefecture-level city by its short name (广西, 汉中) → its province's full name, and the
    names that are common words too (白银, 大同), places only when written with 市."""
    province_of: dict[str, str] = {}
    word_too: set[str] = set()
    for province, cities in _lines("places.txt"):
        province_of[core(province)] = province
        for city in cities:
            province_of.setdefault(city.rstrip("*"), province)
            if city.endswith("*"):
                word_too.add(city.rstrip("*"))
    return province_of, word_too


def core(place: str) -> str:
    """A place's name without its administrative suffix (新疆维吾尔自治区 → 新疆, 深圳市 → 深圳); a prefecture's
    short name is its full one (昌吉州 → 昌吉回族自治州)."""
    place = _FULL_NAME.get(place, place)
    return re.sub(rf"(?:{_SUFFIX})$", "", place) or place


_PROVINCE_OF, _WORD_TOO = _gazetteer()


def _counties() -> dict[str, tuple[str, ...]]:
    """Each county-level place (浦东新区, 巩义市, 达拉特旗) and prefecture the gazetteer lacks (延边朝鲜族自治州) by
    its full name → the places it lies in directly (a name several counties share, such as 鼓楼区, has several)."""
    parent: dict[str, tuple[str, ...]] = {}
    for above, names in _lines("counties.txt"):
        for name in names:
            parent[name] = (*parent.get(name, ()), above)
    return parent


def _renamed(parent: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The districts that counties and county-level cities became (长乐市 → 长乐区, 2017): the same place under 区,
    where its name alone is one place's and no common word (合作市 gives no 合作区)."""
    shorts: dict[str, list[str]] = {}
    for name in parent:
        shorts.setdefault(_COUNTY_SUFFIX.sub("", name), []).append(name)
    return {
        f"{short}区": parent[name]
        for name in parent
        if name[-1] in "县市" and len(short := name[:-1]) == 2 and len(shorts[short]) == 1
        and word_tag(short) in ("", "ns") and short not in _PROVINCE_OF
    }  # fmt: skip


_COUNTY_SUFFIX = re.compile(r"(?:新区|区|县|市|旗)$")
_PARENT = _counties()
_PARENT = _renamed(_PARENT) | _PARENT
_NOT_A_COUNTY = "(?![域级])"  # 南县 in 湖南县域, 河南县 in 河南县级: the county's 县 begins another word


def _weak(name: str) -> bool:
    """A county-level name that ordinary words run into (和县 in 市和县两级, 海城市 in 沿海城市, 城西区 in 新城西区,
    老城区): a one-character stem, a stem ending in 城 before 市, or a name beginning with 城."""
    stem = _COUNTY_SUFFIX.sub("", name)
    return len(stem) == 1 or name.endswith("城市") or name.endswith("城区") or name.startswith("城")


# where a weak or short name may begin: after no Chinese character, a province's or prefecture's suffix, or 的/在/和
_BOUNDARY = "(?:(?<![\u4e00-\u9fff])|(?<=[省州盟的在和与及、]))"
_WEAK_END = "(?![域级城委长区两县市镇乡])"  # (担任县长, 现代县城, 市和县两级)


def _alternation(ends: dict[str, str]) -> str:
    """One pattern for many names, as a tree of their common beginnings (fast to search: each position tries one
    branch a character), the longest name first; ``ends``: each name → what must follow it ("" for nothing)."""
    tree: dict[str, Any] = {}  # a character → the tree after it; "" → what must follow a name ending here
    for name, end in ends.items():
        node = tree
        for ch in name:
            node = node.setdefault(ch, {})
        node.setdefault("", end)

    def branch(node: dict[str, Any]) -> str:
        options = [re.escape(ch) + branch(child) for ch, child in node.items() if ch]
        if "" in node:
            options.append(node[""])  # the name ends here: tried after every longer one
        return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"

    return branch(tree)


# a city whose name is a common word too (大同, 长治) is the city written with 市, or where only a place stands: before
# 的, 试点, 地区, 辖…, or in a list of places (普洱、临沧两地), not in 大同小异, 长治久安
_AS_A_PLACE = "(?=市|的|试点|地区|辖|[两三四]地|[、和][\u4e00-\u9fff]{2,4}?(?:[两三四]地|等地|等[市州县]))"
_ENDS = {c: _NOT_A_COUNTY for c in [*_PARENT, *_FULL_NAME] if not _weak(c)}
_ENDS |= {n: _AS_A_PLACE if n in _WORD_TOO else "" for n in _PROVINCE_OF}
_WEAK = {c: _WEAK_END for c in _PARENT if _weak(c) and c not in _ENDS}
# a place: a province or city by name, with or without its suffix (a name that is a common word too where a place
# stands), or a county-level place by its full name (a weak one only where a name may begin)
PLACE = re.compile(f"({_alternation(_ENDS)}|{_BOUNDARY}{_alternation(_WEAK)})({_SUFFIX})?")


# a new area no division code names (某某新区 standing alone or after its city): its name, unknown to the dictionary
# or a place's, then 新区
_NEW_AREA = re.compile(r"([\u4e00-\u9fff]{2})新区(?!域)")
_NOT_AN_AREA = ("城市", "城区", "全市", "本市")


def places(text: str) -> list[Named]:
    """The places ``text`` names, in text order: the gazetteer's, and new areas (某某新区)."""
    found = [Named(m.group(0), m.start(), m.end(), "place") for m in PLACE.finditer(text)]
    ends = {n.end for n in found}
    for m in _NEW_AREA.finditer(text):
        begins = m.start() == 0 or m.start() in ends or not "\u4e00" <= text[m.start() - 1] <= "\u9fff"
        if begins and all(m.end() <= n.start or m.start() >= n.end for n in found) and _an_area(m.group(1)):
            found.append(Named(m.group(0), m.start(), m.end(), "place"))  # (not 金融创新区, 打造全新区域)
    starts = {n.start for n in found}
    for m in _LISTED_WORD.finditer(text):  # 普洱、临沧: a name that is a common word too, listed with a place
        if m.end() + 1 in starts and all(m.end() <= n.start or m.start() >= n.end for n in found):
            found.append(Named(m.group(1), m.start(), m.start() + len(m.group(1)), "place"))
    return sorted(found, key=lambda n: n.start)


_LISTED_WORD = re.compile(f"({_alternation(dict.fromkeys(_WORD_TOO, ''))})(?=[、和与及])")


def _an_area(name: str) -> bool:
    return word_tag(name) in ("", "ns") and name not in _NOT_AN_AREA and name[0] not in NOT_A_START


# a question that asks which of a province's cities (河南哪个城市…最多): each city of it is a subject asked; which of
# a city's districts or counties (上海哪个区…): each of those
_WHICH_CITY = re.compile(r"哪[个座一几些]?(?:城市|市|地市|盟市|地方)|各市|各地市|各盟市")
_WHICH_COUNTY = re.compile(r"哪[个一几些]?(?:区县|县区|区(?![块域])|县(?!域))|各区(?![块域])|各县(?!域)")


def other_place(subject: str, asked: str) -> bool:
    """``subject`` names a place and none of the places ``asked`` names (a province's or another city's figure
    does not answer a question about a city, nor a city's about one of its districts); False when either names no
    place. A question asking which city of a province (district of a city) is asked about each of them."""
    own = [n.name for n in places(subject)]
    wanted = [n.name for n in places(asked)]
    if _WHICH_CITY.search(asked):
        wanted += [c for c in _PROVINCE_OF if any(same_place(_PROVINCE_OF[c], w) for w in wanted)]
    elif _WHICH_COUNTY.search(asked):  # the city named is only where they lie
        wanted = [c for c in _PARENT if any(core(w) in _above(c) for w in wanted)] or wanted
    else:  # 昆明在云南的试点里分到几个: a city named with its province is asked, the province is where it lies
        wanted = [w for w in wanted if not any(lies_in(v, w) for v in wanted)] or wanted
    return bool(own and wanted) and not any(same_place(a, b) for a in own for b in wanted)


def asked_among(subject: str, asked: str) -> bool:
    """``asked`` asks which city of a province (district of a city) it names, and ``subject`` is one of them."""
    wanted = [m.group(0) for m in PLACE.finditer(asked)]
    which = _WHICH_CITY.search(asked) or _WHICH_COUNTY.search(asked)
    return bool(which and wanted and PLACE.fullmatch(subject)) and any(lies_in(subject, w) for w in wanted)


def _above(place: str) -> set[str]:
    """Every place ``place`` lies in, by its name without suffix (巩义市 → 郑州, 河南; 浦东新区 → 上海)."""
    out: set[str] = set()
    place = _FULL_NAME.get(place, place)
    for parent in _PARENT.get(place, ()):
        out |= {core(parent)} | _above(parent)
    province = _PROVINCE_OF.get(core(place), "")
    if province and not same_place(province, place):
        out.add(core(province))
    return out


def lies_in(place: str, wider: str) -> bool:
    """``place`` lies in ``wider`` (昆明 in 云南, 浦东新区 in 上海), and is not ``wider`` itself."""
    return not same_place(place, wider) and core(wider) in _above(place)


def same_place(a: str, b: str) -> bool:
    """Two names of one place (深圳, 深圳市)."""
    return core(a) == core(b)


def province_of(place: str) -> str:
    """The province a place lies in (汉中 → 陕西省, 巩义市 → 河南省; a province is its own), or "" when the
    gazetteer lacks it."""
    if core(place) in _PROVINCE_OF:
        return _PROVINCE_OF[core(place)]
    return next((_PROVINCE_OF[p] for p in sorted(_above(place)) if _PROVINCE_OF.get(p, "").startswith(p)), "")


def _short_names(one_name: bool = False) -> dict[str, tuple[str, ...]]:
    """County-level places by their names without suffix (浦东 → 浦东新区; 长乐 → 长乐市, 长乐区: one place renamed),
    where one place alone is called so and no province or city is (长沙县 is no 长沙; 鼓楼 is four districts');
    ``one_name``: or one name of several places (鼓楼 → 鼓楼区, 通州 → 通州区: which one, a knowledge base tells)."""
    shorts: dict[str, list[str]] = {}
    for name in _PARENT:
        short = _COUNTY_SUFFIX.sub("", name)
        if short != name and len(short) >= 2:
            shorts.setdefault(short, []).append(name)
    return {
        s: tuple(names) for s, names in shorts.items()
        if (len({_PARENT[n] for n in names}) == 1 == len(_PARENT[names[0]]) or (len(set(names)) == 1 and one_name))
        and s not in _PROVINCE_OF
        and word_tag(s) in ("", "ns", "nr", "nz", "n")  # 南部, 合作, 平安: other words, never a place said short
    }  # fmt: skip


_SHORT_OF = _short_names()
_ONE_NAME = _short_names(one_name=True)
# a county-level place said short, not followed by a suffix (浦东的…, not 浦东新区)
_NOT_SHORT = "(?![新区县市旗域级州盟]|地区|银行|行|农商|农信|信用|保险|证券|集团|公司|中学|小学|大学|路|街|镇|乡|村)"
SHORT_PLACE = re.compile(f"({_alternation(dict.fromkeys(_SHORT_OF, ''))}){_NOT_SHORT}")
# (not 平安银行, 兴业县 in 兴业银行, nor inside a word); and the short names of one name several places share
SHORT_NAME = re.compile(f"({_alternation(dict.fromkeys(_ONE_NAME, ''))}){_NOT_SHORT}")


def says_short(text: str, full: str) -> bool:
    """``text`` names the county-level place ``full`` by its short name (浦东 for 浦东新区)."""
    short = _COUNTY_SUFFIX.sub("", full)
    return full in _SHORT_OF.get(short, ()) and any(m.group(1) == short for m in SHORT_PLACE.finditer(text))


def begins_name(text: str, at: int) -> bool:
    """A name may begin at ``at``: the text's start, after no Chinese character, after a place's name or suffix,
    or after 的/在/和 (not inside a word: 南部 in 西南部)."""
    before = text[at - 1] if at > 0 else ""
    ends = {m.end() for m in PLACE.finditer(text, 0, at)}
    return not before or not "\u4e00" <= before <= "\u9fff" or before in "省州盟的在和与及、" or at in ends


_SHORT_NAME = {full: short for short, full in _FULL_NAME.items()}


def also_called(name: str) -> tuple[str, ...]:
    """The other name a prefecture goes by (昌吉州 ↔ 昌吉回族自治州), or ()."""
    other = _FULL_NAME.get(name) or _SHORT_NAME.get(name)
    return (other,) if other else ()


def full_names(short: str) -> tuple[str, ...]:
    """The full names of a county-level place said short (浦东 → 浦东新区; 通州 → 通州区, of 北京 or 南通), or ()
    when no one place or name is called so."""
    return _SHORT_OF.get(short) or _ONE_NAME.get(short, ())
