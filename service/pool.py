"""One set of loaded resources per knowledge base, and the worker threads that answer for the service.

Owns: the segmenter and embedder shared by every knowledge base the service opens, one ``Assistant`` per knowledge
base (opened on first use, kept; it remembers the vectors of the sentences it ranked by meaning), a readers–writer
lock per knowledge base (any number of questions at once; an upload or delete alone, so that no question reads an
index half written: embedded Chroma and the in-memory BM25 index are changed in place), the worker threads
(``Settings.serve_workers``) that run the blocking work, the one writer thread that runs uploads and deletes one
at a time (reading and recognising an upload's files takes minutes at worst: the workers keep answering), and the
one OCR engine of the process (``Ocr`` options from the settings; the engine loads on the first scanned page).
Does not own: what the work is (``service.ops``) or HTTP (``service.app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from assistant.core import Assistant, Resources
from ingest.loaders.ocr import Ocr
from kb import store
from kb.segment import Segmenter
from kb.settings import Settings, check_kb_name
from models.embed import Embedder

log = logging.getLogger(__name__)
T = TypeVar("T")


class Remembering(Assistant):
    """An assistant that keeps the vectors of the stored sentences it has compared with questions (the last
    ``SENTENCES`` of them): the same sentences come up for many clients' questions, and each costs the embedder a
    pass (onnx-int8 embeds one text per run, so a sentence's vector does not depend on what it was embedded with)."""

    SENTENCES = 20_000  # about 30 MB of 384-dimension vectors

    def __init__(self, settings: Settings, resources: Resources) -> None:
        super().__init__(settings, resources)
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def similarity(self, question: str, sentences: list[str]) -> list[float]:
        with self._vectors_lock:
            known = {s: self._vectors[s] for s in sentences if s in self._vectors}
            for s in known:
                self._vectors.move_to_end(s)
        fresh = [s for s in dict.fromkeys(sentences) if s not in known]
        if fresh:
            known.update(zip(fresh, self.res.embedder.passages(fresh), strict=True))
            with self._vectors_lock:
                for s in fresh:
                    self._vectors[s] = known[s]
                while len(self._vectors) > self.SENTENCES:
                    self._vectors.popitem(last=False)
        q = self.res.embedder.query(question)
        return [float(known[s] @ q) for s in sentences]


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before readers that come after it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._waiting_writers)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            self._cond.wait_for(lambda: not self._writing and not self._readers)
            self._waiting_writers -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class Pool:
    """The service's loaded knowledge bases and its worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.executor = ThreadPoolExecutor(settings.serve_workers, thread_name_prefix="pilotqa-worker")
        self.writes = ThreadPoolExecutor(1, thread_name_prefix="pilotqa-writer")
        self.ocr = Ocr.of(settings)  # no progress callback: it is shared by every upload
        self.segmenter = Segmenter(settings.cache_dir)
        self.embedder = Embedder(settings)
        self._assistants: dict[str, Assistant] = {}
        self._locks: dict[str, ReadWriteLock] = {}
        self._guard = threading.Lock()

    def name(self, kb: str | None) -> str:
        return check_kb_name(kb or self.settings.kb)

    def assistant(self, kb: str | None, create: bool = False) -> Assistant:
        """The assistant of knowledge base ``kb`` (the default one when None). Only ``create`` (an upload) opens
        one that does not exist yet; reading one that does not exist is an error listing those that do."""
        name = self.name(kb)
        with self._guard:
            found = self._assistants.get(name)
            if found is not None:
                return found
        if not create:
            store.require(self.settings, name)
        with self._guard:
            if name not in self._assistants:
                base = store.KnowledgeBase.open(self.settings, name, self.segmenter, self.embedder.name)
                res = Resources(self.settings, self.segmenter, self.embedder, base)
                self._assistants[name] = Remembering(self.settings, res)
                log.info("opened knowledge base %s", name)
            return self._assistants[name]

    def lock(self, kb: str | None) -> ReadWriteLock:
        with self._guard:
            return self._locks.setdefault(self.name(kb), ReadWriteLock())

    def known(self) -> list[str]:
        """The knowledge bases on disk (open or not)."""
        return store.list_names(self.settings)

    def warm(self) -> None:
        """Load the embedder and open the default knowledge base (when it exists) before the first request."""
        self.embedder.load()
        if self.settings.kb in self.known():
            assistant = self.assistant(None)
            with self.lock(None).reading():
                assistant.ask("试点项目有多少个？")  # loads jieba's dictionary and the rankers once

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` on a worker thread; the caller awaits its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def run_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` on the writer thread (an upload or delete), after those queued before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writes, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.writes.shutdown(wait=False, cancel_futures=True)
