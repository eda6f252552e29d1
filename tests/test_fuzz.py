"""Fuzzed files: PDF, DOCX, HTML and OFD made from the fixtures and mutated (seeded). Every file ends as documents or as
one failure naming it: never a traceback, never a lost batch."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from ingest.chunk import chunk
from ingest.loaders import load
from ingest.pipeline import Ingestor, to_document
from ingest.summary import Status
from kb.errors import InputError
from kb.segment import Segmenter
from kb.settings import Settings
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.ofdgen import ofd, report
from tests.pdfgen import pdf_with_bad_filter, pdf_with_huge_tounicode, pdf_with_pages

REPORTS = Path(__file__).resolve().parent / "data" / "reports"
SEED = 18
PER_FORMAT = 100  # files per format through the loaders: 400 in all, about a second


def sample_docx() -> bytes:
    d = docx.Document()
    d.add_heading("济南市试点报告", level=1)
    d.add_paragraph("截至2021年3月31日，试点银行累计发放贷款12.6亿元。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "银行", "金额"
    table.cell(1, 0).text, table.cell(1, 1).text = "齐鲁银行", "3.2亿元"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def splice(rng: random.Random, data: bytes) -> bytes:
    """Cut, duplicate or insert a slice: broken lengths, offsets and nesting."""
    a, b = sorted(rng.randrange(len(data)) for _ in range(2))
    kind = rng.randrange(3)
    if kind == 0:
        return data[:a] + data[b:]
    if kind == 1:
        return data[:b] + data[a:b] * rng.randint(2, 30) + data[b:]
    return data[:a] + rng.randbytes(rng.randint(1, 64)) + data[a:]


FRAGMENTS = (
    "<table><tr><td>",
    "</td></tr></table>",
    "</div>",
    "<p",
    "<!--",
    "<script>",
    "&#xD800;",
    "<td colspan=99999>",
    "<th rowspan=-1>",
    "<h1>",
    '<meta name=pubdate content="2021-99-99">',
    "\u202e",
    "<li>" * 50,
)


def tags(rng: random.Random, data: bytes) -> bytes:
    """Markup inserted at character boundaries: unclosed and stray tags, odd attributes, bad entities."""
    text = data.decode("utf-8")
    for _ in range(rng.randint(1, 20)):
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(FRAGMENTS) * rng.randint(1, 40) + text[at:]
    return text.encode("utf-8")


def inner(rng: random.Random, data: bytes) -> bytes:
    """A .docx (or .ofd) whose zip is intact and whose XML parts are mutated."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for name in src.namelist():
            part = src.read(name)
            if name.endswith(".xml") and rng.random() < 0.5:
                part = (flip if rng.random() < 0.5 else splice)(rng, part)
            dest.writestr(name, part)
    return out.getvalue()


def mutants(rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    pdfs = [pdf_with_pages(["Pilot terminals 4821 units.", "Users reached 102900."]), pdf_with_bad_filter("x y")]
    pdfs += [p.read_bytes() for p in REPORTS.glob("*.pdf")]  # a ruled table in a Chinese PDF (pdfplumber reads it)
    html = [p.read_bytes() for p in REPORTS.glob("*.html")]
    word = sample_docx()
    makers: list[tuple[str, list[bytes], list[Callable[[random.Random, bytes], bytes]]]] = [
        (".pdf", pdfs, [flip, splice]),
        (".html", html, [flip, splice, tags, tags]),
        (".docx", [word], [flip, splice, inner]),
        (".ofd", [ofd([report()])], [flip, splice, inner]),
    ]
    files = []
    for suffix, bases, ways in makers:
        for i in range(n):
            data = rng.choice(ways)(rng, rng.choice(bases))
            files.append((f"fuzz-{i:03d}{suffix}", data or b"x"))
    return files


def outcome(path: Path) -> str:
    """'ok' when the file gives documents that chunk, else its one failure message."""
    try:
        for parsed in load(path, 10**7):
            doc = to_document(parsed, path, 300)
            chunk(doc, 300)
        return "ok"
    except InputError as exc:
        assert exc.path == str(path) and exc.problem and "\n" not in exc.problem
        return exc.problem


def test_fuzzed_files_end_as_documents_or_one_failure(tmp_path: Path) -> None:
    outcomes = {}
    for name, data in mutants(random.Random(SEED), PER_FORMAT):
        path = tmp_path / name
        path.write_bytes(data)
        outcomes[name] = outcome(path)  # any other exception fails the test with its traceback
    assert len(outcomes) == 4 * PER_FORMAT
    ok = sum(v == "ok" for v in outcomes.values())
    assert 0 < ok < len(outcomes)  # the mutations both break files and leave some readable


@pytest.mark.slow
def test_a_fuzzed_batch_is_ingested_whole(tmp_path: Path, settings: Settings, segmenter: Segmenter,
                                          embedder: Embedder) -> None:  # fmt: skip
    folder = tmp_path / "batch"
    folder.mkdir()
    files = mutants(random.Random(SEED + 1), 12)
    files += [("filter.pdf", pdf_with_bad_filter("x y")), ("tounicode.pdf", pdf_with_huge_tounicode("x y"))]
    for name, data in files:
        (folder / name).write_bytes(data)
    (folder / "good.txt").write_text("齐鲁银行签约用户数量已达10.29万户。", "utf-8")
    kb = KnowledgeBase.open(settings, "default", segmenter, embedder.name)
    summary = Ingestor(kb, embedder, 300, 50).run([folder])
    by_file = {Path(r.source).name: r.status for r in summary.results}
    assert set(by_file) == {name for name, _ in files} | {"good.txt"}
    assert by_file["good.txt"] is Status.ADDED
    assert all(r.message for r in summary.results if r.status is Status.FAILED)
    assert kb.check() == []
