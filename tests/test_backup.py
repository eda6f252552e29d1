"""``pilotqa kb backup`` and ``kb restore`` through the real command line, on the shipped report and the fixture
reports: a backup taken while a second process asks questions and a third ingests, restored into another data
folder, answers every question exactly as the original; a tampered backup or one from another pipeline version is
refused before anything is written."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT
from tests.test_full_disk import a_new_report
from tests.test_ingest import cli

pytestmark = pytest.mark.slow
REPORTS = Path(__file__).parent / "data" / "reports"
DATA = ROOT / "tests" / "data"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = cli(home, *args)
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def questions(path: Path) -> Path:
    """Every question of the corpus and fact sets, one per line."""
    lines = [json.loads(x)["question"] for f in ("corpus_questions.jsonl", "fact_questions.jsonl")
             for x in (DATA / f).read_text("utf-8").splitlines() if x.strip()]  # fmt: skip
    path.write_text("\n".join(lines), "utf-8")
    return path


def answers(home: Path, asked: Path, kb: str) -> list[dict[str, object]]:
    """Each answer as JSON, its timing left out and each cited file named by its name (homes differ)."""
    done = run(home, "ask", "--kb", kb, "--questions", str(asked), "--json")
    assert done.returncode == 0, done.stderr
    out = []
    for line in done.stdout.splitlines():
        a = {k: v for k, v in json.loads(line).items() if k not in ("timings", "ms")}
        for c in [*a.get("citations", []), *a.get("related", [])]:
            c["source"] = Path(c["source"]).name
        out.append(a)
    return out


def held(home: Path) -> bool:
    lock = home / "kb" / "default.lock"
    return lock.exists() and lock.read_text().strip().isdigit()


def test_a_backup_under_load_restores_elsewhere_answer_for_answer(tmp_path: Path) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    uploaded = home / "uploads" / "default"  # a document in the uploads folder moves with the backup
    uploaded.mkdir(parents=True)
    (uploaded / "上传的报告.md").write_text((REPORTS / "jinan-pilots-2021-q1.md").read_text("utf-8"), "utf-8")
    assert run(home, "ingest", str(CORPUS), str(REPORTS), str(uploaded), "--quiet").returncode == 0
    asked = questions(tmp_path / "questions.txt")
    extra = tmp_path / "extra"
    extra.mkdir()

    writer = cli(home, "ingest", str(a_new_report(extra, 7)), "--quiet")  # the third process: an ingest
    deadline = time.time() + 120
    while not held(home) and writer.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    asker = cli(home, "ask", "--questions", str(asked), "--json")  # the second: questions all along
    backup = run(home, "kb", "backup", "default", str(tmp_path / "kb.tar"))
    assert backup.returncode == 0, backup.stderr
    asked_out, asked_err = asker.communicate(timeout=600)
    assert asker.returncode == 0, asked_err
    assert len(asked_out.splitlines()) == len(asked.read_text("utf-8").splitlines())
    assert writer.wait(timeout=600) == 0
    assert "12 篇文档" in backup.stdout  # it waited for the ingest: one state, the ingest's whole result

    restored = run(other, "kb", "restore", str(tmp_path / "kb.tar"), "--as", "copy")
    assert restored.returncode == 0, restored.stderr
    assert run(other, "kb", "check", "copy").returncode == 0
    assert (other / "uploads" / "copy" / "上传的报告.md").is_file()
    assert answers(other, asked, "copy") == answers(home, asked, "default")
    again = run(other, "kb", "restore", str(tmp_path / "kb.tar"), "--as", "copy")  # never over a knowledge base
    assert again.returncode == 1 and "已有名为“copy”的知识库" in again.stderr


def tampered(source: Path, target: Path, member: str, manifest: dict[str, object] | None = None) -> Path:
    """A copy of a backup with one byte of a member flipped, or its manifest replaced."""
    with tarfile.open(source) as tar, tarfile.open(target, "w") as out:
        for info in tar.getmembers():
            data = tar.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == member:
                mid = len(data) // 2
                flipped = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
                data = json.dumps(manifest).encode() if manifest is not None else flipped
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def test_a_damaged_or_foreign_backup_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    assert run(home, "ingest", str(CORPUS), "--quiet").returncode == 0
    good = tmp_path / "kb.tar"
    assert run(home, "kb", "backup", "default", str(good)).returncode == 0
    flipped = tampered(good, tmp_path / "flipped.tar", "vectors.npz")
    done = run(other, "kb", "restore", str(flipped))
    assert done.returncode == 1 and "vectors.npz 的校验和不符" in done.stderr, done.stderr
    with tarfile.open(good) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    foreign = tampered(good, tmp_path / "old.tar", "manifest.json", manifest={**manifest, "pipeline_version": "0"})
    done = run(other, "kb", "restore", str(foreign))
    assert done.returncode == 1 and "导入流程第 0 版" in done.stderr, done.stderr
    assert run(other, "kb", "list").stdout.startswith("还没有知识库")
    assert not [p for p in (other / "kb").iterdir() if p.name.startswith(".restore-")]
