"""OFD (GB/T 33190, China's format for official electronic documents): the text layer, page by page.

Owns: the only lxml import; walking the package (``OFD.xml`` → each ``DocBody``'s ``DocRoot`` → ``Document.xml`` →
its pages' ``Content.xml`` and the template pages they use), the text objects' positions (``Boundary``, ``CTM``,
``TextCode`` ``X``/``Y``/``DeltaX``), the title and date of ``DocInfo``; one ``Parsed`` per document in the package.
XML is parsed with entities, DTDs and the network off, and a part that declares a DTD is refused. A package that
would unzip past ``Limits.max_docx_expanded_mb`` (its XML parts), has more than ``Limits.max_pages`` pages or yields
more than ``Limits.max_chars`` characters is refused as soon as that is known. Damaged packages and missing parts
are an ``InputError`` naming the part. Does not own: reading order (``ingest.loaders.ofd_layout``), images,
signatures and annotations (not read).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ingest.loaders import Limits, Parsed
from ingest.loaders.ofd_layout import Piece, lines, paragraphs
from kb.errors import InputError
from kb.records import Block, BlockKind

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)  # fmt: skip
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class _Bad(Exception):
    """A problem with the package, said in Chinese; the loader turns it into the file's ``InputError``."""


@dataclass
class _Package:
    """The zip and what reading it has cost so far."""

    zip: zipfile.ZipFile
    limits: Limits
    names: dict[str, str] = field(default_factory=dict)  # lower-case name -> the name in the zip
    read_mb: float = 0.0
    chars: int = 0
    pages: int = 0
    templates: dict[str, list[Piece]] = field(default_factory=dict)  # a template page's pieces by its BaseLoc

    def __post_init__(self) -> None:
        self.names = {n.lower().lstrip("/"): n for n in self.zip.namelist()}

    def xml(self, name: str, what: str) -> etree._Element:
        """The root of part ``name`` (``what`` names it for the user), within the unzip budget, parsed safely."""
        real = self.names.get(name.lower().lstrip("/"))
        if real is None:
            raise _Bad(f"OFD 文件缺少{what}（{name}），文件不完整或已损坏")
        self.read_mb += self.zip.getinfo(real).file_size / 1e6
        if self.read_mb > self.limits.max_docx_expanded_mb:
            raise _Bad(f"OFD 文件解压后过大（超过 {self.limits.max_docx_expanded_mb:g} MB，"
                       "可调 PILOTQA_MAX_DOCX_EXPANDED_MB）")  # fmt: skip
        data = self.zip.read(real)
        dtd = _Bad(f"OFD 文件的{what}（{name}）含有 DTD 声明（OFD 不使用，可能是恶意构造的文件），已拒绝")
        if _DOCTYPE.search(data):
            raise dtd
        try:
            tree = etree.parse(io.BytesIO(data), _PARSER)
        except etree.XMLSyntaxError as exc:
            raise _Bad(f"OFD 文件的{what}（{name}）不是合法的 XML，文件已损坏") from exc
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # one the byte search missed (UTF-16)
            raise dtd
        return tree.getroot()

    def count(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.limits.max_chars:
            raise _Bad(f"OFD 文件的文字过多（超过 {self.limits.max_chars} 字，可调 PILOTQA_MAX_CHARS）")


def load(path: Path, data: bytes, limits: Limits) -> Iterator[Parsed]:
    """Every document in the package, read whole before the first is yielded (a problem names the file alone)."""
    name = str(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            package = _Package(z, limits)
            bodies = _children(package.xml("OFD.xml", "入口文件"), "DocBody")
            if not bodies:
                raise _Bad("OFD 文件中没有文档（OFD.xml 里没有 DocBody），文件不完整或已损坏")
            docs = [_document(package, body) for body in bodies]
    except _Bad as exc:
        raise InputError(name, str(exc)) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, OSError,
            ValueError) as exc:  # fmt: skip
        raise InputError(name, "OFD 文件已损坏或不是 OFD 格式，无法打开：请用 OFD 阅读器打开检查，或重新导出") from exc
    if not any(blocks for _, _, blocks in docs):
        raise InputError(name, "OFD 文件中没有文字层（可能是扫描件），无法提取文字")
    many = len(docs) > 1
    for n, (title, date, blocks) in enumerate(docs, start=1):
        if blocks:  # several documents: each a record named by the file and its place in the package
            yield Parsed(title=title, blocks=blocks, date=date, record=_record(path, n) if many else None)


def _document(package: _Package, body: etree._Element) -> tuple[str, str | None, list[Block]]:
    """(title, date, blocks) of one DocBody."""
    info = _child(body, "DocInfo")
    title = _text(info, "Title")
    date = _text(info, "CreationDate") or _text(info, "ModDate") or None
    root_loc = _text(body, "DocRoot")
    if not root_loc:
        raise _Bad("OFD 文件的 DocBody 没有指明文档（DocRoot），文件不完整或已损坏")
    doc_path = _resolve("", root_loc)
    document = package.xml(doc_path, "文档描述")
    base = posixpath.dirname(doc_path)
    templates = {t.get("ID", ""): t.get("BaseLoc", "") for t in _all(_child(document, "CommonData"), "TemplatePage")}
    pages = _all(_child(document, "Pages"), "Page")
    package.pages += len(pages)
    if package.pages > package.limits.max_pages:
        raise _Bad(
            f"OFD 文件页数过多（{package.pages} 页，上限 {package.limits.max_pages} 页，可调 PILOTQA_MAX_PAGES）"
        )
    blocks: list[Block] = []
    for number, page in enumerate(pages, start=1):
        pieces = _page_pieces(package, base, page.get("BaseLoc", ""), number, templates)
        for para in paragraphs(lines(pieces)):
            kind: BlockKind = "heading" if para.heading else "paragraph"
            blocks.append(Block(para.text, kind=kind, level=para.heading, page=number))
    return title, date, blocks


def _page_pieces(package: _Package, base: str, loc: str, number: int, templates: dict[str, str]) -> list[Piece]:
    """The text pieces of page ``number``, those of the template pages it uses included."""
    if not loc:
        raise _Bad(f"OFD 文件第 {number} 页没有指明内容（BaseLoc），文件不完整或已损坏")
    content = package.xml(_resolve(base, loc), f"第 {number} 页内容")
    pieces = _pieces(package, content)
    for use in _all(content, "Template"):
        loc = templates.get(use.get("TemplateID", ""), "")
        if loc and loc not in package.templates:  # read once, however many pages use it
            package.templates[loc] = _pieces(package, package.xml(_resolve(base, loc), f"第 {number} 页的模板页"))
        elif loc:
            for piece in package.templates[loc]:
                package.count(piece.text)
        pieces += package.templates.get(loc, [])
    return pieces


def _pieces(package: _Package, root: etree._Element) -> list[Piece]:
    out: list[Piece] = []
    for obj in root.iter("{*}TextObject"):
        bx, by, *_ = [*_numbers(obj.get("Boundary", "")), 0.0, 0.0]
        ctm = _numbers(obj.get("CTM", ""))
        a, b, c, d, e, f = ctm[:6] if len(ctm) >= 6 else [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        scale = abs(a * d - b * c) ** 0.5 or 1.0
        size = float((_numbers(obj.get("Size", "")) or [3.5])[0]) * scale
        x = y = 0.0
        for code in obj.iter("{*}TextCode"):
            text = "".join(code.itertext()).replace("\r", "").replace("\n", "")
            x = _number(code.get("X"), x)
            y = _number(code.get("Y"), y)
            steps = _deltas(code.get("DeltaX", ""), max(len(text) - 1, 0))
            # a character without its own advance takes the font size (a Chinese character's width)
            width = sum(steps) + (len(text) - len(steps)) * size / scale if text else 0.0
            x0, y0 = bx + a * x + c * y + e, by + b * x + d * y + f
            if text.strip():
                package.count(text)
                out.append(Piece(x0, x0 + width * scale, y0, size, text))
            x += width
    return out


def _deltas(raw: str, needed: int) -> list[float]:
    """``DeltaX`` as one advance per character, at most ``needed`` of them (a line has one fewer than its
    characters): ``g N V`` stands for N advances of V, and however large N is, no more are made than are used."""
    out: list[float] = []
    tokens = raw.split()
    i = 0
    while i < len(tokens) and len(out) < needed:
        if tokens[i] == "g" and i + 2 < len(tokens):
            count = _number(tokens[i + 1], 0.0)
            out += [_number(tokens[i + 2], 0.0)] * int(min(max(count, 0.0), needed - len(out)))
            i += 3
        else:
            out.append(_number(tokens[i], 0.0))
            i += 1
    return out


def _resolve(base: str, loc: str) -> str:
    """A part's name in the zip: ``loc`` from the package root when it starts with /, else from ``base``."""
    joined = posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc))
    if joined.startswith(".."):
        raise _Bad(f"OFD 文件中的路径“{loc}”指向文件包之外，文件已损坏")
    return joined


def _record(path: Path, n: int) -> str:
    """The id of a package's ``n``th document: like a file's own id (its name and where it is), numbered."""
    stem = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff_-]+", "-", path.stem).strip("-")[:40] or "ofd"
    return f"{stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}-{n}"


def _children(el: etree._Element | None, tag: str) -> list[etree._Element]:
    return [] if el is None else list(el.iterchildren("{*}" + tag))


def _child(el: etree._Element | None, tag: str) -> etree._Element | None:
    found = _children(el, tag)
    return found[0] if found else None


def _all(el: etree._Element | None, tag: str) -> list[etree._Element]:
    return [] if el is None else list(el.iter("{*}" + tag))


def _text(el: etree._Element | None, tag: str) -> str:
    child = _child(el, tag)
    return " ".join("".join(child.itertext()).split()) if child is not None else ""


def _numbers(raw: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(raw)]


def _number(raw: str | None, default: float) -> float:
    found = _NUMBER.findall(raw or "")
    return float(found[0]) if found else default
