"""The OpenAI chat-completions schema, mapped onto PilotQA's answers (plain dicts in and out, no library).

Owns: model names (``pilotqa`` / ``pilotqa-<mode>``, each optionally ``/<kb>``) and the list ``GET /v1/models``
returns; reading a chat request (the last user message is the question, earlier user turns its history, the
``sources_in_content`` switch); a completion and its stream chunks with the citations in ``reference`` (on the
message, or on the last chunk's delta), ``grounded`` saying whether it is an answer or a refusal, and the short
来源 list that ends the content for clients that drop extra fields; the OpenAI-style error body. Does not own:
answering (``service.ops``) or HTTP (``service.app``).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from assistant.serialize import place
from kb.errors import RequestError
from kb.records import Answer
from service.ops import reference

BASE = "pilotqa"
_MODEL = re.compile(r"^pilotqa(?:-(extractive|reader|llm))?(?:/([a-z0-9][a-z0-9_-]{0,47}))?$")
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


def parse_model(model: object) -> tuple[str | None, str | None]:
    """(knowledge base, mode) a model name selects; None for the defaults."""
    m = _MODEL.match(model) if isinstance(model, str) else None
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
    return ChatRequest(str(body["model"]), kb, mode, question, history, body.get("stream") is True, flag is not False)


def sources_block(answer: Answer) -> str:
    """The short 来源 list that ends the content: one line per citation (title, date, section, page, and 识别文字
    for a quote recognised from a scanned page or a photo, which may hold recognition errors)."""
    if not answer.citations:
        return ""
    lines = []
    for c in answer.citations:
        title = c.title or c.doc_id
        where = "，".join([c.date, *place(c, title)] if c.date else place(c, title))
        lines.append(f"[{c.n}] 《{title}》" + (f"，{where}" if where else ""))
    return "\n\n来源：\n" + "\n".join(lines)


def content(answer: Answer, sources: bool) -> str:
    """The message content: the answer with its [n] markers, a notice, and (when asked) the 来源 list."""
    text = answer.text
    if answer.notice and answer.notice not in text:
        text += f"\n\n{answer.notice}"
    return text + (sources_block(answer) if sources else "")


def extras(answer: Answer) -> dict[str, Any]:
    """The fields an OpenAI client does not know: the citations, whether it is an answer, the nearest passages
    a refusal offers, the mode."""
    return {
        "reference": [reference(c) for c in answer.citations],
        "grounded": answer.grounded,
        "related": [reference(c) for c in answer.related],
        "mode": str(answer.mode),
    }


def new_id() -> tuple[str, int]:
    return f"chatcmpl-{uuid.uuid4().hex}", int(time.time())


def completion(req: ChatRequest, answer: Answer, cid: str, created: int) -> dict[str, Any]:
    message = {"role": "assistant", "content": content(answer, req.sources_in_content), "refusal": None,
               **extras(answer)}  # fmt: skip
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": req.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }  # fmt: skip


def chunk(req: ChatRequest, cid: str, created: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }  # fmt: skip


def error(message: str, status: int, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error body."""
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 413: "invalid_request_error",
            503: "service_unavailable", 500: "server_error"}.get(status, "invalid_request_error")  # fmt: skip
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
