"""Products and platforms a report names in quotes (“椰链通”, “知产e融”): names that can own a figure.

Owns: telling a quoted product's name from any other quotation — a document names a product when its title quotes
it, or when the quotation is followed by what a product is (平台, 系统, 产品, App …) — and marking where a sentence
names one. Does not own: places, institutions and …项目 names (``kb.entities``), nor whose figure it is
(``ingest.facts``).
"""

from __future__ import annotations

import re

from kb.entities import Named

_QUOTED = re.compile(r"“([^“”\s，。；、]{2,12})”")
# what a product is, right after its quoted name (“椰链通”平台, “某某贷”产品)
_PRODUCT_NOUN = re.compile(r"平台|系统|产品|App|APP|app|小程序|模式|服务|业务|贷款|融资")


def products(title: str, text: str) -> set[str]:
    """The quoted names the document uses as products: quoted in its title, followed by a product noun, or right
    after the institution that offers it (某银行“某某贷”)."""
    named = {m.group(1) for m in _QUOTED.finditer(title)}
    named |= {m.group(1) for m in _QUOTED.finditer(text)
              if _PRODUCT_NOUN.match(text, m.end()) or _OFFERED_BY.search(text, 0, m.start())}  # fmt: skip
    return named


# an institution right before the quotation: its product (某某银行“鞋服链e贷”截至10月末…)
_OFFERED_BY = re.compile(r"(?:银行|农商行|信用社|保险|公司|支付)$")


def with_products(names: list[Named], sentence: str, known: set[str]) -> list[Named]:
    """``names`` with the quoted products of ``known`` the sentence names outside every other name, in text
    order (“椰链通”累计办理…: the product's figure)."""
    found = list(names)
    for m in _QUOTED.finditer(sentence):
        if m.group(1) in known and all(m.end() <= n.start or m.start() >= n.end for n in names):
            found.append(Named(m.group(0), m.start(), m.end(), "project"))
    return sorted(found, key=lambda n: n.start)
