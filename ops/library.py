"""The knowledge bases a front end has open, and what every operation on them needs.

Owns: the segmenter and embedder shared by every knowledge base a process opens, one ``Assistant`` per knowledge
base (opened on first use, kept until a repair rebuilds the knowledge base under it; it remembers the vectors of
the sentences it ranked by meaning), a readers–writer lock per knowledge base (any number of questions at once; an
upload, delete or repair alone, so that no question reads an index half written: embedded Chroma and the in-memory
BM25 index are changed in place), each knowledge base's starter questions (found once, again after a change),
sweeping kept uploads no document comes from, and the one OCR engine of the process (``Ocr`` options from the
settings; the engine loads on the first scanned page). Does not own: the operations (``ops.api``) or threads and
queues (``service.pool``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from assistant.core import Assistant, Resources
from assistant.starters import starters
from ingest import uploads
from ingest.loaders.ocr import Ocr
from kb import store
from kb.errors import PilotQAError
from kb.lock import writer
from kb.segment import Segmenter
from kb.settings import KB_NAME, Settings, check_kb_name
from models.embed import Embedder

log = logging.getLogger(__name__)
STARTERS = 5  # starter questions kept per knowledge base, for clients' follow-up suggestions


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


class Library:
    """The open knowledge bases and what operations on them share (see the module)."""

    def __init__(self, settings: Settings, segmenter: Segmenter | None = None,
                 embedder: Embedder | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.ocr = Ocr.of(settings)  # no progress callback: it is shared by every upload that asks none
        self.segmenter = segmenter or Segmenter(settings.cache_dir)
        self.embedder = embedder or Embedder(settings)
        self._assistants: dict[str, Assistant] = {}
        self._locks: dict[str, ReadWriteLock] = {}
        self._starters: dict[str, list[str]] = {}
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
        """Before the first request: remove what uploads killed midway left, load the embedder, open the default
        knowledge base (when it exists) and find its starter questions."""
        self.sweep_uploads()
        self.embedder.load()
        if self.settings.kb in self.known():
            assistant = self.assistant(None)
            with self.lock(None).reading():
                assistant.ask("试点项目有多少个？")  # loads jieba's dictionary and the rankers once
            self.starters(None)

    def starters(self, kb: str | None) -> list[str]:
        """Questions knowledge base ``kb`` answers with a figure (``assistant.starters``), found once and again
        after each upload or delete: a client's request for follow-up suggestions is answered from them at once."""
        name = self.name(kb)
        with self._guard:
            found = self._starters.get(name)
        if found is None:
            assistant = self.assistant(name)
            with self.lock(name).reading():
                found = starters(assistant, STARTERS)
            with self._guard:
                self._starters[name] = found
        return found

    def found_starters(self, kb: str | None) -> list[str] | None:
        """Knowledge base ``kb``'s starter questions when they have been found, else None (never waits)."""
        with self._guard:
            return self._starters.get(self.name(kb))

    def changed(self, kb: str) -> None:
        """Knowledge base ``kb`` was written: what was found from its documents is found again when next asked."""
        with self._guard:
            self._starters.pop(kb, None)

    def reopen(self, kb: str) -> None:
        """Knowledge base ``kb`` was rebuilt under its open assistant (a repair: a new vector collection): it is
        opened afresh, its starter questions found again, when next asked. Call it holding its write lock."""
        with self._guard:
            self._assistants.pop(kb, None)
            self._starters.pop(kb, None)

    def sweep_uploads(self) -> None:
        """Kept uploads no document comes from (a process killed mid-upload leaves them), removed from each
        knowledge base's uploads folder; one that another process is writing is left for its next start."""
        root, now = uploads.root(self.settings.home), self.settings.model_copy(update={"lock_timeout_s": 0})
        names = [p.name for p in root.iterdir() if p.is_dir() and KB_NAME.fullmatch(p.name)] if root.is_dir() else []
        known = set(self.known())
        for name in names:
            try:
                with writer(now, name):
                    used = {d.source for d in self.assistant(name).res.kb.documents()} if name in known else set()
                    removed = uploads.sweep(root / name, used)
            except PilotQAError as exc:
                log.warning("uploads of %s not swept: %s", name, exc)
                continue
            if removed:
                log.warning("removed %d kept upload(s) of %s that no document comes from", len(removed), name)
