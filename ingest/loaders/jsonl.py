"""JSON Lines corpora: one ``{"doc_id", "title", "text"}`` document per line.

Owns: reading records, keeping ``doc_id`` as the document id (evaluation relies on
it), and naming every bad line by number: the good records are yielded, then one
``InputError`` lists the bad ones. Does not own: ids repeated across files (the
pipeline sees every file of a run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ingest.loaders import Parsed
from ingest.loaders.text import decode, lines_to_blocks
from kb.errors import InputError

SHOWN = 5  # bad lines named in the message; the rest are counted


def load(path: Path, data: bytes) -> Iterator[Parsed]:
    seen: set[str] = set()
    problems: list[str] = []
    for number, line in enumerate(decode(path, data).splitlines(), start=1):
        if not line.strip():
            continue
        parsed, problem = _record(line, number, path, seen)
        if parsed is not None:
            yield parsed
        else:
            problems.append(f"第 {number} 行{problem}")
    if problems:
        more = f"；另有 {len(problems) - SHOWN} 行有问题" if len(problems) > SHOWN else ""
        raise InputError(str(path), "；".join(problems[:SHOWN]) + more + "（其余记录已导入）")


def _record(line: str, number: int, path: Path, seen: set[str]) -> tuple[Parsed | None, str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"不是合法的 JSON（第 {exc.colno} 列）"
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return None, '缺少字符串字段 text（每行应为 {"doc_id", "title", "text"}）'
    doc_id = str(record.get("doc_id") or record.get("id") or f"{path.stem}-{number}")
    if doc_id in seen:
        return None, f"的 doc_id“{doc_id}”与前面的记录重复，已跳过"
    seen.add(doc_id)
    blocks = lines_to_blocks(record["text"])
    if not blocks:
        return None, "的 text 为空"
    date = record.get("date")
    return Parsed(title=str(record.get("title") or ""), blocks=blocks, date=str(date) if date else None,
                  record=doc_id), ""  # fmt: skip
