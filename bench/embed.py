"""``python -m bench.embed [N]``: the embedding backends side by side on the same passages.

Runs the bundled model as fp32 PyTorch (sentence-transformers), bf16 PyTorch, PyTorch
dynamic int8, ONNX Runtime fp32 and ONNX Runtime int8 (the product's backends come from
``models.embed``), on N chunks of cmrc2018_trial as ingest makes them, at batch sizes 4 and
32 (sorted by length; the int8 ONNX backend always runs one text at a time). Reports
passages/s, cosine agreement with fp32 PyTorch, the achieved arithmetic rate against this
machine's measured fp32 matrix-multiply rate, and the median latency of one query embedding.
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BATCHES = (4, 32)

Encode = Callable[[list[str], int], np.ndarray]


def chunk_texts(n: int) -> list[str]:
    """The first ``n`` chunks of cmrc2018_trial, as the knowledge base embeds them."""
    from ingest.chunk import chunk
    from ingest.loaders import load
    from ingest.pipeline import to_document
    from kb.store import KnowledgeBase

    source = DATA / "cmrc2018_trial" / "corpus.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        subset.write_text("\n".join(source.read_text("utf-8").splitlines()[: n // 2 + 1]) + "\n", "utf-8")
        docs = [to_document(p, subset, 300) for p in load(subset, 10**9)]
    return [KnowledgeBase.embed_text(c) for d in docs for c in chunk(d, 300)][:n]


def matmul_gflops() -> float:
    """This machine's fp32 matrix-multiply rate (1024², all cores, best of 7 rounds), in GFLOP/s."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(7):  # the best of several rounds: the rate the hardware sustains, not a noisy moment
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        best = min(best, time.perf_counter() - t0)
    return 10 * 2 * 1024**3 / best / 1e9


def gflop_per_passage(texts: list[str], folder: Path) -> float:
    """Mean arithmetic of one passage: weight matmuls plus attention, from real token counts."""
    from models.e5 import load_tokenizer
    from models.embed import read_prompts

    passage = read_prompts(folder).get("passage", "")
    cfg = json.loads((folder / "config.json").read_text("utf-8"))
    h, f, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    tok, _ = load_tokenizer(folder, 512)
    lengths = [len(tok.encode(passage + t).ids) for t in texts]
    per_token = 2 * (4 * h * h + 2 * h * f)  # Q, K, V, O and the two feed-forward matrices
    flops = [layers * (n * per_token + 4 * n * n * h) for n in lengths]
    return statistics.fmean(flops) / 1e9


def torch_variants(folder: Path) -> dict[str, tuple[Encode, Callable[[str], np.ndarray]]]:
    """fp32, bf16 and dynamic-int8 PyTorch encoders, each with a query encoder."""
    import torch
    from sentence_transformers import SentenceTransformer

    from models.embed import read_prompts

    prompts = read_prompts(folder)  # the model's own "passage: " / "query: ", as the product uses them
    fp32 = SentenceTransformer(str(folder), device="cpu", local_files_only=True).eval()
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16)
    int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32), {torch.nn.Linear}, dtype=torch.qint8)

    def make(model: SentenceTransformer) -> tuple[Encode, Callable[[str], np.ndarray]]:
        def encode(texts: list[str], bs: int) -> np.ndarray:
            with torch.inference_mode():
                passages = [prompts.get("passage", "") + t for t in texts]
                out = model.encode(passages, batch_size=bs, convert_to_tensor=True, normalize_embeddings=True,
                                   show_progress_bar=False)  # fmt: skip
            return out.float().numpy()

        def query(text: str) -> np.ndarray:
            with torch.inference_mode():
                query = [prompts.get("query", "") + text]
                return model.encode(query, convert_to_tensor=True, show_progress_bar=False).float().numpy()

        return encode, query

    return {"pytorch fp32": make(fp32), "pytorch bf16": make(bf16), "pytorch dynamic int8": make(int8)}


def onnx_variants(settings_home: Path) -> dict[str, tuple[Encode, Callable[[str], np.ndarray]]]:
    """The product's ONNX Runtime backends, through ``models.embed.Embedder``."""
    from kb.settings import Settings
    from models.embed import Embedder

    out: dict[str, tuple[Encode, Callable[[str], np.ndarray]]] = {}
    for backend in ("onnx", "onnx-int8"):
        e = Embedder(Settings(home=settings_home, embed_backend=backend))
        e.load()

        def encode(texts: list[str], bs: int, e: Embedder = e) -> np.ndarray:
            e.batch_size = bs
            return e.passages(texts)

        out[f"onnxruntime {backend.removeprefix('onnx').strip('-') or 'fp32'}"] = (encode, e.query)
    return out


def embed_bench(n: int) -> dict[str, dict[str, float]]:
    from kb.settings import Settings
    from models.embed import model_dir

    folder = model_dir(Settings())
    texts = chunk_texts(n)
    gflop = gflop_per_passage(texts, folder)
    peak = matmul_gflops()
    variants = {**torch_variants(folder), **onnx_variants(Path(tempfile.gettempdir()))}
    batches = {"onnxruntime int8": (1,)}  # the int8 backend runs one text at a time (see models.embed)
    reference: np.ndarray | None = None
    results: dict[str, dict[str, float]] = {}
    for name, (encode, query) in variants.items():
        encode(texts[:8], 4)  # warm up
        row: dict[str, float] = {}
        for bs in batches.get(name, BATCHES):
            t0 = time.perf_counter()
            vectors = encode(texts, bs)
            row[f"passages_per_s_bs{bs}"] = len(texts) / (time.perf_counter() - t0)
            reference = vectors if reference is None else reference
            row[f"cosine_min_bs{bs}"] = float((vectors * reference).sum(axis=1).min())
        best = max(v for k, v in row.items() if k.startswith("passages_per_s"))
        row["gflop_per_s"] = best * gflop
        row["fraction_of_fp32_matmul_rate"] = best * gflop / peak
        row["query_embed_p50_ms"] = statistics.median(_timed(query, t[:30]) for t in texts[:20])
        results[name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)
    results["machine"] = {"fp32_matmul_gflop_per_s": peak, "gflop_per_passage": gflop, "passages": len(texts)}
    return results


def _timed(fn: Callable[[str], object], arg: str) -> float:
    t0 = time.perf_counter()
    fn(arg)
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    print(json.dumps(embed_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 128), indent=2))
