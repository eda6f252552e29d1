"""A tiny PDF writer for tests: one line of ASCII text per page (Helvetica), and two damaged shapes pypdf
fails on in its own ways (an unknown stream filter, a /ToUnicode map over its size limit)."""

from __future__ import annotations

import zlib

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
# a bfrange of 2^24 codes: pypdf refuses maps over 100 000 entries (LimitReachedError)
_HUGE_CMAP = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <FF> "
              b"endcodespacerange 1 beginbfrange <000000> <FFFFFF> <0041> endbfrange endcmap end end")  # fmt: skip


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _content(line: str) -> bytes:
    return f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()


def build(objects: list[bytes]) -> bytes:
    """A PDF of these objects (1 is the catalogue), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_with_pages(lines: list[str]) -> bytes:
    objects: list[bytes] = []
    n = len(lines)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font_id = 3 + 2 * n
    for i, line in enumerate(lines):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(_stream(_content(line)))
    objects.append(_FONT)
    return build(objects)


def _one_page(content: bytes, font: bytes, *more: bytes) -> bytes:
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R "
        b">> >> >>", content, font, *more,
    ])  # fmt: skip


def pdf_with_bad_filter(line: str) -> bytes:
    """A page whose content stream names a filter that does not exist (pypdf: NotImplementedError)."""
    return _one_page(_stream(zlib.compress(_content(line)), b"/Filter /FlateDecodX "), _FONT)


def pdf_with_huge_tounicode(line: str) -> bytes:
    """A page whose font's /ToUnicode map is over pypdf's limit (pypdf: LimitReachedError)."""
    font = _FONT.replace(b" >>", b" /ToUnicode 6 0 R >>")
    return _one_page(_stream(_content(line)), font, _stream(_HUGE_CMAP))
