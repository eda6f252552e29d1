"""The service's parts that need no server: safe JSON reading, question limits, the lanes' bounds, recognising a
client's housekeeping prompt (Open WebUI's real prompts, tests/data/openwebui_task_prompts.json) and not a
question, passage-link signatures, whole-string knowledge-base names, and sweeping kept uploads at start."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ingest import uploads
from kb.errors import ConfigError, OverloadedError, RequestError, TooLongError
from kb.settings import Settings, check_kb_name
from ops import limits
from service import auth, body, housekeeping
from service.lanes import Lane

PROMPTS = json.loads((Path(__file__).parent / "data" / "openwebui_task_prompts.json").read_text("utf-8"))
QUESTIONS = [json.loads(x)["question"] for x in (Path(__file__).parent / "data" / "corpus_questions.jsonl")
             .read_text("utf-8").splitlines()]  # fmt: skip


def rendered(template: str, turns: list[tuple[str, str]]) -> str:
    """An Open WebUI task prompt as it sends it: ``{{MESSAGES:END:n}}`` replaced by ``ROLE: content`` lines."""
    history = "\n".join(f"{role.upper()}: {text}" for role, text in turns)
    start = template.index("{{MESSAGES:")
    return template[:start] + history + template[template.index("}}", start) + 2 :]


@pytest.mark.parametrize(
    "raw",
    [b'{"question": "\\ud800\xe5\x88\xb7"}', b'{"q": 1' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000,
     b"[" * 40 + b"]" * 40, b"\xff\xfe", b"{not json", b'{"\\udc00": 1}'],
    ids=["lone surrogate", "5000 digits", "100000 deep", "40 deep", "not utf-8", "not json", "surrogate key"],
)  # fmt: skip
def test_odd_bodies_are_request_errors(raw: bytes) -> None:
    with pytest.raises(RequestError):
        body.parse(raw)


def test_an_ordinary_body_and_a_paired_surrogate_pass() -> None:
    assert body.parse('{"q": "刷脸付 \\ud83d\\ude00", "n": [1, {"a": null}]}'.encode())["q"] == "刷脸付 😀"


def test_question_and_history_limits(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, max_question_chars=20, max_history_turns=2)
    assert limits.question(s, "问" * 20, ["一", "二", "三"]) == ("问" * 20, ("二", "三"))
    with pytest.raises(TooLongError, match="PILOTQA_MAX_QUESTION_CHARS"):
        limits.question(s, "问" * 21)
    with pytest.raises(TooLongError, match="对话历史"):
        limits.question(s, "问", ["长" * 21, "短"])
    assert limits.question(s, "问", ["长" * 21, "一", "二"])[1] == ("一", "二")  # an old turn past the limit is dropped


def test_a_full_lane_refuses_at_once_and_frees_its_places() -> None:
    lane = Lane("model", "模型阅读", workers=1, queue=1)
    gate = threading.Event()
    running = [lane.submit(gate.wait, 30), lane.submit(gate.wait, 30)]  # one runs, one waits
    with pytest.raises(OverloadedError) as refused:
        lane.submit(gate.wait, 30)
    assert refused.value.retry_after >= 1 and "重试" in str(refused.value)
    gate.set()
    assert all(f.result(timeout=10) for f in running)
    assert lane.held == 0 and lane.submit(lambda: 7).result(timeout=10) == 7
    lane.close()


@pytest.mark.parametrize("kind", ["title", "tags", "follow_ups"])
def test_open_webuis_task_prompts_are_recognised_with_the_users_questions(kind: str) -> None:
    turns = [("user", "山东省一共有多少个试点项目？"), ("assistant", "33个。[1]\n\n来源：\n[1] 《报告》"),
             ("user", "青岛市有几项试点项目？"), ("assistant", "9项。[1]")]  # fmt: skip
    found = housekeeping.task(rendered(PROMPTS[kind], turns))
    assert found is not None and found.key == kind and found.listed == (kind != "title")
    assert found.questions == ("山东省一共有多少个试点项目？", "青岛市有几项试点项目？")
    reply = json.loads(housekeeping.reply(found, ["青岛市有几项试点项目？", "济南市试点项目有多少个？"]))
    if kind == "title":
        assert reply == {"title": "青岛市有几项试点项目"}
    elif kind == "tags":
        assert reply["tags"][0] == "金融科技试点" and "青岛市" in reply["tags"] and "山东省" in reply["tags"]
    else:
        assert reply == {"follow_ups": ["济南市试点项目有多少个？"]}  # the one already asked is not offered


@pytest.mark.parametrize("question", [*QUESTIONS, "请用 JSON 格式列出青岛市的试点项目", "对话历史里提到的数字是多少？"])
def test_questions_are_not_taken_for_housekeeping(question: str) -> None:
    assert housekeeping.task(question) is None


def test_passage_links_are_signed_for_exactly_one_passage(tmp_path: Path) -> None:
    keyed = Settings(home=tmp_path, api_key="k" * 24)  # type: ignore[arg-type]
    sig = auth.passage_signature(keyed, "default", "doc", 10, 20)
    assert len(sig) == 32 and auth.passage_allowed(keyed, "default", "doc", 10, 20, sig, None)
    for other in (("default", "doc", 10, 21), ("default", "doc2", 10, 20), ("other", "doc", 10, 20)):
        assert not auth.passage_allowed(keyed, *other, sig, None)
    assert not auth.passage_allowed(keyed, "default", "doc", 10, 20, "", None)
    assert auth.passage_allowed(keyed, "default", "doc", 10, 21, "", "Bearer " + "k" * 24)  # the key opens any
    open_ = Settings(home=tmp_path)
    assert auth.passage_signature(open_, "default", "doc", 10, 20) == ""
    assert auth.passage_allowed(open_, "default", "doc", 10, 20, "", None)


def test_a_key_of_spaces_is_no_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PILOTQA_API_KEY"):
        auth.check_host("0.0.0.0", Settings(home=tmp_path, api_key="   "))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["abc\n", "abc\r", "\nabc", "ab c", "ABC", "a" * 49, "-abc", "abc\x00", "\ud800"])
def test_knowledge_base_names_are_checked_whole(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        check_kb_name(name)
    assert "\n" not in str(refused.value)
    with pytest.raises(ConfigError):
        uploads.folder(tmp_path, name)
    assert not (tmp_path / "uploads").exists()  # nothing made for a rejected name


def test_sweep_removes_kept_files_no_document_comes_from(tmp_path: Path) -> None:
    into = uploads.folder(tmp_path, "default")
    used, orphan = into / "used.txt", into / "orphan.txt"
    for p in (used, orphan, into / ".upload-x1.part"):
        p.write_text("x")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    removed = uploads.sweep(into, {str(used.resolve()), str(outside.resolve())})
    assert {p.name for p in removed} == {"orphan.txt", ".upload-x1.part"}
    assert sorted(p.name for p in into.iterdir()) == ["used.txt"] and outside.exists()
