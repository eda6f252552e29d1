"""The fact registry's build cost: extraction time per 1,000 chunks over a knowledge base's real documents.

Owns: timing ``ingest.facts.extract`` on every stored document of one knowledge base (domainrag_dev's: official
documents with tables and dates) against its chunk count. Does not own: look-up latency (``bench.scale`` measures it
at 1k/10k/100k chunks) or building the knowledge base (``bench.__main__``).
"""

from __future__ import annotations

import time
from typing import Any


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
