"""``python -m bench.safety [--backup SIZE...] [--check SIZE...]``: what keeping a knowledge base safe costs.

Builds knowledge bases of the given sizes (chunks) exactly as ``bench/scale.py`` does (its base set of real chunks
and vectors, copies with shifted numbers and noisy vectors), then times, through the library calls the commands
make: ``pilotqa kb backup`` (seconds, file size) and ``pilotqa kb restore`` into another data folder (seconds, then
the restored knowledge base checked), and ``pilotqa kb check`` (seconds: every chunk's text, vector and BM25 entry
against the catalogue).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench import scale
from kb.settings import Settings


def measure(settings: Settings, name: str, backup: bool) -> dict[str, float]:
    from ingest import uploads
    from ingest.loaders.ocr import cache_folder
    from ingest.pipeline import PIPELINE_VERSION
    from kb import backup as kb_backup
    from kb import health

    report = health.check(settings, name, uploads.root(settings.home) / name, cache_folder(settings))
    row = {"chunks": float(_chunks(settings, name)), "check_s": report.seconds, "check_ok": float(report.ok)}
    if backup:
        file = settings.home / "backup.tar"
        made = kb_backup.backup(settings, name, file, uploads.root(settings.home) / name, PIPELINE_VERSION)
        other = settings.model_copy(update={"home": settings.home / "restored"})
        back = kb_backup.restore(other, file, name, uploads.root(other.home), PIPELINE_VERSION)
        again = health.check(other, name, uploads.root(other.home) / name, cache_folder(other))
        row.update({"backup_s": made.seconds, "backup_mb": made.size / 1e6, "restore_s": back.seconds,
                    "restored_check_ok": float(again.ok)})  # fmt: skip
    return row


def _chunks(settings: Settings, name: str) -> int:
    from kb.store import peek

    return peek(settings, name)[1]


def run(backup_sizes: list[int], check_sizes: list[int]) -> dict[str, dict[str, float]]:
    settings = Settings()
    texts, base = scale.base_set(settings)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sorted(set(backup_sizes) | set(check_sizes)):
            scaled = settings.model_copy(update={"home": Path(tmp) / str(size), "chroma_url": None})
            name = f"scale-{size}"
            build_s = scale.build(scaled, name, size, texts, base, settings.embed_model)
            row = {**measure(scaled, name, size in backup_sizes), "build_s": build_s}
            results[f"safety {size} chunks"] = row
            print(json.dumps({name: row}), file=sys.stderr, flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.safety")
    parser.add_argument("--backup", nargs="*", type=int, default=[10000], help="sizes backed up and restored")
    parser.add_argument("--check", nargs="*", type=int, default=[100000], help="sizes checked")
    args = parser.parse_args()
    print(json.dumps(run(args.backup, args.check), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
