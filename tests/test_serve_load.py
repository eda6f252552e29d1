"""Model reading beside instant answers, on the real server and the bundled 0.5B model on its real llama.cpp
server (issue #27): extractive answers stay instant while the model lane is full, a full lane is a 429 with
Retry-After, a client that hangs up cancels its model request, and where a model writes it follows
``max_tokens`` and the usage is the model's own count."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from kb.settings import Settings
from models import llama_server
from models.gguf import gguf_path
from tests.conftest import CACHE, Service, free_port, serve, service_env
from tests.test_serve import GROUNDED, SMALL, client, user

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory, service: Service) -> Iterator[Service]:
    """A server whose model lane holds one reading and one waiting (the bundled 0.5B model, its server in a cache
    folder of this fixture's), its log (INFO) in ``home/../serve.log``."""
    root = tmp_path_factory.mktemp("busy")
    home, cache = root / "home", root / "cache"
    shutil.copytree(service.spare, home)
    cache.mkdir()
    for name in ("models", "onnx", "jieba.cache"):
        if (CACHE / name).exists():
            (cache / name).symlink_to(CACHE / name)
    model = str(gguf_path(CACHE, SMALL))
    env = service_env(home, PILOTQA_CACHE_DIR=str(cache), PILOTQA_READER_MODEL=model, PILOTQA_LLM_MAX_TOKENS="48",
                      PILOTQA_SERVE_MODEL_WORKERS="1", PILOTQA_SERVE_MODEL_QUEUE="1",
                      PILOTQA_LOG_LEVEL="INFO")  # fmt: skip
    port = free_port()
    try:
        for url in serve([sys.executable, "-m", "cli", "serve", "--port", str(port)], port, "/health", env,
                         log=root / "serve.log"):  # fmt: skip
            yield Service(url, home, home)
    finally:
        llama_server.stop(Settings(home=home, cache_dir=cache, reader_model=model))


def reading(url: str, results: list[Any]) -> None:
    body = {"model": "pilotqa-reader", "messages": [user("山东省一共有多少个试点项目？")]}
    response = httpx.post(url + "/v1/chat/completions", json=body, timeout=600)
    results.append(response)


def test_extractive_answers_stay_instant_while_the_model_lane_is_full(busy: Service) -> None:
    client(busy.url).chat.completions.create(model="pilotqa-reader", messages=[user(GROUNDED[1]["question"])])
    results: list[Any] = []
    threads = [threading.Thread(target=reading, args=(busy.url, results)) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.5)  # the first reads, the second waits
    third = httpx.post(busy.url + "/v1/chat/completions", timeout=60,
                       json={"model": "pilotqa-llm", "messages": [user("青岛市有几项试点项目？")]})  # fmt: skip
    assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1, third.text
    assert "pilotqa-extractive" in third.json()["error"]["message"]
    took = []
    for row in GROUNDED[:8]:
        started = time.perf_counter()
        done = client(busy.url).chat.completions.create(model="pilotqa", messages=[user(row["question"])])
        took.append(time.perf_counter() - started)
        assert all(p in (done.choices[0].message.content or "") for p in row["expect"])
    assert not results, "the model requests were already done: the lane was not full while asking"
    assert max(took) < 1.0, took
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    assert all(r.json()["choices"][0]["message"]["mode"] == "reader" for r in results)


def test_a_client_that_hangs_up_cancels_its_model_request(busy: Service) -> None:
    log = busy.home.parent / "serve.log"
    body = {"model": "pilotqa-llm", "messages": [user("齐鲁银行分散密钥线上身份认证服务项目有多少签约用户？")]}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(busy.url + "/v1/chat/completions", json=body, timeout=1.5)
    deadline = time.monotonic() + 120
    while "client went away while its answer was worked out" not in log.read_text("utf-8"):
        assert time.monotonic() < deadline, "the server never noticed the client leave"
        time.sleep(0.3)
    done = client(busy.url).chat.completions.create(model="pilotqa-reader", messages=[user(GROUNDED[0]["question"])])
    assert (done.choices[0].message.model_extra or {})["mode"] == "reader"  # the lane was freed


def test_where_a_model_writes_max_tokens_bounds_it_and_usage_is_the_models_count(busy: Service) -> None:
    asked = [user(GROUNDED[0]["question"])]
    short = client(busy.url).chat.completions.create(model="pilotqa-llm", messages=asked, max_tokens=4)
    assert short.usage is not None and 1 <= short.usage.completion_tokens <= 4, short.usage
    assert short.usage.prompt_tokens > 100  # the model's prompt: the passages it read, not the question's words
    free = client(busy.url).chat.completions.create(model="pilotqa-llm", messages=asked)
    assert free.usage is not None and free.usage.completion_tokens > short.usage.completion_tokens
    with pytest.raises(openai.BadRequestError, match="stop"):
        client(busy.url).chat.completions.create(model="pilotqa-llm", messages=asked, stop=["a"] * 5)
