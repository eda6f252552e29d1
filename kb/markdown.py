"""Text made safe for Markdown: the one escaping shared by the chat (``ui.text``) and the briefing file.

Owns: escaping every character Markdown or HTML could interpret, so that document text is always read as text
(never as raw HTML, a link, an image or formatting), and unlinking bare addresses. Does not own: layout or
highlighting (``ui.text``).
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")
_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# GFM turns bare addresses into links after parsing, so escapes cannot stop it: an invisible word joiner
# inside "http://", "www." and "@" can.
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www)(?=\\?[:.])|(?<=\w)(?=@\w)")
JOINER = "\u2060"


def md_escape(text: str, entities: bool = False) -> str:
    """``text`` with Markdown/HTML specials backslash-escaped, bare addresses unlinked, line breaks kept.
    ``entities``: ``& < >`` as HTML entities instead, which every Markdown renderer reads as text (a file's
    reader may use one that ignores ``\\<``)."""

    def one(m: re.Match[str]) -> str:
        return _ENTITY[m[1]] if entities and m[1] in _ENTITY else "\\" + m[1]

    escaped = _SPECIAL.sub(one, text)
    return _AUTOLINK.sub(lambda m: (m.group(1) or "") + JOINER, escaped).replace("\n", "  \n")
