"""One writer per knowledge base: concurrent ingests, a writer that waits or gives up, a dead writer's lock, and
a BM25 snapshot that disagrees with the catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from ingest.summary import Status
from kb import lock
from kb.lexical import LexicalIndex
from kb.segment import Segmenter, bigrams
from kb.settings import Settings
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CORPUS, make_settings
from tests.test_ingest import cli

pytestmark = pytest.mark.slow
REPORT = (CORPUS / "shandong-fintech-pilots-2020-11-10.txt").read_text("utf-8")


def copies(path: Path, prefix: str, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            doc_id = f"{prefix}{i}"
            record = {"doc_id": doc_id, "title": f"副本{doc_id}", "text": f"编号{doc_id}号副本。\n{REPORT}"}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def reopened(settings: Settings, segmenter: Segmenter) -> KnowledgeBase:
    return KnowledgeBase.open(settings, "default", segmenter, None)


def findable(kb: KnowledgeBase, doc_id: str) -> bool:
    """BM25 finds the document's own marker line (编号a3号副本) at the top."""
    hits = kb.lexical("bigrams", bigrams(f"编号{doc_id}号副本"), 1)
    return bool(hits) and kb.chunks([hits[0][0]])[hits[0][0]].doc_id == doc_id


def test_two_ingest_processes_at_once_lose_nothing(tmp_path: Path, segmenter: Segmenter) -> None:
    home = tmp_path / "home"
    files = [copies(tmp_path / f"{p}.jsonl", p, 8) for p in "ab"]
    procs = [cli(home, "ingest", str(f), "--quiet") for f in files]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    kb = reopened(make_settings(home), segmenter)
    assert kb.check() == [] and kb.counts()[0] == 16
    assert all(findable(kb, f"{p}{i}") for p in "ab" for i in range(8))


def test_a_writer_in_another_object_catches_up_first(settings: Settings, segmenter: Segmenter,
                                                     embedder: Embedder, tmp_path: Path) -> None:  # fmt: skip
    """Two handles on one knowledge base (as two processes have) take turns: each writes on top of the other's
    work, and the BM25 snapshot the last one leaves holds both."""
    first, second = (KnowledgeBase.open(settings, "default", segmenter, embedder.name) for _ in range(2))
    Ingestor(first, embedder, 300, 50).run([copies(tmp_path / "a.jsonl", "a", 2)])
    Ingestor(second, embedder, 300, 50).run([copies(tmp_path / "b.jsonl", "b", 2)])
    assert second.check() == [] and findable(second, "a1")
    kb = reopened(settings, segmenter)
    assert kb.check() == [] and all(findable(kb, d) for d in ("a0", "a1", "b0", "b1"))


def test_a_reader_finds_by_words_what_another_handle_wrote(settings: Settings, segmenter: Segmenter,
                                                          embedder: Embedder, tmp_path: Path) -> None:  # fmt: skip
    """A long-running reader (the app beside a Chroma server) searches BM25 over what another process wrote since
    it opened, not its old snapshot."""
    reader, writer = (KnowledgeBase.open(settings, "default", segmenter, embedder.name) for _ in range(2))
    Ingestor(writer, embedder, 300, 50).run([copies(tmp_path / "a.jsonl", "a", 2)])
    assert findable(reader, "a1")


def test_a_second_writer_waits_gives_up_untouched_and_takes_over_a_dead_ones_lock(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = make_settings(home)
    report = str(CORPUS)
    with lock.writer(settings, "default"):  # this process writes: the ingest gives up and writes nothing
        proc = cli(home, "ingest", report, "--quiet", env_extra={"PILOTQA_LOCK_TIMEOUT_S": "1"})
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and f"进程 {os.getpid()} 写入" in err and "未写入任何内容" in err, err
    assert not (home / "kb" / "default").exists()

    with lock.writer(settings, "default"):  # the ingest waits and says so; once this process is done, it goes on
        proc = cli(home, "ingest", report, "--quiet", env_extra={"PILOTQA_LOCK_TIMEOUT_S": "120"})
        waiting = next((line for line in proc.stderr or [] if "正由" in line), "")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "新增 1 篇" in out and f"正由进程 {os.getpid()} 写入" in waiting, err

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.lock_path(settings, "default").write_text(str(dead.pid))  # left by a writer that died
    proc = cli(home, "ingest", report, "--quiet", env_extra={"PILOTQA_LOCK_TIMEOUT_S": "1"})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "未变 1 篇" in out and "正由" not in err, err


def test_a_bm25_snapshot_that_differs_from_the_catalogue_is_rebuilt(settings: Settings, segmenter: Segmenter,
                                                                    embedder: Embedder) -> None:  # fmt: skip
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    Ingestor(kb, embedder, 300, 50).run([CORPUS])
    (target,) = [cid for cid, c in kb.chunks(kb.chunk_ids()).items() if "4821台" in c.text]
    # the snapshot loses a chunk but keeps the catalogue's generation, as a second writer's snapshot did
    path = kb.dir / "lexical.npz"
    with np.load(path, allow_pickle=False) as z:
        generation = int(z["generation"])
    snapshot = LexicalIndex.load(path, generation)
    assert snapshot is not None
    snapshot.remove([target])
    snapshot.save(path, generation)
    fresh = reopened(settings, segmenter)
    assert fresh.check() == []
    assert target in [cid for cid, _ in fresh.lexical("terms", segmenter.terms("刷脸付受理终端布放"), 3)]
    again = LexicalIndex.load(path, generation)  # the rebuilt index was saved
    assert again is not None and target in again.live()
    assert Ingestor(fresh, embedder, 300, 50).run([CORPUS]).count(Status.UNCHANGED) == 1
