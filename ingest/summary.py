"""What an ingest run reports: each document's or file's status and message, and the run's summary line.

Owns: ``Status`` (with the label the CLI and the UI show), ``Result`` (one document, or one unreadable file) and
``Summary`` (the counts, chunks written and seconds). Does not own: deciding what happened (``ingest.pipeline``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    """What ingest did with one document or file; ``label`` is what the CLI and the UI show."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    REMOVED = "removed"
    MOVED = "moved"  # same content at a new path: the stored path follows, id and citations stay

    @property
    def label(self) -> str:
        return _LABELS[self.value]


_LABELS = {
    "added": "新增", "updated": "更新", "unchanged": "未变", "failed": "失败", "removed": "移除", "moved": "移动",
}  # fmt: skip
WRITTEN = (Status.ADDED, Status.UPDATED)


@dataclass(frozen=True)
class Result:
    """What happened to one document (or one unreadable file)."""

    source: str  # the file
    status: Status
    doc_id: str = ""
    title: str = ""
    chunks: int = 0
    message: str = ""  # why it failed; for a document read, what to know (pages recognised with low confidence)
    record: str | None = None  # the record inside a jsonl file, if it was one

    @property
    def name(self) -> str:
        """The file's name (with the record for a jsonl record): what a user is shown, never a server path."""
        return Path(self.source).name + (f"（记录 {self.record}）" if self.record else "")


@dataclass
class Summary:
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status in WRITTEN)

    @property
    def ok(self) -> bool:
        return any(r.status is not Status.FAILED for r in self.results)

    def line(self) -> str:
        counts = "，".join(f"{s.label} {self.count(s)} 篇" for s in Status)
        return f"{counts}；写入 {self.chunks} 个片段，用时 {self.seconds:.1f} 秒"
