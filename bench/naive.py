"""``python -m bench.naive SET_DIR``: the afternoon LangChain recipe, scored like PilotQA.

The recipe: LangChain's RecursiveCharacterTextSplitter (500 characters, 50 overlap), a
langchain-chroma store, the same embedding model, top-k similarity search, and the top
chunk shown as the answer (it never refuses). Scored with ``assistant.evaluate``'s rule:
gold-document recall@1/@5, answer containment, refusal accuracy, median answer length,
latency. The model runs as LangChain's HuggingFaceEmbeddings would run it — fp32
sentence-transformers — through PilotQA's embedder (same weights, and e5's query/passage
prompts, which a naive recipe might forget: that only flatters it). A benchmark, not product
code: LangChain's splitter and Chroma wrapper are imported only here.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.evaluate import Outcome, load_questions, score
from kb.settings import Settings
from models.embed import Embedder

TOP_K = 5


class SameModel(Embeddings):
    """LangChain's embeddings interface over PilotQA's embedder (the bundled e5-small)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.query(text).tolist()


def build(set_dir: Path, embedder: Embedder, where: Path) -> tuple[Chroma, float]:
    """Split and index the set's corpus; returns the store and the seconds it took."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    docs = []
    for line in (set_dir / "corpus.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            docs.append(Document(page_content=row["text"], metadata={"doc_id": row["doc_id"]}))
    t0 = time.perf_counter()
    chunks = splitter.split_documents(docs)
    store = Chroma(
        collection_name="naive",
        embedding_function=SameModel(embedder),
        persist_directory=str(where),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    for start in range(0, len(chunks), 256):
        store.add_documents(chunks[start : start + 256])
    return store, time.perf_counter() - t0


def evaluate(set_dir: Path, limit: int | None = None) -> dict[str, Any]:
    embedder = Embedder(Settings(embed_backend="torch"))  # what HuggingFaceEmbeddings runs
    with tempfile.TemporaryDirectory() as tmp:
        store, build_s = build(set_dir, embedder, Path(tmp))
        rows = load_questions(set_dir, limit)
        outcomes = []
        for row in rows:
            t0 = time.perf_counter()
            found = store.similarity_search(row["question"], k=TOP_K)
            ms = (time.perf_counter() - t0) * 1000
            docs = list(dict.fromkeys(d.metadata["doc_id"] for d in found))
            # the top chunk is the answer, and the recipe answers everything: never a refusal
            outcomes.append(Outcome(found[0].page_content if found else "", True, docs, ms))
    return {**score(rows, outcomes), "build_s": build_s}


if __name__ == "__main__":
    print(json.dumps(evaluate(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None), indent=2))
