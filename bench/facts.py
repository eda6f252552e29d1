"""The fact registry's cost: extraction time per 1,000 chunks over a knowledge base's real documents, and the
latency of answers the registry gives.

Owns: timing ``ingest.facts.extract`` on every stored document of one knowledge base (domainrag_dev's: official
documents with tables and dates) against its chunk count; asking the fixture question table
(tests/data/fact_questions.jsonl over corpus/ and tests/data/reports) and timing the answers that facts, parts or
table rows led. Does not own: look-up latency at scale (``bench.scale`` measures it at 1k/10k/100k chunks) or
building the evaluation knowledge bases (``bench.__main__``).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def registry_bench(kb: Any) -> dict[str, float]:
    from ingest.facts import extract

    seconds, facts, docs = 0.0, 0, 0
    for info in kb.documents():
        doc = kb.document(info.doc_id)
        if doc is None:
            continue
        t = time.perf_counter()
        facts += len(extract(doc))
        seconds += time.perf_counter() - t
        docs += 1
    chunks = kb.counts()[1]
    return {
        "documents": docs, "chunks": chunks, "facts": facts,
        "extract_s_per_1k_chunks": seconds / chunks * 1000 if chunks else 0.0,
    }  # fmt: skip


def fact_answer_bench(repeats: int = 5) -> dict[str, float]:
    """p50/p95 of the fixture questions' answers led by the registry, several parts or a table row (extractive
    mode, model loaded)."""
    from assistant.core import Assistant, Resources
    from ingest.pipeline import Ingestor
    from kb.settings import Settings

    rows = [
        json.loads(line)
        for line in (ROOT / "tests" / "data" / "fact_questions.jsonl").read_text("utf-8").split("\n")
        if line
    ]
    with tempfile.TemporaryDirectory() as home:
        settings = Settings().model_copy(update={"home": Path(home)})
        res = Resources.build(settings, "facts-bench")
        Ingestor(res.kb, res.embedder, settings.chunk_chars, settings.max_file_mb).run(
            [ROOT / "corpus", ROOT / "tests" / "data" / "reports"]
        )
        assistant = Assistant(settings, res)
        assistant.ask(rows[0]["question"])  # warm up
        answers = [assistant.ask(r["question"]) for _ in range(repeats) for r in rows]
        ms = [a.trace.timings["total_ms"] for a in answers if a.trace.rule in ("fact", "parts", "table position")]
    return {
        "questions": len(rows), "fact_led_answers": len(ms) // repeats, "answer_p50_ms": statistics.median(ms),
        "answer_p95_ms": statistics.quantiles(ms, n=20)[18],
    }  # fmt: skip
