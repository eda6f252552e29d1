"""`pilotqa serve` as clients nobody on this project wrote use it (issue #27), on the real server: the official
`openai` client (citations as `url_citation` annotations whose links open an escaped passage page, real token
usage, the usage chunk, options refused with 400), LangChain's ChatOpenAI (the citations reachable through the
Responses API), Open WebUI's real housekeeping prompts (answered at once without a model), the document routes,
signed links on a keyed server, and hostile requests: each a 4xx, nothing created, no server path shown."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from tests.conftest import ROOT, Service, free_port, serve, service_env
from tests.test_serve import GROUNDED, check_references, client, http, post_json, upload, user
from tests.test_service_parts import PROMPTS, rendered

pytestmark = pytest.mark.slow
QUESTION = GROUNDED[0]["question"]  # 刷脸付受理终端布放了多少台？ → 4821台
KEY = "clients-key-0123456789abcdef"
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]


def page(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), {k.lower(): v for k, v in exc.headers.items()}


def check_annotations(notes: list[Any], content: str, refs: list[dict[str, Any]], service: Service) -> None:
    """Each annotation is a url_citation whose marker stands in the content, whose quote is the reference's, and
    whose link opens the passage page with that quote highlighted."""
    assert notes and len(notes) == len(refs)
    for note, ref in zip(notes, refs, strict=True):
        cite = note["url_citation"]
        assert note["type"] == "url_citation" and cite["quote"] == ref["quote"] and ref["title"] in cite["title"]
        assert content[cite["start_index"] : cite["end_index"]] == f"[{ref['n']}]"
        status, html, headers = page(cite["url"])
        assert status == 200 and headers["content-type"].startswith("text/html"), html
        assert f"<mark>{ref['quote']}</mark>" in html and "default-src 'none'" in headers["content-security-policy"]


def test_openai_client_gets_annotations_usage_and_the_usage_chunk(service: Service) -> None:
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)])
    message = done.choices[0].message
    refs = (message.model_extra or {})["reference"]
    check_references(refs, service.home)  # message.reference is kept as it was
    check_annotations([a.model_dump() for a in message.annotations or []], message.content or "", refs, service)
    assert done.usage and done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 10
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    chunks = list(client(service.url).chat.completions.create(
        model="pilotqa", messages=[user(QUESTION)], stream=True, stream_options={"include_usage": True}))  # fmt: skip
    assert chunks[-1].choices == [] and chunks[-1].usage == done.usage
    last = chunks[-2].choices[0]
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert last.finish_reason == "stop" and text == message.content
    check_annotations((last.delta.model_extra or {})["annotations"], text, refs, service)
    plain = list(client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)], stream=True))
    assert all(c.usage is None for c in plain)  # no usage chunk unless asked


@pytest.mark.parametrize(
    ("extra", "said"),
    [({"n": 2}, "n 只能为 1"), ({"tools": TOOLS, "tool_choice": "required"}, "工具"),
     ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "f"}}}, "工具"),
     ({"response_format": {"type": "json_object"}}, "response_format"), ({"stop": 5}, "stop"),
     ({"max_tokens": 0}, "max_tokens")],
    ids=["n=2", "tool_choice required", "tool_choice named", "response_format", "stop", "max_tokens"],
)  # fmt: skip
def test_options_the_service_cannot_honour_get_400_saying_so(service: Service, extra: dict[str, Any],
                                                             said: str) -> None:  # fmt: skip
    with pytest.raises(openai.BadRequestError, match=said):
        client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)], extra_body=extra)


def test_tools_merely_offered_are_not_called_and_the_question_is_answered(service: Service) -> None:
    """Open WebUI offers its built-in tools with every question (tool_choice auto): the answer comes, no call."""
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)],
                                                       extra_body={"tools": TOOLS, "tool_choice": "auto"})  # fmt: skip
    assert "4821台" in (done.choices[0].message.content or "") and not done.choices[0].message.tool_calls


def test_langchain_chat_openai_reaches_the_citations(service: Service) -> None:
    """ChatOpenAI drops a chat completion's annotations (its message keeps only the standard fields); on the
    Responses API (use_responses_api=True) each citation is an annotation of the text block, invoke and stream."""
    plain = ChatOpenAI(base_url=service.url + "/v1", api_key="unused", model="pilotqa", max_retries=0)  # type: ignore[arg-type]
    assert "4821台" in str(plain.invoke(QUESTION).content)
    chat = ChatOpenAI(base_url=service.url + "/v1", api_key="unused", model="pilotqa", max_retries=0,  # type: ignore[arg-type]
                      use_responses_api=True)  # fmt: skip
    invoked = chat.invoke(QUESTION)
    streamed = None
    for piece in chat.stream(QUESTION):
        streamed = piece if streamed is None else streamed + piece
    assert streamed is not None
    for message in (invoked, streamed):
        block = message.content[0]
        assert isinstance(block, dict) and "4821台" in block["text"]
        notes = block["annotations"]
        assert notes and all(n["type"] == "url_citation" and n["url"].startswith(service.url) for n in notes)
        assert "4821台" in notes[0]["quote"] and page(notes[0]["url"])[0] == 200
        assert message.usage_metadata and message.usage_metadata["output_tokens"] > 0


@pytest.mark.parametrize("kind", ["title", "tags", "follow_ups"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_open_webuis_housekeeping_prompts_are_answered_at_once(service: Service, kind: str, stream: bool) -> None:
    """Open WebUI's real title, tag and follow-up prompts (sent to the chat's model) come back as the JSON they ask
    for, under 100 ms, never reaching a model: a title from the question, follow-ups from the starter questions."""
    first = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)])
    prompt = rendered(PROMPTS[kind], [("user", QUESTION), ("assistant", first.choices[0].message.content or "")])
    took = []
    for _ in range(3):
        started = time.perf_counter()
        if stream:
            chunks = list(client(service.url).chat.completions.create(model="pilotqa-reader", messages=[user(prompt)],
                                                                      stream=True))  # fmt: skip
            text = "".join(c.choices[0].delta.content or "" for c in chunks)
        else:
            done = client(service.url).chat.completions.create(model="pilotqa-reader", messages=[user(prompt)])
            text = done.choices[0].message.content or ""
            assert (done.choices[0].message.model_extra or {})["mode"] == "housekeeping"
        took.append(time.perf_counter() - started)
    assert min(took) < 0.1, took
    reply = json.loads(text)
    if kind == "title":
        assert reply == {"title": "刷脸付受理终端布放了多少台"}
    elif kind == "tags":
        assert reply["tags"][0] == "金融科技试点"
    else:
        assert 1 <= len(reply["follow_ups"]) <= 3 and QUESTION not in reply["follow_ups"]
        for q in reply["follow_ups"]:  # each is a question the knowledge base answers
            assert (client(service.url).chat.completions.create(model="pilotqa", messages=[user(q)])
                    .choices[0].message.model_extra or {})["grounded"]  # fmt: skip


def test_a_document_and_its_passages_by_plain_http(service: Service) -> None:
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QUESTION)])
    doc_id = (done.choices[0].message.model_extra or {})["reference"][0]["doc_id"]
    status, listed = http(service.url + "/api/documents")
    assert status == 200 and doc_id in {d["doc_id"] for d in listed}
    status, doc = http(service.url + "/api/documents/" + urllib.parse.quote(doc_id))
    assert status == 200 and doc["doc_id"] == doc_id and "4821台" in doc["text"] and doc["sections"]
    assert {"title", "date", "source", "chunks", "ingested_at"} <= doc.keys() and "/" not in doc["source"]
    at = doc["text"].index("4821台")
    status, passage = http(service.url + f"/api/documents/{doc_id}/passage?start={at}&end={at + 5}")
    assert status == 200 and passage["text"] == "4821台"
    assert http(service.url + "/api/documents/nosuch")[0] == 404
    assert http(service.url + f"/api/documents/{doc_id}/passage?start=5&end=2")[0] == 400


def test_the_passage_page_escapes_what_a_document_holds(service: Service) -> None:
    report = "<b>试点报告</b>\n\n截至2021年3月，<script>alert('x')</script>某市共上线试点项目12个&nbsp;。\n"
    assert upload(service.url, {"markup.txt": report.encode()}, "markup")[0] == 200
    done = client(service.url).chat.completions.create(model="pilotqa/markup",
                                                       messages=[user("某市共上线试点项目多少个？")])  # fmt: skip
    notes = done.choices[0].message.annotations or []
    assert notes, done.choices[0].message.content
    status, html, _ = page(notes[0].url_citation.url)
    assert status == 200 and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script" not in html and "&amp;nbsp;" in html


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [("POST", "/api/ask", b'{"question": "\\ud800\xe5\x88\xb7\xe8\x84\xb8\xe4\xbb\x98"}'),
     ("POST", "/api/ask", b'{"question": "q", "mode": ' + b"9" * 5000 + b"}"),
     ("POST", "/api/ask", b"[" * 100_000 + b"]" * 100_000),
     ("POST", "/v1/chat/completions", b'{"model": "pilotqa", "messages": [{"role": "user", "content": "\\udfff"}]}'),
     ("POST", "/v1/chat/completions", b'{"model": "pilotqa", "n": ' + b"7" * 5000 + b", \"messages\": []}"),
     ("POST", "/api/ask", json.dumps({"question": "刷脸付", "kb": "abc\n"}).encode()),
     ("POST", "/v1/chat/completions", json.dumps({"model": "pilotqa/abc\n", "messages": [user("问")]}).encode()),
     ("GET", "/api/documents?kb=abc%0A", b""), ("GET", "/api/facts?kb=abc%0A", b""),
     ("DELETE", "/api/documents/x?kb=abc%0A", b""), ("GET", "/api/facts?limit=" + "9" * 5000, b""),
     ("GET", "/passages/abc%0A/x?start=0&end=5", b"")],
    ids=["surrogate", "5000-digit mode", "100000 deep", "chat surrogate", "chat 5000-digit n", "kb newline",
         "model kb newline", "documents kb newline", "facts kb newline", "delete kb newline", "facts huge limit",
         "page kb newline"],
)  # fmt: skip
def test_hostile_requests_each_get_a_4xx(service: Service, method: str, path: str, raw: bytes) -> None:
    headers = {"Content-Type": "application/json"} if raw else {}
    response = httpx.request(method, service.url + path, content=raw or None, headers=headers, timeout=60)
    assert 400 <= response.status_code < 500, response.text
    message = response.json()["error"]["message"]
    assert message and str(service.home) not in message and "/tmp" not in message
    assert not [p for p in (service.home / "kb").iterdir() if p.name.startswith("abc")]
    assert not (service.home / "uploads" / "abc\n").exists()


def test_an_upload_to_a_bad_name_creates_nothing(service: Service) -> None:
    status, body = upload(service.url, {"a.txt": "试点项目共有5个。".encode()}, urllib.parse.quote("abc\n"))
    assert status == 400 and "知识库名称" in body["error"]["message"]
    root = service.home / "uploads"
    assert not root.exists() or not [p for p in root.iterdir() if p.name.startswith("abc")]
    assert "abc" not in json.dumps([m.id for m in client(service.url).models.list()])


def test_long_questions_and_histories_get_413_in_chinese(service: Service) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client(service.url).chat.completions.create(model="pilotqa", messages=[user("很长" * 1001)])
    assert caught.value.status_code == 413 and "PILOTQA_MAX_QUESTION_CHARS" in caught.value.message
    long_turn = [user("长" * 2001), {"role": "assistant", "content": "答"}, user(QUESTION)]
    with pytest.raises(openai.APIStatusError) as caught:
        client(service.url).chat.completions.create(model="pilotqa", messages=long_turn)
    assert caught.value.status_code == 413 and "对话历史" in caught.value.message
    status, body = post_json(service.url + "/api/ask", {"question": "长" * 2001})
    assert status == 413 and "问题太长" in body["error"]["message"]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, service: Service) -> Iterator[Service]:
    """A server with an API key over a copy of the first one's home, with what an upload killed midway leaves in
    its uploads folder (a kept file no document comes from, a half-written temporary file)."""
    home = tmp_path_factory.mktemp("clients-keyed") / "home"
    shutil.copytree(service.spare, home)
    kept = home / "uploads" / "default"
    kept.mkdir(parents=True, exist_ok=True)
    (kept / "killed-mid-upload.txt").write_text("试点项目共有7个。", "utf-8")
    (kept / ".upload-abc.part").write_bytes(b"half")
    port = free_port()
    env = service_env(home, PILOTQA_API_KEY=KEY)
    for url in serve([sys.executable, "-m", "cli", "serve", "--port", str(port)], port, "/health", env):
        yield Service(url, home, home)


def test_signed_links_open_one_passage_without_the_key(keyed: Service) -> None:
    done = client(keyed.url, KEY).chat.completions.create(model="pilotqa", messages=[user(QUESTION)])
    url = (done.choices[0].message.annotations or [])[0].url_citation.url
    assert "sig=" in url and page(url)[0] == 200
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    moved = parts._replace(query=urllib.parse.urlencode({**query, "end": int(query["end"]) + 1})).geturl()
    assert page(moved)[0] == 403 and page(moved, {"Authorization": f"Bearer {KEY}"})[0] == 200
    unsigned = parts._replace(query=urllib.parse.urlencode({"start": query["start"], "end": query["end"]})).geturl()
    assert page(unsigned)[0] == 403
    assert http(keyed.url + "/api/documents")[0] == 401  # the link opens the page, nothing else


def test_kept_uploads_with_no_document_are_removed_at_start(keyed: Service) -> None:
    left = sorted(p.name for p in (keyed.home / "uploads" / "default").iterdir())
    assert "killed-mid-upload.txt" not in left and ".upload-abc.part" not in left


def test_a_blank_key_is_refused_off_loopback(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                         env=service_env(tmp_path, PILOTQA_API_KEY="   "), cwd=ROOT, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert run.returncode != 0 and "PILOTQA_API_KEY" in run.stderr
