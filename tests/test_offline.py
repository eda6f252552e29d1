"""No network at run time: ingest and a search under an audit hook that fails on outside connections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CACHE, CORPUS, ROOT

pytestmark = pytest.mark.slow

SCRIPT = r"""
import ipaddress, socket, sys

def audit(event, args):
    if event == "socket.connect":
        addr = args[1]
        if isinstance(addr, tuple):
            host = addr[0]
            try:
                ok = ipaddress.ip_address(host).is_loopback
            except ValueError:
                ok = host == "localhost"
            if not ok:
                raise RuntimeError(f"outside connection attempted: {addr}")
    if event == "socket.getaddrinfo" and args[0] not in ("localhost", "127.0.0.1", "::1", None):
        raise RuntimeError(f"name lookup attempted: {args[0]}")

sys.addaudithook(audit)
from cli import main
assert main(["ingest", sys.argv[1], "--quiet"]) == 0
from kb.settings import Settings
from models.embed import Embedder
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from assistant.retrieve import Retriever
s = Settings()
e = Embedder(s)
kb = KnowledgeBase.open(s, "default", Segmenter(s.cache_dir), e.name)
hits = Retriever(kb, e).search("刷脸付受理终端有多少台").hits
assert hits and "4821" in hits[0].chunk.text
print("OFFLINE-OK")
"""


def test_ingest_and_search_make_no_outside_connection(tmp_path: Path) -> None:
    env = {**os.environ, "PILOTQA_HOME": str(tmp_path / "home"), "PILOTQA_CACHE_DIR": str(CACHE)}
    env.pop("HF_HUB_OFFLINE", None)  # the product must set it itself
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(CORPUS)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert "OFFLINE-OK" in proc.stdout, proc.stderr[-3000:]
