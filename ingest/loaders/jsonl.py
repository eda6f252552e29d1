"""JSON Lines corpora: one ``{"doc_id", "title", "text"}`` document per line.

Owns: reading records, keeping ``doc_id`` as the document id (evaluation relies on
it), and reporting a bad line by number while the rest of the file goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Parsed
from ingest.loaders.text import decode, lines_to_blocks
from kb.errors import InputError


def load(path: Path, data: bytes) -> Iterator[Parsed | InputError]:
    seen: set[str] = set()
    for number, line in enumerate(decode(path, data).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(where, f"不是合法的 JSON（{exc.msg}）")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield InputError(where, '缺少字符串字段 text（每行应为 {"doc_id", "title", "text"}）')
            continue
        doc_id = str(record.get("doc_id") or record.get("id") or f"{path.stem}-{number}")
        if doc_id in seen:
            yield InputError(where, f"doc_id “{doc_id}” 重复，已跳过")
            continue
        seen.add(doc_id)
        blocks = lines_to_blocks(record["text"])
        if not blocks:
            yield InputError(where, "text 为空")
            continue
        date = record.get("date")
        yield Parsed(
            title=str(record.get("title") or ""),
            blocks=blocks,
            date=str(date) if date else None,
            doc_id=doc_id,
            source=f"{path}#{doc_id}",
        )
