"""Showing document text safely: Markdown escaping and highlighting.

Owns: document text shown as text through ``kb.markdown.md_escape`` (never as raw HTML, links, images or
formatting), escaping link titles, and marking quotes and search matches with Streamlit's background colour
syntax. Does not own: layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kb.markdown import md_escape

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def title_escape(text: str) -> str:
    """``text`` for a Markdown link title (a hover tooltip): one line, every ASCII punctuation escaped."""
    return _PUNCT.sub(r"\\\1", " ".join(text.split()))


def merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined: one mark per run of matches, not a row of padded pieces."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Escaped ``text`` with the given character spans on a highlighter-yellow background (see the theme)."""
    out, pos = [], 0
    for a, b in merged(spans):
        out.append(md_escape(text[pos:a]))
        out.append(f":yellow-background[{md_escape(text[a:b])}]")
        pos = b
    out.append(md_escape(text[pos:]))
    return "".join(out)


def find_all(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of every occurrence of each needle (case-insensitive), for search highlighting."""
    low = text.lower()
    spans = []
    for n in {n.lower() for n in needles if n.strip()}:
        start = low.find(n)
        while start >= 0:
            spans.append((start, start + len(n)))
            start = low.find(n, start + len(n))
    return spans
