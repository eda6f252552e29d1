"""The threshold table read off an eval run's lines: what refusing below each judgement would have given."""

from __future__ import annotations

from typing import Any

from bench.threshold import auc, curve

ROWS: list[dict[str, Any]] = [
    {"answerable": True, "grounded": True, "correct": True, "judged": 0.9},
    {"answerable": True, "grounded": True, "correct": False, "judged": 0.4},
    {"answerable": False, "grounded": True, "correct": False, "judged": 0.5},
    {"answerable": False, "grounded": False, "correct": True, "judged": None},  # refused before any judgement
]


def test_curve_refuses_below_each_threshold_and_counts_what_stays() -> None:
    lines = curve(ROWS)
    assert lines[:2] == ["4 questions, 3 judged", "AUC, answerable vs unanswerable: 0.500"]
    assert "| 0.5 | 0.500 | 0.500 |" in lines  # 0.5 stays: the unanswerable one is still answered
    assert "| 0.6 | 0.500 | 1.000 |" in lines  # below 0.6 it is refused; the right answer at 0.9 stays


def test_auc() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0 and auc([0.1], [0.9]) == 0.0 and auc([0.5], [0.5]) == 0.5
