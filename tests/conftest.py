"""Shared fixtures: real settings in temporary folders, one real embedder per session, one real service."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.segment import Segmenter
from kb.settings import Settings
from models.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED_DATA = ROOT.parent / "shared" / "data"
# The converted model is built once into the normal shared cache (as `make test` prepares it).
CACHE = Path(os.environ.get("PILOTQA_CACHE_DIR", str(Path.home() / ".cache" / "pilotqa")))


def make_settings(home: Path, **kw: object) -> Settings:
    return Settings(home=home, cache_dir=CACHE, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    e = Embedder(make_settings(Path("/nonexistent")))
    e.load()
    return e


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    return Segmenter(CACHE)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on a free loopback port."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.fail("the chroma command is missing: chromadb's console script should be installed")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "CHROMA_SERVER_NOFILE": "4096"}
    cmd = [exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    yield from serve(cmd, port, "/api/v2/heartbeat", env)


def serve(cmd: list[str], port: int, health: str, env: dict[str, str], cwd: Path = ROOT,
          log: Path | None = None) -> Iterator[str]:  # fmt: skip
    """Run a server on loopback until its health URL answers; yield its URL; stop it afterwards.
    ``log``: where its output goes (nowhere by default)."""
    out = log.open("w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + health, timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"{Path(cmd[0]).name} did not start within 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    if log:
        out.close()  # type: ignore[union-attr]


@dataclass(frozen=True)
class Service:
    """A real `pilotqa serve` on a loopback port over a home with corpus/ ingested."""

    url: str
    home: Path
    spare: Path  # a copy of that home made before the server started, for a second process (MCP over stdio)


def service_env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PILOTQA_HOME": str(home), "PILOTQA_CACHE_DIR": str(CACHE), "PYTHONPATH": str(ROOT)}
    env.pop("PILOTQA_API_KEY", None)
    return {**env, **extra}


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for the session's service and MCP tests (starting one costs a model load)."""
    root = tmp_path_factory.mktemp("service")
    home, spare = root / "home", root / "spare"
    env = service_env(home)
    subprocess.run([sys.executable, "-m", "cli", "ingest", str(CORPUS), "--quiet"], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    shutil.copytree(home, spare)
    port = free_port()
    cmd = [sys.executable, "-m", "cli", "serve", "--port", str(port)]
    for url in serve(cmd, port, "/health", env, log=root / "serve.log"):
        yield Service(url, home, spare)
