"""The ``pilotqa`` command line: parsing, logging set-up and error display.

Owns: the argument parser, exit statuses (0 ok, 1 failed, 2 usage), turning a ``PilotQAError`` (and a full disk
anywhere) into one line on stderr, and stopping quietly when the output's reader goes away (``… | head``). Each
subcommand's work lives in its own module here. Does not own: any behaviour the library modules already provide.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from cli.terminal import one_line
from kb import disk
from kb.errors import PilotQAError
from kb.settings import Settings, check_kb_name

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    from cli import ask_cmd, facts_cmd, ingest_cmd, kb_cmd, llm_cmd, serve_cmd

    parser = argparse.ArgumentParser(prog="pilotqa", description="试点问答：金融科技试点报告问答助手")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest_cmd.add_parser(sub)
    kb_cmd.add_parser(sub)
    ask_cmd.add_parsers(sub)
    facts_cmd.add_parser(sub)
    llm_cmd.add_parser(sub)
    serve_cmd.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        if getattr(args, "kb", None):
            settings = settings.model_copy(update={"kb": check_kb_name(args.kb)})
    except PilotQAError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"错误：设置无效：{exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args, settings))
    except PilotQAError as exc:
        print(f"错误：{one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断。再次运行同一命令即可继续，知识库保持一致。", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (… | head): stop quietly, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # after BrokenPipeError, which is one too
        if not disk.disk_full(exc):
            raise
        print(f"错误：{one_line(str(disk.full(settings.home, settings.min_free_mb * disk.MB)))}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
