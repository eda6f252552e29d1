"""The embedder: a local sentence-transformers model, never a download.

Owns: resolving ``PILOTQA_EMBED_MODEL`` to a local folder (the bundled model is
converted on first use), choosing the backend that runs it (ONNX Runtime via
``models.onnx_encoder``, or sentence-transformers in offline mode), and encoding passages
and queries with the model's own prompts. Does not own: storing
vectors or deciding what text gets embedded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.errors import ConfigError
from kb.settings import Settings
from models import onnx_encoder
from models.e5 import builtin_model_dir

# No hub look-ups, no progress bars, ever: models are local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

if TYPE_CHECKING:  # imported only for the PyTorch backend: the import alone takes ~10 s
    from sentence_transformers import SentenceTransformer

    from models.onnx_encoder import OnnxEncoder

log = logging.getLogger(__name__)


def model_dir(settings: Settings) -> Path:
    """The local folder of the configured embedding model."""
    if settings.builtin_model:
        return builtin_model_dir(settings.cache_dir)
    path = Path(settings.embed_model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ConfigError(
            f"找不到嵌入模型文件夹“{settings.embed_model}”。PILOTQA_EMBED_MODEL 必须指向本机上的 "
            "sentence-transformers 模型文件夹（程序不会从网络下载模型）；不设置则使用内置的 e5-small。"
        )
    return path


class Embedder:
    """Encodes passages and queries into unit vectors. Thread-safe; loads the model on first use.

    ``PILOTQA_EMBED_BACKEND`` picks how the model runs: ONNX Runtime with int8 weights (the
    default, ~3x the fp32 PyTorch rate on two cores), ONNX Runtime in fp32, or PyTorch via
    sentence-transformers. Models the ONNX path cannot run fall back to PyTorch.
    """

    def __init__(self, settings: Settings) -> None:
        self.name = settings.embed_model
        self.batch_size = settings.embed_batch_size
        self.backend = settings.embed_backend
        self._settings = settings
        self._onnx: OnnxEncoder | None = None
        self._torch: SentenceTransformer | None = None
        self._prompts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._dim = 0
        self._last_query: tuple[str, np.ndarray] | None = None

    def load(self) -> None:
        """Load the model now (the first encode does it otherwise)."""
        with self._lock:
            if self._onnx is None and self._torch is None:
                path = model_dir(self._settings)
                self._prompts = read_prompts(path)
                if self.backend != "torch" and onnx_encoder.supported(path):
                    onnx = onnx_encoder.ensure(path, self._settings.cache_dir) / onnx_encoder.FILES[self.backend]
                    self._onnx = onnx_encoder.OnnxEncoder(path, onnx)
                else:
                    if self.backend != "torch":
                        log.warning("%s cannot run on ONNX Runtime here; using PyTorch", path)
                        self.backend = "torch"
                    self._torch = _load_sentence_transformer(path)
                log.info("embedding model %s loaded from %s (%s)", self.name, path, self.backend)

    @property
    def dim(self) -> int:
        if not self._dim:
            self._dim = int(self._encode(["维度"], "passage").shape[1])
        return self._dim

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        self.load()
        prefix = self._prompts.get(prompt, "")
        prompted = [prefix + t for t in texts]
        if self._onnx is not None:
            # int8 activations are scaled per run: one text per run keeps a passage's vector
            # independent of its batch-mates, at no cost in speed on this path
            batch = 1 if self.backend == "onnx-int8" else self.batch_size
            return self._onnx.encode(prompted, batch)
        assert self._torch is not None
        with self._lock:
            vectors = self._torch.encode(
                prompted,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of document passages, shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(texts, "passage")

    def query(self, text: str) -> np.ndarray:
        """Vector of one question, shape (dim,). The last one is kept: the retriever and the answerer's ranking
        by meaning both embed the same question."""
        last = self._last_query
        if last is not None and last[0] == text:
            return last[1]
        vector = self._encode([text], "query")[0]
        vector.setflags(write=False)  # shared with the next caller of the same question
        self._last_query = (text, vector)  # one assignment: sessions racing here only re-encode
        return vector


def read_prompts(folder: Path) -> dict[str, str]:
    """The model's own prompts ("query: ", "passage: "), from its sentence-transformers config."""
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in (config.get("prompts") or {}).items() if isinstance(v, str)}


def _load_sentence_transformer(path: Path) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.eval()
    return model


class Reranker:
    """An optional local cross-encoder (``PILOTQA_RERANK_MODEL``); none ships with PilotQA."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import CrossEncoder

        if not Path(path).expanduser().is_dir():
            raise ConfigError(f"找不到重排序模型文件夹“{path}”：PILOTQA_RERANK_MODEL 必须是本机文件夹。")
        self._model = CrossEncoder(str(Path(path).expanduser()), device="cpu", local_files_only=True)
        self._lock = threading.Lock()

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        with self._lock:
            out = self._model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(x) for x in out]
