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
from ingest.summary import Status
from kb.catalog import Catalog
from kb.errors import ModelMismatchError
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CACHE, CORPUS, make_settings
from tests.pdfgen import pdf_with_bad_filter, pdf_with_huge_tounicode

pytestmark = pytest.mark.slow


def open_kb(settings: Settings, segmenter: Segmenter, embedder: Embedder, name: str = "default") -> KnowledgeBase:
    return KnowledgeBase.open(settings, name, segmenter, embedder.name)


def consistent(kb: KnowledgeBase) -> None:
    """Catalogue, vectors and BM25 agree, in this process and as reopened from disk (the BM25 snapshot)."""
    assert kb.check() == []
    fresh = KnowledgeBase.open(kb.settings, kb.name, kb.segmenter, None)
    assert fresh.check() == [] and fresh.chunk_ids() == kb.chunk_ids()


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
    assert first.count(Status.ADDED) == 1 and first.chunks > 5
    consistent(kb)

    again = ingestor.run([corpus])
    assert again.count(Status.UNCHANGED) == 1 and again.chunks == 0

    extra = corpus / "note.md"
    extra.write_text("# 补充说明\n\n青岛农商行新增签约用户1234户。\n", "utf-8")
    ingestor.run([corpus])
    before = {d.doc_id: d.content_hash for d in kb.documents()}
    extra.write_text("# 补充说明\n\n青岛农商行新增签约用户5678户。\n", "utf-8")
    changed = ingestor.run([corpus])
    after = {d.doc_id: d.content_hash for d in kb.documents()}
    assert changed.count(Status.UPDATED) == 1 and changed.count(Status.UNCHANGED) == 1
    updated = [r.doc_id for r in changed.results if r.status is Status.UPDATED]
    assert [k for k in after if after[k] != before[k]] == updated
    consistent(kb)

    hits = Retriever(kb, embedder).search("刷脸付受理终端布放了多少台", k=3).hits
    assert "4821台" in hits[0].chunk.text
    hits = Retriever(kb, embedder).search("青岛农商行新增签约用户", k=3).hits
    assert "5678户" in hits[0].chunk.text and not any("1234户" in h.chunk.text for h in hits)

    extra.unlink()
    pruned = ingestor.run([corpus], prune=True)
    assert pruned.count(Status.REMOVED) == 1
    consistent(kb)


def test_bad_files_do_not_stop_the_batch(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                         embedder: Embedder) -> None:  # fmt: skip
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.pdf").write_bytes(b"%PDF-1.4 garbage")
    (folder / "filter.pdf").write_bytes(pdf_with_bad_filter("Pilot terminals 4821 units."))  # NotImplementedError
    (folder / "tounicode.pdf").write_bytes(pdf_with_huge_tounicode("Pilot terminals."))  # LimitReachedError
    (folder / "good.txt").write_text("齐鲁银行签约用户数量已达10.29万户。", "utf-8")
    kb = open_kb(settings, segmenter, embedder)
    summary = Ingestor(kb, embedder, 300, 50).run([folder, tmp_path / "missing"])
    assert summary.count(Status.ADDED) == 1 and summary.count(Status.FAILED) == 5
    assert all(r.message for r in summary.results if r.status is Status.FAILED)
    # re-running with the bad files still there loses nothing already stored
    Ingestor(kb, embedder, 300, 50).run([folder], prune=True)
    assert kb.counts()[0] == 1


def test_model_mismatch_is_a_clear_error(settings: Settings, segmenter: Segmenter, embedder: Embedder) -> None:
    open_kb(settings, segmenter, embedder)
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        KnowledgeBase.open(settings, "default", segmenter, "/some/other/model")
    rebuilt = KnowledgeBase.open(settings, "default", segmenter, "/some/other/model", rebuild=True)
    assert rebuilt.model == "/some/other/model"


def cli(home: Path, *args: str, env_extra: dict[str, str] | None = None, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PILOTQA_HOME": str(home), "PILOTQA_CACHE_DIR": str(CACHE), **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]  # fmt: skip


def test_cli_ingest_reopen_in_another_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out, err = cli(home, "ingest", str(CORPUS), "--quiet").communicate(timeout=300)
    assert "新增 1 篇" in out, err
    out, _ = cli(home, "kb", "show", "default").communicate(timeout=120)
    assert "山东省33项金融科技试点项目" in out and "2020-11-10" in out
    assert "清除模板文字 4 处" in out  # the repost notice, 展开全文 and the 相关阅读 tail it ends with
    out, _ = cli(home, "kb", "list").communicate(timeout=120)
    assert out.startswith("default")
    proc = cli(home, "ask", "--kb", "typo", "刷脸付受理终端布放了多少台？")  # reading never creates a knowledge base
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "没有名为“typo”的知识库" in err and "已有的知识库：default" in err, err
    assert not (home / "kb" / "typo").exists()
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
    assert summary.count(Status.UNCHANGED) == partial and summary.count(Status.ADDED) == 40 - partial
    consistent(kb)


def test_chroma_server_mode(tmp_path: Path, chroma_server: str, segmenter: Segmenter, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "home", chroma_url=chroma_server)
    kb = open_kb(settings, segmenter, embedder, name="server-test")
    assert kb.location == chroma_server
    summary = Ingestor(kb, embedder, 300, 50).run([CORPUS])
    assert summary.count(Status.ADDED) == 1
    consistent(kb)
    hits = Retriever(kb, embedder).search("6家银行累计线上发行电子社保卡多少张", k=3).hits
    assert any("53.87万张" in h.chunk.text for h in hits)
    # the vectors really live in the server: a fresh client sees them
    fresh = KnowledgeBase.open(settings, "server-test", segmenter, embedder.name)
    assert fresh.check() == [] and fresh.counts() == kb.counts()


def test_hash_in_a_path_survives_prune(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                       embedder: Embedder) -> None:  # fmt: skip
    folder = tmp_path / "报告#1"
    folder.mkdir()
    (folder / "r#2.txt").write_text("齐鲁银行签约用户数量已达10.29万户。", "utf-8")
    (folder / "c.jsonl").write_text(json.dumps({"doc_id": "j-1", "text": "青岛农商行新增签约用户1234户。"}), "utf-8")
    kb = open_kb(settings, segmenter, embedder)
    ingestor = Ingestor(kb, embedder, 300, 50)
    assert ingestor.run([folder], prune=True).count(Status.ADDED) == 2
    again = ingestor.run([folder], prune=True)
    assert again.count(Status.UNCHANGED) == 2 and again.count(Status.REMOVED) == 0
    assert kb.counts()[0] == 2
    record = next(d for d in kb.documents() if d.doc_id == "j-1")
    assert record.source == str(folder / "c.jsonl") and record.record == "j-1"
    (folder / "c.jsonl").write_text(json.dumps({"doc_id": "j-2", "text": "另一条记录。"}), "utf-8")
    pruned = ingestor.run([folder], prune=True)  # j-1 left the file that was read whole: it goes
    assert [r.doc_id for r in pruned.results if r.status is Status.REMOVED] == ["j-1"]
    consistent(kb)


def test_a_doc_id_from_two_files_is_an_error_naming_both(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                                         embedder: Embedder) -> None:  # fmt: skip
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        json.dumps({"doc_id": "same", "text": "甲文件的记录。"}, ensure_ascii=False), "utf-8"
    )
    (folder / "b.jsonl").write_text(
        json.dumps({"doc_id": "same", "text": "乙文件的记录。"}, ensure_ascii=False), "utf-8"
    )
    kb = open_kb(settings, segmenter, embedder)
    ingestor = Ingestor(kb, embedder, 300, 50)
    for round_ in range(2):  # every run says the same: nothing flips between the two files
        summary = ingestor.run([folder])
        statuses = sorted((Path(r.source).name, r.status) for r in summary.results)
        first = Status.ADDED if round_ == 0 else Status.UNCHANGED
        assert statuses == [("a.jsonl", first), ("b.jsonl", Status.FAILED)]
        failed = next(r for r in summary.results if r.status is Status.FAILED)
        assert failed.record == "same" and "doc_id“same”" in failed.message
        assert str(folder / "a.jsonl") in failed.message and failed.source == str(folder / "b.jsonl")
    doc = kb.document("same")
    assert doc is not None and "甲文件" in doc.text
    # another run with b.jsonl alone may not overwrite a.jsonl's record either
    alone = ingestor.run([folder / "b.jsonl"])
    assert alone.count(Status.FAILED) == 1 and "甲文件" in (kb.document("same") or doc).text


def test_a_crash_during_delete_recovers(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                        embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The vector store fails after the catalogue dropped the document (a fake of that one failure point,
    which a Chroma server going away can cause); reopening the knowledge base finishes the delete."""
    kb = open_kb(settings, segmenter, embedder)
    Ingestor(kb, embedder, 300, 50).run([CORPUS])
    doc_id = kb.documents()[0].doc_id

    def gone(*_: object) -> None:
        raise ConnectionError("vector store went away")

    monkeypatch.setattr(kb._vectors, "delete", gone)
    with pytest.raises(ConnectionError):
        kb.delete_documents([doc_id])
    monkeypatch.undo()
    assert kb.check() != []  # the half-done delete is visible
    reopened = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    assert reopened.counts() == (0, 0) and reopened.check() == []
    assert reopened.lexical("terms", ["刷脸付"], 5) == []
