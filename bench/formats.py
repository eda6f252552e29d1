"""``python -m bench.formats``: how fast OFD packages are read and .doc/.wps files converted (printed as JSON).

Measures the loaders alone (no embedding): an OFD of 1 and 50 pages written per GB/T 33190 (``tests.ofdgen``, about
900 characters a page, each first line split into three text objects), and a .doc of 1 and 50 pages (LibreOffice
wrote it from a python-docx file) read through LibreOffice into blocks; the median of three runs each.
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import docx

from ingest.loaders import load, office
from tests.ofdgen import Doc, Page, ofd

PARAGRAPH = ("截至2021年9月末，青岛市“智慧渔港”支付项目累计服务渔船1376艘，交易金额达到8.6亿元，覆盖全市主要渔港和"
             "水产品交易市场，项目由青岛农商银行牵头建设，已接入渔港管理、冷链物流等六个场景。")  # fmt: skip


def _ofd(pages: int) -> bytes:
    def page(n: int) -> Page:
        p = Page().line(f"{n}、第{n}页")
        for _ in range(10):
            p.paragraph(PARAGRAPH, split_first=(8, 20))
        return p

    return ofd([Doc("基准报告", "2021-10-15", [page(n) for n in range(1, pages + 1)])])


def _doc(pages: int) -> bytes:
    d = docx.Document()
    d.add_heading("基准报告", level=1)
    for n in range(pages):
        d.add_heading(f"第{n + 1}节", level=2)
        for _ in range(10):
            d.add_paragraph(PARAGRAPH)
    buf = io.BytesIO()
    d.save(buf)
    return office.convert(buf.getvalue(), ".docx", "doc", 300)


def _seconds(path: Path, runs: int = 3) -> tuple[float, int]:
    times, chars = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        chars = sum(len(b.text) for p in load(path, 10**9) for b in p.blocks)
        times.append(time.perf_counter() - started)
    return statistics.median(times), chars


def formats_bench() -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pages in (1, 50):
            path = Path(tmp) / f"r{pages}.ofd"
            path.write_bytes(_ofd(pages))
            seconds, chars = _seconds(path)
            out[f"ofd_{pages}p_s"] = round(seconds, 3)
            out[f"ofd_{pages}p_chars"] = chars
            out[f"ofd_{pages}p_pages_per_s"] = round(pages / seconds, 1)
        if office.converter() is None:
            return out
        for pages in (1, 50):
            path = Path(tmp) / f"r{pages}.doc"
            path.write_bytes(_doc(pages))
            seconds, chars = _seconds(path)
            out[f"doc_{pages}p_s"] = round(seconds, 2)
            out[f"doc_{pages}p_chars"] = chars
    return out


if __name__ == "__main__":
    print(json.dumps(formats_bench(), ensure_ascii=False, indent=1))
