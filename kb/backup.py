"""A knowledge base in one file and back: ``pilotqa kb backup NAME FILE`` and ``pilotqa kb restore FILE [--as NAME]``.

Owns: the backup file (a tar: ``manifest.json`` first, with the versions that wrote it and each member's sha256;
``catalog.sqlite`` copied through SQLite's backup API; ``vectors.npz``, Chroma's collection read whole; the BM25
snapshot ``lexical.npz``; ``uploads/`` the uploaded files), taken under the writer lock so that it is one state
while questions go on; and the restore: checksums, format and pipeline version checked before anything is written,
everything written under a staging name (a hidden folder, a staging collection), the uploaded documents' paths moved
to the new uploads folder, then switched to the new name only when complete, the staging removed on any failure.
Does not own: what a knowledge base holds (``kb.store``, ``kb.catalog``) or where the uploads folder is (the caller
says).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import shutil
import sqlite3
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from kb import disk, lock, vectors
from kb.catalog import Catalog
from kb.errors import PilotQAError
from kb.lexical import LexicalIndex
from kb.settings import Settings, check_kb_name
from kb.store import lexical_of

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Outcome:
    """What a backup or a restore did: the knowledge base, its documents and chunks, the file's size, the time."""

    name: str
    documents: int
    chunks: int
    size: int
    seconds: float


def backup(settings: Settings, name: str, target: Path, uploads: Path, pipeline: str) -> Outcome:
    """Write knowledge base ``name`` to ``target`` (replaced whole, or left as it was), one consistent state: taken
    holding the writer lock. ``uploads``: its uploads folder; ``pipeline``: the ingest pipeline's version."""
    started = dt.datetime.now()
    with lock.writer(settings, name), tempfile.TemporaryDirectory(prefix=disk.TMP_PREFIX, dir=_near(target)) as tmp:
        stage = Path(tmp)
        catalog = Catalog(settings.kb_dir(name) / "catalog.sqlite")
        try:
            disk.ensure_room(stage, _estimate(settings, name, uploads) * 2, settings.min_free_mb)
            with disk.as_disk_full(stage):
                catalog.copy_to(stage / "catalog.sqlite")
                docs, chunks = catalog.counts()
                _snapshot(settings, name, catalog, stage / "lexical.npz")
                meta = {"embed_model": catalog.get_meta("embed_model") or "", "kb": name}
                _export_vectors(vectors.VectorStore(settings, name, meta), stage / "vectors.npz")
                _copy_uploads(uploads, stage / "uploads")
                manifest = _manifest(settings, name, catalog, stage, uploads, pipeline)
        finally:
            catalog.close()
        (stage / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        disk.write_atomic(target, lambda f: _tar(stage, f), need_bytes=_size(stage))
    seconds = (dt.datetime.now() - started).total_seconds()
    return Outcome(name, docs, chunks, target.stat().st_size, seconds)


def _near(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def _estimate(settings: Settings, name: str, uploads: Path) -> int:
    folders = [settings.kb_dir(name), uploads]
    return sum(p.stat().st_size for f in folders if f.is_dir() for p in f.rglob("*") if p.is_file())


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _snapshot(settings: Settings, name: str, catalog: Catalog, to: Path) -> None:
    """The BM25 snapshot of this catalogue state: the stored one when it matches, else rebuilt from stored terms."""
    path = settings.kb_dir(name) / "lexical.npz"
    index = LexicalIndex.load(path, catalog.generation)
    if index is not None and index.live() == set(catalog.chunk_ids()):
        shutil.copyfile(path, to)
    else:
        lexical_of(catalog).save(to, catalog.generation)


def _export_vectors(store: vectors.VectorStore, to: Path) -> None:
    ids: list[str] = []
    parts: list[np.ndarray] = []
    for batch, vecs in store.batches():
        ids += batch
        parts.append(vecs)
    matrix = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    with to.open("wb") as f:
        np.savez(f, ids=np.array("\n".join(ids)), vectors=matrix.astype(np.float32))


def _copy_uploads(uploads: Path, to: Path) -> None:
    to.mkdir()
    if uploads.is_dir():
        for p in uploads.iterdir():
            if p.is_file() and not p.is_symlink() and not p.name.startswith("."):
                shutil.copyfile(p, to / p.name)


def _manifest(settings: Settings, name: str, catalog: Catalog, stage: Path, uploads: Path, pipeline: str
              ) -> dict[str, Any]:  # fmt: skip
    docs, chunks = catalog.counts()
    return {
        "format": FORMAT, "kb": name, "created": dt.datetime.now().isoformat(timespec="seconds"),
        "pipeline_version": pipeline, "embed_model": catalog.get_meta("embed_model"),
        "generation": catalog.generation, "documents": docs, "chunks": chunks, "facts": catalog.fact_count(),
        "uploads_dir": str(uploads.resolve()),
        "versions": {"pilotqa": _version("pilotqa"), "chromadb": vectors.version(), "sqlite": sqlite3.sqlite_version,
                     "numpy": np.__version__},
        "files": {str(p.relative_to(stage)): _sha256(p) for p in sorted(stage.rglob("*")) if p.is_file()},
    }  # fmt: skip


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tar(stage: Path, out: IO[bytes]) -> None:
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(stage / MANIFEST, MANIFEST)
        for p in sorted(stage.rglob("*")):
            if p.is_file() and p.name != MANIFEST:
                tar.add(p, str(p.relative_to(stage)))


# -- restore ------------------------------------------------------------------------------------------------------
def restore(settings: Settings, source: Path, as_name: str | None, uploads_root: Path, pipeline: str) -> Outcome:
    """Restore the backup ``source`` as knowledge base ``as_name`` (default: the name it was taken from), which must
    not exist yet. ``uploads_root``: the folder holding each knowledge base's uploads folder."""
    started = dt.datetime.now()
    if not source.is_file():
        raise PilotQAError(f"找不到备份文件 {source}：请检查路径。")
    home_kb = settings.home / "kb"
    home_kb.mkdir(parents=True, exist_ok=True)
    with _staging(home_kb) as stage:
        manifest = _unpack(source, stage, pipeline)
        name = check_kb_name(as_name or str(manifest["kb"]))
        disk.ensure_room(home_kb, _size(stage) * 2, settings.min_free_mb)
        with lock.writer(settings, name):
            if (settings.kb_dir(name) / "catalog.sqlite").exists():
                raise PilotQAError(
                    f"已有名为“{name}”的知识库，未恢复：请用 --as 另取名字，或先删除它（pilotqa kb delete {name}）。"
                )
            collection = f"pilotqa-restore-{stage.name[-16:]}"
            try:
                with disk.as_disk_full(home_kb):
                    store = _load_vectors(settings, name, stage, collection)
                    _relocate(stage / "catalog.sqlite", Path(str(manifest["uploads_dir"])), uploads_root / name)
                    _switch(settings, name, stage, store, uploads_root / name)
            except BaseException:  # nothing of it stays: no knowledge base of this name existed
                with contextlib.suppress(Exception):
                    vectors.drop(settings, name, collection)
                    if not (settings.kb_dir(name) / "catalog.sqlite").exists():
                        vectors.drop(settings, name)
                raise
    seconds = (dt.datetime.now() - started).total_seconds()
    return Outcome(name, int(manifest["documents"]), int(manifest["chunks"]), source.stat().st_size, seconds)


@contextlib.contextmanager
def _staging(home_kb: Path) -> Iterator[Path]:
    """A hidden folder beside the knowledge bases (no knowledge base name starts with a dot), removed after."""
    stage = home_kb / f".restore-{uuid.uuid4().hex[:16]}"
    stage.mkdir()
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _unpack(source: Path, stage: Path, pipeline: str) -> dict[str, Any]:
    """Extract the backup into ``stage`` and check it: every file listed with a matching checksum, nothing else,
    the format and the pipeline version this PilotQA writes."""
    bad = f"备份文件 {source} 已损坏或不是 PilotQA 的备份"
    try:
        with tarfile.open(source, mode="r:") as tar:
            tar.extractall(stage, filter="data")
        manifest = json.loads((stage / MANIFEST).read_text("utf-8"))
    except (OSError, tarfile.TarError, ValueError) as exc:
        if disk.disk_full(exc):
            raise disk.full(stage, source.stat().st_size * 2) from exc
        raise PilotQAError(f"{bad}（{exc}）：请换一个备份文件。") from exc
    if manifest.get("format") != FORMAT:
        raise PilotQAError(f"{bad}（格式 {manifest.get('format')}，本版本读取格式 {FORMAT}）：请用写出它的版本恢复。")
    if str(manifest.get("pipeline_version")) != pipeline:
        raise PilotQAError(
            f"备份文件 {source} 由导入流程第 {manifest.get('pipeline_version')} 版写出，当前为第 {pipeline} 版，"
            "未恢复：请用写出它的 PilotQA 版本恢复，或在当前版本重新导入文档。"
        )
    listed: dict[str, str] = manifest.get("files", {})
    found = {str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file() and p.name != MANIFEST}
    wrong = sorted(
        n for n in found | set(listed) if n not in found or n not in listed or _sha256(stage / n) != listed[n]
    )
    if wrong:
        raise PilotQAError(f"{bad}：{'、'.join(wrong[:3])} 的校验和不符或缺失，未恢复：请换一个备份文件。")
    return dict(manifest)


def _load_vectors(settings: Settings, name: str, stage: Path, collection: str) -> vectors.VectorStore:
    """The staging collection, filled from ``vectors.npz`` with each chunk's document and ordinal; the catalogue's
    vector copies filled where it has none."""
    catalog = Catalog(stage / "catalog.sqlite")
    try:
        with np.load(stage / "vectors.npz", allow_pickle=False) as z:
            text = str(z["ids"])
            ids = text.split("\n") if text else []
            matrix = z["vectors"]
        owner = {cid: (doc, n) for batch, docs, ords, _ in catalog.iter_vectors()
                 for cid, doc, n in zip(batch, docs, ords, strict=True)}  # fmt: skip
        if set(ids) != set(owner):
            raise PilotQAError(
                f"备份中的向量与目录不一致（{len(ids)} 个向量，{len(owner)} 个片段），未恢复：请换一个备份文件。"
            )
        meta = {"embed_model": catalog.get_meta("embed_model") or "", "kb": name}
        store = vectors.VectorStore(settings, name, meta, collection=collection)
        rows = {cid: i for i, cid in enumerate(ids)}
        order = [cid for cid in owner]  # the catalogue's order: the index is built as the original was
        store.upsert(order, matrix[[rows[c] for c in order]] if order else matrix,
                     [{"doc_id": owner[c][0], "ordinal": owner[c][1]} for c in order])  # fmt: skip
        missing = [cid for batch, _, _, blobs in catalog.iter_vectors() for cid, b in zip(batch, blobs, strict=True)
                   if b is None]  # fmt: skip
        catalog.set_vectors([(cid, matrix[rows[cid]]) for cid in missing])
    finally:
        catalog.close()
    return store


def _relocate(catalog_path: Path, old: Path, new: Path) -> None:
    """Documents uploaded into the backed-up knowledge base come from its new uploads folder."""
    catalog = Catalog(catalog_path)
    try:
        for d in catalog.documents():
            with contextlib.suppress(ValueError):
                catalog.relocate(d.doc_id, str(new / Path(d.source).relative_to(old)))
    finally:
        catalog.close()


def _switch(settings: Settings, name: str, stage: Path, store: vectors.VectorStore, uploads: Path) -> None:
    """The staging parts take the knowledge base's name: uploads, collection, then the folder that makes it exist
    (what a knowledge base of this name left, with no catalogue, is removed first)."""
    staged = stage / "uploads"
    if staged.is_dir() and any(staged.iterdir()):
        uploads.parent.mkdir(parents=True, exist_ok=True)
        if uploads.exists():
            shutil.rmtree(uploads)  # no knowledge base of this name: its old uploads folder is left over
        staged.rename(uploads)
    kb_dir = stage / "kb"
    kb_dir.mkdir()
    for part in ("catalog.sqlite", "lexical.npz"):
        (stage / part).rename(kb_dir / part)
    if settings.kb_dir(name).exists():
        shutil.rmtree(settings.kb_dir(name))
    vectors.drop(settings, name)
    store.rename(name)
    kb_dir.rename(settings.kb_dir(name))
    disk.sync_folder(settings.kb_dir(name).parent)
