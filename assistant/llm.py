"""The optional language model: an OpenAI-compatible endpoint through LangChain.

Owns: the only LangChain imports, the chat client (vLLM, Ollama or a hosted service
named by ``PILOTQA_LLM_*``), the Chinese prompts (answer from numbered passages,
rewrite a follow-up), streaming, and converting LangChain messages to plain strings
at this boundary, and a yes/no judgement's probability read from the reply's log-probabilities; a request's
generation options (stop strings, a token bound for the answer a model writes) and the endpoint's own token
counts, carried for the calls one request makes (``generation``).
Does not own: checking the output (``assistant.core`` runs the
citation and number checks) or the fallback decision.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from kb.errors import ConfigError, EndpointError
from kb.settings import Settings
from models import llama_server

SYSTEM = (
    "你是金融科技试点报告问答助手。只能根据下面编号的资料回答，不得使用资料以外的知识。"
    "每句话后用 [编号] 标明依据的资料，只能引用给出的编号；数字必须与资料原文一致。"
    "回答简短（不超过 150 字），先给出结论。资料中没有答案时，只回答：资料中没有找到相关信息。"
)
REWRITE = "根据对话历史，把用户的最后一个问题改写成不依赖上下文、意思完整的问题。只输出改写后的问题。"


def build_chat_model(settings: Settings, local_url: str | None = None) -> BaseChatModel:
    """The configured endpoint, or else the bundled model on its local llama.cpp server (at ``local_url`` when
    the caller has just checked it), as a LangChain chat model (streaming): one OpenAI-compatible code path."""
    from langchain_openai import ChatOpenAI

    if settings.llm_base_url and settings.llm_model:
        base_url, model = settings.llm_base_url, settings.llm_model
    elif settings.llm_base_url or settings.llm_model:
        raise ConfigError("语言模型配置不完整：请同时设置 PILOTQA_LLM_BASE_URL 和 PILOTQA_LLM_MODEL。")
    else:
        base_url, model = local_url or llama_server.ensure(settings), llama_server.ALIAS
    kwargs: dict[str, Any] = {
        "base_url": base_url,
        "model": model,
        "api_key": settings.llm_api_key or "not-needed",
        "timeout": settings.llm_timeout_s,
        "max_retries": 1,
        "streaming": True,
        "stream_usage": True,  # the endpoint's own token counts on the stream's last chunk
        "temperature": 0,
        "max_tokens": settings.llm_max_tokens,  # bounded: a small model can generate thousands of tokens
    }
    return ChatOpenAI(**kwargs)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def endpoint_error(exc: Exception) -> EndpointError:
    """The endpoint's failure as PilotQA's error: what failed, in words a user can act on."""
    kind = type(exc).__name__.lower()
    if "timeout" in kind:
        what = "响应超时（可调 PILOTQA_LLM_TIMEOUT_S）"
    elif "connect" in kind:
        what = "无法连接（请确认 PILOTQA_LLM_BASE_URL 指向的服务已启动）"
    else:
        what = "返回了错误"
    return EndpointError(f"语言模型接口{what}")


def yes_probability(token: str, logprobs: Any) -> float:
    """P(是) / (P(是) + P(否)) over the first token's alternatives in an OpenAI-style ``logprobs`` record."""
    try:
        tops = logprobs["content"][0]["top_logprobs"]
        yes = sum(math.exp(t["logprob"]) for t in tops if t["token"].strip().startswith("是"))
        no = sum(math.exp(t["logprob"]) for t in tops if t["token"].strip().startswith("否"))
    except (TypeError, KeyError, IndexError, ValueError):
        yes, no = 0.0, 0.0
    if yes + no == 0:
        return 1.0 if token.strip().startswith("是") else 0.0
    return yes / (yes + no)


@dataclass
class Generation:
    """One request's options for what a model writes (``stop`` strings, at most ``max_tokens``; an answer's text
    only: a constrained reply or a yes/no judgement keeps its own bounds), and the tokens the model counted for
    every call made meanwhile (``calls`` 0: no model took part)."""

    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def count(self, usage: Any) -> None:
        """Add a reply's ``usage_metadata`` (LangChain's record of the endpoint's own counts)."""
        self.calls += 1
        if usage:
            self.prompt_tokens += int(usage.get("input_tokens", 0))
            self.completion_tokens += int(usage.get("output_tokens", 0))


_GENERATION: ContextVar[Generation | None] = ContextVar("pilotqa_generation", default=None)


@contextlib.contextmanager
def generation(options: Generation) -> Iterator[Generation]:
    """Within this block (on this thread), model calls follow ``options`` and add their token counts to it."""
    token = _GENERATION.set(options)
    try:
        yield options
    finally:
        _GENERATION.reset(token)


def _counted(reply: Any) -> Any:
    gen = _GENERATION.get()
    if gen is not None:
        gen.count(getattr(reply, "usage_metadata", None))
    return reply


class LLM:
    """Plain-string wrapper around a LangChain chat model."""

    def __init__(self, model: BaseChatModel) -> None:
        self.model = model

    def answer_stream(self, question: str, passages: Sequence[str]) -> Iterator[str]:
        numbered = "\n".join(f"[{i}] {p}" for i, p in enumerate(passages, start=1))
        messages = [SystemMessage(SYSTEM), HumanMessage(f"资料：\n{numbered}\n\n问题：{question}")]
        gen, options = _GENERATION.get(), dict[str, Any]()
        if gen is not None and gen.stop:
            options["stop"] = list(gen.stop)
        if gen is not None and gen.max_tokens:
            options["max_tokens"] = gen.max_tokens
        stream: Any = self.model.stream(messages, **options)
        usage: Any = None
        with contextlib.closing(stream):  # closed early (the client left): the endpoint's request is closed too
            while True:
                try:
                    chunk = next(stream)
                except StopIteration:
                    break
                except Exception as exc:  # only the endpoint call is guarded: whatever it raised, it failed
                    raise endpoint_error(exc) from exc
                usage = getattr(chunk, "usage_metadata", None) or usage
                piece = _text(chunk.content)
                if piece:
                    yield piece
        if gen is not None:
            gen.count(usage)

    def read(self, system: str, user: str, schema: dict[str, Any]) -> str:
        """One constrained reply (the JSON the schema allows), as raw text."""
        response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        try:
            reply = _counted(self.model.invoke([SystemMessage(system), HumanMessage(user)],
                                               response_format=response_format))  # fmt: skip
        except Exception as exc:  # only the endpoint call is guarded
            raise endpoint_error(exc) from exc
        return _text(reply.content)

    def judge(self, system: str, user: str) -> float:
        """The model's probability that its one-token answer to a yes/no prompt is 是, from that token's
        log-probabilities (where an endpoint gives none, 1.0 or 0.0 by the token it chose)."""
        try:
            reply = _counted(self.model.invoke([SystemMessage(system), HumanMessage(user)], max_tokens=1,
                                               logprobs=True, top_logprobs=10))  # fmt: skip
        except Exception as exc:  # only the endpoint call is guarded
            raise endpoint_error(exc) from exc
        return yes_probability(_text(reply.content), reply.response_metadata.get("logprobs"))

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        turns = "\n".join(f"用户：{h}" for h in history[-4:])
        try:
            reply = _counted(self.model.invoke([SystemMessage(REWRITE), HumanMessage(f"{turns}\n用户：{question}")]))
        except Exception as exc:  # only the endpoint call is guarded
            raise endpoint_error(exc) from exc
        text = _text(reply.content).strip()
        return text if 0 < len(text) <= 200 else question
