"""``pilotqa facts [QUERY] [--subject S] [--metric M] [--since DATE] [--until DATE] [--kb NAME] [--json | --csv]``.

Owns: the facts command's arguments and its three outputs: a readable table (figures that disagree marked ≠), one
JSON array, or CSV with the same columns (its text safe to open in a spreadsheet: ``kb.cells``). Does not own:
the lookup (``assistant.factsheet``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from cli.terminal import one_line
from kb.cells import write_csv
from kb.errors import PilotQAError
from kb.records import SourcedFact
from kb.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("facts", help="查找事实：主体、指标、数值、截至日期和出处")
    p.add_argument("query", nargs="?", default="", help="在主体、指标、表格标题和表头中查找的文字")
    p.add_argument("--subject", default="", help="主体包含这段文字（如 青岛市、齐鲁银行）")
    p.add_argument("--metric", default="", help="指标包含这段文字（如 受理终端）")
    p.add_argument("--since", type=_date, help="截至日期不早于（YYYY-MM-DD）")
    p.add_argument("--until", type=_date, help="截至日期不晚于（YYYY-MM-DD）")
    p.add_argument("--kb", help="知识库名称")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="输出一个 JSON 数组")
    out.add_argument("--csv", action="store_true", help="输出 CSV（可用表格软件打开）")
    p.set_defaults(func=run)


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期应写成 YYYY-MM-DD，例如 2021-12-31：{text}") from exc


def run(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.factsheet import RECORD_KEYS, record
    from kb import store
    from kb.catalog import FactQuery
    from ops import api as ops
    from ops.library import Library

    store.require(settings, settings.kb)
    if args.since and args.until and args.since > args.until:
        raise PilotQAError(f"--since {args.since} 晚于 --until {args.until}：请调换两个日期。")
    query = FactQuery(subject=args.subject, metric=args.metric, text=args.query, since=args.since, until=args.until)
    rows = ops.fact_rows(Library(settings), query)  # as every front end looks facts up
    if args.json:
        print(json.dumps([record(r) for r in rows], ensure_ascii=False, indent=1))
    elif args.csv:
        write_csv(sys.stdout, RECORD_KEYS, (record(r) for r in rows))
    else:
        _table(rows)
    return 0


def _table(rows: list[SourcedFact]) -> None:
    from assistant.factsheet import figure

    if not rows:
        print("没有找到符合条件的事实。可放宽条件，或不加条件列出全部：pilotqa facts")
        return
    print("\t".join(("", "主体", "指标", "数值", "截至", "文档")))
    for r in rows:
        f = r.fact
        when = f.as_of or "日期不详"
        fields = ("≠" if r.conflict else "", f.subject, f.metric, figure(f), when, r.title)
        print("\t".join(one_line(x) for x in fields))
    marked = sum(r.conflict for r in rows)
    note = f"；其中 {marked} 条与同一主体、指标、日期的另一数值不一致（标 ≠）" if marked else ""
    print(f"共 {len(rows)} 条事实{note}。加 --json 或 --csv 输出出处原句和位置。")
