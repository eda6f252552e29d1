"""What the command line prints: one line per failed file, control characters escaped, questions that are not
UTF-8 (argument, stdin, --questions file) answered with the bad bytes replaced and a line that says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.terminal import lines, one_line, question
from tests.conftest import CACHE, CORPUS


def run(home: Path, *args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PILOTQA_HOME": str(home), "PILOTQA_CACHE_DIR": str(CACHE)}
    return subprocess.run([sys.executable, "-m", "cli", *args], input=stdin, env=env, capture_output=True,
                          timeout=300)  # fmt: skip


def test_escapes_and_decoding(capsys: pytest.CaptureFixture[str]) -> None:
    assert one_line("坏\n名字\x1b[31m.txt") == "坏\\n名字\\x1b[31m.txt"
    assert one_line("a\u202eb\udcff\t") == "a\\u202eb\\udcff\\t"
    assert lines("答案\n来源：\x07") == "答案\n来源：\\x07"
    assert question("刷脸付终端多少台", "问题") == "刷脸付终端多少台" and capsys.readouterr().err == ""
    from_argv = b"\xff\xfe\xe5\x88\xb7\xe8\x84\xb8\xe4\xbb\x98".decode("utf-8", "surrogateescape")  # as sys.argv has it
    assert question(from_argv, "问题") == "\ufffd\ufffd刷脸付"
    assert question(b"\xc0\xaf\xe5\x88\xb7", "标准输入第 1 行") == "\ufffd\ufffd刷"
    assert question("\ud800问", "问题") == "\ufffd\ufffd\ufffd问"  # a lone surrogate of no escape: replaced too
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "提示：问题中有不是 UTF-8 编码的字节，已替换为 �（请以 UTF-8 编码提问）。"
    assert err[1].startswith("提示：标准输入第 1 行中有") and len(err) == 3


def test_each_failed_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "坏\n名字.txt").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 garbage")
    out = run(tmp_path / "home", "ingest", str(folder), "--quiet")
    err = out.stderr.decode().splitlines()
    assert out.returncode == 1
    assert sorted(err) == [
        f"失败  {folder}/scan.pdf: PDF 文件已损坏或无法解析：请用 PDF 阅读器打开检查，或另存后重试",
        f"失败  {folder}/坏\\n名字.txt: 文件为空",
    ]


@pytest.mark.slow
def test_questions_that_are_not_utf8_and_escape_sequences(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "ingest", str(CORPUS), "--quiet").returncode == 0
    bad = b"\xff\xfe\xe5\x88\xb7\xe8\x84\xb8\xe4\xbb\x98\x1b[2J\xe5\x8f\x97\xe7\x90\x86\xe7\xbb\x88\xe7\xab\xaf"
    qfile = tmp_path / "q.txt"
    qfile.write_bytes(bad + b"\n" + "刷脸付受理终端布放了多少台？".encode() + b"\n")
    for args, stdin, where in (
        (("ask", bad), b"", "问题"),
        (("chat",), bad + b"\n", "标准输入第 1 行"),
        (("ask", "--questions", str(qfile)), b"", "问题文件 q.txt 第 1 行"),
    ):
        out = run(home, *args, stdin=stdin)
        assert out.returncode == 0, out.stderr.decode()
        assert f"提示：{where}中有不是 UTF-8 编码的字节".encode() in out.stderr
        assert b"\x1b" not in out.stdout + out.stderr and b"Traceback" not in out.stderr
    assert "4821台" in out.stdout.decode()  # the file's good question is answered after its bad one
