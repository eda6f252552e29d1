"""Ingest through the real stack: jieba, the bundled model, embedded Chroma and a Chroma server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.retrieve import Retriever
from ingest.pipeline import Ingestor
from kb.catalog import Catalog
from kb.embed import Embedder
from kb.errors import ModelMismatchError
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from tests.conftest import CACHE, CORPUS, make_settings

pytestmark = pytest.mark.slow


def open_kb(settings: Settings, segmenter: Segmenter, embedder: Embedder, name: str = "default") -> KnowledgeBase:
    return KnowledgeBase.open(settings, name, segmenter, embedder.name)


def consistent(kb: KnowledgeBase) -> None:
    catalog_ids = set(kb.catalog.chunk_ids())
    assert set(kb.vectors.all_ids()) == catalog_ids
    fresh = KnowledgeBase.open(kb.settings, kb.name, kb.segmenter, None)
    assert set(fresh.lexical.ids) == catalog_ids
    assert not kb.catalog.pending()


def copy_corpus(tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


def test_ingest_reingest_change_and_search(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                           embedder: Embedder) -> None:  # fmt: skip
    corpus = copy_corpus(tmp_path)
    kb = open_kb(settings, segmenter, embedder)
    ingestor = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb)
    first = ingestor.run([corpus])
    assert first.count("added") == 1 and first.chunks > 5
    consistent(kb)

    again = ingestor.run([corpus])
    assert again.count("unchanged") == 1 and again.chunks == 0

    extra = corpus / "note.md"
    extra.write_text("# 补充说明\n\n青岛农商行新增签约用户1234户。\n", "utf-8")
    ingestor.run([corpus])
    before = {d.doc_id: d.content_hash for d in kb.documents()}
    extra.write_text("# 补充说明\n\n青岛农商行新增签约用户5678户。\n", "utf-8")
    changed = ingestor.run([corpus])
    after = {d.doc_id: d.content_hash for d in kb.documents()}
    assert changed.count("updated") == 1 and changed.count("unchanged") == 1
    assert [k for k in after if after[k] != before[k]] == [r.doc_id for r in changed.results if r.status == "updated"]
    consistent(kb)

    hits = Retriever(kb, embedder).search("刷脸付受理终端布放了多少台", k=3)
    assert "4821台" in hits[0].chunk.text
    hits = Retriever(kb, embedder).search("青岛农商行新增签约用户", k=3)
    assert "5678户" in hits[0].chunk.text and not any("1234户" in h.chunk.text for h in hits)

    extra.unlink()
    pruned = ingestor.run([corpus], prune=True)
    assert pruned.count("removed") == 1
    consistent(kb)


def test_bad_files_do_not_stop_the_batch(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                         embedder: Embedder) -> None:  # fmt: skip
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.pdf").write_bytes(b"%PDF-1.4 garbage")
    (folder / "good.txt").write_text("齐鲁银行签约用户数量已达10.29万户。", "utf-8")
    kb = open_kb(settings, segmenter, embedder)
    summary = Ingestor(kb, embedder, 300, 50).run([folder, tmp_path / "missing"])
    assert summary.count("added") == 1 and summary.count("failed") == 3
    assert all(r.message for r in summary.results if r.status == "failed")
    # re-running with the bad files still there loses nothing already stored
    Ingestor(kb, embedder, 300, 50).run([folder], prune=True)
    assert kb.counts()[0] == 1


def test_model_mismatch_is_a_clear_error(settings: Settings, segmenter: Segmenter, embedder: Embedder) -> None:
    open_kb(settings, segmenter, embedder)
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        KnowledgeBase.open(settings, "default", segmenter, "/some/other/model")
    rebuilt = KnowledgeBase.open(settings, "default", segmenter, "/some/other/model", rebuild=True)
    assert rebuilt.model == "/some/other/model"


def cli(home: Path, *args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PILOTQA_HOME": str(home), "PILOTQA_CACHE_DIR": str(CACHE)}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]  # fmt: skip


def test_cli_ingest_reopen_in_another_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out, err = cli(home, "ingest", str(CORPUS), "--quiet").communicate(timeout=300)
    assert "新增 1 篇" in out, err
    out, _ = cli(home, "kb", "show", "default").communicate(timeout=120)
    assert "山东省33项金融科技试点项目" in out and "2020-11-10" in out
    out, _ = cli(home, "kb", "list").communicate(timeout=120)
    assert out.startswith("default")
    proc = cli(home, "ingest", str(tmp_path / "nope.txt"), "--quiet")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "路径不存在" in err
    assert cli(home, "ingest").wait(timeout=60) == 2
    out, _ = cli(home, "kb", "delete", "default").communicate(timeout=120)
    assert "已删除" in out


def test_kill_mid_ingest_then_recover(tmp_path: Path, segmenter: Segmenter, embedder: Embedder) -> None:
    home = tmp_path / "home"
    corpus = tmp_path / "big.jsonl"
    text = (CORPUS / "shandong-fintech-pilots-2020-11-10.txt").read_text("utf-8")
    with corpus.open("w", encoding="utf-8") as fh:
        for i in range(40):
            fh.write(json.dumps({"doc_id": f"d{i}", "title": f"副本{i}", "text": f"第{i}号副本。\n{text}"},
                                ensure_ascii=False) + "\n")  # fmt: skip
    proc = cli(home, "ingest", str(corpus), "--quiet")
    settings = make_settings(home)
    deadline = time.time() + 240
    while time.time() < deadline:  # wait until some batches are committed, then kill hard
        time.sleep(1)
        db = home / "kb" / "default" / "catalog.sqlite"
        # read the catalogue only: embedded Chroma is one process's store, so this process must not open it
        # while the child writes to it
        if db.exists() and Catalog(db).counts()[0] >= 8:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    consistent(kb)
    partial = kb.counts()[0]
    assert 0 < partial < 40
    summary = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb).run([corpus])
    assert summary.count("unchanged") == partial and summary.count("added") == 40 - partial
    consistent(kb)


def test_chroma_server_mode(tmp_path: Path, chroma_server: str, segmenter: Segmenter, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "home", chroma_url=chroma_server)
    kb = open_kb(settings, segmenter, embedder, name="server-test")
    assert kb.vectors.location == chroma_server
    summary = Ingestor(kb, embedder, 300, 50).run([CORPUS])
    assert summary.count("added") == 1
    consistent(kb)
    hits = Retriever(kb, embedder).search("6家银行累计线上发行电子社保卡多少张", k=3)
    assert any("53.87万张" in h.chunk.text for h in hits)
    # the vectors really live in the server: a fresh client sees them
    fresh = KnowledgeBase.open(settings, "server-test", segmenter, embedder.name)
    assert fresh.vectors.count() == kb.counts()[1]
