"""``python -m bench.ingest``: ingest throughput against the raw encode rate of the embedder.

Prints chunks per second for ingest (load, clean, chunk, embed, store) and for the raw
encode of the same chunks, their ratio (target ≥ 0.85: everything but the model should be
overhead you can barely see) and the process's peak memory.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ``ru_maxrss`` carries a parent's peak into a child it starts, so a measuring
    subprocess would report the benchmark's own peak; ``VmHWM`` starts afresh at exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest_bench(n_docs: int) -> dict[str, float]:
    from ingest.chunk import chunk
    from ingest.loaders import load
    from ingest.pipeline import Ingestor, to_document
    from kb.segment import Segmenter
    from kb.settings import Settings
    from kb.store import KnowledgeBase
    from models.embed import Embedder

    source = DATA / "cmrc2018_trial" / "corpus.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        subset.write_text("\n".join(source.read_text("utf-8").splitlines()[:n_docs]) + "\n", "utf-8")
        settings = Settings(home=Path(tmp) / "home")
        embedder = Embedder(settings)
        embedder.load()
        docs = [to_document(p, subset, 300) for p in load(subset, 10**9)]
        texts = [KnowledgeBase.embed_text(c) for d in docs for c in chunk(d, 300)]
        t0 = time.perf_counter()
        embedder.passages(texts)
        raw = len(texts) / (time.perf_counter() - t0)
        kb = KnowledgeBase.open(settings, "bench", Segmenter(settings.cache_dir), embedder.name)
        summary = Ingestor(kb, embedder, 300, 50).run([subset])
        rate = summary.chunks / summary.seconds
    return {"chunks": len(texts), "raw_encode_chunks_per_s": raw, "ingest_chunks_per_s": rate,
            "ratio": rate / raw, "peak_rss_mb": peak_mb()}  # fmt: skip


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    print(json.dumps(ingest_bench(n), indent=2))
