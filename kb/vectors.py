"""The vector store: Chroma, embedded under the data directory or a Chroma server.

Owns: the only chromadb import, one client per location (Chroma refuses two
differently-configured clients on one path), a collection per knowledge base in
cosine space, conversion of Chroma's results into plain tuples, Chroma's errors said
as the user's next step (a damaged index: ``pilotqa kb check NAME --repair``; a full
disk: ``kb.disk``), and renaming a collection (a restore's switch). Does not own:
chunk text, documents or the vector copies an index is rebuilt from (``kb.catalog``),
embedding, or ranking beyond nearest neighbours.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from kb import disk
from kb.errors import DamagedIndexError, DiskFullError, StoreError
from kb.settings import Settings

log = logging.getLogger(__name__)

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_BATCH = 2000  # ids per request: stays below Chroma's max batch size


def _client(settings: Settings) -> Any:
    """One Chroma client per path or URL, telemetry off."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    key = settings.chroma_url or str((settings.home / "chroma").resolve())
    with _CLIENTS_LOCK:
        if key in _CLIENTS:
            return _CLIENTS[key]
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            Path(key).mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=key, settings=chroma_settings)
        _CLIENTS[key] = client
        return client


def collection_name(kb_name: str) -> str:
    return f"pilotqa-{kb_name}"


DAMAGED = ("pickle", "hnsw segment", "segment reader", "deserializ")


class VectorStore:
    """The chunk vectors of one knowledge base (``collection``: another collection name, a restore's staging)."""

    def __init__(self, settings: Settings, kb_name: str, meta: Mapping[str, str | int], collection: str = "") -> None:
        self.location = settings.chroma_url or str(settings.home / "chroma")
        self.kb_name = kb_name
        self._need = settings.min_free_mb * disk.MB
        try:
            client = _client(settings)
            self._col = client.get_or_create_collection(
                name=collection or collection_name(kb_name),
                configuration={"hnsw": {"space": "cosine"}},
                metadata=dict(meta),
                embedding_function=None,
            )
        except StoreError:
            raise
        except Exception as exc:  # connection refused, bad URL, locked files, a full disk…
            if disk.disk_full(exc):
                raise disk.full(Path(self.location), self._need) from exc
            raise StoreError(
                f"无法打开向量库（{self.location}）：{exc}。若使用 Chroma 服务器，请确认它已启动且 "
                "PILOTQA_CHROMA_URL 正确；若使用本地库，请确认数据目录可写。"
            ) from exc

    @contextlib.contextmanager
    def _said(self) -> Iterator[None]:
        """Chroma's errors as the user's next step: a damaged index, a full disk; others unchanged."""
        try:
            with disk.as_disk_full(Path(self.location), self._need):
                yield
        except (DiskFullError, StoreError):
            raise
        except Exception as exc:
            if any(word in str(exc).lower() for word in DAMAGED):
                raise DamagedIndexError(
                    f"知识库“{self.kb_name}”的向量索引已损坏（{self.location}：{str(exc)[:120]}）：请运行 "
                    f"pilotqa kb check {self.kb_name} --repair，从知识库保存的向量重建索引（无需重新导入）。"
                ) from exc
            raise

    def count(self) -> int:
        with self._said():
            return int(self._col.count())

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metas: Sequence[dict[str, Any]]) -> None:
        with self._said():
            for i in range(0, len(ids), _BATCH):
                self._col.upsert(
                    ids=list(ids[i : i + _BATCH]),
                    embeddings=vectors[i : i + _BATCH].astype(np.float32),
                    metadatas=list(metas[i : i + _BATCH]),
                )

    def delete(self, ids: Sequence[str]) -> None:
        with self._said():
            for i in range(0, len(ids), _BATCH):
                self._col.delete(ids=list(ids[i : i + _BATCH]))

    def ids_of(self, doc_id: str) -> list[str]:
        with self._said():
            return list(self._col.get(where={"doc_id": doc_id}, include=[])["ids"])

    def all_ids(self) -> list[str]:
        return [i for batch, _ in self.batches(with_vectors=False) for i in batch]

    def batches(self, with_vectors: bool = True) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every stored (ids, vectors) ``_BATCH`` at a time (vectors empty unless ``with_vectors``)."""
        include = ["embeddings"] if with_vectors else []
        with self._said():
            total = self.count()
            for offset in range(0, total, _BATCH):
                got = self._col.get(include=include, limit=_BATCH, offset=offset)
                vecs = np.asarray(got["embeddings"], np.float32) if with_vectors else np.zeros((0, 0), np.float32)
                yield list(got["ids"]), vecs

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self._said():
            got = self._col.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def rename(self, kb_name: str) -> None:
        """Give this collection knowledge base ``kb_name``'s collection name (a restore switching over)."""
        with self._said():
            self._col.modify(name=collection_name(kb_name))
        self.kb_name = kb_name

    def search(self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk_id, cosine similarity), best first."""
        n = self.count()
        if n == 0:
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": list(doc_ids)}}
        with self._said():
            res = self._col.query(
                query_embeddings=[vector.astype(np.float32)],
                n_results=min(k, n),
                where=where,
                include=["distances"],
            )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]


def version() -> str:
    """The Chroma version (a backup's manifest records it)."""
    return str(chromadb.__version__)


def drop(settings: Settings, kb_name: str, collection: str = "") -> None:
    """Delete a knowledge base's collection (or the one named ``collection``), if it exists; a damaged one too."""
    client = _client(settings)
    name = collection or collection_name(kb_name)
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    if name in names:
        client.delete_collection(name)
