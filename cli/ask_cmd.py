"""``pilotqa ask``, ``pilotqa chat`` and ``pilotqa eval``."""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli import terminal
from kb.errors import PilotQAError
from kb.records import Answer, Progress
from kb.settings import Settings

if TYPE_CHECKING:
    from ops.library import Library

MODES = ["extractive", "reader", "llm"]
MODE_HELP = (
    "答案方式：extractive 离线抽取（默认；配置了 PILOTQA_LLM_BASE_URL 则默认 llm）；reader 语言模型从证据中摘答案、"
    "再逐项核对；llm 语言模型写答案。未配置接口时用本地模型（PILOTQA_READER_MODEL）"
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="提一个问题（或用 --questions 批量提问）")
    ask.add_argument("question", nargs="?", help="问题")
    ask.add_argument("--questions", type=Path, help="每行一个问题的文件（纯文本，或带 question 字段的 jsonl）")
    ask.add_argument("--kb", help="知识库名称")
    ask.add_argument("--json", action="store_true", help="每个答案输出一行 JSON")
    ask.add_argument("--mode", choices=MODES, help=MODE_HELP)
    ask.set_defaults(func=run_ask)
    chat = sub.add_parser("chat", help="对话：从标准输入逐行读问题，支持追问")
    chat.add_argument("--kb", help="知识库名称")
    chat.add_argument("--json", action="store_true", help="每个答案输出一行 JSON")
    chat.add_argument("--mode", choices=MODES, help=MODE_HELP)
    chat.set_defaults(func=run_chat)
    ev = sub.add_parser("eval", help="在问答数据集上评测（questions.jsonl，加 corpus.jsonl 或报告文件夹 docs/）")
    ev.add_argument("set_dir", type=Path, metavar="SET_DIR")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--limit", type=int, help="只评测前 N 个问题")
    ev.add_argument("--mode", choices=MODES, help=MODE_HELP)
    ev.add_argument("--every", type=int, default=1, metavar="K", help="只评测每第 K 个问题（均匀抽样，配合 --limit）")
    ev.add_argument("--details", type=Path, metavar="FILE", help="逐题结果写入此文件（每行一个 JSON），便于查看错题")
    ev.set_defaults(func=run_eval)


def _print(answer: Answer, as_json: bool) -> None:
    from assistant.serialize import answer_dict, answer_text

    if as_json:
        print(json.dumps(answer_dict(answer), ensure_ascii=False), flush=True)
    else:
        print(terminal.lines(answer_text(answer)) + "\n", flush=True)


def _questions(path: Path) -> list[str]:
    """The questions of a file, one a line (plain, or jsonl with "question"); bytes that are not UTF-8 replaced."""
    try:
        data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    except OSError as exc:
        raise PilotQAError(f"无法读取问题文件 {terminal.one_line(str(path))}：{exc.strerror or exc}") from exc
    out = []
    for number, raw in enumerate(data.splitlines(), start=1):
        line = terminal.question(raw, f"问题文件 {path.name} 第 {number} 行").strip()
        if line.startswith("{"):
            try:
                line = str(json.loads(line).get("question", "")).strip()
            except (json.JSONDecodeError, AttributeError) as exc:
                raise PilotQAError(f"{terminal.one_line(str(path))}：第 {number} 行不是合法的 JSON 行："
                                   f"{terminal.one_line(line[:40])}") from exc  # fmt: skip
        if line:
            out.append(line)
    return out


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    from ops.library import Library

    if bool(args.question) == bool(args.questions):
        print("错误：请给出一个问题，或用 --questions 指定问题文件（二者选一）。", file=sys.stderr)
        return 2
    questions = _questions(args.questions) if args.questions else [terminal.question(args.question, "问题")]
    _require_kb(settings)
    lib = Library(settings)
    for q in questions:
        _print(_answer(lib, q, [], args.mode), args.json)
    return 0


def _require_kb(settings: Settings) -> None:
    """Asking reads: a knowledge base name that does not exist is an error listing those that do, never a new,
    empty knowledge base."""
    from kb.store import require

    require(settings, settings.kb)


def _answer(lib: Library, question: str, history: list[Answer], mode: str | None) -> Answer:
    """The checked answer, asked as every front end asks (``ops.api``); what it waits on (a language model
    reading) is said on stderr as it starts."""
    import threading

    from ops import api as ops

    answer = None
    for item in ops.stream(lib, question, history, None, mode, threading.Event()):
        if isinstance(item, Progress):
            print(terminal.lines(item.message), file=sys.stderr, flush=True)
        elif isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    from ops.library import Library

    _require_kb(settings)
    lib = Library(settings)
    history: list[Answer] = []
    for number, raw in enumerate(sys.stdin.buffer, start=1):  # bytes: a line that is not UTF-8 is replaced, said
        q = terminal.question(raw, f"标准输入第 {number} 行").strip()
        if not q:
            continue
        answer = _answer(lib, q, history, args.mode)
        history.append(answer)
        _print(answer, args.json)
    return 0


SHIPPED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _set_sources(set_dir: Path) -> list[Path]:
    """What a set's knowledge base is built from: a set of report files (``docs/``) is read together with the
    shipped report in corpus/ (as the set's README asks); a set of passages is its ``corpus.jsonl``."""
    if (set_dir / "docs").is_dir():
        return [set_dir / "docs", *([SHIPPED_CORPUS] if SHIPPED_CORPUS.is_dir() else [])]
    return [set_dir / "corpus.jsonl"] if (set_dir / "corpus.jsonl").is_file() else []


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    import re

    from assistant.core import Assistant, Resources
    from assistant.evaluate import evaluate, report
    from ingest.pipeline import Ingestor

    sources = _set_sources(args.set_dir)
    if not sources or not (args.set_dir / "questions.jsonl").is_file():
        print(f"错误：{args.set_dir} 中应有 questions.jsonl，以及 corpus.jsonl 或 docs/ 文件夹", file=sys.stderr)
        return 2
    name = "eval-" + re.sub(r"[^a-z0-9_-]+", "-", args.set_dir.resolve().name.lower()).strip("-")[:40]
    res = Resources.build(settings, name)
    summary = Ingestor(res.kb, res.embedder, settings.chunk_chars, settings.max_file_mb).run(sources, prune=True)
    print(f"知识库 {name}：{summary.line()}", file=sys.stderr)
    lead_only = sources[0].name == "docs"
    with open(args.details, "w", encoding="utf-8") if args.details else contextlib.nullcontext() as details:
        result = evaluate(Assistant(settings, res), args.set_dir, args.limit, args.mode, args.every, details, lead_only)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else report(result))
    return 0
