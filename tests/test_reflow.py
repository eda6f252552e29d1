"""Golden table for ingest.reflow: a broken date is joined, everything else stays as it was printed."""

import pytest

from ingest.reflow import join_broken
from kb.records import Block

CASES = [
    # a date broken into runs, one a line (as in a PDF's text layer)
    (["（一）网上报名：即日起至", "2022", "年", "12", "月", "20", "日", "11 : 00"],
     ["（一）网上报名：即日起至2022年12月20日", "11 : 00"]),
    (["（三）初复试：", "2023", "年", "1", "月", "具体测试时间以准考证为准。"],
     ["（三）初复试：2023年1月", "具体测试时间以准考证为准。"]),
    (["学院公布", "2023", "年奖学金获得者名单"], ["学院公布2023年奖学金获得者名单"]),
    # a line that starts with a closing mark continues the line before it
    (["获奖学生须按时提交材料", "。"], ["获奖学生须按时提交材料。"]),
    (["不良率为15.6", "%", "，同比下降。"], ["不良率为15.6%，同比下降。"]),
    # a column of figures stays a column; a number is not a date unless a unit stands by it
    (["序号", "1", "2", "3"], ["序号", "1", "2", "3"]),
    (["终端数量", "9120", "台"], ["终端数量", "9120", "台"]),
    # a sentence's end is a paragraph break; a complete date does not take the next year
    (["试点工作已完成。", "2022", "年起推广。"], ["试点工作已完成。", "2022年起推广。"]),
    (["2015年1月", "2015", "年艺术类专业"], ["2015年1月", "2015年艺术类专业"]),
    # a number that cannot stand before the unit: 日语 is a word, 2013-12-11 a whole date
    (["695693", "日语"], ["695693", "日语"]),
    (["日期：2013-12-11", "年1月11日"], ["日期：2013-12-11", "年1月11日"]),
    (["共计", "40", "月"], ["共计", "40", "月"]),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "expected"), CASES)
def test_join_broken(lines: list[str], expected: list[str]) -> None:
    assert [b.text for b in join_broken([Block(t) for t in lines])] == expected


def test_rows_headings_and_pages_are_never_joined() -> None:
    blocks = [Block("签约时间", page=1), Block("2022", kind="row", cells=("2022",), page=1), Block("年", page=1),
              Block("截至", page=1), Block("。", page=2)]  # fmt: skip
    assert join_broken(blocks) == blocks


def test_a_stated_date_keeps_its_line() -> None:
    lines = ["日期：2016-03-04", "，其余项目按原计划推进。"]
    assert [b.text for b in join_broken([Block(t) for t in lines])] == lines
