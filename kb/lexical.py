"""The lexical index: BM25 over jieba terms and over character bigrams.

Owns: sparse term-frequency matrices per field, incremental add/remove by chunk
id, BM25 scoring, and a snapshot file keyed by the catalogue's generation so that
opening a large knowledge base does not re-tokenise it. Does not own: tokenising
(``kb.segment``) or the truth about which chunks exist (``kb.catalog``).
"""

from __future__ import annotations

import functools
import logging
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from scipy import sparse

from kb import disk

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75
F = TypeVar("F", bound=Callable[..., Any])
FIELDS = ("terms", "bigrams")


class Field:
    """One BM25 field: rows are chunks, columns are terms."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._base = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._extra: list[tuple[np.ndarray, np.ndarray]] = []
        self._csc: sparse.csc_matrix | None = None
        self._idf = np.zeros(0, np.float32)
        self._norm = np.zeros(0, np.float32)

    def add(self, terms: Sequence[str]) -> None:
        ids = np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for t in terms), np.int64, len(terms))
        uniq, counts = np.unique(ids, return_counts=True)
        self._extra.append((uniq, counts.astype(np.float32)))
        self._csc = None

    def rows(self) -> int:
        return self._base.shape[0] + len(self._extra)

    def compact(self, alive: np.ndarray) -> None:
        """Merge added rows into the base matrix, keeping only ``alive`` rows."""
        width = len(self.vocab)
        parts = [_resize(self._base, width)]
        if self._extra:
            indptr = np.cumsum([0] + [len(i) for i, _ in self._extra])
            idx = np.concatenate([i for i, _ in self._extra])
            data = np.concatenate([d for _, d in self._extra])
            parts.append(sparse.csr_matrix((data, idx, indptr), shape=(len(self._extra), width)))
        full = sparse.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
        self._base = full[alive] if not alive.all() else full
        self._extra = []
        self._csc = None

    def prepare(self) -> None:
        """Build the column matrix and BM25 statistics used by ``score``."""
        m = self._base
        n = m.shape[0]
        lengths = np.asarray(m.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n else 1.0
        self._norm = (K1 * (1 - B + B * lengths / max(avg, 1e-9))).astype(np.float32)
        df = np.bincount(m.indices, minlength=m.shape[1]).astype(np.float32)
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._csc = m.tocsc()

    def score(self, terms: Iterable[str], n_rows: int) -> np.ndarray:
        assert self._csc is not None
        scores = np.zeros(n_rows, np.float32)
        for t in dict.fromkeys(terms):  # in query order: a set's order (hash seed) changed float sums and ties
            col = self.vocab.get(t)
            if col is None or col >= self._csc.shape[1]:
                continue
            a, b = self._csc.indptr[col], self._csc.indptr[col + 1]
            rows, tf = self._csc.indices[a:b], self._csc.data[a:b]
            scores[rows] += self._idf[col] * tf * (K1 + 1) / (tf + self._norm[rows])
        return scores

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        m = self._base
        words = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=object)
        return {f"{prefix}.data": m.data, f"{prefix}.indices": m.indices, f"{prefix}.indptr": m.indptr,
                f"{prefix}.shape": np.array(m.shape), f"{prefix}.vocab": np.array("\n".join(words))}  # fmt: skip

    def load(self, z: np.lib.npyio.NpzFile, prefix: str) -> None:
        shape = tuple(int(x) for x in z[f"{prefix}.shape"])
        self._base = sparse.csr_matrix(
            (z[f"{prefix}.data"], z[f"{prefix}.indices"], z[f"{prefix}.indptr"]), shape=shape
        )
        words = str(z[f"{prefix}.vocab"])
        self.vocab = {w: i for i, w in enumerate(words.split("\n"))} if words else {}


def _resize(m: sparse.csr_matrix, width: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))


def _locked(method: F) -> F:
    """Run ``method`` holding the index's lock: ingest and questions may arrive on different threads."""

    @functools.wraps(method)
    def wrapper(self: LexicalIndex, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


class LexicalIndex:
    """BM25 over both fields, addressed by chunk id. Thread-safe."""

    def __init__(self) -> None:
        self.fields = {name: Field() for name in FIELDS}
        self.ids: list[str] = []
        self._row: dict[str, int] = {}
        self._dead: set[int] = set()
        self._ready = False
        self.lock = threading.RLock()  # held by every method: add/remove/search may race

    def __len__(self) -> int:
        return len(self._row)

    @_locked
    def live(self) -> set[str]:
        """The chunk ids currently indexed (removed ones excluded)."""
        return set(self._row)

    @_locked
    def add(self, chunk_id: str, terms: Sequence[str], grams: Sequence[str]) -> None:
        self.remove([chunk_id])
        self._row[chunk_id] = len(self.ids)
        self.ids.append(chunk_id)
        self.fields["terms"].add(terms)
        self.fields["bigrams"].add(grams)
        self._ready = False

    @_locked
    def remove(self, chunk_ids: Iterable[str]) -> None:
        for cid in chunk_ids:
            row = self._row.pop(cid, None)
            if row is not None:
                self._dead.add(row)
                self._ready = False

    def _prepare(self) -> None:
        if self._ready:
            return
        alive = np.ones(len(self.ids), bool)
        alive[list(self._dead)] = False
        for f in self.fields.values():
            f.compact(alive)
            f.prepare()
        self.ids = [cid for cid, keep in zip(self.ids, alive, strict=True) if keep]
        self._row = {cid: i for i, cid in enumerate(self.ids)}
        self._dead = set()
        self._ready = True

    @_locked
    def search(
        self, field: str, terms: Sequence[str], k: int, allowed: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best ``k`` chunks for ``terms`` in ``field`` as (chunk_id, BM25 score)."""
        self._prepare()
        if not self.ids or not terms:
            return []
        scores = self.fields[field].score(terms, len(self.ids))
        if allowed is not None:
            mask = np.fromiter((cid in allowed for cid in self.ids), bool, len(self.ids))
            scores = np.where(mask, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]

    @_locked
    def idf(self, field: str, term: str) -> float:
        self._prepare()
        f = self.fields[field]
        col = f.vocab.get(term)
        return float(f._idf[col]) if col is not None and col < len(f._idf) else 0.0

    @_locked
    def save(self, path: Path, generation: int) -> None:
        """Write a snapshot atomically (``kb.disk``; a full disk leaves the old one); ``generation`` ties it to the
        catalogue."""
        self._prepare()
        arrays: dict[str, np.ndarray] = {"generation": np.array(generation), "ids": np.array("\n".join(self.ids))}
        for name, f in self.fields.items():
            arrays.update(f.arrays(name))
        need = sum(a.nbytes if a.dtype != object else len(str(a)) * 4 for a in arrays.values())
        disk.write_atomic(path, lambda f: np.savez(f, **arrays), prefix=".lexical-", need_bytes=need)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path, generation: int) -> LexicalIndex | None:
        """The snapshot at ``path`` if it matches ``generation``, else None."""
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["generation"]) != generation:
                    return None
                index = cls()
                ids = str(z["ids"])
                index.ids = ids.split("\n") if ids else []
                for name, f in index.fields.items():
                    f.load(z, name)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:  # a damaged snapshot is rebuilt
            log.warning("lexical snapshot %s unreadable (%s); rebuilding", path, exc)
            return None
        index._row = {cid: i for i, cid in enumerate(index.ids)}
        return index
