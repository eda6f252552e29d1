"""Text normalisation at load, the one place every format's text passes through before it is stored.

Owns: mapping look-alike code points to the characters a reader (and a question) uses: Kangxi radicals and CJK
radicals (⾦ → 金, common in PDFs printed from a browser), CJK compatibility ideographs (to their unified forms),
full-width digits, Latin letters and decimal points (２９．９８ → 29.98), Latin ligatures (ﬁ → fi); and removing soft
hyphens and zero-width characters. Chinese full-width punctuation (，。：（）) is left as it is. Applied to blocks
before the text is assembled, so every stored offset refers to the normalised text. Does not own: cleaning page
furniture (``ingest.clean``) or encodings (``ingest.loaders.text``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from kb.records import Block

# ranges whose compatibility forms are what the text means: CJK radicals supplement, Kangxi radicals, CJK
# compatibility ideographs (both planes), full-width digits and Latin letters, Latin ligatures
_LOOK_ALIKE = re.compile(
    "[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\ufb00-\ufb06]"
)
_WIDE_POINT = re.compile(r"(?<=\d)．(?=\d)")  # a full-width point inside a number (２９．９８ → 29.98)
# control characters (a PDF font map that writes NUL between characters), soft hyphen, zero-width (no-)joiners, BOM
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def text(value: str) -> str:
    """``value`` with look-alike characters mapped and invisible ones removed."""
    value = _INVISIBLE.sub("", value)
    value = _LOOK_ALIKE.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), value)
    return _WIDE_POINT.sub(".", value)


def blocks(items: list[Block]) -> list[Block]:
    """Each block's text and cells normalised (a block left empty is dropped)."""
    out = []
    for b in items:
        cells = tuple(text(c) for c in b.cells)
        normalised = replace(b, text=text(b.text), cells=cells)
        if normalised.text.strip():
            out.append(normalised)
    return out
