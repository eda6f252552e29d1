"""``python -m bench.ocr [PAGES]``: text recognition speed on scanned pages, and the ingest rate of a scanned report.

Pages are drawn as a 150-dpi scanner writes an A4 page (tests/ocr_fixture.py: Noto Sans CJK, 10.5 pt, margins of
2.5 cm, faint speckle), full of fictional report text (about 1,250 characters a page). Prints: seconds per page for
recognition alone (the engine loaded; target ≤ 1.5 s on 2 cores), wall and CPU (all threads: the fair figure on a
machine others share, whose load average is printed too; PILOTQA_OCR_THREADS sets the threads), and the share of
the page's characters read right (difflib's ratio against the drawn text); the same pages read side by side, one
single-threaded engine a core, as ingest reads a file's pages (wall seconds per page over the batch: the rate a scan
is read at); then a PAGES-page scanned PDF (default
50) through ``pilotqa ingest``'s pipeline (render, recognise, lay out, chunk, embed, store): pages per minute, and
the same file again (unchanged: its recognised text comes from the cache).
"""

from __future__ import annotations

import difflib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SENTENCES = [
    "截至{y}年{m}月末，{c}纳入试点的项目共{a}个，其中数字人民币场景项目{b}个，覆盖商户{d}余家。",
    "试点银行累计发放普惠小微贷款{e}亿元，惠及小微企业{a}{b}户，平均审批时间由{b}天缩短至1.5天。",
    "{c}建设跨部门数据共享平台，接入税务、社保和公积金等数据源共{a}类，日均调用{d}次。",
    "下一阶段，{c}计划将试点范围扩大到下辖各县，力争到{y}年末试点项目达到{f}个。",
    "各参与机构按季度报送进展，{c}金融科技办公室对{b}个项目开展了现场评估，整改问题{a}项。",
]
CITIES = ["青川市", "白鹭湾镇", "云岭县", "石泉市", "东汀区"]  # fictional places


def page_blocks(n: int) -> list[tuple[str, str]]:
    """One dense page of fictional report text (headings and indented paragraphs), different on every page."""
    rng = np.random.default_rng(n)
    blocks: list[tuple[str, str]] = [("heading", f"{'一二三四五六七八九十'[n % 10]}、第{n}部分进展情况")]
    for _ in range(9):
        values = {"y": 2020 + int(rng.integers(0, 5)), "m": int(rng.integers(1, 13)), "c": str(rng.choice(CITIES)),
                  "a": int(rng.integers(2, 99)), "b": int(rng.integers(2, 9)), "d": int(rng.integers(1000, 99999)),
                  "e": round(float(rng.uniform(0.5, 9.9)), 1), "f": int(rng.integers(20, 80))}  # fmt: skip
        text = "".join(s.format(**values) for s in rng.permutation(SENTENCES)[:3])
        blocks.append(("para", text))
    return blocks


def recognition_bench(pages: int = 5) -> dict[str, float]:
    from kb.settings import Settings
    from models.ocr import Recognizer
    from tests.ocr_fixture import scanned_page

    recognizer = Recognizer(Settings().ocr_threads)
    t0 = time.perf_counter()
    recognizer.load()
    load_s = time.perf_counter() - t0
    first = np.asarray(scanned_page(page_blocks(0), 0).convert("RGB"))[:, :, ::-1].copy()
    t0 = time.perf_counter()
    recognizer.read(first)  # warm up (the engine's sessions are made on its first page)
    first_s = time.perf_counter() - t0
    seconds, cpu, ratios, chars = [], [], [], []
    for n in range(1, pages + 1):
        blocks = page_blocks(n)
        image = np.asarray(scanned_page(blocks, n).convert("RGB"))[:, :, ::-1].copy()
        t0, c0 = time.perf_counter(), time.process_time()
        boxes = recognizer.read(image)
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        drawn = "".join(text for _, text in blocks)
        read = "".join(b.text for b in boxes if not b.text.strip().startswith("-"))
        ratios.append(difflib.SequenceMatcher(None, drawn, read.replace(" ", ""), autojunk=False).ratio())
        chars.append(len(drawn))
    return {"pages": pages, "cores": os.cpu_count() or 0, "threads": recognizer.threads,
            "load_average": os.getloadavg()[0], "engine_load_s": load_s, "first_page_s": first_s,
            "seconds_per_page_median": statistics.median(seconds), "seconds_per_page_max": max(seconds),
            "cpu_seconds_per_page_median": statistics.median(cpu), "characters_per_page": statistics.mean(chars),
            "characters_read_right": statistics.mean(ratios)}  # fmt: skip


def side_by_side_bench(pages: int = 6) -> dict[str, float]:
    """Pages of one file read side by side, as ingest reads a scan: one single-threaded engine a core (or a thread
    of PILOTQA_OCR_THREADS), each page on one; wall seconds per page over the batch."""
    from ingest.loaders.ocr import Ocr
    from kb.settings import Settings
    from models.ocr import side_by_side
    from tests.ocr_fixture import scanned_page

    engines = side_by_side(Settings().ocr_threads)
    images = [np.asarray(scanned_page(page_blocks(n), n).convert("RGB"))[:, :, ::-1].copy() for n in range(pages)]
    for engine in engines:
        engine.read(images[0])  # loaded and warmed up
    ocr = Ocr(cache=None, recognizer=engines[0], engines=engines)
    t0, c0 = time.perf_counter(), time.process_time()
    ocr.read("bench", "-", list(range(1, pages)), lambda n: images[n], "bench")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"pages": pages - 1, "engines": len(engines), "load_average": os.getloadavg()[0],
            "seconds_per_page": wall / (pages - 1), "cpu_seconds_per_page": cpu / (pages - 1)}  # fmt: skip


def scanned_report(pages: int) -> bytes:
    from tests.ocr_fixture import scanned_page

    images = [scanned_page(page_blocks(n), n).convert("RGB") for n in range(1, pages + 1)]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def ingest_bench(pages: int = 50) -> dict[str, float]:
    from ingest.loaders.ocr import Ocr
    from ingest.pipeline import Ingestor
    from kb.segment import Segmenter
    from kb.settings import Settings
    from kb.store import KnowledgeBase
    from models.embed import Embedder

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scanned-report.pdf"
        path.write_bytes(scanned_report(pages))
        settings = Settings(home=Path(tmp) / "home")
        embedder = Embedder(settings)
        embedder.load()
        kb = KnowledgeBase.open(settings, "bench", Segmenter(settings.cache_dir), embedder.name)
        first = Ingestor(kb, embedder, 300, 50, ocr=Ocr.of(settings)).run([path])
        cached = Ingestor(kb, embedder, 300, 50, ocr=Ocr.of(settings)).run([path])
    return {"pages": pages, "ingest_s": first.seconds, "pages_per_minute": 60 * pages / first.seconds,
            "seconds_per_page": first.seconds / pages, "chunks": first.chunks,
            "unchanged_again_s": cached.seconds}  # fmt: skip


def ocr_bench(pages: int = 50) -> dict[str, dict[str, float]]:
    return {
        "ocr recognition (A4, 150 dpi)": recognition_bench(),
        "ocr pages side by side (A4, 150 dpi)": side_by_side_bench(),
        f"ocr ingest ({pages}-page scan)": ingest_bench(pages),
    }


if __name__ == "__main__":
    for group, row in ocr_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 50).items():
        for key, value in row.items():
            print(f"{group}: {key} = {value:.3f}" if isinstance(value, float) else f"{group}: {key} = {value}")
