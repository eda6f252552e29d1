"""One writer per knowledge base, across processes.

Owns: the lock file beside a knowledge base's folder (``<home>/kb/NAME.lock``), locked with ``flock`` by the
process that writes and holding its pid while it does; waiting for another holder (up to
``Settings.lock_timeout_s``, saying so once through a callback) or failing with a message naming it, before
anything is written; re-entry within one process (its threads queue on one shared lock). A holder that died
leaves its pid in the file but no lock (the kernel drops a dead process's locks): the next writer takes the
file over. Does not own: what is written, or catching up with another writer's work (``kb.store``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import BusyError
from kb.settings import Settings

log = logging.getLogger(__name__)
Waiting = Callable[[str], None]  # told, once, why a writer waits
POLL_S = 0.2


@dataclass
class _Holding:
    """This process's hold on one lock file."""

    threads: threading.RLock = field(default_factory=threading.RLock)
    fd: int = -1
    depth: int = 0


_HOLDINGS: dict[Path, _Holding] = {}
_GUARD = threading.Lock()


def lock_path(settings: Settings, name: str) -> Path:
    """Outside the knowledge base's folder, so that deleting or rebuilding it happens under the lock too."""
    return settings.kb_dir(name).parent / f"{name}.lock"


@contextlib.contextmanager
def writer(settings: Settings, name: str, on_wait: Waiting | None = None) -> Iterator[None]:
    """Hold knowledge base ``name`` for writing: wait for another writer up to ``settings.lock_timeout_s``,
    telling ``on_wait`` once, then raise ``BusyError`` (nothing written)."""
    path = lock_path(settings, name)
    holder = _acquire(path, settings.lock_timeout_s, on_wait, name)
    if holder is not None:
        raise BusyError(
            f"知识库“{name}”正由{_who(holder)}写入，已等待 {settings.lock_timeout_s:g} 秒仍未结束，本次未写入任何内容："
            "请等它完成后再运行，或设置 PILOTQA_LOCK_TIMEOUT_S 等得更久。"
        )
    try:
        yield
    finally:
        _release(path)


@contextlib.contextmanager
def attempt(settings: Settings, name: str) -> Iterator[bool]:
    """Hold ``name`` for writing if no other writer holds it now; yields whether it is held."""
    path = lock_path(settings, name)
    held = _acquire(path, 0.0, None, name) is None
    try:
        yield held
    finally:
        if held:
            _release(path)


def _acquire(path: Path, timeout: float, on_wait: Waiting | None, name: str) -> int | None:
    """Take the lock; None when held, else the pid of the writer that kept it (0: unknown) past ``timeout``."""
    with _GUARD:
        holding = _HOLDINGS.setdefault(path, _Holding())
    deadline = time.monotonic() + timeout
    if not holding.threads.acquire(blocking=False):
        _tell(on_wait, name, os.getpid(), timeout)
        if timeout <= 0 or not holding.threads.acquire(timeout=timeout):
            return os.getpid()
    if holding.depth == 0:
        pid = _lock_file(holding, path, deadline, lambda pid: _tell(on_wait, name, pid, timeout))
        if pid is not None:
            holding.threads.release()
            return pid
    holding.depth += 1
    return None


def _lock_file(holding: _Holding, path: Path, deadline: float, waiting: Callable[[int], None]) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    told, started = False, time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pid = _read_pid(path) or 0
            if time.monotonic() >= deadline:
                os.close(fd)
                return pid
            if not told and (pid or time.monotonic() - started > 1):  # a new holder writes its pid just after
                waiting(pid)
                told = True
            time.sleep(POLL_S)
    stale = _read_pid(path)
    if stale:
        log.info("taking over %s from pid %d, which is gone", path, stale)
    os.ftruncate(fd, 0)
    with contextlib.suppress(OSError):  # a full disk: the pid only names the holder, the flock is the lock
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    holding.fd = fd
    return None


def _release(path: Path) -> None:
    holding = _HOLDINGS[path]
    holding.depth -= 1
    if holding.depth == 0:
        os.ftruncate(holding.fd, 0)  # no pid left behind: the file says nobody writes
        fcntl.flock(holding.fd, fcntl.LOCK_UN)
        os.close(holding.fd)
        holding.fd = -1
    holding.threads.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _who(pid: int) -> str:
    if pid == os.getpid():
        return "本进程中的另一项操作"
    return f"进程 {pid} " if pid else "另一个进程"


def _tell(on_wait: Waiting | None, name: str, pid: int, timeout: float) -> None:
    if on_wait is not None:
        on_wait(f"知识库“{name}”正由{_who(pid)}写入，等它完成后继续（最多等 {timeout:g} 秒）……")
