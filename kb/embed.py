"""The embedder: a local sentence-transformers model, never a download.

Owns: resolving ``PILOTQA_EMBED_MODEL`` to a local folder (the bundled model is
converted on first use), loading it with sentence-transformers in offline mode, and
encoding passages and queries with the model's own prompts. Does not own: storing
vectors or deciding what text gets embedded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.errors import ConfigError
from kb.model import builtin_model_dir
from kb.settings import Settings

# No hub look-ups, no progress bars, ever: models are local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

if TYPE_CHECKING:  # imported on first use: it alone takes ~10 s, and many commands never embed
    from sentence_transformers import SentenceTransformer

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
    """Encodes passages and queries into unit vectors. Thread-safe; loads the model on first use."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.embed_model
        self.batch_size = settings.embed_batch_size
        self._settings = settings
        self._model: SentenceTransformer | None = None
        self._prompts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._dim = 0

    def load(self) -> SentenceTransformer:
        """The loaded model (loading it now if needed)."""
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = model_dir(self._settings)
                model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                model.eval()
                self._prompts = {k: v for k, v in (model.prompts or {}).items() if v is not None}
                self._model = model
                log.info("embedding model %s loaded from %s", self.name, path)
            return self._model

    @property
    def dim(self) -> int:
        if not self._dim:
            self._dim = int(self._encode(["维度"], "passage").shape[1])
        return self._dim

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        model = self.load()
        name = prompt if prompt in self._prompts else None
        with self._lock:
            vectors = model.encode(
                list(texts),
                prompt_name=name,
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
        """Vector of one question, shape (dim,)."""
        return self._encode([text], "query")[0]


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
