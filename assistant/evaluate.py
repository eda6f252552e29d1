"""Evaluation on a QA set: retrieval recall, answer containment, refusal, length, latency.

Owns: reading ``questions.jsonl`` (the format of ``../shared/data``), asking every
question independently, and the reviewers' scoring rule (the answer contains the
gold answer after removing white space and width differences; all parts when
``answer_mode`` is ``all``), and a line per question for reading the misses. Does not
own: ingesting the set's corpus (the CLI does that first, into the knowledge base it
passes in).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from assistant.core import Assistant
from kb.records import Answer

_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def contains(answer: str, gold: list[str], mode: str) -> bool:
    text = norm(answer)
    hits = [norm(g) in text for g in gold if g.strip()]
    if not hits:
        return False
    return all(hits) if mode == "all" else any(hits)


def correct_text(answer: str, row: dict[str, Any]) -> bool:
    """The reviewers' rule for one answerable row: with ``answer_parts`` every part needs one of its
    alternatives; with ``answer_alternatives`` one alternative needs all of its items; else ``answers`` by mode."""
    if row.get("answer_parts"):
        return all(contains(answer, list(part), "any") for part in row["answer_parts"])
    if row.get("answer_alternatives"):
        return any(contains(answer, list(alt), "all") for alt in row["answer_alternatives"])
    return contains(answer, row["answers"], row.get("answer_mode", "any"))


def scored(row: dict[str, Any]) -> bool:
    """Whether containment can judge this row (a long free-text reference answer cannot)."""
    return row.get("answer_mode") != "free_text"


def half(row: dict[str, Any]) -> str:
    """The half of its set a question belongs to, by a stable hash of its id (of its text when it has none):
    ``design`` (rules are shaped on it) or ``check`` (only measured)."""
    key = str(row.get("id") or row["question"]).encode("utf-8")
    return "design" if hashlib.sha256(key).digest()[0] % 2 == 0 else "check"


def lead(answer: Answer) -> str:
    """What a reader sees first: the answer's text before its first citation marker (all of it when none)."""
    first = min((m.start for m in answer.markers), default=len(answer.text))
    return answer.text[:first]


def load_questions(set_dir: Path, limit: int | None, every: int = 1) -> list[dict[str, Any]]:
    """The set's questions: every ``every``-th one (a spread-out sample of a sorted file), at most ``limit``."""
    path = set_dir / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()][::every]
    return rows[:limit] if limit else rows


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Outcome:
    """What a system did with one question: its answer, whether it answered, the documents it retrieved."""

    text: str
    grounded: bool
    docs: list[str]
    ms: float
    refusal: str = ""
    mode: str = ""
    judged: float | None = None


def evaluate(assistant: Assistant, set_dir: Path, limit: int | None = None, mode: str | None = None,
             every: int = 1, details: IO[str] | None = None, lead_only: bool = False) -> dict[str, Any]:  # fmt: skip
    """The figures for the set's questions, over all and for each half (design, check); with ``details``, a JSON
    line per question written as it is answered. With ``lead_only`` an answer is judged by what stands before its
    first citation marker (the later-report sets' rule)."""
    rows = load_questions(set_dir, limit, every)
    outcomes = []
    for row in rows:
        answer = assistant.ask(row["question"], mode=mode)
        docs = list(dict.fromkeys(h.chunk.doc_id for h in answer.trace.hits))
        out = Outcome(lead(answer) if lead_only else answer.text, answer.grounded, docs,
                      answer.trace.timings.get("total_ms", 0.0), answer.trace.refusal, str(answer.mode),
                      answer.trace.judged)  # fmt: skip
        outcomes.append(out)
        if details is not None:
            details.write(json.dumps({**detail(row, out), "full": answer.text}, ensure_ascii=False) + "\n")
            details.flush()
    result = {"set": set_dir.name, **score(rows, outcomes)}
    for name in ("design", "check"):
        pairs = [(r, o) for r, o in zip(rows, outcomes, strict=True) if half(r) == name]
        if pairs:
            result[f"half:{name}"] = brief(score([r for r, _ in pairs], [o for _, o in pairs]))
    return result


def brief(figures: dict[str, Any]) -> str:
    """One half's figures on a line: questions, answers right, absent facts refused, per type."""
    right = figures["containment"]
    refused = figures["refusal_accuracy"]
    said = [f"{figures['questions']} questions"]
    said.append(f"right {right:.3f}" if right is not None else "")
    said.append(f"refused {refused:.3f} of {figures['unanswerable']}" if refused is not None else "")
    said += [f"{k[5:]} {v}" for k, v in figures.items() if k.startswith("type:")]
    return "; ".join(x for x in said if x)


def detail(row: dict[str, Any], out: Outcome) -> dict[str, Any]:
    """One question's line: what was asked and expected, what was answered, and whether it counts."""
    answerable = row.get("answerable", True)
    ok = correct_text(out.text, row) if answerable else not out.grounded
    return {"id": row.get("id"), "question": row["question"], "answers": row["answers"], "answerable": answerable,
            "answer": out.text, "grounded": out.grounded, "mode": out.mode, "refusal": out.refusal,
            "correct": bool(out.grounded and ok) if answerable else ok, "ms": round(out.ms, 1),
            "judged": out.judged, "type": row.get("type"), "half": half(row)}  # fmt: skip


def score(rows: list[dict[str, Any]], outcomes: list[Outcome]) -> dict[str, Any]:
    """The reviewers' figures for ``outcomes``, one per question row."""
    r1 = r5 = n_ans = n_scored = contained = refused_ok = n_unans = 0
    for row, out in zip(rows, outcomes, strict=True):
        if row.get("answerable", True):
            n_ans += 1
            r1 += bool(out.docs[:1] and out.docs[0] == row["gold_doc_id"])
            r5 += row["gold_doc_id"] in out.docs[:5]
            n_scored += scored(row)
            contained += out.grounded and scored(row) and correct_text(out.text, row)
        else:
            n_unans += 1
            refused_ok += not out.grounded
    lengths = [len(o.text) for o in outcomes]
    ms = [o.ms for o in outcomes]
    return {
        "questions": len(rows),
        "answerable": n_ans,
        "unanswerable": n_unans,
        "recall@1": r1 / n_ans if n_ans else None,
        "recall@5": r5 / n_ans if n_ans else None,
        "containment": contained / n_scored if n_scored else None,
        "refusal_accuracy": refused_ok / n_unans if n_unans else None,
        "median_answer_chars": statistics.median(lengths) if lengths else 0,
        "latency_p50_ms": percentile(ms, 50),
        "latency_p95_ms": percentile(ms, 95),
        **by_type(rows, outcomes),
    }


def by_type(rows: list[dict[str, Any]], outcomes: list[Outcome]) -> dict[str, Any]:
    """Per question ``type`` (where the set has types): ``type:NAME`` → "right/scored (refused N)"; a type of
    free-text answers is counted as answered, since containment cannot judge it."""
    groups: dict[str, list[tuple[dict[str, Any], Outcome]]] = {}
    for row, out in zip(rows, outcomes, strict=True):
        if row.get("type"):
            groups.setdefault(str(row["type"]), []).append((row, out))
    if len(groups) < 2:
        return {}
    out_: dict[str, Any] = {}
    for name, pairs in sorted(groups.items()):
        refused = sum(not o.grounded for _, o in pairs)
        if all(not r.get("answerable", True) for r, _ in pairs):
            out_[f"type:{name}"] = f"{refused}/{len(pairs)} refused"
        elif not any(scored(r) for r, _ in pairs):
            out_[f"type:{name}"] = f"{len(pairs) - refused}/{len(pairs)} answered (free text, not scored)"
        else:
            right = sum(o.grounded and correct_text(o.text, r) for r, o in pairs if r.get("answerable", True))
            out_[f"type:{name}"] = f"{right}/{len(pairs)} (refused {refused})"
    return out_


def report(result: dict[str, Any]) -> str:
    lines = [f"| {result['set']} | value |", "|---|---|"]
    for key, value in result.items():
        if key == "set":
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)
