"""What the command line reads from and writes to a terminal.

Owns: escaping control characters (newlines in a file name, escape sequences in a
question, bidi overrides, undecodable bytes) so one item stays one harmless line,
and decoding questions whose bytes are not valid UTF-8 (replaced, and said so).
Does not own: wording of answers or results (the subcommand modules).
"""

from __future__ import annotations

import re
import sys

# C0/C1 controls, DEL, line/paragraph separators, bidi embeddings and isolates, lone surrogates (undecodable bytes)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``): one printable line."""
    return _CONTROL.sub(_escape, text)


def lines(text: str) -> str:
    """Multi-line ``text`` with its line breaks kept and every other control character escaped."""
    return "\n".join(one_line(line) for line in text.split("\n"))


def question(raw: str | bytes, where: str) -> str:
    """A question as text: bytes that are not UTF-8 (``raw`` bytes, or a str from the command line that Python
    decoded with surrogate escapes) become U+FFFD, and stderr says where."""
    if isinstance(raw, str):
        if not _SURROGATE.search(raw):
            return raw
        raw = _bytes_of(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        print(f"提示：{one_line(where)}中有不是 UTF-8 编码的字节，已替换为 �（请以 UTF-8 编码提问）。", file=sys.stderr)
        return raw.decode("utf-8", "replace")


def _bytes_of(text: str) -> bytes:
    """The bytes a command-line argument came from (surrogate escapes undone; other lone surrogates stay invalid)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
