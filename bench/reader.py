"""The local language model in reader mode: ``python -m bench.reader [N]``.

Owns: for each bundled model, the reader's answer latency through the product (``--mode reader`` on the
first N cmrc questions, the server already up) and llama.cpp's own prompt and generation rates for the same
prompts, set against this machine's fp32 matrix-multiply rate (2 FLOP per parameter per prompt token).
Does not own: the reader (``assistant.reader``) or the server (``models.llama_server``).
"""

from __future__ import annotations

import json
import statistics
import sys
import urllib.request
from pathlib import Path
from typing import Any

from bench.embed import matmul_gflops

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
PARAMS = {"qwen2.5-coder-1.5b": 1.54e9, "qwen2.5-coder-0.5b": 0.49e9}  # the upstream model cards' counts


def _raw(url: str, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One reader prompt sent straight to the server, uncached: its reply carries llama.cpp's timings."""
    from models import llama_server

    body = {
        "model": llama_server.ALIAS, "temperature": 0, "max_tokens": 64, "cache_prompt": False,  # the whole prompt
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    }  # fmt: skip
    request = urllib.request.Request(url + "/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=300) as reply:
        return dict(json.load(reply)["timings"])


def model_row(name: str, n: int, peak: float) -> dict[str, float]:
    from assistant import question as qn
    from assistant import reader
    from assistant.core import Assistant, Resources
    from assistant.evaluate import load_questions
    from kb.settings import Settings
    from models import llama_server

    settings = Settings(reader_model=name)
    assistant = Assistant(settings, Resources.build(settings, "eval-cmrc2018_trial"))
    rows = load_questions(DATA / "cmrc2018_trial", n)
    url = llama_server.ensure(settings)
    assistant.ask(rows[0]["question"], mode="reader")  # warm: the fixed system prompt is cached from here on
    ms, prompt_rate, gen_rate, prompt_tokens = [], [], [], []
    for row in rows:
        ms.append(assistant.ask(row["question"], mode="reader").trace.timings["total_ms"])
        q = qn.parse(row["question"], assistant.res.segmenter)
        hits = assistant.retriever.search(q.text, settings.top_k, terms=q.terms).hits
        cands = assistant.extractor.candidates(q, hits, lambda t: assistant.res.kb.idf("terms", t))
        t = _raw(
            url,
            reader.SYSTEM,
            f"句子：\n{reader.evidence(cands[: settings.answer.reader_evidence])}\n\n问题：{q.text}",
            reader.SCHEMA,
        )
        prompt_rate.append(t["prompt_per_second"])
        gen_rate.append(t["predicted_per_second"])
        prompt_tokens.append(t["prompt_n"])
    llama_server.stop(settings)
    prompt_tps = statistics.median(prompt_rate)
    return {
        "questions": len(rows), "answer_p50_s": statistics.median(ms) / 1e3,
        "answer_p95_s": statistics.quantiles(ms, n=20)[18] / 1e3 if len(ms) > 1 else ms[0] / 1e3,
        "prompt_tokens_p50": statistics.median(prompt_tokens), "prompt_tokens_per_s": prompt_tps,
        "generation_tokens_per_s": statistics.median(gen_rate),
        "prompt_fraction_of_fp32_matmul_rate": prompt_tps * 2 * PARAMS[name] / 1e9 / peak,
    }  # fmt: skip


def reader_bench(n: int) -> dict[str, dict[str, float]]:
    peak = matmul_gflops()
    rows = {f"reader {name}": model_row(name, n, peak) for name in PARAMS}
    rows["reader machine"] = {"fp32_matmul_gflop_per_s": peak}
    return rows


if __name__ == "__main__":
    print(json.dumps(reader_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 20), indent=2))
