"""A knowledge base's check and repair: every part held against the catalogue, disagreements said, what can be
rebuilt from what is stored rebuilt.

Owns: ``check`` (``pilotqa kb check`` and the 文档 page): the catalogue's own integrity and pending writes, the
stored texts (each chunk is its document's text at its offsets), the vector copies the catalogue keeps, Chroma's
vectors and index (readable, the same ids and vectors as the catalogue, a query answered), the BM25 snapshot, the
fact registry (each fact's document and figure), the uploads folder (files no document comes from, documents whose
uploaded file is gone, temporary files) and the OCR cache (unreadable entries, temporary files); with ``repair``,
rebuilding Chroma's index from the stored vectors (never re-reading or re-embedding a document), the BM25 snapshot
from the stored terms, and removing what nothing refers to. Does not own: the write protocol (``kb.store``) or where
the uploads folder and the OCR cache are (the caller says).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb import disk, lock, vectors
from kb.catalog import Catalog
from kb.errors import DamagedIndexError
from kb.lexical import LexicalIndex
from kb.settings import Settings
from kb.store import lexical_of

log = logging.getLogger(__name__)
TOLERANCE = 1e-4  # float32 vectors read back from Chroma agree with the catalogue's copies to this


@dataclass
class Report:
    """What ``check`` found (one line per part) and, when repairing, what it rebuilt or removed."""

    name: str
    lines: list[str] = field(default_factory=list)  # each part checked: what it holds, agreeing
    problems: list[str] = field(default_factory=list)  # disagreements still there
    repaired: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok and self.repaired:
            return f"知识库“{self.name}”已修复（{len(self.repaired)} 项），各部分与目录一致（{self.seconds:.1f} 秒）。"
        if self.ok:
            return f"知识库“{self.name}”各部分与目录一致（{self.seconds:.1f} 秒）。"
        how = "" if self.repaired else f"可运行 pilotqa kb check {self.name} --repair 修复能修复的部分。"
        return f"知识库“{self.name}”有 {len(self.problems)} 处不一致。{how}"


@dataclass
class _Run:
    settings: Settings
    name: str
    catalog: Catalog
    report: Report
    repair: bool

    def problem(self, text: str, fixed: str = "") -> None:
        """A disagreement; ``fixed`` says what the repair did about it (then it no longer counts)."""
        if self.repair and fixed:
            self.report.repaired.append(f"{text}：{fixed}")
        else:
            self.report.problems.append(text)


def check(settings: Settings, name: str, uploads: Path | None = None, ocr_cache: Path | None = None,
          repair: bool = False) -> Report:  # fmt: skip
    """Check knowledge base ``name`` (held for writing, so that no write is half seen); ``repair`` fixes what the
    stored data can fix. ``uploads``: its uploads folder; ``ocr_cache``: the OCR cache folder."""
    started = time.perf_counter()
    report = Report(name)
    with lock.writer(settings, name), _opened(settings.kb_dir(name) / "catalog.sqlite") as catalog:
        run = _Run(settings, name, catalog, report, repair)
        if _catalogue(run):
            _texts(run)
            _vectors(run)
            _lexical(run)
            _facts(run)
        if uploads is not None:
            _uploads(run, uploads)
        if ocr_cache is not None:
            _ocr(run, ocr_cache)
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Catalog]:
    catalog = Catalog(path)
    try:
        yield catalog
    finally:
        catalog.close()


def _catalogue(run: _Run) -> bool:
    """The catalogue's own state; False when it is damaged (nothing else can be judged against it)."""
    verdict = [r[0] for r in run.catalog.read("PRAGMA quick_check")]
    if verdict != ["ok"]:
        damage = "；".join(map(str, verdict[:3]))
        run.problem(f"目录（catalog.sqlite）已损坏：{damage}。请用备份恢复（pilotqa kb restore）")
        return False
    docs, chunks = run.catalog.counts()
    run.report.lines.append(f"目录：{docs} 篇文档，{chunks} 个片段，{run.catalog.fact_count()} 条事实")
    pending = run.catalog.pending()
    if pending:  # vectors follow the catalogue: what ``_vectors`` repairs
        run.problem(f"有 {len(pending)} 篇文档的写入未完成（{'、'.join(pending[:3])}）", "已按目录收尾")
        if run.repair:
            run.catalog.clear_pending(pending)
    return True


def _texts(run: _Run) -> None:
    """Each chunk is its document's text at its offsets, each document counts its chunks, no chunk is orphaned."""
    bad = run.catalog.read(
        "SELECT DISTINCT c.doc_id FROM chunks c LEFT JOIN documents d ON d.doc_id = c.doc_id "
        "WHERE d.doc_id IS NULL OR substr(d.text, c.start + 1, c.end - c.start) != c.text"
    )
    miscount = run.catalog.read(
        "SELECT d.doc_id FROM documents d LEFT JOIN (SELECT doc_id, COUNT(*) AS n FROM chunks GROUP BY doc_id) c "
        "ON c.doc_id = d.doc_id WHERE COALESCE(c.n, 0) != d.n_chunks"
    )
    ids = sorted({r[0] for r in bad} | {r[0] for r in miscount})
    if ids:
        run.problem(f"{len(ids)} 篇文档的片段与保存的正文不一致（{'、'.join(ids[:3])}）：请重新导入这些文档的文件")
    else:
        run.report.lines.append("正文：每个片段都与所在文档保存的正文一致")


def _vectors(run: _Run) -> None:
    """Chroma's vectors against the catalogue's ids and vector copies; repaired from the copies."""
    copies, owner = _copies(run.catalog)
    store = vectors.VectorStore(run.settings, run.name, _meta(run))
    try:
        held = {i: v for ids, vecs in store.batches() for i, v in zip(ids, vecs, strict=True)}
        if held and copies:
            store.search(next(iter(held.values())), 1)
    except DamagedIndexError as exc:
        run.problem(f"向量索引无法读取（{str(exc)[:160]}）", "已从保存的向量重建索引")
        if run.repair:
            _rebuild(run, copies, owner)
        return
    no_copy = [cid for cid, v in copies.items() if v is None]
    if no_copy:
        readable = [cid for cid in no_copy if cid in held]
        run.problem(f"{len(no_copy)} 个片段在目录中没有向量副本", f"已从向量库补存 {len(readable)} 个")
        if run.repair:
            run.catalog.set_vectors([(cid, held[cid]) for cid in readable])
            copies.update({cid: held[cid] for cid in readable})
    missing = [cid for cid in copies if cid not in held]
    extra = [cid for cid in held if cid not in copies]
    differ = [cid for cid, v in copies.items() if v is not None and cid in held and
              float(np.max(np.abs(held[cid] - v))) > TOLERANCE]  # fmt: skip
    if missing or differ:
        run.problem(f"向量库缺少 {len(missing)} 个片段的向量，{len(differ)} 个与目录保存的不同",
                    "已从保存的向量写回")  # fmt: skip
        if run.repair:
            _restore_vectors(run, store, missing + differ, copies, owner)
    if extra:
        run.problem(f"向量库多出 {len(extra)} 个目录中没有的片段", "已删除")
        if run.repair:
            store.delete(extra)
    if not (missing or differ or extra or no_copy):
        run.report.lines.append(f"向量：{len(held)} 个，与目录及其保存的向量一致，索引可查询")


def _copies(catalog: Catalog) -> tuple[dict[str, np.ndarray | None], dict[str, tuple[str, int]]]:
    """Each chunk's vector copy (None when the catalogue has none) and its (doc_id, ordinal)."""
    copies: dict[str, np.ndarray | None] = {}
    owner: dict[str, tuple[str, int]] = {}
    for ids, docs, ordinals, blobs in catalog.iter_vectors():
        for cid, doc, n, blob in zip(ids, docs, ordinals, blobs, strict=True):
            copies[cid] = np.frombuffer(blob, np.float32) if blob is not None else None
            owner[cid] = (doc, n)
    return copies, owner


def _rebuild(run: _Run, copies: dict[str, np.ndarray | None], owner: dict[str, tuple[str, int]]) -> None:
    """A new collection from the catalogue's vector copies (the damaged one dropped); documents with a chunk
    lacking a copy are dropped from the catalogue, to be imported again."""
    lost = sorted({owner[cid][0] for cid, v in copies.items() if v is None})
    if lost:
        run.catalog.delete(lost)
        names = "、".join(lost[:3])
        run.report.repaired.append(f"{len(lost)} 篇文档没有保存的向量，已移出知识库：请重新导入（{names}）")
    kept = {cid: v for cid, v in copies.items() if v is not None}
    disk.ensure_room(run.settings.home, sum(v.nbytes for v in kept.values()) * 6, run.settings.min_free_mb)
    vectors.drop(run.settings, run.name)
    _restore_vectors(run, vectors.VectorStore(run.settings, run.name, _meta(run)), list(kept), copies, owner)


def _meta(run: _Run) -> dict[str, str | int]:
    """The collection's metadata, as ``kb.store`` creates it."""
    return {"embed_model": run.catalog.get_meta("embed_model") or "", "kb": run.name}


def _restore_vectors(run: _Run, store: vectors.VectorStore, ids: list[str], copies: dict[str, np.ndarray | None],
                     owner: dict[str, tuple[str, int]]) -> None:  # fmt: skip
    ids = [cid for cid in ids if copies.get(cid) is not None]
    if ids:
        metas = [{"doc_id": owner[cid][0], "ordinal": owner[cid][1]} for cid in ids]
        store.upsert(ids, np.stack([copies[cid] for cid in ids]), metas)  # type: ignore[misc]


def _lexical(run: _Run) -> None:
    """The BM25 snapshot holds exactly the catalogue's chunks at its generation; rebuilt from the stored terms."""
    path = run.settings.kb_dir(run.name) / "lexical.npz"
    generation = run.catalog.generation
    index = LexicalIndex.load(path, generation)
    chunks = set(run.catalog.chunk_ids())
    if index is not None and index.live() == chunks:
        run.report.lines.append(f"BM25 快照：{len(chunks)} 个片段，与目录一致")
        return
    why = "不存在" if not path.exists() else "无法读取或与目录不一致"
    run.problem(f"BM25 快照（{path.name}）{why}", "已从目录保存的词项重建")
    if run.repair:
        lexical_of(run.catalog).save(path, generation)


def _facts(run: _Run) -> None:
    """Each fact's document is stored and its figure is that document's text at its offsets."""
    orphans = run.catalog.read("SELECT COUNT(*) FROM facts WHERE doc_id NOT IN (SELECT doc_id FROM documents)")[0][0]
    wrong = run.catalog.read(
        "SELECT DISTINCT f.doc_id FROM facts f JOIN documents d ON d.doc_id = f.doc_id "
        "WHERE substr(d.text, f.value_start + 1, f.value_end - f.value_start) != f.text "
        "OR f.start < 0 OR f.end > length(d.text)"
    )
    if orphans:
        run.problem(f"事实登记中有 {orphans} 条事实的文档已不在知识库中", "已删除")
        if run.repair:
            run.catalog.delete_orphan_facts()
    if wrong:
        ids = [r[0] for r in wrong]
        run.problem(f"{len(ids)} 篇文档的事实与正文位置不符（{'、'.join(ids[:3])}）：请重新导入这些文档的文件")
    if not orphans and not wrong:
        run.report.lines.append(f"事实登记：{run.catalog.fact_count()} 条，均指向所在文档的原文")


def _uploads(run: _Run, folder: Path) -> None:
    """Files in the uploads folder against the documents that come from them."""
    if not folder.is_dir():
        return
    top = folder.resolve()
    sources = {Path(r[0]) for r in run.catalog.read("SELECT DISTINCT source FROM documents")}
    ours = {s.resolve() for s in sources if s.resolve().is_relative_to(top)}
    files = {p.resolve() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
    temps = list(folder.glob(".upload-*.part"))
    unused = sorted(files - ours)
    gone = sorted(ours - files)
    if temps:
        run.problem(f"上传文件夹里有 {len(temps)} 个未完成的临时文件", "已删除")
        if run.repair:
            disk.sweep(folder, (".upload-*.part",))
    if unused:
        names = "、".join(p.name for p in unused[:3])
        run.problem(f"上传文件夹里有 {len(unused)} 个文件没有文档来自它（{names}）", "已删除")
        if run.repair:
            for p in unused:
                p.unlink(missing_ok=True)
    if gone:  # the documents still answer: their text is in the catalogue
        run.problem(f"{len(gone)} 篇上传文档的原文件已不在上传文件夹（{'、'.join(p.name for p in gone[:3])}）：文档仍可"
                    "查询；需要原文件时请重新上传")  # fmt: skip
    if not (temps or unused or gone):
        run.report.lines.append(f"上传文件夹：{len(files)} 个文件，每个都有文档来自它")


def _ocr(run: _Run, cache: Path) -> None:
    """OCR cache entries that cannot be read (recognised again when needed) and leftover temporary files."""
    if not cache.is_dir():
        return
    entries = list(cache.glob("*/*.json"))
    bad = [p for p in entries if not _readable(p)]
    temps = [p for p in cache.glob("*/*") if p.name.startswith(disk.TMP_PREFIX) or p.suffix == ".tmp"]
    if bad or temps:
        run.problem(f"文字识别缓存中有 {len(bad)} 个条目无法读取、{len(temps)} 个临时文件", "已删除（需要时重新识别）")
        if run.repair:
            for p in bad + temps:
                p.unlink(missing_ok=True)
    else:
        run.report.lines.append(f"文字识别缓存：{len(entries)} 个条目均可读取")


def _readable(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text("utf-8")), list)
    except (OSError, ValueError):
        return False
