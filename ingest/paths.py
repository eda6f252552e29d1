"""Path discovery for ingest: the paths a command names, to the files a run reads and the scope it may prune.

Owns: resolving each named path (a symlink loop or an unreadable path becomes that path's failure, the rest go
on), reading each file once however it was named (a file inside a named folder named again, a relative and an
absolute spelling, a link to a file already read), searching folders for supported files, and ``Found.covers``:
whether a stored document's file lies under a path this run named. Does not own: reading files
(``ingest.loaders``) or what becomes of a failure (``ingest.pipeline``).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ingest.loaders import SUPPORTED
from kb.errors import InputError

LOOP = "符号链接形成了循环，无法找到它指向的文件：请修正或删除这个链接"


@dataclass(frozen=True)
class Found:
    """What a run reads: ``items`` in order (a file, or a failure naming a path), and ``roots``, the named paths
    that exist, resolved: the only places a prune may remove documents from."""

    items: tuple[Path | InputError, ...]
    roots: tuple[Path, ...]

    @cached_property
    def files(self) -> set[str]:
        return {str(p) for p in self.items if isinstance(p, Path)}

    def covers(self, source: str) -> bool:
        """True when ``source`` is a named file or lies inside a named folder."""
        path = Path(source)
        return any(path == root or path.is_relative_to(root) for root in self.roots)

    @cached_property
    def empty(self) -> tuple[Path, ...]:
        """Named folders with nothing at all in them (an unmounted drive's mount point): a prune removes nothing
        from these. A folder that still holds anything (only its files were deleted) is pruned as usual."""
        return tuple(r for r in self.roots if r.is_dir() and not any(r.iterdir()))

    def in_empty(self, source: str) -> bool:
        return any(Path(source).is_relative_to(root) for root in self.empty)


def discover(paths: Iterable[Path]) -> Found:
    """The files under ``paths``, each once; a path that cannot be resolved or does not exist is a failure."""
    items: list[Path | InputError] = []
    roots: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        root = resolve(given.expanduser())
        if isinstance(root, InputError):
            items.append(root)
        elif root.is_dir() or root.is_file():
            roots.append(root)
            items += [f for f in _files(root) if _first(f, seen)]
        else:
            items.append(InputError(str(root), "路径不存在"))
    return Found(tuple(items), tuple(roots))


def resolve(path: Path) -> Path | InputError:
    """``path`` made absolute with its links followed, or why it cannot be."""
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        return InputError(str(path), LOOP)
    except OSError as exc:  # later Pythons: ELOOP; or a folder on the way that may not be read
        return InputError(str(path), LOOP if exc.errno == errno.ELOOP else f"无法访问：{exc.strerror or exc}")


def _files(root: Path) -> Iterator[Path | InputError]:
    """``root`` itself, or the supported files in the folder ``root`` (hidden files and folders skipped)."""
    if not root.is_dir():
        yield root
        return
    try:
        found = sorted(root.rglob("*"))
    except OSError as exc:
        yield InputError(str(root), f"无法读取文件夹：{exc.strerror or exc}")
        return
    for p in found:
        rel = p.relative_to(root).parts
        if p.is_file() and p.suffix.lower() in SUPPORTED and not any(s.startswith(".") for s in rel):
            yield p


def _first(item: Path | InputError, seen: set[Path]) -> bool:
    """False for a file already read under another name."""
    if isinstance(item, InputError):
        return True
    real = resolve(item)
    key = real if isinstance(real, Path) else item
    if key in seen:
        return False
    seen.add(key)
    return True
