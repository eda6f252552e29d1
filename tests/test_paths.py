"""What an ingest reads and what a prune may remove: paths named twice, symlink loops, moved and unnamed folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from ingest.summary import Status
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


@pytest.fixture
def ingestor(settings: Settings, segmenter: Segmenter, embedder: Embedder) -> Ingestor:
    return Ingestor(KnowledgeBase.open(settings, "default", segmenter, embedder.name), embedder, 300, 50)


def test_a_file_named_twice_is_read_once(tmp_path: Path, ingestor: Ingestor, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    note = folder / "x.txt"
    note.write_text("齐鲁银行签约用户数量已达10.29万户。", "utf-8")
    monkeypatch.chdir(tmp_path)
    first = ingestor.run([Path("in"), Path("in/x.txt"), note])  # the folder, a relative and an absolute spelling
    assert [r.status for r in first.results] == [Status.ADDED]
    note.write_text("齐鲁银行签约用户数量已达20.5万户。", "utf-8")
    edited = ingestor.run([note, Path("in")])
    assert [r.status for r in edited.results] == [Status.UPDATED]
    assert "20.5万户" in (ingestor.kb.document(edited.results[0].doc_id) or pytest.fail("not stored")).text
    assert ingestor.kb.counts() == (1, 1) and ingestor.kb.check() == []


def test_a_symlink_loop_is_a_failure_line_and_the_batch_goes_on(tmp_path: Path, ingestor: Ingestor) -> None:
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    good = tmp_path / "good.txt"
    good.write_text("青岛农商行新增签约用户1234户。", "utf-8")
    summary = ingestor.run([tmp_path / "loop-a", good])
    failed = [r for r in summary.results if r.status is Status.FAILED]
    assert [Path(r.source).name for r in failed] == ["loop-a"] and "循环" in failed[0].message
    assert summary.count(Status.ADDED) == 1 and summary.ok


def test_prune_removes_only_under_the_paths_named(tmp_path: Path, ingestor: Ingestor) -> None:
    """A folder the command does not name is left alone, even when it is missing (moved, unmounted)."""
    mine, other = tmp_path / "mine", tmp_path / "other"
    for folder, text in ((mine, "甲"), (other, "乙")):
        folder.mkdir()
        for i in range(2):
            (folder / f"{i}.txt").write_text(f"{text}文件{i}：齐鲁银行签约用户{i}万户。", "utf-8")
    ingestor.run([mine, other])
    other.rename(tmp_path / "elsewhere")
    (mine / "1.txt").unlink()
    pruned = ingestor.run([mine], prune=True)
    assert [Path(r.source).name for r in pruned.results if r.status is Status.REMOVED] == ["1.txt"]
    assert sorted(Path(d.source).parent.name for d in ingestor.kb.documents()) == ["mine", "other", "other"]
    assert ingestor.kb.check() == []


def test_prune_keeps_what_an_empty_named_folder_held(tmp_path: Path, ingestor: Ingestor) -> None:
    """A named folder with no file in it (an unmounted drive's mount point) is no reason to remove its documents:
    they stay, and one line says why; a folder that still holds files is pruned as usual."""
    drive = tmp_path / "mnt"
    drive.mkdir()
    for i in range(2):
        (drive / f"{i}.txt").write_text(f"文件{i}：齐鲁银行签约用户{i}万户。", "utf-8")
    ingestor.run([drive])
    for f in drive.iterdir():
        f.unlink()
    pruned = ingestor.run([drive], prune=True)
    assert pruned.count(Status.REMOVED) == 0 and len(ingestor.kb.documents()) == 2
    (line,) = [r for r in pruned.results if r.status is Status.FAILED]
    assert line.source == str(drive.resolve()) and "2 篇文档保留" in line.message
    (drive / "0.txt").write_text("文件0：齐鲁银行签约用户0万户。", "utf-8")
    again = ingestor.run([drive], prune=True)
    assert again.count(Status.REMOVED) == 1 and len(ingestor.kb.documents()) == 1


def test_a_moved_file_keeps_its_id_and_citations(tmp_path: Path, ingestor: Ingestor) -> None:
    before = tmp_path / "reports"
    shutil.copytree(CORPUS, before)
    ingestor.run([before])
    (doc,) = ingestor.kb.documents()
    chunk_ids = ingestor.kb.chunk_ids(doc.doc_id)
    after = tmp_path / "renamed"
    os.rename(before, after)
    moved = ingestor.run([after], prune=True)
    assert [(r.status, r.doc_id) for r in moved.results] == [(Status.MOVED, doc.doc_id)] and moved.chunks == 0
    (now,) = ingestor.kb.documents()
    assert now.doc_id == doc.doc_id and now.source == str(after / Path(doc.source).name)
    assert ingestor.kb.chunk_ids(doc.doc_id) == chunk_ids and ingestor.kb.check() == []
    again = ingestor.run([after], prune=True)
    assert [r.status for r in again.results] == [Status.UNCHANGED]
    # a new file where the moved one was is another document: it may not take the moved one's id
    before.mkdir()
    (before / Path(doc.source).name).write_text("另一份报告：青岛农商行新增签约用户1234户。", "utf-8")
    new = ingestor.run([before, after], prune=True)
    assert sorted(r.status for r in new.results) == [Status.ADDED, Status.UNCHANGED]
    assert ingestor.kb.counts()[0] == 2 and ingestor.kb.chunk_ids(doc.doc_id) == chunk_ids
