"""``python -m bench.scale [SIZES...] [--server]``: how cost grows with the corpus.

Builds knowledge bases of the given sizes (chunks) and measures opening time (the
lexical index included), retrieval-only and ask latency (p50/p95), and memory.

How the scale corpus is made (embedding 100k chunks through the model would take hours
on 2 cores): the base set is every chunk of the two evaluation knowledge bases (real
text, real vectors from Chroma). Copy *k* of a base chunk keeps its sentences but every
number in it is shifted by *k* and a copy marker (第k批) names it, so the texts are
distinct; its vector is the base vector plus Gaussian noise (σ = 0.02 per dimension),
renormalised — near its original, never identical. Documents hold 10 chunks each.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench.ingest import DATA, peak_mb
from kb.settings import Settings

_NUM = re.compile(r"\d+")


def base_set(settings: Settings) -> tuple[list[str], np.ndarray]:
    from kb.segment import Segmenter
    from kb.store import KnowledgeBase

    texts: list[str] = []
    vectors: list[np.ndarray] = []
    for name in ("eval-cmrc2018_trial", "eval-chinesesquad2_sample"):
        kb = KnowledgeBase.open(settings, name, Segmenter(settings.cache_dir), None)
        ids = kb.chunk_ids()
        chunks = kb.chunks(ids)
        for i in range(0, len(ids), 500):
            got = kb.stored_vectors(ids[i : i + 500])
            for cid in ids[i : i + 500]:
                texts.append(chunks[cid].text)
                vectors.append(got[cid])
    return texts, np.stack(vectors)


def variant(text: str, k: int) -> str:
    return f"第{k}批：" + _NUM.sub(lambda m: str(int(m.group(0)) + k), text) if k else text


def build(settings: Settings, name: str, size: int, texts: list[str], base: np.ndarray, embed_name: str) -> float:
    """Fill knowledge base ``name`` with ``size`` chunks and their documents' facts; returns the seconds it took."""
    from kb.segment import Segmenter
    from kb.store import KnowledgeBase

    rng = np.random.default_rng(size)
    kb = KnowledgeBase.open(settings, name, Segmenter(settings.cache_dir), embed_name, rebuild=True)
    started = time.perf_counter()
    with kb.bulk():  # one BM25 snapshot at the end
        _fill(kb, size, texts, base, rng)
    return time.perf_counter() - started


def _fill(kb: Any, size: int, texts: list[str], base: np.ndarray, rng: np.random.Generator) -> None:
    from ingest.chunk import chunk_id
    from ingest.facts import extract
    from kb.records import Chunk, Document, Section
    from kb.segment import sentence_spans
    from kb.store import Entry

    entries: list[Entry] = []
    for first in range(0, size, 10):
        parts = [
            (variant(texts[i % len(texts)], i // len(texts)), i % len(texts))
            for i in range(first, min(first + 10, size))
        ]
        text = "\n".join(p for p, _ in parts)
        doc = Document(doc_id=f"scale-{first // 10}", title=f"规模测试文档{first // 10}", text=text, source="bench",
                       sections=(Section(0, len(text)),), content_hash=f"h{first}")  # fmt: skip
        chunks, pos = [], 0
        for n, (p, _) in enumerate(parts):
            spans = tuple(sentence_spans(text, pos, pos + len(p))) or ((pos, pos + len(p)),)
            chunks.append(Chunk(chunk_id(doc, n), doc.doc_id, n, p, pos, pos + len(p), (), None, spans))
            pos += len(p) + 1
        noisy = base[[b for _, b in parts]] + rng.normal(0, 0.02, (len(parts), base.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        entries.append(Entry(doc, tuple(chunks), noisy, tuple(extract(doc))))
        if len(entries) >= 100:
            kb.write(entries)
            entries = []
    kb.write(entries)


def measure(settings: Settings, name: str, questions: list[str]) -> dict[str, float]:
    from assistant.core import Assistant, Resources
    from kb.segment import Segmenter
    from kb.store import KnowledgeBase
    from models.embed import Embedder

    segmenter = Segmenter(settings.cache_dir)
    embedder = Embedder(settings)
    embedder.load()
    gc.collect()
    t0 = time.perf_counter()
    kb = KnowledgeBase.open(settings, name, segmenter, embedder.name)
    open_s = time.perf_counter() - t0
    assistant = Assistant(settings, Resources(settings, segmenter, embedder, kb))
    assistant.ask(questions[0])
    retrieve, search, ask, doc_ids = [], [], [], []
    for q in questions:
        t = time.perf_counter()
        found = assistant.retriever.search(q, 8)
        retrieve.append((time.perf_counter() - t) * 1e3)
        search.append(found.timings["dense_ms"] + found.timings["lexical_ms"])
        doc_ids.append(tuple(dict.fromkeys(h.chunk.doc_id for h in found.hits)))
        ask.append(assistant.ask(q).trace.timings["total_ms"])
    pct = lambda xs, p: statistics.quantiles(xs, n=20)[p]  # noqa: E731
    return {
        "chunks": kb.counts()[1], "open_s": open_s, "retrieve_p50_ms": statistics.median(retrieve),
        "retrieve_p95_ms": pct(retrieve, 18), "search_only_p50_ms": statistics.median(search),
        "ask_p50_ms": statistics.median(ask), "ask_p95_ms": pct(ask, 18),
        "peak_rss_mb": peak_mb(), "rss_after_queries_mb": psutil.Process().memory_info().rss / 2**20,
        **fact_lookups(kb, doc_ids, questions),
    }  # fmt: skip


def fact_lookups(kb: Any, doc_ids: list[tuple[str, ...]], questions: list[str]) -> dict[str, float]:
    """The registry's look-up latency: the facts of the documents an answer retrieved (what answering reads), and
    a substring filter over every fact (what a facts page or API reads: the question's first two characters)."""
    from kb.catalog import FactQuery

    def timed(query: FactQuery) -> float:
        t = time.perf_counter()
        kb.facts(query)
        return (time.perf_counter() - t) * 1e3

    from assistant.factsheet import lookup

    by_doc = [timed(FactQuery(doc_ids=ids)) for ids in doc_ids]
    page = []
    for _ in range(5):  # what the facts page reads when it opens: every fact, the first 2,000 with their sources
        t = time.perf_counter()
        lookup(kb, FactQuery(), 2000)
        page.append((time.perf_counter() - t) * 1e3)
    by_text = [timed(FactQuery(text=q[:2], limit=200)) for q in questions]
    pct = lambda xs, p: statistics.quantiles(xs, n=20)[p]  # noqa: E731
    return {
        "facts": kb.fact_count(), "fact_lookup_docs_p50_ms": statistics.median(by_doc),
        "fact_lookup_docs_p95_ms": pct(by_doc, 18), "fact_lookup_text_p50_ms": statistics.median(by_text),
        "fact_lookup_text_p95_ms": pct(by_text, 18), "facts_page_open_ms": statistics.median(page),
    }  # fmt: skip


def run(sizes: list[int], n_questions: int, server: str | None = None) -> dict[str, dict[str, float]]:
    """Build each size, then measure it in a fresh process (clean memory and open time)."""
    settings = Settings()
    texts, base = base_set(settings)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for url in [None, server] if server and size == 10000 else [None]:
                scaled = settings.model_copy(update={"home": Path(tmp), "chroma_url": url})
                name = f"scale-{size}" + ("-server" if url else "")
                build_s = build(scaled, name, size, texts, base, settings.embed_model)
                cmd = [sys.executable, "-m", "bench.scale", "--measure", tmp, name, "--questions", str(n_questions)]
                if url:
                    cmd += ["--server", url]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row["build_s"] = build_s
                results[f"{size}" + (" (chroma server)" if url else "")] = row
                print(json.dumps({name: row}), file=sys.stderr, flush=True)
    return results


@contextlib.contextmanager
def chroma_server(data: Path) -> Iterator[str]:
    """A `chroma run` server on a free loopback port, for the server-mode row."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def plot(results: dict[str, dict[str, float]], path: Path) -> None:
    """Query latency against corpus size (log scale), embedded Chroma only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted((int(k), v) for k, v in results.items() if k.isdigit())
    sizes = [s for s, _ in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("ask_p50_ms", "ask p50"), ("ask_p95_ms", "ask p95"), ("retrieve_p50_ms", "retrieval p50"),
                       ("search_only_p50_ms", "search without query embedding p50")):  # fmt: skip
        ax.plot(sizes, [v[key] for _, v in rows], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the knowledge base")
    ax.set_ylabel("milliseconds")
    ax.set_title("PilotQA query latency vs corpus size (2 cores)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> int:
    from assistant.evaluate import load_questions

    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--server", help="also measure 10k chunks against this Chroma server URL")
    parser.add_argument("--with-server", action="store_true", help="start a local `chroma run` for that row")
    parser.add_argument("--measure", nargs=2, metavar=("HOME", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        settings = Settings().model_copy(update={"home": Path(args.measure[0]), "chroma_url": args.server})
        questions = [r["question"] for r in load_questions(DATA / "cmrc2018_trial", args.questions)]
        print(json.dumps(measure(settings, args.measure[1], questions)))
        return 0
    if args.with_server:
        with tempfile.TemporaryDirectory() as data, chroma_server(Path(data)) as url:
            print(json.dumps(run(args.sizes, args.questions, url), indent=2))
        return 0
    print(json.dumps(run(args.sizes, args.questions, args.server), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
