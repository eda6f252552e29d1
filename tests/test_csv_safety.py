"""Every CSV PilotQA writes is safe to open in a spreadsheet: a table cell that reads as a formula
(=HYPERLINK…, +cmd, -2+3+cmd, @SUM…, a leading tab or carriage return) is written as text, by the same rule as the
xlsx export (``kb.cells``). Through the real command line over a real ingest."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kb.cells import FORMULA_LEAD, as_data, write_csv
from tests.test_ingest import cli

HOSTILE = ['=HYPERLINK("http://example.invalid/x","点我")', "+cmd|' /C calc'!A0", "-2+3+cmd", "@SUM(1+1)*cmd"]
REPORT = """# 恶意表格测试报告（虚构）

日期：2021年6月30日

## 试点机构

截至2021年6月30日，各机构布放受理终端如下表。

| 机构 | 受理终端 | 备注 |
|---|---|---|
| {0} | 120台 | {1} |
| {2} | 80台 | {3} |
| 测试银行 | 60台 | 正常 |
"""


def test_facts_csv_writes_formula_like_cells_as_text(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hostile.md").write_text(REPORT.format(*HOSTILE), "utf-8")
    home = tmp_path / "home"
    out, err = cli(home, "ingest", str(docs), "--quiet").communicate(timeout=300)
    assert "新增 1 篇" in out, err
    proc = cli(home, "facts", "--csv")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    fields = [f for row in rows[1:] for f in row]
    assert any("HYPERLINK" in f for f in fields) and any("cmd" in f for f in fields)  # the cells are there …
    for f in fields:  # … and none starts as a formula would
        assert not f.startswith(FORMULA_LEAD) or _number(f), f
    assert any(f == "'" + HOSTILE[0] for f in fields)  # written whole, behind the apostrophe


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def test_one_rule_for_every_lead_and_numbers_stay_numbers() -> None:
    buf = io.StringIO()
    values = ["=1+1", "+1", "-1+cmd", "@A1", "\tx", "\rx", "正常", "a=b"]
    write_csv(buf, ["v", "n"], [{"v": v, "n": -2.5} for v in values])
    read = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [r["v"] for r in read] == ["'=1+1", "'+1", "'-1+cmd", "'@A1", "'\tx", "'\rx", "正常", "a=b"]
    assert {r["n"] for r in read} == {"-2.5"}  # a number is not text a spreadsheet runs
    assert as_data("=x") == "'=x" and as_data(3) == 3
