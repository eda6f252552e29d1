"""``pilotqa facts`` over the fixture reports (fictional) and the shipped report, through the real command line:
filters, the three outputs, offsets that slice back to each quote, disagreements marked."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kb.segment import Segmenter
from kb.store import KnowledgeBase
from tests.conftest import CORPUS, make_settings
from tests.test_ingest import cli

REPORTS = Path(__file__).parent / "data" / "reports"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("facts-cmd") / "home"
    out, err = cli(home, "ingest", str(CORPUS), str(REPORTS), "--quiet").communicate(timeout=600)
    assert "失败 0 篇" in out, err
    return home


def facts(home: Path, *args: str) -> str:
    proc = cli(home, "facts", *args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_json_quotes_slice_back_from_their_documents(home: Path, segmenter: Segmenter) -> None:
    rows = json.loads(facts(home, "--metric", "受理终端", "--json"))
    assert {r["text"] for r in rows} >= {"9120台", "9000台", "6350台", "4821台"}
    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, None)
    for r in rows:
        doc = kb.document(r["doc_id"])
        assert doc is not None and doc.text[r["start"] : r["end"]] == r["quote"] and r["text"] in r["quote"]
    dated = [r["as_of"] for r in rows if r["as_of"]]
    assert dated == sorted(dated, reverse=True)  # newest first
    # two reports give 2021年末 figures that differ (9120 and 9000): each marked, none merged
    assert {r["text"] for r in rows if r["conflict"]} >= {"9120台", "9000台"}
    assert not any(r["conflict"] for r in rows if r["text"] == "6350台")


@pytest.mark.slow
def test_filters_csv_and_the_readable_table(home: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(facts(home, "--subject", "青岛市", "--since", "2021-01-01", "--csv"))))
    assert rows and all("青岛市" in r["subject"] and r["as_of"] >= "2021-01-01" for r in rows)
    assert "12个" in {r["text"] for r in rows} and "9项" not in {r["text"] for r in rows}  # 9项 is of 2020
    table = facts(home, "受理终端", "--until", "2021-12-31")
    assert "≠\t山东省" in table and "9000台" in table and "条与同一主体、指标、日期的另一数值不一致" in table
    assert "没有找到符合条件的事实" in facts(home, "--subject", "广东省")


@pytest.mark.slow
def test_bad_dates_and_a_missing_knowledge_base_are_told_plainly(home: Path) -> None:
    proc = cli(home, "facts", "--since", "2021/13/01")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "YYYY-MM-DD" in err
    proc = cli(home, "facts", "--kb", "typo")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "default" in err and not (home / "kb" / "typo").exists()
