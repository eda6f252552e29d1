"""The local language model server: llama.cpp's own HTTP server (xllamacpp) on 127.0.0.1.

Owns: the only xllamacpp import (in the server process alone), starting the server as a
detached process on a free loopback port, the state file that lets the CLI, the app and
``pilotqa eval`` share one server, health checks, restarting a dead or mismatched server,
and stopping it. A server that does not come up within its time limit is killed and
reported with the end of its log: never a hang. Does not own: the model file
(``models.gguf``) or talking to the server (``assistant.llm`` uses the same OpenAI-compatible
client as for an external endpoint).

``python -m models.llama_server MODEL PORT THREADS CTX`` runs the server in the foreground.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.errors import EndpointError
from kb.settings import Settings
from models.gguf import gguf_path

ALIAS = "pilotqa-reader"  # the model name the server answers to
START_S = 120.0  # longest wait for a server to load its model and answer /health


@dataclass(frozen=True)
class Running:
    """What the state file records about the server."""

    pid: int
    port: int
    model: str  # the GGUF path it serves

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _state_file(settings: Settings) -> Path:
    return settings.cache_dir / "llm-server.json"


@contextlib.contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """One process at a time decides whether to start or stop the server."""
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with (settings.cache_dir / "llm-server.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def current(settings: Settings) -> Running | None:
    """The recorded server if its process is alive and it answers, else None."""
    try:
        running = Running(**json.loads(_state_file(settings).read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return running if _alive(running.pid) and healthy(running.url) else None


def ensure(settings: Settings) -> str:
    """The base URL (…/v1) of a healthy server for the configured model, starting one if needed."""
    model = str(gguf_path(settings.cache_dir, settings.reader_model))
    with _locked(settings):
        running = current(settings)
        if running is not None and running.model == model:
            return running.url + "/v1"
        if running is not None:  # another model: this one replaces it
            _terminate(running.pid)
        running = _start(settings, model)
        _state_file(settings).write_text(json.dumps(asdict(running)), "utf-8")
        return running.url + "/v1"


def stop(settings: Settings) -> bool:
    """Stop the recorded server; False when none was running."""
    with _locked(settings):
        running = current(settings)
        _state_file(settings).unlink(missing_ok=True)
        if running is None:
            return False
        _terminate(running.pid)
        return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(settings: Settings, model: str) -> Running:
    port = _free_port()
    log_path = settings.cache_dir / "llm-server.log"
    threads = str(os.cpu_count() or 2)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "models.llama_server", model, str(port), threads, str(settings.reader_ctx)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    running = Running(proc.pid, port, model)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EndpointError(f"本地语言模型服务未能启动（退出码 {proc.returncode}）：{_tail(log_path)}")
        if healthy(running.url):
            return running
        time.sleep(0.2)
    _terminate(proc.pid)
    raise EndpointError(f"本地语言模型服务 {START_S:.0f} 秒内没有就绪，已停止：{_tail(log_path)}")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " / ".join(path.read_text("utf-8", errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "（没有日志）"


def _terminate(pid: int) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 10 s."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not _alive(pid):
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def serve(model: str, port: int, threads: int, ctx: int) -> None:
    """Run llama.cpp's server for ``model`` on 127.0.0.1:``port`` until this process is stopped."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.model_alias = {ALIAS}
    server = xllamacpp.Server(params)
    print(f"serving {model} at {server.listening_address}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
