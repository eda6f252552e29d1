"""A full disk during an ingest, on a real size-limited file system: a tmpfs the test mounts (root only; skipped
with the reason otherwise) holds PILOTQA_HOME. At several fill levels one more file is ingested: it either goes in
whole or the command stops with one line (磁盘空间不足：… naming the folder), and each time every earlier document
still answers exactly as before, ``kb check`` finds every part in agreement and no temporary file is left."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from kb.errors import DiskFullError
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CORPUS, make_settings
from tests.test_ingest import cli

pytestmark = pytest.mark.slow
REPORTS = Path(__file__).parent / "data" / "reports"
SIZE_MB = 24
QUESTIONS = ["刷脸付受理终端布放了多少台？", "山东省33项金融科技试点项目什么时候全部上线？", "青岛市有几个试点项目？"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of ``SIZE_MB`` MB, mounted for this test and unmounted after it."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a size-limited tmpfs needs root and the mount command: the full-disk test cannot run")
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(where)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): the full-disk test cannot run")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def run(home: Path, *args: str, margin_mb: float = 0) -> subprocess.CompletedProcess[str]:
    proc = cli(home, *args, env_extra={"PILOTQA_MIN_FREE_MB": str(margin_mb)})
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def answers(home: Path, questions: Path) -> list[dict[str, object]]:
    done = run(home, "ask", "--questions", str(questions), "--json")
    assert done.returncode == 0, done.stderr
    return [{k: v for k, v in json.loads(line).items() if k not in ("timings", "ms")}
            for line in done.stdout.splitlines()]  # fmt: skip


def fill(disk: Path, leave: int) -> Path:
    """A file that leaves ``leave`` bytes of the file system free."""
    path = disk / f"filler-{uuid.uuid4().hex}"
    with path.open("wb") as f, contextlib.suppress(OSError):
        f.truncate(0)
        f.write(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return path


def a_new_report(folder: Path, n: int) -> Path:
    """One more report, long enough that its catalogue rows, vectors and BM25 terms need room."""
    lines = [f"# 第{n}批试点补充报告（测试用虚构报告）", "", "日期：2022年3月1日", ""]
    lines += [f"第{n}批第{i}项：该项目由测试银行第{i}支行承担，截至2021年末服务客户{i * 37 + n}户，布放终端{i}台。"
              for i in range(400)]  # fmt: skip
    path = folder / f"report-{n}.md"
    path.write_text("\n".join(lines), "utf-8")
    return path


def temporary_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.name.startswith((".lexical-", ".pilotqa-tmp-", ".upload-"))]


def test_a_full_disk_stops_one_file_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    """No margin (PILOTQA_MIN_FREE_MB=0): the disk's own limit is what stops a write."""
    home = small_disk / "home"
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(QUESTIONS), "utf-8")
    assert run(home, "ingest", str(CORPUS), str(REPORTS), "--quiet").returncode == 0
    before = answers(home, questions)
    assert all(a["grounded"] for a in before)
    new = tmp_path / "new"
    new.mkdir()
    outcomes = []
    for n, leave_kb in enumerate([4000, 1500, 600, 200, 40, 0]):  # free space left before each ingest
        filler = fill(small_disk, leave_kb * 1024)
        done = run(home, "ingest", str(a_new_report(new, n)), "--quiet")
        filler.unlink()
        if done.returncode == 0:
            outcomes.append("stored")
            before = answers(home, questions)  # the new report is in: later comparisons include it
        else:
            outcomes.append("refused")
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("错误：磁盘空间不足："), done.stderr
            assert str(home) in lines[0] and "MB" in lines[0] and "Traceback" not in done.stderr
            assert answers(home, questions) == before  # exactly as before that file
        check = run(home, "kb", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert temporary_files(home) == [], temporary_files(home)
    assert "refused" in outcomes  # the disk did run out
    margin = run(home, "ingest", str(new), "--quiet", margin_mb=SIZE_MB * 2)  # the margin is kept free too
    assert margin.returncode == 1 and "磁盘空间不足" in margin.stderr and "PILOTQA_MIN_FREE_MB" in margin.stderr
    assert run(home, "ingest", str(new), "--quiet").returncode == 0  # with room again, the refused files go in
    assert run(home, "kb", "check").returncode == 0


@pytest.mark.parametrize("when", ["vectors", "catalogue"])
def test_a_disk_that_fills_mid_write_is_undone(small_disk: Path, tmp_path: Path, when: str, segmenter: Segmenter,
                                               embedder: Embedder) -> None:  # fmt: skip
    """The free-space check passes, then the disk fills during the write: before Chroma's write, or after it and
    before the catalogue's. The disk filling is real (a file takes the tmpfs's last byte); only its moment is
    chosen, by wrapping the real vector store's upsert, since a real write cannot be stopped at a chosen step
    otherwise. The write is undone: the catalogue, the vectors and the BM25 index are as before."""
    settings = make_settings(small_disk / "home", min_free_mb=0)
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    ingestor = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb)
    ingestor.run([CORPUS, REPORTS])
    before = (kb.chunk_ids(), kb.fact_count(), kb.lexical("terms", ["刷脸付"], 5))
    real_upsert = kb._vectors.upsert
    fillers: list[Path] = []

    def upsert(*args: object) -> None:
        if when == "vectors":
            fillers.append(fill(small_disk, 0))
        real_upsert(*args)  # type: ignore[arg-type]
        if when == "catalogue":
            fillers.append(fill(small_disk, 0))

    kb._vectors.upsert = upsert  # type: ignore[method-assign, assignment]
    new = tmp_path / "new"
    new.mkdir()
    with pytest.raises(DiskFullError, match="磁盘空间不足"):
        ingestor.run([a_new_report(new, 1)])
    for f in fillers:
        f.unlink()
    kb._vectors.upsert = real_upsert  # type: ignore[method-assign]
    assert (kb.chunk_ids(), kb.fact_count(), kb.lexical("terms", ["刷脸付"], 5)) == before
    # undoing needed room too (Chroma's delete writes): what it could not do, the next open does
    reopened = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    assert reopened.check() == [] and reopened.chunk_ids() == before[0]
    assert temporary_files(settings.home) == []


def test_an_upload_that_does_not_fit_is_one_line_and_keeps_nothing(small_disk: Path) -> None:
    """The upload path (app and service): a disk without room for the next file stops the upload with one line,
    the files it kept already removed, nothing half written left; room kept free by the margin counts too."""
    from ingest import uploads

    into = uploads.folder(small_disk / "home", "default")
    (into / ".upload-old.part").write_bytes(b"left by a killed upload")
    filler = fill(small_disk, 600 * 1024)
    files = [("一.txt", "第一份".encode() * 1000), ("二.txt", b"x" * 400_000), ("三.txt", b"y" * 400_000)]
    with pytest.raises(DiskFullError, match=r"^磁盘空间不足：.*uploads/default"):
        uploads.keep_all(into, files)
    assert list(into.iterdir()) == []  # the first file went again, the half-written one too
    filler.unlink()
    with pytest.raises(DiskFullError, match="PILOTQA_MIN_FREE_MB"):
        uploads.keep_all(into, files, min_free_mb=SIZE_MB * 2)
    kept, failed = uploads.keep_all(into, files)
    assert len(kept) == 3 and not failed


def test_the_app_says_a_full_disk_in_one_line_and_answers_after(small_disk: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """An upload through the app's sidebar on a full disk: one error line (磁盘空间不足, the folder), no exception,
    and the knowledge base answers as before."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.conftest import CACHE, ROOT

    home = small_disk / "home"
    assert run(home, "ingest", str(CORPUS), "--quiet").returncode == 0
    monkeypatch.setenv("PILOTQA_HOME", str(home))
    monkeypatch.setenv("PILOTQA_CACHE_DIR", str(CACHE))
    monkeypatch.setenv("PILOTQA_MIN_FREE_MB", "1")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    filler = fill(small_disk, 200 * 1024)
    report = "\n".join(f"第{i}条：测试银行第{i}支行布放终端{i}台。" for i in range(20000))
    at.file_uploader[0].set_value(("大报告.txt", report.encode("utf-8"), "text/plain")).run()
    next(b for b in at.button if b.label == "导入上传的文档").click().run()
    filler.unlink()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("磁盘空间不足：") and str(home) in errors[0], errors
    at.chat_input[0].set_value("刷脸付受理终端布放了多少台？").run()
    assert any("4821台" in m.value for m in at.markdown)
    st.cache_resource.clear()


def test_the_service_answers_a_full_disk_with_507_and_the_line() -> None:
    """An API upload on a full disk is 507 Insufficient Storage with the 磁盘空间不足 line, not a generic 500."""
    from kb import disk
    from service.app import _status

    assert _status(disk.full(Path("/data/home/uploads/default"), 5e6, 1e5)) == 507
    assert "磁盘空间不足：/data/home/uploads/default" in str(disk.full(Path("/data/home/uploads/default"), 5e6))
