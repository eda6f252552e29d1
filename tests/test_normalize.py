"""Text normalisation at load: the golden table, and one document through the real pipeline whose offsets stay true."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import normalize
from ingest.loaders import load
from ingest.pipeline import to_document

CASES = [
    ("⾦融科技应⽤试点", "金融科技应用试点"),  # Kangxi radicals (a PDF printed from a browser)
    ("\uf900\uf91d", "\u8c48\u6b04"),  # CJK compatibility ideographs to their unified forms
    ("４８２１台，人脸绑卡２９．９８万张", "4821台，人脸绑卡29.98万张"),  # full-width digits and their point
    ("Ａｐｐ下载，ﬁnance", "App下载，finance"),  # full-width letters, a ligature
    ("试点\u200b项目\u00ad上线\ufeff", "试点项目上线"),  # zero-width characters, a soft hyphen
    ("（一）工作目标：稳步推进。", "（一）工作目标：稳步推进。"),  # Chinese punctuation stays as it is
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[c[1] for c in CASES])
def test_normalised(raw: str, expected: str) -> None:
    assert normalize.text(raw) == expected


def test_a_document_is_stored_normalised_and_its_offsets_hold(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("⾦融科技试点简报\n截至２０２０年９⽉共计布放受理终端４８２１台\u200b。\n", "utf-8")
    (parsed,) = list(load(path, 10**7))
    doc = to_document(parsed, path, 300)
    assert doc.title == "金融科技试点简报"
    assert "截至2020年9月共计布放受理终端4821台。" in doc.text
    assert all(doc.text[s.start : s.end] for s in doc.sections)


def test_control_characters_a_font_map_writes_are_removed() -> None:
    """A PDF whose font map writes NUL between characters reads as the text it prints."""
    assert normalize.text("2\x000\x002\x003年\x00一季度\x07") == "2023年一季度"
    assert normalize.text("行一\n行二\t列") == "行一\n行二\t列"  # line breaks and tabs are text
