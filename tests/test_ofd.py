"""OFD packages the tests write per GB/T 33190 (``tests/ofdgen.py``): text in reading order, DocInfo's title and
date, pages, several documents in one package, and every kind of damaged or hostile package."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest

from ingest.loaders import Limits, Parsed, load
from ingest.loaders.ofd import _deltas
from ingest.pipeline import to_document
from kb.errors import InputError
from tests.ofdgen import NS, Doc, Page, ofd, package, parts, report

FIRST = ("截至2021年9月末，青岛市“智慧渔港”支付项目累计服务渔船1376艘，交易金额达到8.6亿元，"
         "覆盖全市主要渔港和水产品交易市场。")  # fmt: skip

DEFAULT = Limits()


def write(tmp_path: Path, data: bytes, name: str = "report.ofd") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def parsed(path: Path, limits: Limits = DEFAULT) -> list[Parsed]:
    return list(load(path, 10**7, limits))


def error(path: Path, limits: Limits = DEFAULT) -> str:
    items: list[Parsed] = []
    with pytest.raises(InputError) as raised:
        items.extend(load(path, 10**7, limits))
    assert not items and raised.value.path == str(path) and str(path) in str(raised.value)
    return raised.value.problem


def test_text_in_reading_order_with_title_date_and_pages(tmp_path: Path) -> None:
    path = write(tmp_path, ofd([report()]))
    (doc,) = parsed(path)
    assert doc.title == "青岛市金融科技应用试点2021年第三季度进展报告" and doc.date == "2021-10-15"
    assert doc.record is None
    texts = [b.text for b in doc.blocks]
    # the first line was three text objects written right to left, the paragraph three lines: one paragraph again
    assert FIRST in texts
    assert texts[0] == "青岛市金融科技应用试点进展报告" and doc.blocks[0].kind == "heading"
    assert (
        texts.index("一、总体进展")
        < texts.index(FIRST)
        < texts.index("项目由青岛农商银行牵头建设，已接入渔港管理、冷链物流等六个场景。")
    )
    assert "中国人民银行青岛市中心支行" in texts  # the template page's text
    assert {b.page for b in doc.blocks if "海洋牧场贷" in b.text} == {2}
    stored = to_document(doc, path, 300)
    assert stored.date == "2021-10-15"
    assert [s.page for s in stored.sections if "1376艘" in stored.text[s.start : s.end]] == [1]
    assert [s.heading_path[-1] for s in stored.sections] == ["一、总体进展", "二、下一步计划"]


def test_several_documents_in_one_package(tmp_path: Path) -> None:
    notice = Doc(
        "关于开展试点评估的通知", "2022-03-01", [Page().line("一、评估范围").paragraph("评估覆盖全省36个试点项目。")]
    )
    path = write(tmp_path, ofd([report(), notice]))
    docs = parsed(path)
    assert [d.title for d in docs] == ["青岛市金融科技应用试点2021年第三季度进展报告", "关于开展试点评估的通知"]
    assert [d.date for d in docs] == ["2021-10-15", "2022-03-01"]
    records = [d.record or "" for d in docs]
    assert len(set(records)) == 2 and all(r.startswith("report-") for r in records)
    assert parsed(path)[1].record == records[1]  # the same file gives the same ids again
    assert any("36个试点项目" in b.text for b in docs[1].blocks)


def test_paths_from_the_package_root_without_a_namespace_or_advances(tmp_path: Path) -> None:
    files = parts([report()])
    files["OFD.xml"] = files["OFD.xml"].replace("<ofd:DocRoot>Doc_0/", "<ofd:DocRoot>/Doc_0/")
    files["Doc_0/Document.xml"] = files["Doc_0/Document.xml"].replace('BaseLoc="Pages/', 'BaseLoc="/Doc_0/Pages/')
    page = files["Doc_0/Pages/Page_1/Content.xml"]
    page = re.sub(r' DeltaX="[^"]*"', "", page)  # optional: each character then advances by the font size
    files["Doc_0/Pages/Page_1/Content.xml"] = page.replace(f' xmlns:ofd="{NS}"', "").replace("ofd:", "")
    (doc,) = parsed(write(tmp_path, package(dict(files))))
    assert FIRST in [b.text for b in doc.blocks]
    assert "下一步，青岛市将推动“海洋牧场贷”在即墨区落地，计划新增授信3.2亿元，服务养殖主体二百余家。" in [
        b.text for b in doc.blocks if b.page == 2
    ]


def damaged(tmp_path: Path, change: dict[str, str | None]) -> str:
    files: dict[str, str | bytes] = dict(parts([report()]))
    for name, value in change.items():
        if value is None:
            del files[name]
        else:
            files[name] = value
    return error(write(tmp_path, package(files), "damaged.ofd"))


def test_damaged_packages_and_missing_parts_name_the_file_and_the_part(tmp_path: Path) -> None:
    assert error(write(tmp_path, b"PK\x03\x04 not a zip at all", "x.ofd")).startswith("OFD 文件已损坏或不是 OFD 格式")
    assert damaged(tmp_path, {"OFD.xml": None}) == "OFD 文件缺少入口文件（OFD.xml），文件不完整或已损坏"
    assert damaged(tmp_path, {"Doc_0/Document.xml": None}) == (
        "OFD 文件缺少文档描述（Doc_0/Document.xml），文件不完整或已损坏"
    )
    assert damaged(tmp_path, {"Doc_0/Pages/Page_1/Content.xml": None}) == (
        "OFD 文件缺少第 2 页内容（Doc_0/Pages/Page_1/Content.xml），文件不完整或已损坏"
    )
    assert damaged(tmp_path, {"Doc_0/Document.xml": "<ofd:Document xmlns:ofd='x'><ofd:Pages>"}) == (
        "OFD 文件的文档描述（Doc_0/Document.xml）不是合法的 XML，文件已损坏"
    )
    empty = f'<ofd:OFD xmlns:ofd="{NS}" Version="1.0"></ofd:OFD>'
    assert damaged(tmp_path, {"OFD.xml": empty}) == "OFD 文件中没有文档（OFD.xml 里没有 DocBody），文件不完整或已损坏"
    outside = parts([report()])["OFD.xml"].replace("<ofd:DocRoot>Doc_0/", "<ofd:DocRoot>../../etc/")
    assert "指向文件包之外" in damaged(tmp_path, {"OFD.xml": outside})


def test_a_package_without_text_says_so(tmp_path: Path) -> None:
    scan = Doc("扫描件", "2021-01-01", [Page()])
    assert error(write(tmp_path, ofd([scan]))) == "OFD 文件中没有文字层（可能是扫描件），无法提取文字"


def test_xml_bombs_are_refused_at_once(tmp_path: Path) -> None:
    """Billion laughs in a page (entities nested ten deep) and an external entity naming a local file: refused
    without expanding anything or reading the file."""
    laughs = '<!ENTITY a0 "哈哈哈哈哈哈哈哈哈哈">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = (f'<?xml version="1.0"?><!DOCTYPE p [{laughs}]><ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer>'
            '<ofd:TextObject Boundary="0 0 100 10" Size="5"><ofd:TextCode X="0" Y="4">&a9;</ofd:TextCode>'
            "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>")  # fmt: skip
    started = time.perf_counter()
    assert damaged(tmp_path, {"Doc_0/Pages/Page_0/Content.xml": bomb}) == (
        "OFD 文件的第 1 页内容（Doc_0/Pages/Page_0/Content.xml）含有 DTD 声明"
        "（OFD 不使用，可能是恶意构造的文件），已拒绝"
    )
    assert time.perf_counter() - started < 5
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容", "utf-8")
    external = (f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY s SYSTEM "file://{secret}">]>'
                f'<ofd:OFD xmlns:ofd="{NS}"><ofd:DocBody><ofd:DocInfo><ofd:Title>&s;</ofd:Title></ofd:DocInfo>'
                "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")  # fmt: skip
    assert "含有 DTD 声明" in damaged(tmp_path, {"OFD.xml": external})


def test_limits_on_what_a_package_expands_to(tmp_path: Path) -> None:
    path = write(tmp_path, ofd([report()]))
    assert error(path, Limits(max_pages=1)) == "OFD 文件页数过多（2 页，上限 1 页，可调 PILOTQA_MAX_PAGES）"
    assert error(path, Limits(max_chars=100)) == "OFD 文件的文字过多（超过 100 字，可调 PILOTQA_MAX_CHARS）"
    assert error(path, Limits(max_docx_expanded_mb=0.004)) == (  # its XML parts: 4.6 KB
        "OFD 文件解压后过大（超过 0.004 MB，可调 PILOTQA_MAX_DOCX_EXPANDED_MB）"
    )
    # a template page read once for the 300 pages that use it: read per page, it alone would unzip past 0.2 MB
    many = Doc("模板", "2021-01-01", [Page().line(f"第{n}页正文。") for n in range(300)], [(28, 280, 4, "页脚" * 100)])
    assert len(parsed(write(tmp_path, ofd([many]), "many.ofd"), Limits(max_docx_expanded_mb=0.2))[0].blocks) == 600
    repeated = dict(parts([report()]))  # DeltaX claiming a billion advances: read as its characters, at once
    page = repeated["Doc_0/Pages/Page_1/Content.xml"]
    repeated["Doc_0/Pages/Page_1/Content.xml"] = page.replace('DeltaX="g ', 'DeltaX="g 1000000000 5 g ', 1)
    started = time.perf_counter()
    assert any("海洋牧场贷" in b.text for d in parsed(write(tmp_path, package(dict(repeated)))) for b in d.blocks)
    assert time.perf_counter() - started < 5


def test_advances_repeated_in_many_groups_are_made_only_as_needed(tmp_path: Path) -> None:
    """A 1 KB package whose DeltaX holds 300 groups of "g 100000 1" (30 million advances for a line of ten
    characters): read with memory for the ten, not the thirty million (about 240 MB as a list of floats)."""
    files = dict(parts([report()]))
    page = files["Doc_0/Pages/Page_1/Content.xml"]
    files["Doc_0/Pages/Page_1/Content.xml"] = re.sub(r'DeltaX="[^"]*"', 'DeltaX="' + "g 100000 1 " * 300 + '"', page)
    path = write(tmp_path, package(dict(files)), "bomb.ofd")
    tracemalloc.start()
    try:
        docs = parsed(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"peak {peak / 1e6:.0f} MB"
    assert any("海洋牧场贷" in b.text for d in docs for b in d.blocks if b.page == 2)
    assert _deltas("g 100000 1 g 100000 2", 3) == [1.0, 1.0, 1.0]
    assert _deltas("2 g 2 3 4 5", 4) == [2.0, 3.0, 3.0, 4.0]  # single advances and groups, stopped when enough
    assert _deltas("g -5 1 7", 2) == [7.0]  # a negative count makes none


def test_a_line_of_one_object_per_character(tmp_path: Path) -> None:
    """Writers that convert from PDF often place every character as its own text object."""
    text = "试点项目共计12个，已全部上线运行。"
    page = Page().line("三、上线情况").line(text, splits=tuple(range(1, len(text))))
    (doc,) = parsed(write(tmp_path, ofd([Doc("上线情况", "2021-01-01", [page])])))
    assert [b.text for b in doc.blocks] == ["三、上线情况", text]
