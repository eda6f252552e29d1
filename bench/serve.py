"""``python -m bench.serve [SECONDS]``: `pilotqa serve` under load: requests per second and p50/p95 latency of
``/v1/chat/completions`` (extractive) at 1, 4 and 16 concurrent clients, and the server's memory.

A real server (``python -m cli serve``) on a free loopback port over a temporary home with corpus/ ingested;
each client is a thread holding one keep-alive HTTP connection and asking the shipped report's questions in turn
for SECONDS (default 15) per level. The clients run on the same cores as the server, so the figures are a floor.
Target (issue #20): >= 20 requests/s at 16 clients, p95 <= 1 s; and the same while two more clients each keep a
model-reading question (``pilotqa-reader``, the bundled model on its local server) in flight (issue #27).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from kb.settings import Settings
from models import llama_server

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(x)["question"] for x in (ROOT / "tests/data/corpus_questions.jsonl").read_text().splitlines()]
LEVELS = (1, 4, 16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _own_cache(cache: Path) -> Path:
    """A cache folder of this run's, the converted embedder, the model files and jieba's cache linked from
    the shared one."""
    shared = Settings().cache_dir
    cache.mkdir(parents=True)
    for item in shared.iterdir():
        if item.name in ("models", "onnx", "jieba.cache"):
            (cache / item.name).symlink_to(item)
    return cache


def _memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of process ``pid`` in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _client(port: int, stop: float, offset: int, latencies: list[float], failures: list[str], count: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = offset
    while time.perf_counter() < stop or i - offset < count:
        body = json.dumps(
            {"model": "pilotqa", "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]}
        )
        t = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        latencies.append(time.perf_counter() - t)
        if resp.status != 200 or "reference" not in json.loads(data)["choices"][0]["message"]:
            failures.append(f"{resp.status}: {data[:200]!r}")
        i += 1
    conn.close()


def load(port: int, clients: int, seconds: float, count: int = 0) -> dict[str, float]:
    """``clients`` threads asking for ``seconds`` (or ``count`` questions each, whichever is more)."""
    latencies: list[float] = []
    failures: list[str] = []
    stop = time.perf_counter() + seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(target=_client, args=(port, stop, i * 3, latencies, failures, count)) for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {"requests": len(latencies), "failures": len(failures), "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1e3, "p95_ms": q[18] * 1e3}  # fmt: skip


def _reading(port: int, stop: threading.Event, done: list[float], refused: list[int]) -> None:
    """One client keeping a model-reading (``pilotqa-reader``) question in flight until ``stop``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    i = 0
    while not stop.is_set():
        body = json.dumps({"model": "pilotqa-reader",
                           "messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]})  # fmt: skip
        t = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        (done.append(time.perf_counter() - t) if resp.status == 200 else refused.append(resp.status))
        i += 1
    conn.close()


def mixed(port: int, seconds: float) -> dict[str, float]:
    """16 clients asking extractive questions while two clients keep a model-reading question in flight each
    (issue #27: the instant lane is not held by the model lane; target >= 20 answers/s, p95 <= 1 s)."""
    stop, done, refused = threading.Event(), list[float](), list[int]()
    readers = [threading.Thread(target=_reading, args=(port, stop, done, refused)) for _ in range(2)]
    for t in readers:
        t.start()
    time.sleep(3)  # both are queued or reading before the load starts
    row = load(port, 16, seconds)
    stop.set()
    for t in readers:
        t.join()
    row.update({"model_answers": len(done), "model_refused_429": len(refused),
                "model_mean_s": statistics.mean(done) if done else float("nan")})  # fmt: skip
    return row


def serve_bench(seconds: float = 15.0) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = _own_cache(Path(tmp) / "cache")  # its own model server, not one another process started
        env = {**os.environ, "PILOTQA_HOME": str(Path(tmp) / "home"), "PYTHONPATH": str(ROOT),
               "PILOTQA_CACHE_DIR": str(cache)}  # fmt: skip
        env.pop("PILOTQA_API_KEY", None)
        subprocess.run([sys.executable, "-m", "cli", "ingest", str(ROOT / "corpus"), "--quiet"], env=env, cwd=ROOT,
                       check=True, capture_output=True)  # fmt: skip
        port = _free_port()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - t0 > 120:
                        raise RuntimeError("pilotqa serve did not start") from None
                    time.sleep(0.2)
            ready = time.perf_counter() - t0
            idle_mb, _ = _memory_mb(proc.pid)
            results = {"serve cold pass": load(port, 1, 0.0, len(QUESTIONS))}  # each question once, nothing remembered
            for clients in LEVELS:
                results[f"serve {clients} clients"] = load(port, clients, seconds)
            results["serve 16 clients, 2 model readings in flight"] = mixed(port, seconds)
            now_mb, peak_mb = _memory_mb(proc.pid)
            results["serve memory"] = {"ready_s": ready, "rss_idle_mb": idle_mb, "rss_after_mb": now_mb,
                                       "peak_rss_mb": peak_mb}  # fmt: skip
            return results
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            llama_server.stop(Settings(home=Path(tmp) / "home", cache_dir=cache))


if __name__ == "__main__":
    out = serve_bench(float(sys.argv[1]) if len(sys.argv) > 1 else 15.0)
    for group, row in out.items():
        print(group, json.dumps({k: round(v, 1) for k, v in row.items()}))
