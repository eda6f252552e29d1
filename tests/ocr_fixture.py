"""Scanned and photographed pages for the OCR tests, drawn with Debian's Noto CJK font (fonts-noto-cjk, which
``make test`` installs through .ci/browser-deps): an A4 page at 150 dpi the way a scanner writes it (title,
numbered headings, paragraphs indented two characters, a page number at the foot), a PDF of such pages holding
only their images, and a photo-like picture (uneven light, noise, a slight rotation, a little blur). All content
is fictional, written for these tests: no real institution, figure or date."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_GLOBS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/**/NotoSansCJK*.ttc",
              "/usr/share/fonts/**/NotoSerifCJK*.ttc")  # fmt: skip
A4_150DPI = (1240, 1754)

# (kind, text): "title", "heading", "para" (indented two characters, wrapped at the margins)
PAGES = [
    [
        ("note", "（虚构测试材料：本文件为 PilotQA 文字识别测试而写，机构、数字和日期均为虚构。）"),
        ("title", "青川市金融科技应用试点进展报告"),
        ("heading", "一、总体情况"),
        (
            "para",
            "截至2023年6月末，青川市纳入试点的项目共27个，其中数字人民币场景项目9个，覆盖商户12600余家。"
            "试点工作由青川市金融科技办公室统筹推进，各参与机构按季度报送进展。",
        ),
        ("para", "试点银行累计发放普惠小微贷款3.8亿元，惠及小微企业416户，平均审批时间由5天缩短至1.5天。"),
        ("heading", "二、主要做法"),
        (
            "para",
            "一是建设跨部门数据共享平台，接入税务、社保和公积金等数据源共14类；二是推广智能风控模型，"
            "对涉农贷款实行差异化定价。",
        ),
    ],
    [
        ("heading", "三、下一步安排"),
        ("para", "下一阶段，青川市计划将试点范围扩大到下辖的石门县和白沙县，力争到2024年末试点项目达到40个。"),
        ("para", "同时，青川农商银行将上线“云岭e贷”线上产品，首期授信额度为2亿元，重点支持茶叶种植户。"),
    ],
]
PHOTO_LINES = [
    "（虚构测试材料，内容均为虚构）",
    "关于白鹭湾支付便民工程的通报",
    "白鹭湾镇共布放移动支付受理终端1850台，",
    "镇内农贸市场的移动支付使用率达到92%。",
    "联系人：林晓云，电话0000-0000000。",
]


def font_path() -> str:
    for pattern in FONT_GLOBS:
        found = sorted(Path("/").glob(pattern.lstrip("/")))
        if found:
            return str(found[0])
    pytest.skip("Debian's fonts-noto-cjk is missing: `make test` installs it (.ci/browser-deps, as root)")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, first: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for ch in text:
        room = width - (first if not lines else 0)
        if line and draw.textlength(line + ch, font=font) > room:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def scanned_page(blocks: list[tuple[str, str]], number: int, size: tuple[int, int] = A4_150DPI) -> Image.Image:
    """One page as a 150-dpi scan: 10.5 pt body text (about 22 px), margins of about 2.5 cm."""
    path = font_path()
    body, big = ImageFont.truetype(path, 22), ImageFont.truetype(path, 34)
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    left, right, y = 150, size[0] - 150, 170
    for kind, text in blocks:
        if kind == "title":
            draw.text((size[0] / 2, y + 20), text, font=big, fill=0, anchor="mm")
            y += 90
        elif kind in ("heading", "note"):
            draw.text((left, y), text, font=body, fill=0)
            y += 50
        else:
            indent = 2 * 22
            for i, line in enumerate(_wrap(draw, text, body, indent, right - left)):
                draw.text((left + (indent if i == 0 else 0), y), line, font=body, fill=0)
                y += 38
            y += 4
    draw.text((size[0] / 2, size[1] - 110), f"- {number} -", font=body, fill=0, anchor="mm")
    rng = np.random.default_rng(number)  # a scanner's faint speckle
    pixels = np.asarray(page, dtype=np.int16) - rng.integers(0, 18, size=(size[1], size[0]))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def scanned_pdf(pages: list[list[tuple[str, str]]] = PAGES, repeat: int = 1) -> bytes:
    """A PDF of page images only (no text layer), 150 dpi, as a scanner writes it."""
    images = [scanned_page(blocks, n + 1).convert("RGB") for n, blocks in enumerate(pages * repeat)]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def photo(lines: list[str] = PHOTO_LINES, angle: float = 2.5) -> bytes:
    """A phone photo of a printed notice: uneven light, sensor noise, a slight rotation and blur (PNG)."""
    font = ImageFont.truetype(font_path(), 40)
    sheet = Image.new("L", (1400, 900), 250)
    draw = ImageDraw.Draw(sheet)
    for i, line in enumerate(lines):
        draw.text((90 if i else 140, 110 + i * 140), line, font=font, fill=25)
    turned = sheet.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=120)
    w, h = turned.size
    light = np.linspace(0.78, 1.0, w)[None, :] * np.linspace(1.0, 0.85, h)[:, None]
    rng = np.random.default_rng(7)
    pixels = np.asarray(turned, dtype=np.float64) * light + rng.normal(0, 9, size=(h, w))
    grey = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    paper = np.asarray(grey, dtype=np.float64)[:, :, None] * np.array([1.0, 0.97, 0.9])  # a warm cast
    tinted = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    tinted.save(out, "PNG")
    return out.getvalue()
