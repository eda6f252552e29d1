"""Chunk invariants: offsets slice back to the text, sentences whole, sizes bounded."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.chunk import chunk
from ingest.loaders import load
from ingest.pipeline import to_document
from kb.records import Chunk, Document, Section
from kb.segment import sentence_spans

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PIECES = ["截至2020年9月3日", "签约用户数量已达10.29万户", "共计布放受理终端4821台", "效率提高了83%", "，", "。", "；",
          "！", "？", "\n", "试点项目", "省工行", "abc", " ", "……", "”", "（一）", "1.", "12.5亿元"]  # fmt: skip


def check(doc: Document, target: int) -> None:
    chunks = chunk(doc, target)
    assert chunks or not doc.text.strip()
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text  # the round trip
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for a, b in c.sentences:
            assert c.start <= a < b <= c.end
        if len(c.sentences) > 1:  # only a lone over-long sentence may exceed the target
            assert c.end - c.start <= target or len(c.sentences) == 2
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def lost(doc: Document, target: int, chunker: Callable[[Document, int], list[Chunk]] = chunk) -> list[tuple[int, int]]:
    """Sentences of ``doc`` with some non-blank character that no chunk covers."""
    covered = bytearray(len(doc.text))
    for c in chunker(doc, target):
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    return [
        (a, b)
        for s in doc.sections
        for a, b in sentence_spans(doc.text, s.start, s.end)
        if any(not covered[i] and not doc.text[i].isspace() for i in range(a, b))
    ]


def generated(seed: int) -> Document:
    """A document of 1-5 sections of random report-like text."""
    rng = random.Random(seed)
    text, sections = "", []
    for n in range(rng.randint(1, 5)):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 300)))
        sections.append(Section(len(text), len(text) + len(body), (f"第{n}节",)))
        text += body + "\n"
    return Document("d", "t", text, "s", sections=tuple(sections), content_hash=str(seed))


@pytest.mark.parametrize("seed", range(60))
def test_chunking_loses_no_sentence(seed: int) -> None:
    doc = generated(seed)
    assert lost(doc, random.Random(seed).choice([40, 80, 150, 300])) == []


def test_lost_sees_a_dropped_sentence() -> None:
    """The property above can fail: a chunker that drops the last chunk of a section is caught."""
    doc = next(d for d in map(generated, range(100)) if len(chunk(d, 80)) > 2)
    assert lost(doc, 80, lambda d, t: chunk(d, t)[:-1])


def corpus_docs() -> list[Document]:
    docs: list[Document] = []
    for path in sorted(CORPUS.iterdir()):
        docs.extend(to_document(parsed, path, 300) for parsed in load(path, 10**8))
    return docs


@pytest.mark.parametrize("target", [80, 150, 300, 600])
def test_corpus_chunks_round_trip(target: int) -> None:
    for doc in corpus_docs():
        check(doc, target)


@pytest.mark.parametrize("seed", range(40))
def test_random_text_round_trips(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 400)))
    doc = Document("d", "t", text, "s", sections=(Section(0, len(text)),), content_hash=str(seed))
    check(doc, rng.choice([50, 120, 300]))


def test_numbers_and_sentences_never_cut() -> None:
    sentence = "截至2020年9月3日该项目签约用户数量已达10.29万户。"
    text = sentence * 30
    doc = Document("d", "t", text, "s", sections=(Section(0, len(text)),), content_hash="h")
    chunks = chunk(doc, 100)
    whole = {text[a:b] for a, b in sentence_spans(text)}
    for c in chunks:
        for a, b in c.sentences:
            assert text[a:b] in whole


def test_one_sentence_overlap() -> None:
    text = "".join(f"第{i}句话在这里结束。" for i in range(20))
    doc = Document("d", "t", text, "s", sections=(Section(0, len(text)),), content_hash="h")
    chunks = chunk(doc, 60)
    for a, b in itertools.pairwise(chunks):
        assert a.sentences[-1] == b.sentences[0]


def test_over_long_sentence_split_at_commas_not_digits() -> None:
    text = "，".join(["金额为12345678元"] * 200) + "。"
    doc = Document("d", "t", text, "s", sections=(Section(0, len(text)),), content_hash="h")
    for c in chunk(doc, 100):
        assert c.end - c.start <= 300
        assert not (c.start > 0 and text[c.start - 1].isdigit() and text[c.start].isdigit())


def test_ids_are_deterministic_and_follow_content() -> None:
    doc = corpus_docs()[0]
    assert [c.chunk_id for c in chunk(doc)] == [c.chunk_id for c in chunk(doc)]
    changed = Document(doc.doc_id, doc.title, doc.text, doc.source, doc.date, doc.sections, "other-hash")
    assert {c.chunk_id for c in chunk(doc)}.isdisjoint(c.chunk_id for c in chunk(changed))
