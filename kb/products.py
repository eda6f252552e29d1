"""Products and platforms a report names in quotes (“海贸通”, “某某e贷”): names that can own a figure.

Owns: telling a quoted product's name from any other quotation — a document names a product when its title quotes
it, or when the quotation is followed by what a product is (平台, 系统, 产品, App …) — and marking where a sentence
names one. Does not own: places (``kb.places``), institutions and …项目 names (``kb.entities``), nor whose figure it is
(``ingest.facts``).
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from kb.places import Named

_QUOTED = re.compile(r"“([^“”\s，。；、]{2,12})”")
# what a product is, right after its quoted name (“海贸通”平台, “某某贷”产品)
_PRODUCT_NOUN = re.compile(r"平台|系统|产品|App|APP|app|小程序|贷款产品|融资产品")  # (not “最多跑一次”服务)


def products(title: str, text: str) -> set[str]:
    """The quoted names the document uses as products: quoted in its title, followed by a product noun, or right
    after the institution that offers it (某银行“某某贷”)."""
    named = {m.group(1) for m in _QUOTED.finditer(title)}
    named |= {m.group(1) for m in _QUOTED.finditer(text)
              if _PRODUCT_NOUN.match(text, m.end()) or _OFFERED_BY.search(text, 0, m.start())}  # fmt: skip
    return named


# an institution right before the quotation: its product (某某银行“链融贷”截至10月末…)
_OFFERED_BY = re.compile(r"(?:(?<!人民)银行|农商行|信用社|保险|公司|支付)$")  # (not 人民银行“两增两控”, a policy)


def with_products(names: list[Named], sentence: str, known: AbstractSet[str]) -> list[Named]:
    """``names`` with the quoted products of ``known`` the sentence names outside every other name, in text
    order (“海贸通”累计办理…: the product's figure)."""
    found = list(names)
    for m in _QUOTED.finditer(sentence):
        if m.group(1) in known and all(m.end() <= n.start or m.start() >= n.end for n in names):
            found.append(Named(m.group(0), m.start(), m.end(), "project"))
    return sorted(found, key=lambda n: n.start)
