"""Chinese text segmentation: sentences, jieba words, character bigrams.

Owns: the one jieba tokenizer (with the shipped domain dictionary, quiet logging
and its cache in PilotQA's cache directory), sentence splitting with offsets, the
lexical terms used by BM25 for documents and queries alike, and the alias table
of bank short forms. Does not own: headings or chunk packing (``ingest``), scoring.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jieba
import jieba.posseg

log = logging.getLogger(__name__)

# A sentence ends at one of these (runs such as "……" or "？！" stay together), plus any
# closing quotes or brackets right after it. "." is never a terminator: it sits inside
# numbers (10.29万户) and list markers (1.).
_SENTENCE = re.compile(r"[^\n。！？!?；;…]*(?:[。！？!?；;…]+[”’」』）)】\"']*|\n|$)")
_WORD_CHAR = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_STOP = "的 了 是 在 和 与 及 或 等 对 为 以 于 从 把 被 由 其 之 也 都 而 并 就 这 那 有 个 中 上 下 吗 呢 吧 啊"
# The words that make a question a question: never evidence, never a follow-up's subject.
_QUESTION = "什么 什么时候 多少 哪些 哪个 哪家 哪几 哪几家 几 几家 如何 怎样 怎么 为什么 何时 是否 有没有 谁 哪里"
QUESTION_WORDS = frozenset(_QUESTION.split()) | {"请问", "一下"}
STOPWORDS = frozenset(_STOP.split()) | QUESTION_WORDS


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as absolute offsets, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text, start, end):
        a, b = m.start(), m.end()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def normalize(text: str) -> str:
    """NFKC (full-width to half-width) and lower case: how terms are compared."""
    return unicodedata.normalize("NFKC", text).lower()


def bigrams(text: str) -> list[str]:
    """Character bigrams of each run of CJK characters, digits and letters."""
    out: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def word_tag(word: str) -> str:
    """jieba's dictionary tag for ``word`` (ns: a place name; v, vn, n: a common word), or "" when it lacks it."""
    return str(jieba.posseg.dt.word_tag_tab.get(word, ""))


@lru_cache(maxsize=1)
def aliases() -> dict[str, tuple[str, ...]]:
    """Map each name in the alias table to all names of the same institution."""
    table: dict[str, tuple[str, ...]] = {}
    text = resources.files("kb").joinpath("data/aliases.txt").read_text("utf-8")
    for line in text.splitlines():
        names = tuple(line.split("#", 1)[0].split())
        for name in names:
            table[name] = names
    return table


class Segmenter:
    """jieba with PilotQA's dictionary. Thread-safe; build one per process."""

    def __init__(self, cache_dir: Path) -> None:
        jieba.setLogLevel(logging.WARNING)
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = str(cache_dir)
        self._jieba.cache_file = str(cache_dir / "jieba.cache")
        self._lock = threading.Lock()
        with resources.files("kb").joinpath("data/userdict.txt").open("rb") as fh:
            self._jieba.load_userdict(fh)
        for names in aliases().values():
            for name in names:
                self._jieba.add_word(name, freq=20000)
        self._pos = jieba.posseg.POSTokenizer(self._jieba)

    def noun_head(self, text: str) -> bool:
        """The phrase ends in a noun (受理终端, 发放贷款, 推进会; not 可复制推广, 误将): it can name what a figure
        counts."""
        with self._lock:
            pairs = [p for p in self._pos.lcut(normalize(text)) if _WORD_CHAR.search(p.word)]
        return bool(pairs) and (pairs[-1].flag.startswith("n") or pairs[-1].flag in ("vn", "j", "nz"))

    def words(self, text: str) -> list[str]:
        """jieba words of ``text`` (precise mode), punctuation and spaces dropped."""
        with self._lock:
            pieces = self._jieba.lcut(normalize(text), HMM=True)
        return [w for w in pieces if _WORD_CHAR.search(w)]

    def terms(self, text: str) -> list[str]:
        """Lexical index terms: search-mode jieba words without stop words."""
        with self._lock:
            pieces = self._jieba.lcut_for_search(normalize(text), HMM=True)
        return [w for w in pieces if _WORD_CHAR.search(w) and w not in STOPWORDS]

    def query_terms(self, text: str) -> list[str]:
        """Terms of a question, with institution aliases added (工行 → 中国工商银行 …)."""
        terms = self.terms(text)
        return terms + [a for t in terms for a in aliases().get(t, ()) if a != t]
