"""Where an uploaded file is kept, so that no upload replaces another.

Owns: choosing an upload's stored path in its folder: its own name when that is free or already holds the same
bytes (an identical upload is the same file, which ingest then finds unchanged), otherwise the first free
``名称（2）.txt``, ``名称（3）.txt`` … (or the one that holds the same bytes), and writing it there. Does not own:
ingesting it (``ingest.pipeline``).
"""

from __future__ import annotations

import itertools
from pathlib import Path


def keep(folder: Path, name: str, data: bytes) -> Path:
    """The path ``data`` is stored at under ``folder``, written there unless the same bytes already are. Only the
    name's last part is used: never a path the browser sent."""
    base = Path(Path(name).name or "upload")
    for i in itertools.count(1):
        path = folder / (base.name if i == 1 else f"{base.stem}（{i}）{base.suffix}")
        if not path.exists():
            path.write_bytes(data)
            return path
        if path.is_file() and path.read_bytes() == data:
            return path
    raise AssertionError("unreachable")  # pragma: no cover
