"""Questions about a table's rows by position: the golden table of ordinals read from questions."""

from __future__ import annotations

import pytest

from assistant.rows import ordinal

ORDINALS = [
    ("在2016年江西的名单中，列为第三名的重点中学是哪所？", 3),
    ("第二所获奖学校是哪所？", 2),
    ("排在第12位的是哪个项目？", 12),
    ("首家上线的银行是哪家？", 1),
    ("浙江省的第一个学校叫什么?", 1),
    ("第二批试点有多少个项目？", None),  # 第二批 names a batch, not a row
    ("山东省有多少个试点项目？", None),
    ("《管理办法》第三条规定了什么？", None),  # an article, not a row
    ("第一项措施是什么？", None),
]


@pytest.mark.parametrize(("question", "expected"), ORDINALS, ids=[q for q, _ in ORDINALS])
def test_ordinal(question: str, expected: int | None) -> None:
    assert ordinal(question) == expected
