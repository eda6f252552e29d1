"""The reader's self-check threshold, read off one eval run: ``python -m bench.threshold DETAILS.jsonl``.

Owns: from ``pilotqa eval SET --mode reader --details DETAILS.jsonl`` run with ``PILOTQA_ANSWER__READER_MIN_YES=0.01``
(every located answer judged, hardly any refused for doubt; 0 would skip the check), the containment and refusal
each threshold would give,
and how well the model's judgement separates answerable from unanswerable questions (the area under the ROC
curve). Does not own: answering or scoring single answers (``assistant.evaluate`` wrote the lines).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

THRESHOLDS = (0.01, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def curve(rows: list[dict[str, Any]]) -> list[str]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    judged = [r for r in rows if r.get("judged") is not None]
    lines = [f"{len(rows)} questions, {len(judged)} judged"]
    if any(r["answerable"] for r in judged) and any(not r["answerable"] for r in judged):
        a = auc([r["judged"] for r in judged if r["answerable"]], [r["judged"] for r in judged if not r["answerable"]])
        lines.append(f"AUC, answerable vs unanswerable: {a:.3f}")
    lines.append("| min_yes | containment | refusal |")
    lines.append("|---|---|---|")
    for t in THRESHOLDS:
        kept = [r for r in rows if r["grounded"] and (r.get("judged") is None or r["judged"] >= t)]
        held = sum(r["correct"] for r in kept if r["answerable"]) / len(answerable) if answerable else float("nan")
        refused = sum(r not in kept for r in unanswerable) / len(unanswerable) if unanswerable else float("nan")
        lines.append(f"| {t:g} | {held:.3f} | {refused:.3f} |")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.threshold DETAILS.jsonl", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in Path(argv[0]).read_text("utf-8").splitlines() if line.strip()]
    print("\n".join(curve(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
