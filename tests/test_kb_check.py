"""``pilotqa kb check [--repair]`` through the real command line: a knowledge base whose Chroma index file is
broken (``index_metadata.pickle`` truncated to 0 bytes, as a full disk left it) fails with one line saying what to
run, the check names the damage, the repair rebuilds the index from the vectors the catalogue keeps (no document
read or embedded again), and every question answers as before; and the same check through ``ops.api`` on a library
that holds the knowledge base open (the app's, the service's), which opens it afresh after a repair. Real Chroma,
real ingest, real model."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ingest.pipeline import Ingestor
from kb import vectors
from kb.errors import DamagedIndexError
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from ops import api as ops
from ops.library import Library
from tests.conftest import CORPUS, make_settings
from tests.test_ingest import cli

pytestmark = pytest.mark.slow
REPORTS = Path(__file__).parent / "data" / "reports"
QUESTIONS = ["刷脸付受理终端布放了多少台？", "山东省有多少个金融科技试点项目？", "烟台市的试点项目由哪些机构牵头？"]
FILLER = 1000  # Chroma writes index_metadata.pickle once an index holds this many vectors


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = cli(home, *args)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def answers(home: Path) -> list[dict[str, object]]:
    got = []
    for q in QUESTIONS:
        done = run(home, "ask", "--json", q)
        assert done.returncode == 0, done.stderr
        got.append({k: v for k, v in json.loads(done.stdout).items() if k not in ("timings", "ms")})
    return got


def filler(path: Path) -> None:
    """Short records of their own (a second knowledge base's worth of notes), enough for Chroma's index files."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(FILLER):
            text = f"第{i}号备忘：编号{i}的登记事项已于第{i % 28 + 1}日归档，由档案室第{i % 9 + 1}组保管。"
            f.write(json.dumps({"doc_id": f"memo-{i}", "title": f"备忘{i}", "text": text}, ensure_ascii=False) + "\n")


def test_a_broken_index_is_checked_repaired_and_answers_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    filler(tmp_path / "memos.jsonl")
    done = run(home, "ingest", str(CORPUS), str(REPORTS), str(tmp_path / "memos.jsonl"), "--quiet")
    assert done.returncode == 0, done.stderr
    before = answers(home)
    assert all(a["grounded"] for a in before[:2])
    pickles = list((home / "chroma").glob("*/index_metadata.pickle"))
    assert len(pickles) == 1
    pickles[0].write_bytes(b"")  # what a full disk left behind

    broken = run(home, "ask", QUESTIONS[0])
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.count("\n") == 1 and "pilotqa kb check default --repair" in broken.stderr

    check = run(home, "kb", "check")
    assert check.returncode == 1 and "向量索引无法读取" in check.stdout and "--repair" in check.stdout

    repair = run(home, "kb", "check", "--repair")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "已从保存的向量重建索引" in repair.stdout and "已修复" in repair.stdout

    again = run(home, "kb", "check")
    assert again.returncode == 0 and "各部分与目录一致" in again.stdout, again.stdout
    assert answers(home) == before  # the same answers, the same citations: nothing was embedded again


def test_check_reports_each_disagreement_and_repairs_them(tmp_path: Path) -> None:
    """A stale BM25 snapshot, a stray uploaded file, a half-written upload, a damaged OCR cache entry: each named,
    each repaired, and the answers unchanged."""
    home = tmp_path / "home"
    assert run(home, "ingest", str(CORPUS), "--quiet").returncode == 0
    before = answers(home)[:1]
    (home / "kb" / "default" / "lexical.npz").write_bytes(b"PK\x03\x04 broken")
    uploads = home / "uploads" / "default"
    uploads.mkdir(parents=True)
    (uploads / "孤立.txt").write_text("没有文档来自这个文件", "utf-8")
    (uploads / ".upload-x.part").write_bytes(b"half")
    (home / "ocr" / "ab").mkdir(parents=True)
    (home / "ocr" / "ab" / "ab12.json").write_text("{not json", "utf-8")

    check = run(home, "kb", "check", "default")
    assert check.returncode == 1
    for words in ("BM25 快照", "孤立.txt", "未完成的临时文件", "文字识别缓存"):
        assert words in check.stdout, check.stdout
    assert run(home, "kb", "check", "default", "--repair").returncode == 0
    assert not (uploads / "孤立.txt").exists() and not (uploads / ".upload-x.part").exists()
    assert run(home, "kb", "check", "default").returncode == 0
    assert answers(home)[:1] == before


def test_the_library_checks_repairs_and_opens_the_knowledge_base_afresh(
    tmp_path: Path, segmenter: Segmenter, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ops.api.check`` on a library holding the knowledge base open (the app's, the service's): a damaged index is
    named and a check alone changes nothing; the repair drops the collection and rebuilds it from the catalogue's
    vectors, and the library opens the knowledge base afresh, answering as before. The damage is Chroma's query
    failing as a damaged index does (``DamagedIndexError``); everything else is real."""
    settings = make_settings(tmp_path / "home")
    base = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    Ingestor(base, embedder, settings.chunk_chars, settings.max_file_mb).run([CORPUS])
    lib = Library(settings, segmenter, embedder)
    opened = lib.assistant(None)
    before = ops.ask(lib, QUESTIONS[0])
    assert before is not None and before.grounded

    def damaged(self: vectors.VectorStore, *args: object, **kw: object) -> list[tuple[str, float]]:
        raise DamagedIndexError("向量索引已损坏（测试）")

    with monkeypatch.context() as patched:
        patched.setattr(vectors.VectorStore, "search", damaged)
        found = ops.check(lib)
        assert not found.ok and any("向量索引无法读取" in p for p in found.problems), found.problems
        assert lib.assistant(None) is opened  # a check alone changes nothing
        repaired = ops.check(lib, repair=True)
    assert repaired.ok and any("已从保存的向量重建索引" in r for r in repaired.repaired), repaired.repaired
    assert lib.assistant(None) is not opened  # opened afresh on the rebuilt collection
    assert ops.check(lib).ok
    after = ops.ask(lib, QUESTIONS[0])
    assert after is not None and after.text == before.text
    assert [c.chunk_id for c in after.citations] == [c.chunk_id for c in before.citations]
