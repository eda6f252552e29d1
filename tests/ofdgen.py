"""An OFD writer for tests, after GB/T 33190-2016: ``OFD.xml`` with one ``DocBody`` per document (``DocInfo``,
``DocRoot``), each document's ``Document.xml`` (``CommonData`` with ``PageArea``, ``PublicRes`` and template
pages; ``Pages``), ``PublicRes.xml`` with its font, and each page's ``Content.xml``: a ``Layer`` of ``TextObject``s,
each with a ``Boundary`` and ``TextCode``s whose ``X``/``Y`` are relative to it and whose ``DeltaX`` gives every
character's advance (``g N V`` for N advances of V). Lines are laid out as a writer lays out printed text: a
paragraph's first line indented two characters, lines filled to the right margin, and chosen lines split into several
text objects (written in reverse order, so reading order has to come from their positions)."""

from __future__ import annotations

import io
import itertools
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

NS = "http://www.ofdspec.org/2016"
LEFT, WIDTH, TOP, SIZE = 28.0, 154.0, 40.0, 5.0  # millimetres on an A4 page


@dataclass
class Page:
    """Text objects as (x, baseline y, size, text); lines are added with the methods below."""

    objects: list[tuple[float, float, float, str]] = field(default_factory=list)
    y: float = TOP

    def line(self, text: str, x: float = LEFT, size: float = SIZE, splits: tuple[int, ...] = ()) -> Page:
        """One printed line at the next baseline, cut into several text objects at ``splits`` (offsets)."""
        cuts = [0, *splits, len(text)]
        pieces = [(x + a * size, text[a:b]) for a, b in itertools.pairwise(cuts)]
        for i, (px, piece) in reversed(list(enumerate(pieces))):
            self.objects.append((px, self.y + 0.15 * (i % 2), size, piece))  # writers round baselines apart
        self.y += 1.6 * size
        return self

    def centred(self, text: str, size: float) -> Page:
        return self.line(text, LEFT + (WIDTH - len(text) * size) / 2, size)

    def paragraph(self, text: str, split_first: tuple[int, ...] = ()) -> Page:
        """A body paragraph: first line indented two characters, the rest filled to the margin."""
        per_line = int(WIDTH / SIZE)
        first = per_line - 2
        self.line(text[:first], LEFT + 2 * SIZE, splits=split_first)
        for start in range(first, len(text), per_line):
            self.line(text[start : start + per_line])
        return self

    def gap(self) -> Page:
        self.y += SIZE
        return self


@dataclass
class Doc:
    title: str
    date: str
    pages: list[Page]
    template: list[tuple[float, float, float, str]] = field(default_factory=list)  # text on every page


def _text_object(oid: int, x: float, y: float, size: float, text: str) -> str:
    ascent = 0.88 * size
    width = len(text) * size
    return (f'<ofd:TextObject ID="{oid}" Boundary="{x:.3f} {y - ascent:.3f} {width:.3f} {size * 1.2:.3f}" '
            f'Font="2" Size="{size}"><ofd:FillColor Value="0 0 0"/>'
            f'<ofd:TextCode X="0" Y="{ascent:.3f}" DeltaX="g {max(len(text) - 1, 1)} {size}">{escape(text)}'
            "</ofd:TextCode></ofd:TextObject>")  # fmt: skip


def _content(objects: list[tuple[float, float, float, str]], template: bool, first_id: int) -> str:
    body = "".join(_text_object(first_id + i, *o) for i, o in enumerate(objects))
    use = '<ofd:Template TemplateID="1" ZOrder="Background"/>' if template else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">{use}'
            f'<ofd:Content><ofd:Layer ID="{first_id - 1}" Type="Body">{body}</ofd:Layer></ofd:Content>'
            "</ofd:Page>")  # fmt: skip


def _document(doc: Doc) -> str:
    tpl = '<ofd:TemplatePage ID="1" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if doc.template else ""
    pages = "".join(f'<ofd:Page ID="{100 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(doc.pages)))
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
            "<ofd:MaxUnitID>9999</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>"
            f"</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{tpl}</ofd:CommonData>"
            f"<ofd:Pages>{pages}</ofd:Pages></ofd:Document>")  # fmt: skip


_RES = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>')  # fmt: skip


def _body(n: int, doc: Doc) -> str:
    return (f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>{n:032x}</ofd:DocID><ofd:Title>{escape(doc.title)}</ofd:Title>"
            f"<ofd:Author>测试</ofd:Author><ofd:CreationDate>{doc.date}</ofd:CreationDate>"
            f"<ofd:ModDate>2030-01-01</ofd:ModDate></ofd:DocInfo><ofd:DocRoot>Doc_{n}/Document.xml</ofd:DocRoot>"
            "</ofd:DocBody>")  # fmt: skip


def parts(docs: list[Doc]) -> dict[str, str]:
    """Every part of the package by its name."""
    out = {"OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
           + "".join(_body(n, d) for n, d in enumerate(docs)) + "</ofd:OFD>"}  # fmt: skip
    for n, doc in enumerate(docs):
        out[f"Doc_{n}/Document.xml"] = _document(doc)
        out[f"Doc_{n}/PublicRes.xml"] = _RES
        for i, page in enumerate(doc.pages):
            out[f"Doc_{n}/Pages/Page_{i}/Content.xml"] = _content(page.objects, bool(doc.template), 1000 * (i + 1))
        if doc.template:
            out[f"Doc_{n}/Tpls/Tpl_0/Content.xml"] = _content(doc.template, False, 50)
    return out


def package(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def ofd(docs: list[Doc]) -> bytes:
    return package(dict(parts(docs)))


def report() -> Doc:
    """A two-page pilot report: a centred title, a numbered heading, a paragraph whose first line is three text
    objects (one cut inside 渔船), a second page with its own paragraph; the issuing office on a template page."""
    one = (
        Page()
        .centred("青岛市金融科技应用试点进展报告", 7.0)
        .gap()
        .line("一、总体进展")
        .paragraph(
            "截至2021年9月末，青岛市“智慧渔港”支付项目累计服务渔船1376艘，交易金额达到8.6亿元，"
            "覆盖全市主要渔港和水产品交易市场。",
            split_first=(10, 24),
        )
        .paragraph("项目由青岛农商银行牵头建设，已接入渔港管理、冷链物流等六个场景。")
    )
    two = (
        Page()
        .line("二、下一步计划")
        .paragraph("下一步，青岛市将推动“海洋牧场贷”在即墨区落地，计划新增授信3.2亿元，服务养殖主体二百余家。")
    )
    footer = [(LEFT, 280.0, 4.0, "中国人民银行青岛市中心支行")]
    return Doc("青岛市金融科技应用试点2021年第三季度进展报告", "2021-10-15", [one, two], footer)
