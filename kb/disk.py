"""Files written whole or not at all, and a full disk said in one line before anything is half written.

Owns: the free-space check before a large write (what it needs plus the margin ``PILOTQA_MIN_FREE_MB``), writing a
file atomically (a temporary file beside it, flushed and fsynced, renamed over it, the folder fsynced; removed
again when anything fails), recognising a full disk among the errors SQLite, Chroma and the OS raise
(``disk_full``) and turning it into ``DiskFullError`` naming the folder (``as_disk_full``), and removing the
temporary files a killed or failed write left (``sweep``). Does not own: what is written, or the order writes
happen in (``kb.store``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from kb.errors import DiskFullError

log = logging.getLogger(__name__)

TMP_PREFIX = ".pilotqa-tmp-"
MB = 1_000_000
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded", "sqlite_full")


def free_bytes(folder: Path) -> int:
    """Bytes free to this user on the file system holding ``folder`` (its nearest existing parent)."""
    here = folder
    while not here.exists() and here != here.parent:
        here = here.parent
    return shutil.disk_usage(here).free


def ensure_room(folder: Path, need_bytes: int, margin_mb: float) -> None:
    """Raise ``DiskFullError`` unless ``folder``'s file system has ``need_bytes`` plus the margin free."""
    free = free_bytes(folder)
    if free < need_bytes + margin_mb * MB:
        raise full(folder, need_bytes + margin_mb * MB, free)


def full(folder: Path, need: float, free: float | None = None) -> DiskFullError:
    """The one line a full disk is: the folder, the space the write needs, what is left, what to do."""
    left = free_bytes(folder) if free is None else free
    return DiskFullError(
        f"磁盘空间不足：{folder} 所在磁盘只剩 {left / MB:.1f} MB，本次写入约需 {need / MB:.1f} MB"
        "（含 PILOTQA_MIN_FREE_MB 保留余量）。知识库保持写入前的状态：请清理出足够空间后重试。"
    )


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk is full: ENOSPC/EDQUOT, SQLite's SQLITE_FULL, Chroma's
    wrapped form of either."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(w in str(current).lower() for w in _FULL_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


@contextlib.contextmanager
def as_disk_full(folder: Path, need_bytes: float = MB) -> Iterator[None]:
    """Turn a full-disk error inside into ``DiskFullError`` naming ``folder`` and ``need_bytes`` (what the write
    was estimated to need); other errors pass unchanged."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        if disk_full(exc):
            raise full(folder, need_bytes) from exc
        raise


def write_atomic(
    path: Path, write: Callable[[IO[bytes]], object], prefix: str = TMP_PREFIX, need_bytes: float = MB
) -> None:
    """Write ``path`` whole or leave it as it was: ``write`` fills a temporary file in the same folder, which is
    fsynced and renamed over ``path``; on any failure the temporary file is removed and the error raised
    (a full disk as ``DiskFullError``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with as_disk_full(path.parent, need_bytes):
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        sync_folder(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    write_atomic(path, lambda f: f.write(data))


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sweep(folder: Path, patterns: Iterable[str] = (TMP_PREFIX + "*",), older_than_s: float = 0.0) -> int:
    """Remove the temporary files matching ``patterns`` directly in ``folder`` (only those untouched for
    ``older_than_s`` seconds, where another process may be writing one now); how many went."""
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for pattern in patterns:
        for p in folder.glob(pattern):
            with contextlib.suppress(OSError):
                if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime >= older_than_s:
                    p.unlink()
                    removed += 1
    if removed:
        log.info("removed %d temporary files a failed write left in %s", removed, folder)
    return removed
