"""The service's threads and queues over the open knowledge bases.

Owns: the two lanes the blocking work runs on (instant answers; answers a language model reads for,
``service.lanes``) and which lane an answer takes, and the one writer thread that runs uploads and deletes one at
a time (reading and recognising an upload's files takes minutes at worst: the lanes keep answering). Does not
own: the open knowledge bases and their locks (``ops.library``), the work (``ops.api``) or HTTP
(``service.app``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kb.settings import Settings
from ops.library import Library
from service.lanes import Lane

T = TypeVar("T")


class Pool(Library):
    """The service's open knowledge bases, its lanes and its writer thread."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.instant = Lane("instant", "即时回答", settings.serve_workers, settings.serve_queue)
        self.model = Lane("model", "模型阅读", settings.serve_model_workers, settings.serve_model_queue,
                          "，或改用 pilotqa-extractive 即时回答")  # fmt: skip
        self.writes = ThreadPoolExecutor(1, thread_name_prefix="pilotqa-writer")

    def lane(self, mode: str | None) -> Lane:
        """Where an answer in ``mode`` runs: the model lane when a language model reads (reader, llm, or the
        default mode where an endpoint is configured: ``Assistant.llm_available``), the instant lane otherwise."""
        if mode in ("reader", "llm") or (mode is None and self.settings.llm_base_url and self.settings.llm_model):
            return self.model
        return self.instant

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` on an instant-lane thread; the caller awaits its result."""
        return await self.instant.run(fn, *args, **kwargs)

    async def run_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` on the writer thread (an upload or delete), after those queued before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writes, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.instant.close()
        self.model.close()
        self.writes.shutdown(wait=False, cancel_futures=True)
