"""What any front end may ask: a question's length and its history's, and text that is text.

Owns: the question limits (``TooLongError``, a 413 in the service): a question over ``PILOTQA_MAX_QUESTION_CHARS``,
the history kept to its latest ``PILOTQA_MAX_HISTORY_TURNS`` turns, each held to the same length; and refusing a
string with a lone UTF-16 surrogate (``RequestError``: it parses from JSON, then cannot be encoded to answer or
log). Does not own: reading a request (``service.body``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb.errors import RequestError, TooLongError
from kb.records import Answer
from kb.settings import Settings

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_text(s: str) -> None:
    m = _SURROGATE.search(s)
    if m is not None:
        raise RequestError(
            f"请求中的文字含有不成对的 UTF-16 代理字符（第 {m.start() + 1} 个字符，\\u{ord(m.group()):04x}），"
            "不是合法的 Unicode 文字：请检查客户端的编码。"
        )


def question(settings: Settings, text: str,
             history: Sequence[str | Answer] = ()) -> tuple[str, tuple[str | Answer, ...]]:  # fmt: skip
    """(``text``, the latest ``max_history_turns`` of ``history``: earlier questions, or earlier answers whose
    question counts) when each is within ``max_question_chars``; a ``TooLongError`` (413) otherwise."""
    limit = settings.max_question_chars
    check_text(text)
    if len(text) > limit:
        raise TooLongError(
            f"问题太长：{len(text)} 个字符，最多 {limit} 个。请只写出要问的问题（可分几次问），"
            "或由管理员调大 PILOTQA_MAX_QUESTION_CHARS。"
        )
    kept = tuple(history[-settings.max_history_turns :]) if settings.max_history_turns else ()
    for turn in kept:
        asked = turn.question if isinstance(turn, Answer) else turn
        check_text(asked)
        if len(asked) > limit:
            raise TooLongError(
                f"对话历史中有一个问题太长：{len(asked)} 个字符，最多 {limit} 个。请开始新的对话后再问。"
            )
    return text, kept
