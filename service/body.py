"""A request's JSON body read safely, before any work starts.

Owns: decoding a JSON body into plain values, refusing (``RequestError``, a 400) what the rest of the service
cannot carry: bytes that are not UTF-8, JSON that does not parse, nesting deeper than ``MAX_DEPTH`` (JSON nested
100,000 deep overflows the parser's recursion), integers too long to convert (Python refuses more than 4,300
digits), and strings holding a lone UTF-16 surrogate (``ops.limits.check_text``). Does not own: HTTP
(``service.app``), what a body means (``service.openai_api``, the routes) or a question's limits (``ops.limits``).
"""

from __future__ import annotations

import json
from typing import Any

from kb.errors import RequestError
from ops.limits import check_text

MAX_DEPTH = 32  # a chat request nests 5 deep; content parts 7
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
            check_text(item)
        elif isinstance(item, dict):
            for key, v in item.items():
                check_text(key)
                stack.append((v, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
