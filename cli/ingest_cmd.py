"""``pilotqa ingest PATH... [--kb NAME] [--prune] [--rebuild]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.terminal import one_line
from ingest.loaders import TYPES
from kb.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help=f"导入文档（{TYPES}）到知识库")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="文件或文件夹")
    p.add_argument("--kb", help="知识库名称（默认 default）")
    p.add_argument("--prune", action="store_true", help="移除所给路径下源文件已不存在的文档（别处的文档不动）")
    p.add_argument("--rebuild", action="store_true", help="清空知识库后全部重建（换嵌入模型时使用）")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=run)
    prep = sub.add_parser(
        "prepare", help="准备模型（转换内置嵌入模型并生成 ONNX 文件，拼接并校验本地语言模型，存入缓存目录）"
    )
    prep.set_defaults(func=prepare)


def prepare(args: argparse.Namespace, settings: Settings) -> int:
    from models.embed import Embedder, model_dir
    from models.gguf import gguf_path

    embedder = Embedder(settings)
    embedder.load()
    print(f"嵌入模型就绪：{model_dir(settings)}（运行方式 {embedder.backend}，维度 {embedder.dim}）")
    print(f"语言模型就绪：{gguf_path(settings.cache_dir, settings.reader_model)}（{settings.reader_model}）")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.loaders import Limits
    from ingest.loaders.ocr import Ocr
    from ingest.pipeline import Ingestor
    from ingest.summary import Status
    from kb.lock import writer
    from kb.segment import Segmenter
    from kb.store import KnowledgeBase
    from models.embed import Embedder

    embedder = Embedder(settings)
    # the whole run is this knowledge base's one writer: another ingest waits (saying so) or fails untouched
    with writer(settings, settings.kb, on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
        kb = KnowledgeBase.open(settings, settings.kb, Segmenter(settings.cache_dir), embedder.name, args.rebuild)
        bar = tqdm(total=0, unit="文件", disable=args.quiet or None, file=sys.stderr, leave=False)

        def progress(done: int, total: int, _name: str) -> None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str("")

        def page(name: str, number: int, pages: int) -> None:  # a scanned file is read page by page
            bar.set_postfix_str(one_line(f"{Path(name).name} 文字识别 第 {number}/{pages} 页"))

        ocr = Ocr.of(settings, on_page=page)
        ingestor = Ingestor(kb, embedder, settings.chunk_chars, settings.max_file_mb, Limits.of(settings), ocr)

        summary = ingestor.run(args.paths, prune=args.prune, progress=progress)
        bar.close()
    for r in summary.results:
        where = one_line(r.source + (f"（记录 {r.record}）" if r.record else ""))
        if r.status is Status.FAILED:  # one line per failed file: names and messages escaped
            print(f"{r.status.label}  {where}: {one_line(r.message)}", file=sys.stderr)
        elif r.status is not Status.UNCHANGED:
            note = f"  提示：{one_line(r.message)}" if r.message else ""
            print(f"{r.status.label}  {one_line(r.title or r.doc_id)}（{r.chunks} 个片段）  {where}{note}")
    print(summary.line())
    return 0 if summary.ok else 1
