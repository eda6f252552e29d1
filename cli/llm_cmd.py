"""``pilotqa llm start | status | stop``: the local language model server."""

from __future__ import annotations

import argparse

from kb.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("llm", help="本地语言模型服务（llama.cpp，仅监听 127.0.0.1）")
    llm_sub = p.add_subparsers(dest="action", required=True)
    llm_sub.add_parser("start", help="启动（已在运行则沿用）").set_defaults(func=start)
    llm_sub.add_parser("status", help="是否在运行").set_defaults(func=status)
    llm_sub.add_parser("stop", help="停止，释放内存").set_defaults(func=stop)


def start(args: argparse.Namespace, settings: Settings) -> int:
    from models import llama_server

    print(f"本地语言模型服务已就绪：{llama_server.ensure(settings)}（{settings.reader_model}）")
    return 0


def status(args: argparse.Namespace, settings: Settings) -> int:
    from models import llama_server

    running = llama_server.current(settings)
    if running is None:
        print("本地语言模型服务未运行（以语言模型方式提问时会自动启动）。")
        return 1
    print(f"本地语言模型服务运行中：{running.url}（进程 {running.pid}，模型 {running.model}）")
    return 0


def stop(args: argparse.Namespace, settings: Settings) -> int:
    from models import llama_server

    print("已停止本地语言模型服务。" if llama_server.stop(settings) else "本地语言模型服务没有在运行。")
    return 0
