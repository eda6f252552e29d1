"""One metric, many wordings: the lexicon (``kb/data/wording.txt``) that rewrites the forms a report or a question
uses for a metric (放贷, 贷款投放, 放款) into one (发放贷款), so their words can be compared.

Owns: reading the lexicon and rewriting a text with it, and squeezing the interrogative out of a how-many question
(投了多少资金 → 投资金) so a verb meets its object. Does not own: how words are compared (``assistant.facts``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from kb.quantity import MEASURE_WORDS

# the interrogative between a verb and what it counts, with the aspect particle before it (投了多少资金)
_ASKING = re.compile(rf"了?(?:多少|几)[万亿]?[{MEASURE_WORDS}元]?(?=[\u4e00-\u9fff])")


# verbs that say nothing beyond their object in a metric's name: 发放贷款 measures 贷款, 服务市场主体 市场主体
LIGHT_VERB = re.compile(r"^(?:发放|办理|提供|服务|开展|实现|完成|发行|布放|开立|签约|受理)")


DROPPED = "-"  # a line's first form "-": its words say nothing of what is measured (累计) and are dropped


@lru_cache(maxsize=1)
def _rules() -> tuple[re.Pattern[str], dict[str, str]]:
    text = resources.files("kb").joinpath("data/wording.txt").read_text("utf-8")
    canonical: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, rest = (part.strip() for part in line.split("|"))
        first = "" if first == DROPPED else first
        if first:
            canonical[first] = first  # the first form stays itself (发放贷款 holds 放贷款); alone on its line, a word
        # that holds a form but is another word (发放款项 holds 放款)
        for form in rest.split():
            canonical.setdefault(form, first)
    forms = sorted(canonical, key=len, reverse=True)  # the longest form first: 放贷款 before 放贷
    return re.compile("|".join(map(re.escape, forms))), canonical


def canonical(text: str) -> str:
    """``text`` with each other form of a metric's words written in the lexicon's first form."""
    pattern, forms = _rules()
    once = pattern.sub(lambda m: forms[m.group(0)], text)
    return pattern.sub(lambda m: forms[m.group(0)], once)  # a dropped word may have parted a form (贷款累计发放)


def squeezed(question: str) -> str:
    """A question without the interrogative between a verb and its object (共投了多少资金 → 共投资金), in the
    lexicon's forms."""
    return canonical(_ASKING.sub("", question))
