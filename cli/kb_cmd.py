"""``pilotqa kb list | show NAME | delete NAME | check [NAME] [--repair] | backup NAME FILE``,
``pilotqa kb restore FILE [--as NAME]``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from cli.terminal import one_line
from kb import store
from kb.segment import Segmenter
from kb.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kb", help="管理知识库")
    kb_sub = p.add_subparsers(dest="action", required=True)
    kb_sub.add_parser("list", help="列出知识库").set_defaults(func=list_kbs)
    show = kb_sub.add_parser("show", help="显示知识库的文档")
    show.add_argument("name")
    show.set_defaults(func=show_kb)
    delete = kb_sub.add_parser("delete", help="删除知识库")
    delete.add_argument("name")
    delete.set_defaults(func=delete_kb)
    check = kb_sub.add_parser("check", help="检查知识库各部分是否与目录一致（--repair 修复）")
    check.add_argument("name", nargs="?", help="知识库名称（默认 PILOTQA_KB）")
    check.add_argument("--repair", action="store_true", help="从保存的数据重建能重建的部分（不重新导入、不重新嵌入）")
    check.set_defaults(func=check_kb)
    back = kb_sub.add_parser("backup", help="把知识库备份到一个文件（导入进行时等它完成，提问不受影响）")
    back.add_argument("name")
    back.add_argument("file", type=Path)
    back.set_defaults(func=backup_kb)
    rest = kb_sub.add_parser("restore", help="从备份文件恢复知识库（先校验，完整写好后才启用）")
    rest.add_argument("file", type=Path)
    rest.add_argument("--as", dest="as_name", help="恢复为这个名称（默认用备份时的名称；不能是已有的知识库）")
    rest.set_defaults(func=restore_kb)


def list_kbs(args: argparse.Namespace, settings: Settings) -> int:
    names = store.list_names(settings)
    if not names:
        print("还没有知识库。用 pilotqa ingest 路径 导入文档。")
    for name in names:
        docs, chunks, model = store.peek(settings, name)  # the catalogue alone: no Chroma, no BM25
        print(f"{name}\t{docs} 篇文档\t{chunks} 个片段\t模型 {model}")
    return 0


def show_kb(args: argparse.Namespace, settings: Settings) -> int:
    name = store.require(settings, args.name)
    kb = store.KnowledgeBase.open(settings, name, Segmenter(settings.cache_dir), None)
    docs, chunks = kb.counts()
    print(f"知识库 {name}：{docs} 篇文档，{chunks} 个片段，嵌入模型 {kb.model}，向量库 {kb.location}")
    for d in kb.documents():
        when = dt.datetime.fromtimestamp(d.ingested_at).strftime("%Y-%m-%d %H:%M")
        where = d.source + (f"（记录 {d.record}）" if d.record else "")
        fields = (d.doc_id, d.title, d.date or "-", f"{d.n_chunks} 片段", f"清除模板文字 {d.removed} 处",
                  f"导入于 {when}", where)  # fmt: skip
        print("  " + "\t".join(one_line(f) for f in fields))
    return 0


def delete_kb(args: argparse.Namespace, settings: Settings) -> int:
    name = store.require(settings, args.name)
    store.delete(settings, name)
    print(f"已删除知识库 {name}")
    return 0


def check_kb(args: argparse.Namespace, settings: Settings) -> int:
    from ingest import uploads
    from ingest.loaders.ocr import cache_folder
    from kb import health

    name = store.require(settings, args.name or settings.kb)
    where = uploads.root(settings.home) / name
    report = health.check(settings, name, where, cache_folder(settings), repair=args.repair)
    for line in report.lines:
        print(f"  一致  {one_line(line)}")
    for line in report.repaired:
        print(f"  已修复  {one_line(line)}")
    for line in report.problems:
        print(f"  不一致  {one_line(line)}")
    print(report.summary())
    return 0 if report.ok else 1


def backup_kb(args: argparse.Namespace, settings: Settings) -> int:
    from ingest import uploads
    from ingest.pipeline import PIPELINE_VERSION
    from kb.backup import backup

    name = store.require(settings, args.name)
    done = backup(settings, name, args.file, uploads.root(settings.home) / name, PIPELINE_VERSION)
    print(f"已备份知识库 {name} 到 {one_line(str(args.file))}：{done.documents} 篇文档，{done.chunks} 个片段，"
          f"{done.size / 1e6:.1f} MB，用时 {done.seconds:.1f} 秒")  # fmt: skip
    return 0


def restore_kb(args: argparse.Namespace, settings: Settings) -> int:
    from ingest import uploads
    from ingest.pipeline import PIPELINE_VERSION
    from kb.backup import restore

    done = restore(settings, args.file, args.as_name, uploads.root(settings.home), PIPELINE_VERSION)
    print(f"已从 {one_line(str(args.file))} 恢复知识库 {done.name}：{done.documents} 篇文档，{done.chunks} 个片段，"
          f"用时 {done.seconds:.1f} 秒")  # fmt: skip
    return 0
