"""`pilotqa serve` end to end: the real server on a loopback port, asked through the official `openai` client and
plain HTTP. Answers carry references whose quotes are the stored text at [start:end] (read from the catalogue
the server wrote); follow-ups, refusals, errors, the API key, the body limit, concurrency, upload (scans and photos
through OCR, questions answered while one is read) and delete, and what a page of another site may not do."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from assistant.serialize import CITATION_FIELDS
from ingest.loaders import TYPES
from kb.catalog import Catalog
from kb.settings import Settings
from models import llama_server
from models.gguf import gguf_path
from tests.conftest import CACHE, ROOT, Service, free_port, serve, service_env
from tests.ocr_fixture import photo, scanned_pdf

pytestmark = pytest.mark.slow
DATA = Path(__file__).parent / "data"
QUESTIONS = [json.loads(x) for x in (DATA / "corpus_questions.jsonl").read_text("utf-8").splitlines()]
GROUNDED = [q for q in QUESTIONS if q["grounded"]]
QINGHAI = "青海省上线了多少个金融科技试点项目？"
SMALL = "qwen2.5-coder-0.5b"  # the faster bundled model, as in tests/test_local_llm.py
KEY = "test-key-" + uuid.uuid4().hex


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=120)


def user(text: str) -> Any:  # a ChatCompletionMessageParam
    return {"role": "user", "content": text}


def check_references(refs: list[dict[str, Any]], home: Path, kb: str = "default") -> None:
    """Every reference's quote is the stored document's text at [start:end]."""
    catalog = Catalog(home / "kb" / kb / "catalog.sqlite")
    try:
        for r in refs:
            doc = catalog.document(r["doc_id"])
            assert doc is not None and doc.text[r["start"] : r["end"]] == r["quote"], r
            assert {"n", "title", "source", "section", "page", "date"} <= r.keys() and "/" not in r["source"]
    finally:
        catalog.close()


def http(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
         ) -> tuple[int, Any]:  # fmt: skip
    req = urllib.request.Request(url, body, headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post_json(url: str, obj: object) -> tuple[int, Any]:
    return http(url, "POST", json.dumps(obj).encode(), {"Content-Type": "application/json"})


@pytest.mark.parametrize("row", QUESTIONS, ids=lambda r: r["question"])
def test_the_reports_questions_through_the_openai_client(service: Service, row: dict[str, Any]) -> None:
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(row["question"])])
    message = done.choices[0].message
    extra = message.model_extra or {}
    assert message.role == "assistant" and done.choices[0].finish_reason == "stop"
    assert extra["grounded"] is row["grounded"]
    if row["grounded"]:
        assert all(part in message.content for part in row["expect"]), message.content  # type: ignore[operator]
        refs = extra["reference"]
        assert refs and "[1]" in message.content  # type: ignore[operator]
        check_references(refs, service.home)
        assert "\n\n来源：\n[1] 《" in message.content  # type: ignore[operator]  # for clients that drop extra fields
    else:  # a refusal: an ordinary completion that says so, with no references
        assert message.content.startswith("资料中没有找到关于“") and extra["reference"] == []  # type: ignore[union-attr]
        assert extra["related"]


@pytest.mark.parametrize("row", [GROUNDED[0], GROUNDED[3], next(q for q in QUESTIONS if not q["grounded"])],
                         ids=lambda r: r["question"])  # fmt: skip
def test_streaming_puts_the_references_on_the_last_chunk(service: Service, row: dict[str, Any]) -> None:
    chunks = list(client(service.url).chat.completions.create(model="pilotqa", messages=[user(row["question"])],
                                                              stream=True))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1].choices[0]
    extra = last.delta.model_extra or {}
    assert last.finish_reason == "stop" and all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert chunks[0].choices[0].delta.role == "assistant" and len({c.id for c in chunks}) == 1
    assert extra["grounded"] is row["grounded"]
    if row["grounded"]:
        assert all(part in text for part in row["expect"]) and extra["reference"]
        check_references(extra["reference"], service.home)
    else:
        assert extra["reference"] == [] and text.startswith("资料中没有找到")


def test_a_follow_up_reads_the_earlier_turns(service: Service) -> None:
    conv = json.loads((DATA / "conversations.json").read_text("utf-8"))[0]["turns"]
    first = client(service.url).chat.completions.create(model="pilotqa/default", messages=[user(conv[0]["question"])])
    messages = [user(conv[0]["question"]), {"role": "assistant", "content": first.choices[0].message.content},
                user(conv[1]["question"])]  # fmt: skip
    done = client(service.url).chat.completions.create(model="pilotqa-extractive/default", messages=messages,
                                                       extra_body={"sources_in_content": False})  # fmt: skip
    content = done.choices[0].message.content or ""
    assert all(p in content for p in conv[1]["expect"]) and "来源：" not in content
    check_references((done.choices[0].message.model_extra or {})["reference"], service.home)


def test_bad_requests_get_400_saying_what_to_send(service: Service) -> None:
    c = client(service.url)
    with pytest.raises(openai.BadRequestError, match="pilotqa-reader"):
        c.chat.completions.create(model="gpt-4o", messages=[user("问题")])
    with pytest.raises(openai.BadRequestError, match="知识库"):
        c.chat.completions.create(model="pilotqa/nosuch", messages=[user("问题")])
    with pytest.raises(openai.BadRequestError, match="messages"):
        c.chat.completions.create(model="pilotqa", messages=[])
    with pytest.raises(openai.BadRequestError, match="user"):
        c.chat.completions.create(model="pilotqa", messages=[user("问题"), {"role": "assistant", "content": "答"}])
    status, body = http(
        service.url + "/v1/chat/completions", "POST", b"{not json", {"Content-Type": "application/json"}
    )
    assert status == 400 and "JSON" in body["error"]["message"]
    status, body = http(service.url + "/no/such/route")
    assert status == 404 and body["error"]["message"]


def test_models_list_names_the_knowledge_bases(service: Service) -> None:
    ids = [m.id for m in client(service.url).models.list()]
    assert {"pilotqa", "pilotqa-reader", "pilotqa/default", "pilotqa-reader/default"} <= set(ids)


def test_twenty_concurrent_requests_are_all_answered_correctly(service: Service) -> None:
    rows = [GROUNDED[i % len(GROUNDED)] for i in range(20)]

    def ask(row: dict[str, Any]) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
        done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(row["question"])])
        return row, done.choices[0].message.content or "", (done.choices[0].message.model_extra or {})["reference"]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(ask, rows))
    for row, content, refs in results:
        assert all(p in content for p in row["expect"]), (row, content)
        check_references(refs, service.home)


def test_the_json_api_ask_and_facts(service: Service) -> None:
    status, body = post_json(service.url + "/api/ask", {"question": GROUNDED[0]["question"]})
    assert status == 200 and body["grounded"] and GROUNDED[0]["expect"][0] in body["answer"]
    assert {"question", "answer", "mode", "citations", "markers", "related", "ms", "notice"} <= body.keys()
    for m in body["markers"]:
        assert body["answer"][m["start"] : m["end"]] == f"[{m['n']}]"
    status, facts = http(service.url + "/api/facts?" + urllib.parse.urlencode({"metric": "受理终端"}))
    assert status == 200 and any(f["text"] == "4821台" for f in facts), facts
    check_references([{**f, "n": 0, "section": "", "page": None, "date": None} for f in facts], service.home)
    status, body = http(service.url + "/api/facts?since=2021-01-01&until=2020-01-01")
    assert status == 400 and "调换" in body["error"]["message"]


def test_api_ask_is_the_cli_json_object_with_file_names_for_sources(service: Service, tmp_path: Path) -> None:
    """POST /api/ask gives what `pilotqa ask --json` prints, except that a source is the file's name, as in every
    other answer of the service, not the server's path to it (the CLI's own output keeps the path)."""
    questions = [GROUNDED[1]["question"], next(q for q in QUESTIONS if not q["grounded"])["question"]]
    (tmp_path / "q.txt").write_text("\n".join(questions) + "\n", "utf-8")
    cmd = [sys.executable, "-m", "cli", "ask", "--questions", str(tmp_path / "q.txt"), "--json"]
    run = subprocess.run(cmd, env=service_env(service.spare), cwd=ROOT, capture_output=True, text=True, timeout=300)
    printed = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(printed) == 2 and printed[0]["citations"] and printed[1]["related"], run.stderr
    for question, cli in zip(questions, printed, strict=True):
        status, body = post_json(service.url + "/api/ask", {"question": question})
        assert status == 200
        cited = [*cli["citations"], *cli["related"]]
        assert all(Path(c["source"]).is_absolute() for c in cited)  # the CLI: the path of the file it read
        for c in cited:
            c["source"] = Path(c["source"]).name
        assert {**body, "ms": 0} == {**cli, "ms": 0}


def test_the_docs_page_loads_nothing_from_outside_the_server(service: Service) -> None:
    with urllib.request.urlopen(service.url + "/openapi.json", timeout=30) as resp:
        assert json.loads(resp.read())["openapi"].startswith("3.1")
    with urllib.request.urlopen(service.url + "/docs", timeout=30) as resp:
        html = resp.read().decode("utf-8")
    assert not re.search(r"https?:|//[a-z]", html, re.I), html  # no absolute or protocol-relative URL
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {".js", ".css"} <= {Path(u).suffix for u in linked}, linked
    for u in linked:
        with urllib.request.urlopen(service.url + u, timeout=30) as resp:
            assert resp.status == 200 and len(resp.read()) > 1000, u
    status, _ = http(service.url + "/redoc")  # ReDoc would load its logo from its vendor: not served
    assert status == 404
    with urllib.request.urlopen(service.url + "/openapi.json", timeout=30) as resp:
        described = json.loads(resp.read())
    upload_form = described["paths"]["/api/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    form = described["components"]["schemas"][upload_form["schema"]["$ref"].rsplit("/", 1)[1]]
    assert form["properties"]["files"]["description"] == TYPES  # every type the loaders read, from the one list


@pytest.mark.browser
def test_swagger_ui_renders_the_openapi_31_description_offline(service: Service) -> None:
    """In a real Chromium: /docs shows every route of the description (Swagger UI 5 reads OpenAPI 3.1) and
    requests nothing but this server."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, FLAGS, need_chromium

    need_chromium()
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.goto(service.url + "/docs")
        page.locator(".opblock-summary-path").first.wait_for(timeout=60_000)
        paths = {t.strip().replace("\u200b", "") for t in page.locator(".opblock-summary-path").all_inner_texts()}
        assert {"/v1/chat/completions", "/v1/models", "/api/ask", "/api/facts", "/api/documents"} <= paths, paths
        assert "OAS 3.1" in page.locator(".info").inner_text()
        page.locator(".opblock-summary-path").first.click()  # an operation opens with its parameters
        page.locator(".opblock-body").first.wait_for(timeout=10_000)
        browser.close()
    assert requested and [u for u in requested if not u.startswith(service.url + "/")] == []


def multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_upload_then_answer_then_delete(service: Service) -> None:
    report = ("青海省金融科技试点进展\n\n2021年3月1日\n\n"
              "截至2021年2月底，青海省共上线金融科技试点项目17个，覆盖西宁、海东两市。\n")  # fmt: skip
    body, kind = multipart({"qinghai-2021.txt": report.encode(), "broken.pdf": b"%PDF-1.4 not really"})
    status, result = http(service.url + "/api/documents", "POST", body, {"Content-Type": kind})
    assert status == 200 and result["ok"] and result["failed"] == 1, result
    by_file = {r["file"]: r for r in result["results"]}
    assert by_file["qinghai-2021.txt"]["status"] == "added" and by_file["broken.pdf"]["status"] == "failed"
    assert by_file["broken.pdf"]["message"]
    kept = service.home / "uploads" / "default"
    assert [p.name for p in kept.iterdir()] == ["qinghai-2021.txt"]  # a failed upload is not kept
    doc_id = by_file["qinghai-2021.txt"]["doc_id"]
    status, docs = http(service.url + "/api/documents")
    assert status == 200 and doc_id in {d["doc_id"] for d in docs}
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QINGHAI)])
    extra = done.choices[0].message.model_extra or {}
    assert "17个" in (done.choices[0].message.content or "") and extra["reference"][0]["doc_id"] == doc_id
    check_references(extra["reference"], service.home)
    status, gone = http(service.url + f"/api/documents/{doc_id}", "DELETE")
    assert status == 200 and gone["deleted"] == doc_id
    assert list(kept.iterdir()) == []  # nor is a deleted one's file
    status, again = http(service.url + f"/api/documents/{doc_id}", "DELETE")
    assert status == 404 and doc_id in again["error"]["message"]
    done = client(service.url).chat.completions.create(model="pilotqa", messages=[user(QINGHAI)])
    assert "17个" not in (done.choices[0].message.content or "")


def upload(url: str, files: dict[str, bytes], kb: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    body, kind = multipart(files)
    return http(f"{url}/api/documents?kb={kb}", "POST", body, {"Content-Type": kind, **(headers or {})})


def test_a_photographed_page_uploaded_is_recognised_and_cited_as_recognised_text(service: Service) -> None:
    """Uploads go through OCR (before, the service built its ingest without it and refused every image), and a
    quote from recognised text says so in /v1's reference (ocr, among the same fields as `pilotqa ask --json`),
    in the 来源 line (识别文字) and in /api/ask."""
    status, result = upload(service.url, {"白鹭湾通报照片.png": photo()}, "photos")
    assert status == 200 and result["results"][0]["status"] == "added", result
    question = "白鹭湾镇共布放移动支付受理终端多少台？"
    done = client(service.url).chat.completions.create(model="pilotqa/photos", messages=[user(question)])
    content, refs = done.choices[0].message.content or "", (done.choices[0].message.model_extra or {})["reference"]
    assert "1850台" in content and refs and refs[0]["ocr"] is True, content
    assert list(refs[0]) == list(CITATION_FIELDS) and refs[0]["source"] == "白鹭湾通报照片.png"
    assert "识别文字" in content.split("来源：")[1]
    check_references(refs, service.home, "photos")
    status, body = post_json(service.url + "/api/ask", {"question": question, "kb": "photos"})
    assert status == 200 and body["citations"][0]["ocr"] is True


def test_questions_are_answered_while_an_upload_is_being_recognised(service: Service) -> None:
    """Reading and recognising an upload's pages holds no lock: a question on the same knowledge base is answered
    while the scan is still being read (before, the upload held the write lock throughout and every question
    waited for it), and the scan is answerable once stored."""
    kb = "busy"
    report = "青海省金融科技试点进展\n\n截至2021年2月底，青海省共上线金融科技试点项目17个，覆盖西宁、海东两市。\n"
    assert upload(service.url, {"qinghai.txt": report.encode()}, kb)[0] == 200
    name = "青川市试点进展（扫描件）.pdf"
    kept = service.home / "uploads" / kb / name
    with ThreadPoolExecutor(1) as pool:
        uploading = pool.submit(upload, service.url, {name: scanned_pdf(repeat=4)}, kb)  # eight pages to recognise
        while not kept.exists() and not uploading.done():
            time.sleep(0.05)
        done = client(service.url).chat.completions.create(model=f"pilotqa/{kb}", messages=[user(QINGHAI)])
        assert not uploading.done(), "the question waited for the upload"
        assert "17个" in (done.choices[0].message.content or "")
        status, result = uploading.result()
    assert status == 200 and result["results"][0]["status"] == "added", result
    done = client(service.url).chat.completions.create(model=f"pilotqa/{kb}",
                                                       messages=[user("云岭e贷首期授信额度是多少？")])  # fmt: skip
    assert "2亿元" in (done.choices[0].message.content or "")


def test_bad_field_types_get_400_and_odd_file_names_a_result_each(service: Service) -> None:
    for bad in ({"kb": 5}, {"history": 5}, {"history": [1]}, {"mode": ["llm"]}):
        status, body = post_json(service.url + "/api/ask", {"question": QINGHAI, **bad})
        assert status == 400 and body["error"]["message"], bad
    long, odd = "很长的文件名" * 20 + ".txt", "a\x00b\x01c.txt"  # 363 bytes: over what a file system takes
    files = {long: "长名称的报告：试点项目9个。".encode(), odd: "另一份报告：试点项目8个。".encode()}
    status, result = upload(service.url, files, "names")
    assert status == 200 and [r["status"] for r in result["results"]] == ["added", "added"], result
    names = [r["file"] for r in result["results"]]
    assert names[0].endswith(".txt") and len(names[0].encode()) <= 255 and long.startswith(names[0][:-4])
    assert names[1] == "abc.txt"


def test_pages_of_other_sites_get_nothing_from_the_local_service(service: Service) -> None:
    """Bound to loopback without a key: a name that is not this machine's (DNS rebinding: evil.example re-pointed
    at 127.0.0.1) gets 421, a JSON route a body that is not JSON 415, and a change from another site's page (an
    HTML form or fetch posting multipart, which a browser sends without asking) 403, nothing written. Its own
    names, with or without a port, and its own pages still work."""
    port = urllib.parse.urlsplit(service.url).port
    for path in ("/v1/models", "/api/documents", "/openapi.json"):
        status, body = http(service.url + path, headers={"Host": f"evil.example:{port}"})
        assert status == 421 and "127.0.0.1" in body["error"]["message"]
    status, _ = http(service.url + "/mcp", "POST", b"{}", {"Host": "evil.example", "Content-Type": "application/json"})
    assert status == 421
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
        assert http(service.url + "/v1/models", headers={"Host": host})[0] == 200, host
    question = json.dumps({"question": QINGHAI}).encode()
    status, body = http(service.url + "/api/ask", "POST", question, {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in body["error"]["message"]
    status, body = upload(service.url, {"planted.txt": "试点项目共有99个。".encode()}, "planted",
                          {"Origin": "http://evil.example"})  # fmt: skip
    assert status == 403 and body["error"]["type"] == "permission_error"
    assert not (service.home / "uploads" / "planted").exists()
    assert http(service.url + "/api/documents/x", "DELETE", headers={"Origin": "null"})[0] == 403
    own = {"Content-Type": "application/json", "Origin": service.url}  # the /docs page trying a route
    assert http(service.url + "/api/ask", "POST", question, own)[0] == 200


@pytest.mark.browser
def test_in_a_browser_only_the_services_own_pages_may_upload(service: Service) -> None:
    """In a real Chromium: the /docs page posts JSON and uploads; a page of another origin (the same server under
    another name, as a rebound or foreign site would be) sends the same upload as a simple no-cors request, which
    a browser sends without asking the server, and nothing is written."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, FLAGS, need_chromium

    need_chromium()
    send = """async ([url, kb]) => { const form = new FormData();
        form.append('files', new Blob(['浏览器上传：试点项目共有12个。']), 'browser.txt');
        const r = await fetch(url + '/api/documents?kb=' + kb, {method: 'POST', body: form, mode: 'no-cors'});
        return r.status; }"""  # 0: an opaque answer
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        page.goto(service.url + "/docs")
        asked = page.evaluate(
            """async (q) => (await fetch('/api/ask', {method: 'POST',
            body: JSON.stringify({question: q}), headers: {'Content-Type': 'application/json'}})).status""",
            QINGHAI,
        )
        assert asked == 200
        assert page.evaluate(send, ["", "fromdocs"]) == 200
        page.goto(service.url.replace("127.0.0.1", "localhost") + "/docs")
        page.evaluate(send, [service.url, "foreign"])
        browser.close()
    assert (service.home / "uploads" / "fromdocs" / "browser.txt").exists()
    assert not (service.home / "uploads" / "foreign").exists()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, service: Service) -> Iterator[str]:
    """A second server over a copy of the first one's home, with an API key and a 1 KB body limit."""
    home = tmp_path_factory.mktemp("keyed") / "home"
    shutil.copytree(service.spare, home)
    port = free_port()
    env = service_env(home, PILOTQA_API_KEY=KEY, PILOTQA_MAX_REQUEST_MB="0.001")
    yield from serve([sys.executable, "-m", "cli", "serve", "--port", str(port)], port, "/health", env)


def test_a_wrong_or_missing_key_gets_401_and_the_right_one_an_answer(keyed: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(keyed, "wrong").chat.completions.create(model="pilotqa", messages=[user("问题")])
    assert caught.value.status_code == 401 and "PILOTQA_API_KEY" in caught.value.message
    status, body = http(keyed + "/api/documents")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, body = http(keyed + "/mcp", "POST", b"{}", {"Content-Type": "application/json"})
    assert status == 401
    done = client(keyed, KEY).chat.completions.create(model="pilotqa", messages=[user(GROUNDED[0]["question"])])
    assert GROUNDED[0]["expect"][0] in (done.choices[0].message.content or "")


def test_a_body_over_the_limit_is_refused_with_413(keyed: str) -> None:
    big = json.dumps({"question": "很长" * 2000}).encode()
    status, body = http(keyed + "/api/ask", "POST", big, {"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {KEY}"})  # fmt: skip
    assert status == 413 and "PILOTQA_MAX_REQUEST_MB" in body["error"]["message"]


def test_a_chunked_body_over_the_limit_gets_the_json_413_on_mcp_too(keyed: str) -> None:
    """A body without a declared length that grows past the limit while read: the JSON error everywhere (MCP's
    own app answered it in plain text before)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}, "pad": "'
        yield from (b"x" * 1000 for _ in range(4))
        yield b'"}'

    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}  # fmt: skip
    for path in ("/mcp", "/api/ask"):
        response = httpx.post(keyed + path, content=chunks(), headers=headers, timeout=60)
        assert response.status_code == 413 and "PILOTQA_MAX_REQUEST_MB" in response.json()["error"]["message"]


def test_another_host_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                         env=service_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode != 0 and "PILOTQA_API_KEY" in run.stderr
    assert re.search(r"127\.0\.0\.1", run.stderr)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory, service: Service) -> Iterator[Service]:
    """A server whose reader is the bundled 0.5B model on the real llama.cpp server, kept in a cache folder of this
    fixture's as tests/test_local_llm.py keeps its own (not the developer's server; the converted embedder and
    jieba's cache linked from the shared cache); one worker thread, its log (INFO) in ``home/../serve.log``."""
    root = tmp_path_factory.mktemp("reader")
    home, cache = root / "home", root / "cache"
    shutil.copytree(service.spare, home)
    cache.mkdir()
    for name in ("models", "onnx", "jieba.cache"):
        if (CACHE / name).exists():
            (cache / name).symlink_to(CACHE / name)
    model = str(gguf_path(CACHE, SMALL))
    # the 0.5B is no judge of its own answers: the check after reading is tested with the 1.5B (test_local_llm.py)
    env = service_env(home, PILOTQA_CACHE_DIR=str(cache), PILOTQA_READER_MODEL=model, PILOTQA_LLM_MAX_TOKENS="64",
                      PILOTQA_SERVE_WORKERS="1", PILOTQA_LOG_LEVEL="INFO",
                      PILOTQA_ANSWER__READER_MIN_YES="0")  # fmt: skip
    port = free_port()
    try:
        for url in serve([sys.executable, "-m", "cli", "serve", "--port", str(port)], port, "/health", env,
                         log=root / "serve.log"):  # fmt: skip
            yield Service(url, home, home)
    finally:
        llama_server.stop(Settings(home=home, cache_dir=cache, reader_model=model))


def test_reader_mode_over_http_on_the_real_local_model(reader: Service) -> None:
    asked = [user("刷脸付受理终端布放了多少台？")]
    chunks = list(client(reader.url).chat.completions.create(model="pilotqa-reader", messages=asked, stream=True))
    reading = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    extra = chunks[-1].choices[0].delta.model_extra or {}
    assert "正在阅读" in reading  # what the model reads is streamed while it reads
    assert extra["mode"] == "reader"  # the real model answered: a failed one falls back to extractive
    check_references([*extra["reference"], *extra["related"]], reader.home)
    assert extra["grounded"] and "4821台" in text and extra["reference"], text  # the span located in its quote
    done = client(reader.url).chat.completions.create(model="pilotqa-reader",
                                                      messages=[user("广东省试点项目数量是多少？")])  # fmt: skip
    refused = done.choices[0].message.model_extra or {}
    assert refused["mode"] == "reader" and refused["grounded"] is False and refused["reference"] == []


def test_a_client_that_leaves_mid_stream_frees_its_worker(reader: Service) -> None:
    """The client reads until the model is reading, then hangs up: the server abandons that answer (its log says
    so) and its one worker answers the next request."""
    log = reader.home.parent / "serve.log"
    body = {"model": "pilotqa-reader", "stream": True, "messages": [user("山东省一共有多少个试点项目？")]}
    with httpx.Client(timeout=120) as h, h.stream("POST", reader.url + "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if "正在阅读" in line:
                break  # and the connection closes
    deadline = time.monotonic() + 120
    while "client went away: answer abandoned" not in log.read_text("utf-8") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "client went away: answer abandoned" in log.read_text("utf-8")
    done = client(reader.url).chat.completions.create(model="pilotqa", messages=[user(GROUNDED[0]["question"])])
    assert all(p in (done.choices[0].message.content or "") for p in GROUNDED[0]["expect"])
