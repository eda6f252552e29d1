"""Several-part questions: the golden table of how a question is split, and how the parts' answers are joined."""

from __future__ import annotations

import pytest

from assistant import parts
from assistant.extract import Draft

SPLITS = [
    ("济南市和青岛市分别有多少个试点项目？", ["济南市有多少个试点项目？", "青岛市有多少个试点项目？"]),
    ("山东、江苏与浙江各有几个试点项目？", ["山东有几个试点项目？", "江苏有几个试点项目？", "浙江有几个试点项目？"]),
    ("2021年末和2022年末数字人民币受理商户分别有多少家？",
     ["2021年末数字人民币受理商户有多少家？", "2022年末数字人民币受理商户有多少家？"]),
    ("刷脸付受理终端和电子医保凭证激活量分别是多少？", ["刷脸付受理终端是多少？", "电子医保凭证激活量是多少？"]),
    ("甲项目和乙服务的牵头机构分别是哪家？", ["甲项目的牵头机构是哪家？", "乙服务的牵头机构是哪家？"]),
    # one subject, or words joined that are not subjects: one question
    ("青岛市有几个试点项目？", []),
    ("山东省金融科技试点的原则和目标是什么？", []),
    ("济南分行与青岛市政府签署了什么协议？", []),
    ("北京和上海之间的高铁有多少公里？", []),
    ("山东省和青岛市一共有多少个试点项目？", []),
    ("济南市和青岛市的试点有什么特点？", []),
    ("物理学和天文学在理论研究和工程实践中各自起什么作用？", []),
    ("济南市和青岛市共有多少个试点项目？", []),  # a total
    ("济南市和青岛市各区有多少个试点项目？", ["济南市各区有多少个试点项目？", "青岛市各区有多少个试点项目？"]),
    ("济南市的项目和青岛市的项目分别有多少个？", ["济南市的项目有多少个？", "青岛市的项目有多少个？"]),
]  # fmt: skip


@pytest.mark.parametrize(("question", "expected"), SPLITS, ids=[q for q, _ in SPLITS])
def test_split(question: str, expected: list[str]) -> None:
    assert [p.question for p in parts.split(question)] == expected


def test_join_says_which_part_is_missing() -> None:
    split = parts.split("青岛市和广东省分别有多少个试点项目？")
    joined = parts.join(split, [Draft("12个", (), True), Draft("", (), False, "no evidence")])
    assert joined is not None and joined.lead == "青岛市：12个；广东省：资料中没有找到"
    assert parts.join(split, [Draft("", (), False), Draft("", (), False)]) is None


def test_a_missing_date_part_keeps_its_label_past_the_number_check() -> None:
    """2019年末：资料中没有找到 repeats the question's year; it is no figure the quotes must hold."""
    text = "2019年末：资料中没有找到；5120台（2020年末）。刷脸付受理终端（台） | 5120 | 9120"
    assert parts.checked_text(text) == "；5120台（2020年末）。刷脸付受理终端（台） | 5120 | 9120"
