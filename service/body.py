"""What a request may hold before any work starts: its JSON body read safely, and a question's length.

Owns: decoding a JSON body into plain values, refusing (``RequestError``, a 400) what the rest of the service
cannot carry: bytes that are not UTF-8, JSON that does not parse, nesting deeper than ``MAX_DEPTH`` (JSON nested
100,000 deep overflows the parser's recursion), integers too long to convert (Python refuses more than 4,300
digits), and strings holding a lone UTF-16 surrogate (``"\\ud800"`` parses, then cannot be encoded to answer or
log); and the question limits (``TooLongError``, a 413): a question over ``PILOTQA_MAX_QUESTION_CHARS``, the
history kept to its latest ``PILOTQA_MAX_HISTORY_TURNS`` turns, each held to the same length. Does not own: HTTP
(``service.app``) or what a body means (``service.openai_api``, the routes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from kb.errors import RequestError, TooLongError
from kb.settings import Settings

MAX_DEPTH = 32  # a chat request nests 5 deep; content parts 7
_SURROGATE = re.compile(r"[\ud800-\udfff]")
SEND_JSON = "请发送 Content-Type: application/json 的 JSON 对象。"


def parse(raw: bytes) -> Any:
    """The JSON value ``raw`` holds, checked (see the module); a ``RequestError`` saying what is wrong otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"请求体不是 UTF-8 编码的文字（第 {exc.start} 个字节起）：{SEND_JSON}") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"请求体不是合法的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）：{SEND_JSON}"
        ) from exc
    except RecursionError as exc:
        raise RequestError(f"请求体的 JSON 嵌套过深：最多 {MAX_DEPTH} 层。") from exc
    except ValueError as exc:  # an integer of more digits than Python converts
        raise RequestError("请求体中有过长的数字（超过 4300 位）：请检查各字段的值。") from exc
    check(value)
    return value


def check(value: Any) -> None:
    """``value`` (parsed JSON) nests at most ``MAX_DEPTH`` deep and holds no string with a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RequestError(f"请求体的 JSON 嵌套过深：最多 {MAX_DEPTH} 层。")
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, dict):
            for key, v in item.items():
                _text(key)
                stack.append((v, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _text(s: str) -> None:
    m = _SURROGATE.search(s)
    if m is not None:
        raise RequestError(
            f"请求中的文字含有不成对的 UTF-16 代理字符（第 {m.start() + 1} 个字符，\\u{ord(m.group()):04x}），"
            "不是合法的 Unicode 文字：请检查客户端的编码。"
        )


def question(settings: Settings, text: str, history: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """(``text``, the latest ``max_history_turns`` of ``history``) when each is within
    ``max_question_chars``; a ``TooLongError`` (413) otherwise."""
    limit = settings.max_question_chars
    _text(text)
    if len(text) > limit:
        raise TooLongError(
            f"问题太长：{len(text)} 个字符，最多 {limit} 个。请只写出要问的问题（可分几次问），"
            "或由管理员调大 PILOTQA_MAX_QUESTION_CHARS。"
        )
    kept = tuple(history[-settings.max_history_turns :]) if settings.max_history_turns else ()
    for turn in kept:
        _text(turn)
        if len(turn) > limit:
            raise TooLongError(f"对话历史中有一个问题太长：{len(turn)} 个字符，最多 {limit} 个。请开始新的对话后再问。")
    return text, kept
