"""The core records shared by ingestion, the assistant and the UI.

Owns: plain frozen dataclasses and nothing else. Library objects (Chroma results,
LangChain messages) are converted into these at the boundary that meets them.
Does not own: storage, parsing or scoring logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

BlockKind = Literal["heading", "paragraph", "row"]
CELL_SEP = " | "  # how a table row's cells are joined in the stored text
CORRECTED = "已更正"  # a fact's qualifier: a figure a correction says was wrong (kb.corrections reads them)
CORRECTION = "更正后"  # a fact's qualifier: the figure that replaces it


class Mode(StrEnum):
    """How an answer was produced."""

    EXTRACTIVE = "extractive"  # the rules pick and quote sentences
    READER = "reader"  # a language model picks the answer out of the evidence; the rules check it
    LLM = "llm"  # a language model writes the answer with [n] markers; the rules check them


@dataclass(frozen=True)
class Block:
    """One structural unit a loader found: a heading, a paragraph or a table row."""

    text: str
    kind: BlockKind = "paragraph"
    level: int = 0  # heading level (1 = top); 0 for non-headings
    page: int | None = None  # 1-based page number where the format has pages
    cells: tuple[str, ...] = ()  # a row's cells, empty ones kept so columns line up; text is them joined by CELL_SEP
    header: bool = False  # a table row the format marks as a header (<th>, a Markdown row above |---|)
    ocr: bool = False  # recognised from an image (a scanned page, a photo), not read from a text layer


@dataclass(frozen=True)
class Table:
    """A table as it stands in a document's text: each row is one line, its cells joined by ``CELL_SEP``.

    ``rows[i]`` is the (start, end) of row i and ``cells[i]`` its cells' spans, all document offsets; the first
    ``header_rows`` rows are the header. ``caption`` is the heading or short paragraph right before the table."""

    caption: str
    rows: tuple[tuple[int, int], ...]
    cells: tuple[tuple[tuple[int, int], ...], ...]
    header_rows: int = 1

    @property
    def start(self) -> int:
        return self.rows[0][0]

    @property
    def end(self) -> int:
        return self.rows[-1][1]


@dataclass(frozen=True)
class Section:
    """A span of a document's text under one heading path."""

    start: int
    end: int
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    ocr: bool = False  # its text was recognised from an image (识别文字)


@dataclass(frozen=True)
class Document:
    """A cleaned document. ``text`` is what every offset in the system refers to."""

    doc_id: str
    title: str
    text: str
    source: str  # the file it was read from
    date: str | None = None  # ISO date (YYYY-MM-DD) the text states, if any
    sections: tuple[Section, ...] = ()
    content_hash: str = ""
    record: str | None = None  # the record's id inside a many-document file (jsonl); None otherwise
    tables: tuple[Table, ...] = ()
    removed: int = 0  # page-furniture phrases and blocks the cleaner removed (ingest.clean)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document; ``doc.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, document offsets
    caption: str = ""  # for a chunk of table rows: the table's caption
    header: str = ""  # ... and its header row(s), which every row is read under
    ocr: bool = False  # its text was recognised from an image (识别文字)

    @property
    def section(self) -> str:
        return " > ".join(self.heading_path)

    @property
    def is_table(self) -> bool:
        """A chunk of table body rows: each of its sentences is one row, read under ``header``."""
        return bool(self.header)


@dataclass(frozen=True)
class DocInfo:
    """A stored document's catalogue entry (without its full text)."""

    doc_id: str
    title: str
    source: str
    date: str | None
    content_hash: str
    n_chunks: int
    ingested_at: float
    record: str | None = None
    removed: int = 0  # page-furniture phrases and blocks the cleaner removed


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and its document's catalogue details."""

    chunk: Chunk
    score: float
    title: str = ""
    date: str | None = None
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Citation:
    """A quoted source sentence: ``document.text[start:end] == quote``."""

    n: int
    doc_id: str
    title: str
    source: str
    section: str
    page: int | None
    quote: str
    start: int
    end: int
    chunk_id: str
    date: str | None = None
    header: str = ""  # a quoted table row's header row(s), which it is read under ("" for a sentence)
    caption: str = ""  # ... and the table's caption
    ocr: bool = False  # the quote was recognised from an image (a scanned page, a photo): 识别文字, may hold errors


@dataclass(frozen=True, kw_only=True)
class Fact:
    """A figure a document states: subject, metric, value, unit, as-of date, and where it stands.

    ``text[start:end]`` of the document is the quote (the sentence or the table row) and
    ``text[value_start:value_end]`` the figure as written. ``as_of`` is an ISO date (a period is dated by its
    last day: 2021年末 → 2021-12-31), ``as_of_text`` the document's own words for it ("" when the date is the
    document's)."""

    doc_id: str
    subject: str
    metric: str
    value: float | None  # normalised (万/亿 applied, Chinese numerals read); None when it cannot be
    text: str  # the figure as written: 10.29万户
    unit: str
    qualifier: str = ""  # 约, 超过, 近, 左右 …
    as_of: str | None = None
    as_of_text: str = ""
    start: int = 0
    end: int = 0
    value_start: int = 0
    value_end: int = 0
    source_kind: Literal["text", "cell"] = "text"
    header: str = ""  # a cell's header row(s)
    caption: str = ""  # a cell's table caption


@dataclass(frozen=True)
class SourcedFact:
    """A fact with what a reader needs to check it: its document's title, date and file, and its quote (the
    sentence or table row, ``document.text[fact.start:fact.end]``); ``conflict`` when another fact of the same
    subject, metric and stated date gives a different value; ``ocr`` when the quote is recognised text."""

    fact: Fact
    title: str
    doc_date: str | None
    source: str
    quote: str
    conflict: bool = False
    ocr: bool = False  # the quote was recognised from a scanned page or a photo (识别文字)


@dataclass(frozen=True)
class Trace:
    """How one answer came about: what retrieval found and how long each step took."""

    hits: tuple[Hit, ...] = ()
    timings: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    refusal: str = ""  # why the answer is a refusal ("" when it is not)
    model: str = ""  # the language model that took part, in words ("" for the rules alone)
    judged: float | None = None  # the model's probability that its sentence answers the question (reader mode)
    rule: str = ""  # what led a grounded answer: "fact", "parts", "table position", else "" (the sentences)


@dataclass(frozen=True)
class Progress:
    """A step an answer is waiting on, said before it is taken: what a language model is reading."""

    message: str
    evidence: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Marker:
    """A citation marker: ``text[start:end]`` of its answer is ``[n]`` and names citation ``n``. Markers are data:
    a bracketed number a quote brings along (a document's own ``[1]``) is text, not a marker."""

    start: int
    end: int
    n: int


@dataclass(frozen=True)
class Answer:
    """What the assistant says: text with ``[n]`` markers (where ``markers`` says) and the citations they name."""

    question: str
    text: str
    grounded: bool
    mode: Mode
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = ()
    notice: str = ""
    trace: Trace = field(default_factory=Trace, hash=False, compare=False)
    markers: tuple[Marker, ...] = ()
