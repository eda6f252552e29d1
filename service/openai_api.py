"""The OpenAI chat-completions schema, mapped onto PilotQA's answers (plain dicts in and out, no library).

Owns: model names (``pilotqa`` / ``pilotqa-<mode>``, each optionally ``/<kb>``) and the list ``GET /v1/models``
returns; reading a chat request (the last user message is the question, earlier user turns its history, the
``sources_in_content`` switch) and its options (refusing ``n`` > 1, a forced tool call and structured replies
(tools merely offered are never called); ``stop``,
``max_tokens``, ``stream_options``); a completion and its stream chunks with the citations as standard
``annotations`` (``url_citation``: a passage page's URL, the label, the quote) and whole in ``reference`` (on the
message, or on the last chunk's delta), ``grounded`` saying whether it is an answer or a refusal, and the short
来源 list that ends the content for clients that drop extra fields; usage and its chunk; the OpenAI-style error
body. Does not own:
answering (``ops.api``) or HTTP (``service.app``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.serialize import place
from kb.errors import RequestError
from kb.records import Answer, Citation
from ops.api import reference

BASE = "pilotqa"
Link = Callable[[Citation], str]  # a citation's passage page URL
_MODEL = re.compile(r"pilotqa(?:-(extractive|reader|llm))?(?:/([a-z0-9][a-z0-9_-]{0,47}))?")  # fullmatch
MODEL_HELP = (
    "模型名写作 pilotqa（默认答案方式）、pilotqa-extractive、pilotqa-reader 或 pilotqa-llm，"
    "可加 /知识库名 选择知识库（如 pilotqa-reader/default）；GET /v1/models 列出可用的模型。"
)


@dataclass(frozen=True)
class ChatRequest:
    """What a chat-completions request asks: the question, earlier questions, where and how to answer."""

    model: str
    kb: str | None
    mode: str | None
    question: str
    history: tuple[str, ...]
    stream: bool
    sources_in_content: bool
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    include_usage: bool = False


def parse_model(model: object) -> tuple[str | None, str | None]:
    """(knowledge base, mode) a model name selects; None for the defaults."""
    m = _MODEL.fullmatch(model) if isinstance(model, str) else None
    if m is None:
        raise RequestError(f"未知模型“{model}”。{MODEL_HELP}")
    return m.group(2), m.group(1)


def model_names(kbs: list[str], default_kb: str, llm: bool) -> list[str]:
    """Every model name the service answers to: the default knowledge base unqualified, each one by name."""
    modes = ["", "-extractive", "-reader", *(["-llm"] if llm else [])]
    names = [f"{BASE}{m}" for m in modes] if default_kb in kbs else []
    return names + [f"{BASE}{m}/{kb}" for kb in kbs for m in modes]


def models(names: list[str]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": n, "object": "model", "created": 0, "owned_by": "pilotqa"} for n in names],
    }


def _text(content: object) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def parse_chat(body: object) -> ChatRequest:
    """The question a chat-completions body asks; a body that cannot be answered is a ``RequestError``."""
    if not isinstance(body, dict):
        raise RequestError("请求体应是一个 JSON 对象：{\"model\": \"pilotqa\", \"messages\": [{\"role\": \"user\", "
                           "\"content\": \"问题\"}]}")  # fmt: skip
    kb, mode = parse_model(body.get("model"))
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise RequestError('messages 为空：请至少发送一条 {"role": "user", "content": "问题"} 消息。')
    last = messages[-1]
    if last.get("role") != "user":
        raise RequestError(f"最后一条消息的 role 是“{last.get('role')}”：最后一条应是 user 消息，内容为要问的问题。")
    question = _text(last.get("content")).strip()
    if not question:
        raise RequestError("最后一条 user 消息没有文字：请在 content 中写出问题。")
    history = tuple(t for m in messages[:-1] if m.get("role") == "user" for t in [_text(m.get("content")).strip()] if t)
    flag = body.get("sources_in_content", True)
    stop, max_tokens, include_usage = options(body)
    return ChatRequest(str(body["model"]), kb, mode, question, history, body.get("stream") is True, flag is not False,
                       stop, max_tokens, include_usage)  # fmt: skip


def options(body: dict[str, Any]) -> tuple[tuple[str, ...], int | None, bool]:
    """(stop strings, the token bound, whether a stream ends with a usage chunk) a request asks for; what the
    service cannot honour (several choices, a forced tool call, a structured reply) is a ``RequestError`` saying
    so, never silently ignored."""
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n != 1):
        raise RequestError(f"n={str(n)[:20]}：本服务每次只给出一个回答，n 只能为 1（或不填）。")
    # tools merely offered (tool_choice auto or none) leave the choice to the answerer, which answers from the
    # documents and calls none: a valid reply (Open WebUI offers its built-in tools with every question). A call
    # that must be made cannot be.
    forced = body.get("tool_choice") not in (None, "none", "auto") or body.get("function_call") not in (
        None, "none", "auto")  # fmt: skip
    if forced:
        raise RequestError("本服务不调用工具：tool_choice（或 function_call）要求调用工具的请求无法满足，请改为 "
                           "auto 或去掉它；要以工具方式使用本服务，请连接它的 MCP 接口 /mcp。")  # fmt: skip
    fmt = body.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        raise RequestError('本服务只回答文字（response_format 只能为 {"type": "text"} 或不填）：答案与引用的'
                           "结构化数据见 message.annotations 和 message.reference，或用 POST /api/ask。")  # fmt: skip
    stop = body.get("stop")
    stops = (
        (stop,) if isinstance(stop, str) else tuple(stop) if isinstance(stop, list) else () if stop is None else None
    )
    if stops is None or len(stops) > 4 or not all(isinstance(x, str) and 0 < len(x) <= 100 for x in stops):
        raise RequestError("stop 应是一个字符串，或最多 4 个字符串的列表（每个 1–100 字）。")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100_000):
        raise RequestError("max_tokens（或 max_completion_tokens）应是 1 到 100000 之间的整数。")
    streamed = body.get("stream_options")
    if streamed is not None and not isinstance(streamed, dict):
        raise RequestError('stream_options 应是对象，如 {"include_usage": true}。')
    return stops, limit, bool(streamed and streamed.get("include_usage") is True)


def sources_block(answer: Answer) -> str:
    """The short 来源 list that ends the content: one line per citation (title, date, section, page, and 识别文字
    for a quote recognised from a scanned page or a photo, which may hold recognition errors)."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {label(c)}" for c in answer.citations]
    return "\n\n来源：\n" + "\n".join(lines)


def content(answer: Answer, sources: bool) -> str:
    """The message content: the answer with its [n] markers, a notice, and (when asked) the 来源 list."""
    text = answer.text
    if answer.notice and answer.notice not in text:
        text += f"\n\n{answer.notice}"
    return text + (sources_block(answer) if sources else "")


def label(c: Citation) -> str:
    """A citation in a line: 《title》, date, section, page (识别文字 for recognised text)."""
    title = c.title or c.doc_id
    where = "，".join([c.date, *place(c, title)] if c.date else place(c, title))
    return f"《{title}》" + (f"，{where}" if where else "")


def url_citations(answer: Answer, link: Link) -> list[dict[str, Any]]:
    """Each citation as OpenAI's ``url_citation`` annotation: the URL of its passage page, its label as title,
    the quote, and where its first ``[n]`` marker stands in the content (0, 0 when none does)."""
    first = {m.n: m for m in reversed(answer.markers)}
    out = []
    for c in answer.citations:
        m = first.get(c.n)
        out.append({"type": "url_citation", "url_citation": {
            "url": link(c), "title": label(c), "quote": c.quote,
            "start_index": m.start if m else 0, "end_index": m.end if m else 0}})  # fmt: skip
    return out


def extras(answer: Answer, link: Link) -> dict[str, Any]:
    """The citations as ``annotations`` (the standard field), and the fields an OpenAI client does not know: the
    citations whole, whether it is an answer, the nearest passages a refusal offers, the mode."""
    return {
        "annotations": url_citations(answer, link),
        "reference": [reference(c) for c in answer.citations],
        "grounded": answer.grounded,
        "related": [reference(c) for c in answer.related],
        "mode": str(answer.mode),
    }


def new_id() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(req: ChatRequest, answer: Answer, cid: str, created: int, link: Link,
               tokens: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    message = {"role": "assistant", "content": content(answer, req.sources_in_content), "refusal": None,
               **extras(answer, link)}  # fmt: skip
    return reply(req, message, cid, created, tokens)


def reply(req: ChatRequest, message: dict[str, Any], cid: str, created: int, tokens: dict[str, int]) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": req.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}], "usage": tokens,
    }  # fmt: skip


def usage_chunk(req: ChatRequest, cid: str, created: int, tokens: dict[str, int]) -> dict[str, Any]:
    """The chunk ``stream_options.include_usage`` asks for after the last one: no choices, the usage."""
    return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model, "choices": [],
            "usage": tokens}  # fmt: skip


def chunk(req: ChatRequest, cid: str, created: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }  # fmt: skip


def error(message: str, status: int, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error body."""
    kinds = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
             503: "service_unavailable", 500: "server_error"}  # fmt: skip
    kind = kinds.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
