"""OpenAI's Responses API (``POST /v1/responses``), mapped onto the same answers as chat completions.

Why it is here: LangChain's ``ChatOpenAI`` keeps only the standard fields of a chat completion, and drops its
``annotations`` (invoke and stream alike), so a LangChain user cannot reach the citations there. With
``ChatOpenAI(use_responses_api=True)`` it reads this API instead, and its messages carry each citation as an
annotation of their text content block (``message.content[i]["annotations"]``, in invoke and in the stream's
chunks alike).

Owns: reading a Responses request into a ``ChatRequest`` (``input`` as a string or as messages; the same model
names, limits and refusals: tools and a structured ``text.format`` are refused, ``max_output_tokens`` bounds what
a model writes), the response object (one message whose ``output_text`` carries the citations as ``url_citation``
annotations, plus ``reference`` and ``grounded`` as in a chat completion) and its stream of events (created, the
message added, text deltas, each annotation added, text done, message done, completed with the usage). Does not
own: answering (``service.chat``, ``ops.api``) or HTTP (``service.app``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from kb.errors import RequestError
from kb.records import Answer, Progress
from service import openai_api
from service.chat import Tokens, sse
from service.openai_api import ChatRequest, Link


def parse(body: object) -> ChatRequest:
    """A Responses request as the chat request it asks (a ``RequestError`` saying what to send otherwise)."""
    if not isinstance(body, dict):
        raise RequestError('请求体应是 JSON 对象：{"model": "pilotqa", "input": "问题"}')
    given = body.get("input")
    if isinstance(given, str):
        messages: list[Any] = [{"role": "user", "content": given}]
    elif isinstance(given, list) and all(isinstance(m, dict) for m in given):
        messages = [{"role": m.get("role"), "content": _text(m.get("content"))} for m in given if "role" in m]
    else:
        raise RequestError('input 应是问题文字，或消息列表 [{"role": "user", "content": "问题"}]。')
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    chat = {"model": body.get("model"), "messages": messages, "stream": body.get("stream"),
            "tools": body.get("tools"), "tool_choice": body.get("tool_choice"), "response_format": fmt,
            "max_tokens": body.get("max_output_tokens"), "sources_in_content": body.get("sources_in_content", True),
            "stream_options": {"include_usage": True}}  # fmt: skip
    return openai_api.parse_chat(chat)


def _text(content: object) -> str:
    if isinstance(content, list):  # input_text / output_text parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def citations(answer: Answer, link: Link) -> list[dict[str, Any]]:
    """The citations as the Responses API's flat ``url_citation`` annotations."""
    return [{"type": "url_citation", **a["url_citation"]} for a in openai_api.url_citations(answer, link)]


def usage(tokens: dict[str, int]) -> dict[str, int]:
    return {"input_tokens": tokens["prompt_tokens"], "output_tokens": tokens["completion_tokens"],
            "total_tokens": tokens["total_tokens"]}  # fmt: skip


def new_ids() -> tuple[str, str]:
    return f"resp_{uuid.uuid4().hex}", f"msg_{uuid.uuid4().hex}"


def message(mid: str, text: str, notes: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": mid, "role": "assistant", "status": status,
            "content": [{"type": "output_text", "text": text, "annotations": notes}]}  # fmt: skip


def response(req: ChatRequest, rid: str, created: int, output: list[dict[str, Any]], status: str = "completed",
             tokens: dict[str, int] | None = None, answer: Answer | None = None) -> dict[str, Any]:  # fmt: skip
    extra = (
        {"reference": [openai_api.reference(c) for c in answer.citations], "grounded": answer.grounded}
        if answer
        else {}
    )
    return {"id": rid, "object": "response", "created_at": created, "status": status, "model": req.model,
            "output": output, "error": None, "incomplete_details": None, "parallel_tool_calls": False,
            "tool_choice": "none", "tools": [], "usage": usage(tokens) if tokens else None, **extra}  # fmt: skip


def completed(req: ChatRequest, answer: Answer, rid: str, mid: str, created: int, link: Link,
              used: Tokens) -> dict[str, Any]:  # fmt: skip
    text = openai_api.content(answer, req.sources_in_content)
    return response(req, rid, created, [message(mid, text, citations(answer, link))], tokens=used(text), answer=answer)


@dataclass
class ResponsesFormat:
    """The Responses API's stream: created, the message item added, the text, each annotation, done, completed."""

    req: ChatRequest
    created: int
    link: Link
    rid: str = ""
    mid: str = ""
    seq: int = field(default=0)

    def __post_init__(self) -> None:
        self.rid, self.mid = new_ids()

    def _event(self, kind: str, **fields: Any) -> str:
        self.seq += 1
        return sse({"type": kind, "sequence_number": self.seq, **fields})

    def _at(self) -> dict[str, Any]:
        return {"item_id": self.mid, "output_index": 0, "content_index": 0}

    def start(self) -> list[str]:
        started = response(self.req, self.rid, self.created, [], "in_progress")
        return [self._event("response.created", response=started),
                self._event("response.output_item.added", output_index=0,
                            item=message(self.mid, "", [], "in_progress"))]  # fmt: skip

    def progress(self, p: Progress) -> list[str]:
        return []  # what a model reads is a chat stream's reasoning_content; this API has no plain place for it

    def answer(self, a: Answer, used: Tokens) -> list[str]:
        text, notes = openai_api.content(a, self.req.sources_in_content), citations(a, self.link)
        lines = [self._event("response.output_text.delta", **self._at(), delta=text)]
        lines += [self._event("response.output_text.annotation.added", **self._at(), annotation_index=i, annotation=n)
                  for i, n in enumerate(notes)]  # fmt: skip
        item = message(self.mid, text, notes)
        done = response(self.req, self.rid, self.created, [item], tokens=used(text), answer=a)
        return [*lines, self._event("response.output_text.done", **self._at(), text=text),
                self._event("response.output_item.done", output_index=0, item=item),
                self._event("response.completed", response=done)]  # fmt: skip

    def error(self, message: str) -> list[str]:
        return [self._event("error", code="server_error", message=message, param=None)]

    def end(self) -> list[str]:
        return []
