"""Where an uploaded file is kept, so that no upload replaces another, and when a kept file goes.

Owns: an upload's stored name (the last part of the name a client sent, without control characters, shortened to
what a file system takes with its suffix kept); choosing its path in its folder: that name when it is free or
already holds the same bytes (an identical upload is the same file, which ingest then finds unchanged), otherwise
the first free ``名称（2）.txt``, ``名称（3）.txt`` … (or the one that holds the same bytes); writing it there whole
(under a temporary name first, then linked to its own, which fails if another upload took it meanwhile: two
uploads at once never share a path, and nobody reads a half-written file; fsynced first, after the disk is
checked for room: a full disk stops the upload with one line, ``DiskFullError``, the files it kept removed);
removing the temporary files a failed upload left; and removing kept files no document comes from any more (a
failed upload, a deleted document; at a service's start, what a killed upload left), only ever inside the
uploads folder. Does not own:
ingesting them (``ingest.pipeline``).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ingest.summary import Result, Status
from kb import disk
from kb.errors import DiskFullError
from kb.settings import check_kb_name

log = logging.getLogger(__name__)

MAX_NAME_BYTES = 255  # a file name's limit on Linux file systems (ext4, xfs, btrfs, tmpfs)
ROOM = len("（99999）".encode())  # what a numbered name adds
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


NOT_KEPT = "无法保存上传的文件，未导入：请检查磁盘空间和 PILOTQA_HOME 的写权限后重新上传"


def root(home: Path) -> Path:
    """The uploads folder under the home: ``<home>/uploads/<kb>/`` holds the files uploaded to that knowledge base."""
    return home / "uploads"


def folder(home: Path, kb: str) -> Path:
    """Where the files uploaded to knowledge base ``kb`` are kept (made when missing; a name that cannot name a
    knowledge base is a ``ConfigError`` before anything is made)."""
    path = root(home) / check_kb_name(kb)
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_all(into: Path, files: Iterable[tuple[str, bytes]], min_free_mb: float = 0.0
             ) -> tuple[list[Path], list[Result]]:  # fmt: skip
    """Each file kept under ``into`` (the same bytes twice: one file), and a failed result for each file that
    cannot be (no write permission): the rest go on. A disk without room for a file (``min_free_mb`` kept free)
    stops them all: ``DiskFullError``, the files kept so far removed again. Call it holding the knowledge base's
    writer lock until the files are ingested and ``discard`` has run, so that no other upload or delete of it
    removes a file in between (the temporary files a failed upload left are removed first)."""
    disk.sweep(into, (".upload-*.part",))
    kept: list[Path] = []
    unkept: list[Result] = []
    before = {p.name for p in into.iterdir()} if into.is_dir() else set()
    for name, data in files:
        try:
            disk.ensure_room(into, len(data), min_free_mb)
            with disk.as_disk_full(into, len(data) + min_free_mb * disk.MB):
                kept.append(keep(into, name, data))
        except DiskFullError:
            for path in kept:
                if path.name not in before:
                    path.unlink(missing_ok=True)
            raise
        except OSError as exc:
            log.warning("upload %r not kept: %s", name, exc)
            unkept.append(Result(stored_name(name), Status.FAILED, message=f"{NOT_KEPT}（{exc.strerror or exc}）"))
    return list(dict.fromkeys(kept)), unkept


def stored_name(name: str) -> str:
    """The name an upload is kept under: never a path (a browser's ``C:\\…\\a.txt`` or ``../a.txt`` is ``a.txt``),
    no control characters, at most ``MAX_NAME_BYTES`` bytes with room for a number, the suffix kept."""
    base = _CONTROL.sub("", re.split(r"[/\\]", name)[-1]).strip()
    if base in ("", ".", ".."):
        base = "upload"
    path = Path(base)
    suffix = path.suffix if len(path.suffix.encode()) <= 16 else ""
    stem = base[: len(base) - len(suffix)] if suffix else base
    budget = MAX_NAME_BYTES - ROOM - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore")  # a character cut in two is dropped whole
    return (stem.rstrip() or "upload") + suffix


def keep(folder: Path, name: str, data: bytes) -> Path:
    """The path ``data`` is stored at under ``folder``, written there unless the same bytes already are. Only the
    name's last part is used (see ``stored_name``): never a path the client sent. ``OSError`` when it cannot be
    written (a full disk)."""
    base = Path(stored_name(name))
    tmp: Path | None = None
    try:
        for i in itertools.count(1):
            path = folder / (base.name if i == 1 else f"{base.stem}（{i}）{base.suffix}")
            if path.is_file() and path.read_bytes() == data:
                return path
            if path.exists() or path.is_symlink():
                continue
            tmp = tmp or _written(folder, data)
            try:
                _claim(tmp, path)
                return path
            except FileExistsError:
                continue
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _claim(tmp: Path, path: Path) -> None:
    """Give the written ``tmp`` the name ``path``, or ``FileExistsError`` when another upload took it since we looked:
    a hard link (atomic); where the file system has none (a FAT drive, some network shares), the name reserved
    by creating it exclusively, then the bytes moved over it."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS):
            raise
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, path)


def _written(folder: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def discard(within: Path, files: Iterable[str | Path], still_used: set[str]) -> list[Path]:
    """Remove the kept ``files`` that lie under the uploads folder ``within`` (a knowledge base's, from ``folder``)
    and from which no stored document comes (``still_used``: the resolved sources of the stored documents); the
    paths removed. A file anywhere else (a path ingested from the server's own folders) is never touched."""
    removed = []
    top = within.resolve()
    for f in dict.fromkeys(Path(f) for f in files):
        with contextlib.suppress(OSError, RuntimeError):
            real = f.resolve()
            if real.is_relative_to(top) and real != top and str(real) not in still_used and real.is_file():
                real.unlink()
                removed.append(real)
    return removed


def sweep(within: Path, still_used: set[str]) -> list[Path]:
    """Every kept file under the uploads folder ``within`` that no stored document comes from, and any temporary
    file a writer left (a process killed mid-upload leaves both), removed; the paths removed. Call it holding the
    knowledge base's writer lock (at a service's start: no upload of its own is under way)."""
    if not within.is_dir():
        return []
    removed = discard(within, [p for p in within.iterdir() if not p.name.startswith(".upload-")], still_used)
    for part in within.glob(".upload-*.part"):
        with contextlib.suppress(OSError):
            part.unlink()
            removed.append(part)
    return removed
