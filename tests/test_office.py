"""Old Word (.doc) and Kingsoft (.wps) files through LibreOffice: fixtures made by converting a python-docx file
with the same converter. Skipped, saying why, where LibreOffice is not installed (``make test`` installs it as
root: .ci/office-deps)."""

from __future__ import annotations

import io
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import docx
import pytest

from ingest.loaders import Limits, Parsed, load, office
from ingest.pipeline import to_document
from kb.errors import InputError

needs_office = pytest.mark.skipif(office.converter() is None, reason="LibreOffice missing: run .ci/office-deps as root")

DEFAULT = Limits()
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the Word binary (OLE compound file) signature, as Kingsoft writes too


def report_docx(
    title: str = "枣庄市普惠金融试点情况",
    heading: str = "一、惠农贷款",
    body: str = "截至2021年3月末，枣庄市“鲁担惠农贷”累计发放贷款3.7亿元，惠及农户2316户。",
) -> bytes:
    d = docx.Document()
    d.core_properties.title = title
    d.add_heading(title, level=1)
    d.add_heading(heading, level=2)
    d.add_paragraph(body)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "银行", "发放笔数"
    table.cell(1, 0).text, table.cell(1, 1).text = "枣庄农商行", "812"
    d.add_paragraph("表中数据由各行报送。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def old_word(tmp_path: Path, name: str, data: bytes | None = None) -> Path:
    """A Word 97 binary file LibreOffice wrote from a python-docx file (the report by default), saved as ``name``."""
    path = tmp_path / name
    path.write_bytes(office.convert(data or report_docx(), ".docx", "doc", 120))
    return path


def one(path: Path, limits: Limits = DEFAULT) -> Parsed:
    (item,) = list(load(path, 10**7, limits))
    return item


def problem(path: Path, limits: Limits = DEFAULT) -> str:
    with pytest.raises(InputError) as raised:
        list(load(path, 10**7, limits))
    assert raised.value.path == str(path)
    return raised.value.problem


@needs_office
@pytest.mark.parametrize("name", ["旧报告.doc", "金山报告.wps"])
def test_doc_and_wps_are_read_as_word(tmp_path: Path, name: str) -> None:
    path = old_word(tmp_path, name)
    assert path.read_bytes().startswith(OLE)
    parsed = one(path)
    doc = to_document(parsed, path, 300)
    assert doc.title == "枣庄市普惠金融试点情况"
    assert "“鲁担惠农贷”累计发放贷款3.7亿元，惠及农户2316户。" in doc.text
    assert "枣庄农商行 | 812" in doc.text and doc.tables and doc.tables[0].caption
    assert doc.sections[0].heading_path == ("枣庄市普惠金融试点情况", "一、惠农贷款")


@needs_office
def test_a_damaged_doc_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "坏.doc"
    path.write_bytes(OLE + bytes(range(256)) * 40)  # LibreOffice guessing would read this as text
    assert problem(path) == (
        "LibreOffice 无法打开此文件（已损坏、加密或不是 Word/WPS 文档）：请用 Word/WPS 打开检查，或另存为 .docx 后重试"
    )


@needs_office
def test_what_word_and_wps_also_save_as_doc_and_what_is_not_word(tmp_path: Path) -> None:
    renamed = tmp_path / "其实是docx.doc"
    renamed.write_bytes(report_docx())
    assert one(renamed).title == "枣庄市普惠金融试点情况"
    rtf = tmp_path / "rtf.doc"
    rtf.write_bytes(rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Pilot terminals reached 4821 units.\par}")
    assert [b.text for b in one(rtf).blocks] == ["Pilot terminals reached 4821 units."]
    text = tmp_path / "text.wps"
    text.write_text("只是一个文本文件。", "utf-8")
    assert problem(text) == "文件内容不是 Word/WPS 格式（可能改过扩展名）：请用 Word/WPS 打开后另存为 .docx 再导入"


@needs_office
def test_a_conversion_past_its_time_is_stopped(tmp_path: Path) -> None:
    path = old_word(tmp_path, "慢.doc")
    assert problem(path, Limits(max_convert_s=0.01)) == (
        "转换超时（超过 0 秒，可调 PILOTQA_MAX_CONVERT_S）：请在 Word/WPS 中另存为 .docx 后再导入"
    )


def _members(group: int) -> list[int]:
    """The live processes (zombies are dead) of process group ``group``, from /proc."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone while we looked
        if int(pgrp) == group and state != "Z":
            out.append(int(stat.parent.name))
    return out


def _own_session_child() -> int | None:
    """The pid of a child of this process leading a process group of its own (LibreOffice as convert starts it)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            _state, ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(ppid) == os.getpid() and int(pgrp) == int(stat.parent.name):
            return int(pgrp)
    return None


@needs_office
def test_an_interrupted_conversion_leaves_no_process_and_no_folder(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Ctrl-C while LibreOffice converts (it runs in a session of its own, so only we hear it): the interrupt goes
    on up, LibreOffice's whole group is gone and its temporary folder removed. A real SIGINT is sent to this process
    as soon as LibreOffice has started."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    groups: list[int] = []

    def interrupt() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            group = _own_session_child()
            if group is not None:
                groups.append(group)
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=interrupt)
    try:
        watcher.start()
        with pytest.raises(KeyboardInterrupt):
            office.convert(report_docx(), ".docx", "doc", 120)
        watcher.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert groups
    deadline = time.monotonic() + 10
    while _members(groups[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _members(groups[0]) == []
    assert list(tmp_path.iterdir()) == []  # no pilotqa-office-* folder left


def test_without_libreoffice_the_message_says_how_to_install_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A machine without LibreOffice cannot be made here by uninstalling it: the lookup is replaced, which is
    exactly what such a machine answers."""
    monkeypatch.setattr(shutil, "which", lambda *_a, **_k: None)
    monkeypatch.setattr(office.os, "access", lambda *_a, **_k: False)
    path = tmp_path / "旧报告.wps"
    path.write_bytes(OLE + b" old word")
    message = problem(path)
    assert "没有安装 LibreOffice" in message and "libreoffice-writer-nogui" in message and "另存为 .docx" in message
