"""Resources shared by all sessions of one Streamlit server, and per-session state.

Owns: building the settings, the segmenter and embedder once per process
(``st.cache_resource``), the one ``ops.library.Library`` (an ``Assistant`` per knowledge base, their locks), the
feedback file, and the names of session-state keys. Does not own: any widget.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import streamlit as st

from assistant.core import Assistant
from kb import disk
from kb.records import Answer
from kb.segment import Segmenter
from kb.settings import Settings
from models.embed import Embedder
from ops.library import Library

HISTORY, KB, MODE = "history", "kb_name", "mode"
_FEEDBACK_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return Settings()


@st.cache_resource(show_spinner="正在准备……")
def shared() -> tuple[Segmenter, Embedder]:
    """The segmenter, and the embedder whose model loads in the background: the chat is usable
    at once and the first question waits only for what is left of the load."""
    s = settings()
    embedder = Embedder(s)
    # not a daemon: a process that exits mid-load waits for it instead of aborting inside ONNX Runtime
    threading.Thread(target=embedder.load, name="load-embedding-model", daemon=False).start()
    return Segmenter(s.cache_dir), embedder


@st.cache_resource(show_spinner=False)
def library() -> Library:
    """The knowledge bases every session shares, and their locks (``ops.library``): the app asks, uploads and
    deletes through ``ops.api`` on it, as the CLI and the service do."""
    segmenter, embedder = shared()
    return Library(settings(), segmenter, embedder)


def assistant(kb_name: str) -> Assistant:
    """The assistant of knowledge base ``kb_name`` (opened, or made empty, on first use)."""
    return library().assistant(kb_name, create=True)


def history() -> list[Answer]:
    return st.session_state.setdefault(HISTORY, [])


def save_feedback(answer: Answer, rating: str, kb_name: str) -> None:
    """Add one rating to ``feedback.jsonl`` in the data directory."""
    path = settings().home / "feedback.jsonl"
    row: dict[str, Any] = {
        "time": dt.datetime.now().isoformat(timespec="seconds"), "kb": kb_name, "rating": rating,
        "question": answer.question, "answer": answer.text, "grounded": answer.grounded,
        "citations": [c.chunk_id for c in answer.citations],
    }  # fmt: skip
    line = (json.dumps(row, ensure_ascii=False) + "\n").encode()
    with _FEEDBACK_LOCK:  # the file rewritten whole (``kb.disk``): a full disk leaves the ratings it held
        disk.write_bytes(path, (path.read_bytes() if path.exists() else b"") + line)
