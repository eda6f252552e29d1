"""Old Word (.doc) and Kingsoft WPS (.wps) files: converted to .docx by LibreOffice, then read as Word.

Owns: finding LibreOffice (``soffice``), running it headless on a copy of the file in a temporary folder with a
profile of its own (proxies pointed at a closed local port, untrusted links and macros off), within
``Limits.max_convert_s`` (its whole process group is ended, before the folder is removed, when it runs over or the
wait is interrupted, Ctrl-C included), and the message saying how to install it when it is missing. A .wps file
is converted as a .doc: Kingsoft writes the Word binary format. The import filter is chosen by the file's first
bytes (Word binary, RTF; a .docx under an old name is read as it is), so that a file that is none of these is
refused rather than read as text. Does not own: reading the converted .docx (``ingest.loaders.docx``, with its
limits).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Limits, Parsed, docx
from kb.errors import InputError

log = logging.getLogger(__name__)

ZIP = b"PK\x03\x04"
IMPORT = {b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "MS Word 97", b"{\\rtf": "Rich Text Format"}  # by first bytes
FILTERS = {"docx": "docx:MS Word 2007 XML", "doc": "doc:MS Word 97"}
INSTALL = ("本机没有安装 LibreOffice，无法读取 .doc/.wps 文件：请安装（Debian/Ubuntu："
           "sudo apt-get install --no-install-recommends libreoffice-writer-nogui，或以 root 运行 make run），"
           "或在 Word/WPS 中另存为 .docx 后再导入")  # fmt: skip
_OFFLINE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
{}
</oor:items>
"""
_SETTINGS = (
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "2"),  # a manual proxy …
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyName", "127.0.0.1"),  # … that nothing answers on
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", "9"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", "127.0.0.1"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", "9"),
    ("/org.openoffice.Inet/Settings", "ooInetFTPProxyName", "127.0.0.1"),
    ("/org.openoffice.Inet/Settings", "ooInetFTPProxyPort", "9"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
)


class ConversionError(Exception):
    """LibreOffice is missing, ran over its time or wrote nothing; the message is the user's, in Chinese."""


def converter() -> str | None:
    """LibreOffice's ``soffice``, or None when it is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    return next((p for p in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice")
                 if os.access(p, os.X_OK)), None)  # fmt: skip


def convert(data: bytes, suffix: str, target: str, timeout_s: float, infilter: str | None = None) -> bytes:
    """``data``, a file of type ``suffix``, converted by LibreOffice to ``target`` (``docx``, or ``doc``); read with
    the import filter ``infilter`` when given (else LibreOffice guesses, and reads what it cannot place as text)."""
    exe = converter()
    if exe is None:
        raise ConversionError(INSTALL)
    with tempfile.TemporaryDirectory(prefix="pilotqa-office-") as tmp:
        work = Path(tmp)
        source, out, profile = work / f"document{suffix}", work / "out", work / "profile"
        source.write_bytes(data)
        _offline_profile(profile)
        cmd = [exe, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               f"-env:UserInstallation={profile.as_uri()}", *([f"--infilter={infilter}"] if infilter else []),
               "--convert-to", FILTERS[target], "--outdir", str(out), str(source)]  # fmt: skip
        _run(cmd, timeout_s, work)
        result = out / f"document.{target}"
        if not result.is_file() or result.stat().st_size == 0:
            raise ConversionError("LibreOffice 无法打开此文件（已损坏、加密或不是 Word/WPS 文档）："
                                  "请用 Word/WPS 打开检查，或另存为 .docx 后重试")  # fmt: skip
        return result.read_bytes()


def _offline_profile(profile: Path) -> None:
    items = "\n".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value>'
                      "</prop></item>" for path, name, value in _SETTINGS)  # fmt: skip
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_OFFLINE.format(items), "utf-8")


def _run(cmd: list[str], timeout_s: float, cwd: Path) -> None:
    """Run LibreOffice in a process group of its own; past ``timeout_s`` the whole group is killed, and so it is
    when anything else ends the wait (Ctrl-C, which the group, a session of its own, never sees; a thread's exit)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise ConversionError(
            f"转换超时（超过 {timeout_s:.0f} 秒，可调 PILOTQA_MAX_CONVERT_S）：请在 Word/WPS 中另存为 .docx 后再导入"
        ) from None
    except BaseException:
        _stop(proc)
        raise
    log.debug("soffice exited %s: %s", proc.returncode, output.decode("utf-8", "replace")[-2000:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill LibreOffice's process group (its own helpers too) and wait for it, before its folder is removed."""
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def load(path: Path, data: bytes, limits: Limits) -> Iterator[Parsed]:
    """The file read as Word: the binary format (and RTF, which Word and WPS also save as .doc) converted with its
    own import filter, a .docx under an old name read as it is; anything else is refused, never read as text."""
    if data.startswith(ZIP):
        yield from docx.load(path, data, limits)
        return
    kind = next((name for magic, name in IMPORT.items() if data.lstrip()[: len(magic)] == magic), None)
    if kind is None:
        raise InputError(
            str(path), "文件内容不是 Word/WPS 格式（可能改过扩展名）：请用 Word/WPS 打开后另存为 .docx 再导入"
        )
    try:
        converted = convert(data, ".doc", "docx", limits.max_convert_s, kind)
    except ConversionError as exc:
        raise InputError(str(path), str(exc)) from exc
    yield from docx.load(path, converted, limits)
