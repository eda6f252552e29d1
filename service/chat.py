"""A chat-completions request answered on the service's lanes, whole or as a stream of server-sent events.

Owns: choosing the lane (``Pool.lane``: a full one refuses at once, before any stream starts), a client's
housekeeping prompt answered without a model (``service.housekeeping``), running the answer with the request's
generation options, giving up on a client that hung up (a whole answer: the connection is watched while it is
worked out; a stream: at the next step), the usage (the model's own token counts when a model took part, else
the question's and the answer's words), and the stream's chunks: the role, what a model reads
(``reasoning_content``), the content, the citations on the last chunk, the usage chunk when asked, ``[DONE]``.
Does not own: HTTP (``service.app``), the schema (``service.openai_api``) or the work (``ops.api``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.llm import Generation
from kb.errors import OverloadedError, PilotQAError
from kb.records import Answer, Progress
from ops import api as ops
from service import housekeeping, openai_api
from service.openai_api import ChatRequest, Link
from service.pool import Pool

log = logging.getLogger(__name__)
_END = object()
POLL_S = 0.25  # how often a whole answer's connection is checked while the answer is worked out
Gone = Callable[[], Awaitable[bool]]
Tokens = Callable[[str], dict[str, int]]  # the usage, given the text shown


def options(pool: Pool, req: ChatRequest) -> Generation:
    bound = min(req.max_tokens, pool.settings.llm_max_tokens) if req.max_tokens else None
    return Generation(stop=req.stop, max_tokens=bound)


def tokens(pool: Pool, gen: Generation, req: ChatRequest, text: str) -> dict[str, int]:
    """Usage: the model's own counts when a model took part; else the words (jieba's) of the question, the
    history read with it, and the answer."""
    if gen.calls:
        return openai_api.usage(gen.prompt_tokens, gen.completion_tokens)
    words = pool.segmenter.words
    asked = req.history[-pool.settings.max_history_turns :] if pool.settings.max_history_turns else ()
    return openai_api.usage(sum(len(words(t)) for t in (*asked, req.question)), len(words(text)))


def chore(pool: Pool, req: ChatRequest) -> str | None:
    """The JSON reply to a client's housekeeping prompt, or None when the request is a question. Made at once: the
    starter questions a follow-up reply offers are those already found (finding them is started when they are not
    yet, on the instant lane, for next time)."""
    found = housekeeping.task(req.question)
    if found is None:
        return None
    starters = pool.found_starters(req.kb)
    if starters is None:
        with contextlib.suppress(OverloadedError):
            pool.instant.submit(pool.starters, req.kb)
    return housekeeping.reply(found, starters or [])


def chore_reply(pool: Pool, req: ChatRequest, text: str, cid: str, created: int) -> dict[str, Any]:
    """A housekeeping reply as a completion: no citations, the usage in words."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": [],
                               "reference": [], "grounded": False, "related": [], "mode": "housekeeping"}  # fmt: skip
    return openai_api.reply(req, message, cid, created, tokens(pool, Generation(), req, text))


class Format(Protocol):
    """How a stream's steps are written (chat chunks, or the Responses API's events): each a list of SSE lines."""

    def start(self) -> list[str]: ...
    def progress(self, p: Progress) -> list[str]: ...
    def answer(self, a: Answer, used: Tokens) -> list[str]: ...
    def error(self, message: str) -> list[str]: ...
    def end(self) -> list[str]: ...


async def answer(pool: Pool, req: ChatRequest, gone: Gone) -> tuple[Answer, Tokens] | None:
    """The whole answer and its usage (given the text shown); None when the client hung up first (its answer
    abandoned at the next step, a model's reply being written closed with it)."""
    stop, gen = threading.Event(), options(pool, req)
    future = pool.lane(req.mode).submit(ops.ask, pool, req.question, req.history, req.kb, req.mode, stop, gen)
    waiting = asyncio.wrap_future(future)
    while not (await asyncio.wait({waiting}, timeout=POLL_S))[0]:
        if await gone():
            stop.set()
            future.cancel()
            log.info("client went away while its answer was worked out: %r", req.question[:60])
            return None
    found = waiting.result()
    return None if found is None else (found, functools.partial(tokens, pool, gen, req))


async def complete(pool: Pool, req: ChatRequest, cid: str, created: int, link: Link,
                   gone: Gone) -> dict[str, Any] | None:  # fmt: skip
    """The whole chat completion; None when the client hung up first."""
    done = await answer(pool, req, gone)
    if done is None:
        return None
    text = openai_api.content(done[0], req.sources_in_content)
    return openai_api.completion(req, done[0], cid, created, link, done[1](text))


def events(pool: Pool, req: ChatRequest, fmt: Format) -> AsyncIterator[str]:
    """The answer's stream written by ``fmt``, its work already queued on its lane (so that a full lane is a 429,
    not a broken stream); a client that leaves stops it at the next step."""
    loop, queue, stop, gen = asyncio.get_running_loop(), asyncio.Queue[object](), threading.Event(), options(pool, req)

    def put(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            for item in ops.stream(pool, req.question, req.history, req.kb, req.mode, stop, gen):
                put(item)
        except Exception as exc:
            put(exc)
        finally:
            put(_END)

    pool.lane(req.mode).submit(work)
    return _events(fmt, queue, stop, functools.partial(tokens, pool, gen, req))


async def _events(fmt: Format, queue: asyncio.Queue[object], stop: threading.Event,
                  used: Tokens) -> AsyncIterator[str]:  # fmt: skip
    try:
        for line in fmt.start():
            yield line
        while (item := await queue.get()) is not _END:
            if isinstance(item, Progress):
                lines = fmt.progress(item)
            elif isinstance(item, Answer):
                lines = fmt.answer(item, used)
            elif isinstance(item, Exception):
                if not isinstance(item, PilotQAError):
                    log.error("answer failed", exc_info=item)
                lines = fmt.error(str(item) if isinstance(item, PilotQAError) else "服务内部错误（已记入服务日志）。")
            else:
                lines = []
            for line in lines:
                yield line
        for line in fmt.end():
            yield line
    finally:
        stop.set()


@dataclass(frozen=True)
class ChatFormat:
    """Chat-completion chunks: the role, what a model reads (``reasoning_content``), the content, the citations
    on the last chunk, the usage chunk when asked, ``[DONE]``."""

    req: ChatRequest
    cid: str
    created: int
    link: Link

    def _event(self, delta: dict[str, Any], finish: str | None = None) -> str:
        return sse(openai_api.chunk(self.req, self.cid, self.created, delta, finish))

    def start(self) -> list[str]:
        return [self._event({"role": "assistant", "content": ""})]

    def progress(self, p: Progress) -> list[str]:
        return [self._event({"reasoning_content": p.message + "\n"})]

    def answer(self, a: Answer, used: Tokens) -> list[str]:
        text = openai_api.content(a, self.req.sources_in_content)
        lines = [self._event({"content": text}), self._event(openai_api.extras(a, self.link), "stop")]
        if self.req.include_usage:
            lines.append(sse(openai_api.usage_chunk(self.req, self.cid, self.created, used(text))))
        return lines

    def error(self, message: str) -> list[str]:
        return [sse(openai_api.error(message, 500))]

    def end(self) -> list[str]:
        return ["data: [DONE]\n\n"]


async def chore_events(pool: Pool, req: ChatRequest, text: str, cid: str, created: int) -> AsyncIterator[str]:
    """A housekeeping reply as a stream: the role, the JSON text, the end (and the usage when asked)."""
    yield sse(openai_api.chunk(req, cid, created, {"role": "assistant", "content": ""}))
    yield sse(openai_api.chunk(req, cid, created, {"content": text}))
    yield sse(openai_api.chunk(req, cid, created, {"annotations": [], "reference": [], "grounded": False}, "stop"))
    if req.include_usage:
        yield sse(openai_api.usage_chunk(req, cid, created, tokens(pool, Generation(), req, text)))
    yield "data: [DONE]\n\n"


def sse(obj: dict[str, Any]) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"
