"""The bundled language model on its real llama.cpp server (xllamacpp) on 127.0.0.1.

Uses the 0.5B model (the faster of the two bundled ones; `make test` prepares it): the joined file's checks, the
server's life cycle (start, reuse, restart after a crash, stop), and answers through the same OpenAI-compatible
LangChain path as an external endpoint. No fakes: the failure cases kill the real server.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from assistant import cite, reader
from assistant.core import Assistant, Resources
from assistant.llm import LLM, build_chat_model
from ingest.pipeline import Ingestor
from kb.errors import PilotQAError
from kb.records import Answer, Citation, Mode, Progress
from kb.segment import Segmenter
from kb.settings import AnswerKnobs, Settings
from kb.store import KnowledgeBase
from models import llama_server
from models.embed import Embedder
from models.gguf import BUNDLED, Bundled, gguf_path, join
from tests.conftest import CACHE, CORPUS

pytestmark = pytest.mark.slow
SMALL = "qwen2.5-coder-0.5b"


def test_join_checks_size_and_sha256_and_leaves_nothing_when_wrong(tmp_path: Path) -> None:
    parts = []
    for i, data in enumerate((b"GGUF" + b"a" * 1000, b"b" * 500)):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(data)
    whole = b"".join(p.read_bytes() for p in parts)
    good = Bundled("unused", 2, len(whole), hashlib.sha256(whole).hexdigest())
    join(parts, tmp_path / "out" / "m.gguf", good)
    assert (tmp_path / "out" / "m.gguf").read_bytes() == whole
    bad = Bundled("unused", 2, len(whole), "0" * 64)
    with pytest.raises(PilotQAError, match="校验失败"):
        join(parts, tmp_path / "out" / "bad.gguf", bad)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.gguf"]  # no half-written file


def test_the_bundled_model_is_joined_to_its_pinned_size(tmp_path: Path) -> None:
    path = gguf_path(CACHE, SMALL)
    assert path.stat().st_size == BUNDLED[SMALL].size
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    with pytest.raises(PilotQAError, match="PILOTQA_READER_MODEL"):
        gguf_path(CACHE, str(tmp_path / "missing.gguf"))


@pytest.fixture(scope="module")
def llm_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose server state lives in a folder of this module's (not the developer's own server)."""
    home = tmp_path_factory.mktemp("llm-home")
    model = str(gguf_path(CACHE, SMALL))
    settings = Settings(home=home / "home", cache_dir=home / "cache", reader_model=model, llm_max_tokens=64)
    yield settings
    llama_server.stop(settings)


def test_server_starts_is_shared_restarts_after_a_crash_and_stops(llm_settings: Settings) -> None:
    url = llama_server.ensure(llm_settings)
    assert url.startswith("http://127.0.0.1:") and llama_server.healthy(url.removesuffix("/v1"))
    assert llama_server.ensure(llm_settings) == url  # a second caller reuses the running server
    running = llama_server.current(llm_settings)
    assert running is not None
    os.kill(running.pid, signal.SIGKILL)
    restarted = llama_server.ensure(llm_settings)  # a dead server is replaced, not waited for
    assert llama_server.healthy(restarted.removesuffix("/v1"))
    assert llama_server.stop(llm_settings) and llama_server.current(llm_settings) is None
    assert not llama_server.stop(llm_settings)


def test_generation_is_bounded(llm_settings: Settings) -> None:
    assert build_chat_model(llm_settings).max_tokens == 64  # type: ignore[attr-defined]
    url = llama_server.ensure(llm_settings)
    body = {"model": llama_server.ALIAS, "max_tokens": 8, "messages": [{"role": "user", "content": "从1数到100。"}]}
    request = urllib.request.Request(url + "/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=120) as reply:
        usage = json.load(reply)["usage"]
    assert usage["completion_tokens"] <= 8


@pytest.fixture(scope="module")
def assistant(llm_settings: Settings, segmenter: Segmenter, embedder: Embedder) -> Assistant:
    kb = KnowledgeBase.open(llm_settings, "default", segmenter, embedder.name)
    Ingestor(kb, embedder, 300, 50).run([CORPUS])
    return Assistant(llm_settings, Resources(llm_settings, segmenter, embedder, kb))


def check_quotes(citations: Iterable[Citation], assistant: Assistant) -> None:
    for c in citations:
        doc = assistant.res.kb.document(c.doc_id)
        assert doc is not None and doc.text[c.start : c.end] == c.quote


def check(answer: Answer, assistant: Assistant) -> None:
    check_quotes((*answer.citations, *answer.related), assistant)


def test_llm_mode_on_the_real_local_server_refuses_what_no_document_says(assistant: Assistant) -> None:
    """No document counts 海南's projects: whatever the real model writes, only a refusal with the nearest passages
    may come back (a sentence it wrote without a quote that holds it is removed, and nothing is left)."""
    answer = assistant.ask("海南省有几个金融科技试点项目？", mode="llm")
    assert answer.mode is Mode.LLM and "语言模型接口" not in answer.notice  # the real server answered
    assert answer.trace.model == f"{Path(assistant.settings.reader_model).name}（本机）"  # the model took part
    check(answer, assistant)
    assert not answer.grounded and not answer.citations, answer.text
    assert answer.text.startswith("资料中没有找到") and answer.related


def test_server_killed_mid_answer_gives_the_extractive_answer_with_a_notice(
    assistant: Assistant, llm_settings: Settings
) -> None:
    llama_server.ensure(llm_settings)
    items = assistant.stream("6家银行累计线上发行电子社保卡多少张？", mode="llm")
    said = next(items)  # before the model is asked: what it reads, with each sentence's citation
    assert isinstance(said, Progress) and said.evidence and "正在阅读" in said.message
    check_quotes(said.evidence, assistant)
    writing = next(items)  # the real server has started streaming: said, its text held back until checked
    assert isinstance(writing, Progress) and "正在写答案" in writing.message
    running = llama_server.current(llm_settings)
    assert running is not None
    os.kill(running.pid, signal.SIGKILL)
    final = [i for i in items if isinstance(i, Answer)][-1]
    assert final.mode is Mode.EXTRACTIVE and "53.87万张" in final.text
    assert final.notice.endswith("以下为离线抽取的答案。")
    answer = assistant.ask("6家银行累计线上发行电子社保卡多少张？", mode="llm")  # the next question restarts it
    assert answer.mode is Mode.LLM and "语言模型接口" not in answer.notice


def test_cli_llm_status_and_stop(llm_settings: Settings) -> None:
    import subprocess
    import sys

    env = {**os.environ, "PILOTQA_HOME": str(llm_settings.home), "PILOTQA_CACHE_DIR": str(llm_settings.cache_dir),
           "PILOTQA_READER_MODEL": llm_settings.reader_model}  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", "llm", *args], env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    llama_server.ensure(llm_settings)
    shown = cli("status")
    assert shown.returncode == 0 and "运行中：http://127.0.0.1:" in shown.stdout
    assert "已停止" in cli("stop").stdout
    after = cli("status")
    assert after.returncode == 1 and "未运行" in after.stdout


def test_reader_mode_on_the_real_server_answers_only_what_it_can_locate(
    assistant: Assistant, llm_settings: Settings
) -> None:
    """The 0.5B is no judge of its own answers (it rates 4821台 for 多少台 at 0.29: the check after reading is
    tested with the bundled 1.5B below), so here it reads without that check: what it finds is located in its
    sentence and answered, and what no document says is refused all the same."""
    unjudged = llm_settings.model_copy(update={"answer": llm_settings.answer.model_copy(update={"reader_min_yes": 0})})
    reading = Assistant(unjudged, assistant.res)
    for question, figure in (("刷脸付受理终端布放了多少台？", "4821台"), ("山东省一共有多少个试点项目？", "33")):
        answer = reading.ask(question, mode="reader")
        assert answer.mode is Mode.READER and "语言模型" not in answer.notice  # the real server answered
        assert answer.trace.model == f"{Path(unjudged.reader_model).name}（本机）"  # named with the answer
        check(answer, reading)
        assert answer.grounded and figure in answer.text, answer.text
        lead = answer.text.split("。", 1)[0]  # the lead is a span of the quoted sentence, every number in a quote
        assert lead in answer.citations[0].quote or answer.text.startswith(answer.citations[0].quote)
        assert cite.number_problems(answer.text, answer.citations) == []
    refused = reading.ask("广东省试点项目数量是多少？", mode="reader")  # whatever the model says, 广东 is not there
    assert refused.mode is Mode.READER and not refused.grounded and not refused.citations, refused.text
    assert refused.text.startswith("资料中没有找到") and refused.trace.refusal and refused.related


def test_the_default_model_judges_whether_its_sentence_answers(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The check after reading, with the bundled 1.5B the product uses by default (its own server, in a cache of
    this test's): a sentence that answers is rated far above the threshold, a count offered for a price below."""
    home = tmp_path_factory.mktemp("judge")
    model = str(gguf_path(CACHE, "qwen2.5-coder-1.5b"))
    settings = Settings(home=home / "home", cache_dir=home / "cache", reader_model=model)
    sentence = "句子：截至2020年9月3日共计布放“刷脸付”受理终端4821台,实现人脸绑卡29.98万张。"
    try:
        llm = LLM(build_chat_model(settings))
        yes = llm.judge(reader.VERIFY, f"{sentence}\n问题：刷脸付受理终端布放了多少台？\n答案：4821台")
        no = llm.judge(reader.VERIFY, f"{sentence}\n问题：一台刷脸付终端的采购价格是多少钱？\n答案：4821台")
    finally:
        llama_server.stop(settings)
    assert yes > 0.9 and no < AnswerKnobs().reader_min_yes, (yes, no)
