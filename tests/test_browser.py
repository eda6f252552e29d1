"""End to end in a real headless Chromium (Debian's, driven by Playwright): ask, expand a source, export;
a document title that tries to load an image stays text; two sessions at once each get their own answer.

`make test` installs chromium and fonts-noto-cjk when missing and running as root; without them the test is
skipped with the reason, except under CI where it must run.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ingest.pipeline import Ingestor
from kb.markdown import JOINER
from kb.segment import Segmenter
from kb.store import KnowledgeBase
from models.embed import Embedder
from tests.conftest import CACHE, CORPUS, ROOT, free_port, make_settings, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
SERVER_LOG = ARTIFACTS / "streamlit-server.log"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian chromium is not installed (make test installs it when run as root)"
    if os.environ.get("CI"):
        pytest.fail(reason + " — CI must run the browser test")
    print(f"SKIP browser test: {reason}")
    pytest.skip(reason)


class Trap(http.server.BaseHTTPRequestHandler):
    """A loopback web server that records every request: a rendered document title would call it."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Trap.seen.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def trap() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Trap)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield int(httpd.server_address[1])
    httpd.shutdown()


def hostile_title(port: int) -> str:
    return f"![](http://127.0.0.1:{port}/pixel.png)[点我](http://127.0.0.1:{port}/link)蓝海报告"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter, embedder: Embedder,
           trap: int) -> Iterator[str]:  # fmt: skip
    need_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("browser-home")
    hostile = home / "hostile.jsonl"
    record = {"doc_id": "hostile", "title": hostile_title(trap), "text": "蓝海银行试点的智能柜员机共布放了616台。"}
    hostile.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    kb = KnowledgeBase.open(make_settings(home), "default", segmenter, embedder.name)
    Ingestor(kb, embedder, 300, 50).run([CORPUS, hostile])
    port = free_port()
    env = {**os.environ, "PILOTQA_HOME": str(home), "PILOTQA_CACHE_DIR": str(CACHE)}
    exe = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    cmd = [exe, "run", str(ROOT / "app.py"), "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    yield from serve(cmd, port, "/_stcore/health", env, log=SERVER_LOG)


def test_ask_expand_source_and_export(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(server)  # the first session of this server: the model is still loading when the question goes in
        ask(page, "刷脸付受理终端布放了多少台？")
        answer = page.get_by_test_id("stChatMessage").filter(has_text="4821台").last
        answer.wait_for(timeout=180_000)
        marker = answer.locator("a[title]").filter(has_text="[1]").first  # hovering [1] shows its quote
        assert "受理终端4821台" in (marker.get_attribute("title") or "")
        marker.click()  # and clicking it goes to this answer's 来源
        page.wait_for_function("() => location.hash === '#sources-0'", timeout=10_000)
        page.get_by_text("[1] 央行刘振海").first.click()
        details = page.get_by_test_id("stExpanderDetails").filter(has_text="受理终端4821台").first
        details.wait_for(timeout=30_000)
        marked = details.locator("span").filter(has_text="共计布放“刷脸付”受理终端4821台").first
        background = marked.evaluate("e => getComputedStyle(e).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent")
        page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
        button = page.get_by_role("button", name="下载 Markdown")  # 简报导出 opens by itself once there is an answer
        button.wait_for(state="visible", timeout=30_000)
        saved = tmp_path / "briefing.md"
        download = download_by_click(page, button)
        assert download.suggested_filename == f"简报-{dt.date.today().isoformat()}.md"
        download.save_as(saved)
        text = saved.read_text("utf-8")
        assert "4821台" in text and "## 资料来源" in text
        browser.close()


def ask(page: Any, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=180_000)
    box.fill(question)
    box.press("Enter")


def test_everything_on_screen_is_chinese_and_fits_a_phone(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(server)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=180_000)
        # the placeholder is one line: the empty input is no taller than one line of its text
        one_line = box.evaluate(
            "e => { const s = getComputedStyle(e); const pad = parseFloat(s.paddingTop) + parseFloat(s.paddingBottom);"
            " return e.scrollHeight <= parseFloat(s.lineHeight) * 1.5 + pad; }"
        )
        page.screenshot(path=str(ARTIFACTS / "phone.png"))
        assert one_line
        page.set_viewport_size({"width": 1400, "height": 1000})
        uploader = page.get_by_test_id("stFileUploaderDropzone")
        uploader.wait_for(timeout=60_000)
        shown = uploader.evaluate(
            "e => [...e.querySelectorAll('*')].map(x => getComputedStyle(x, '::after').content).join(' ')"
        )
        assert "选择文件" in shown and "单个不超过 50 MB" in shown
        english = uploader.get_by_text("Upload", exact=True)
        assert english.count() == 0 or not english.first.is_visible()
        assert not page.get_by_text("per file").first.is_visible()
        page.get_by_text("文档", exact=True).first.click()  # the 文档 page: file names, not server paths
        page.get_by_test_id("stDataFrame").wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "documents.png"))
        assert "/corpus/" not in page.get_by_test_id("stMain").inner_text()
        browser.close()


def test_facts_page_lists_filters_and_opens_a_source(server: str, tmp_path: Path) -> None:
    import openpyxl
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        page.get_by_text("事实", exact=True).first.click()
        page.get_by_test_id("stDataFrame").wait_for(timeout=180_000)
        metric = page.get_by_label("指标")
        metric.fill("受理终端")
        metric.press("Enter")
        page.get_by_text("共 1 条事实").wait_for(timeout=60_000)
        page.get_by_test_id("stSelectbox").filter(has_text="查看出处").locator("input").click()
        page.get_by_role("option").filter(has_text="4821台").first.click()
        marked = page.get_by_test_id("stMain").locator("span").filter(has_text="4821台").last
        marked.wait_for(timeout=30_000)
        assert marked.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
        assert "/corpus/" not in page.get_by_test_id("stMain").inner_text()  # the file's name, not a server path
        page.screenshot(path=str(ARTIFACTS / "facts.png"), full_page=True)
        download = download_by_click(page, page.get_by_role("button", name="下载 Excel"))
        assert download.suggested_filename == f"事实-{dt.date.today().isoformat()}.xlsx"
        saved = tmp_path / "facts.xlsx"
        download.save_as(saved)
        book = openpyxl.load_workbook(saved)
        (row,) = [[c.value for c in r] for r in book["事实"].iter_rows(min_row=3)]
        assert row[4] == "4821台" and row[9] == "[1]"
        assert "4821台" in book["资料来源"]["E3"].value
        browser.close()


def test_a_document_title_is_shown_as_text_and_fetches_nothing(server: str, trap: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server)
        ask(page, "蓝海银行的智能柜员机布放了多少台？")
        page.get_by_test_id("stChatMessage").filter(has_text="616台").last.wait_for(timeout=180_000)
        label = page.get_by_test_id("stExpander").filter(has_text="蓝海报告").first
        label.wait_for(timeout=30_000)
        label.get_by_text("蓝海报告").click()
        page.get_by_test_id("stExpanderDetails").filter(has_text="616台").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "hostile-title.png"), full_page=True)
        # literally, brackets and address included (an invisible word joiner keeps GFM from linking the address)
        assert hostile_title(trap) in label.inner_text().replace(JOINER, "")
        links = page.locator(f"img[src*='{trap}'], a[href*='{trap}']")
        assert links.count() == 0, [
            links.nth(i).evaluate("e => e.parentElement.outerHTML") for i in range(links.count())
        ]
        browser.close()
    assert Trap.seen == []


def test_two_sessions_at_once_and_an_upload_beside_an_answer(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    note = tmp_path / "并发上传.txt"
    note.write_text("烟台试点银行新上线扫码终端321台。\n", "utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        one = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        two = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        for page in (one, two):
            page.goto(server)
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)
        ask(one, "刷脸付受理终端布放了多少台？")
        ask(two, "6家银行累计线上发行电子社保卡多少张？")
        mine = one.get_by_test_id("stChatMessage").filter(has_text="4821台").last
        theirs = two.get_by_test_id("stChatMessage").filter(has_text="53.87万张").last
        mine.wait_for(timeout=180_000)
        theirs.wait_for(timeout=180_000)
        assert "53.87万张" not in mine.inner_text() and "4821台" not in theirs.inner_text()
        one.get_by_text("[1] 央行刘振海").first.click()
        source = one.get_by_test_id("stExpanderDetails").filter(has_text="受理终端4821台").first
        source.wait_for(timeout=30_000)
        # session two imports a file while session one's next answer is on its way
        two.locator("input[type=file]").set_input_files(str(note))
        ask(one, "省工行线上挂失补办了多少张电子社保卡？")
        two.get_by_role("button", name="导入上传的文档").click()
        two.get_by_text("新增：并发上传.txt").wait_for(timeout=180_000)
        one.get_by_test_id("stChatMessage").filter(has_text="358张").last.wait_for(timeout=180_000)
        one.screenshot(path=str(ARTIFACTS / "session-one.png"), full_page=True)
        two.screenshot(path=str(ARTIFACTS / "session-two.png"), full_page=True)
        assert not one.get_by_test_id("stException").count() and not two.get_by_test_id("stException").count()
        browser.close()


def test_the_server_log_has_no_warnings(server: str) -> None:
    """Runs last in this module, after every page above: deprecations and errors would be in the log."""
    log = SERVER_LOG.read_text("utf-8")
    signs = ("deprecat", "will be removed", "please replace", "warning", "error", "traceback")
    bad = [line for line in log.splitlines() if any(w in line.lower() for w in signs)]
    assert not bad, bad


def download_by_click(page: Any, button: Any, tries: int = 3) -> Any:
    """Click a deferred download button until the browser gets the file.

    The file is built on the server when clicked (Streamlit's deferred download): the browser
    asks for it over the websocket and then downloads it. In one CI run out of several the first
    request got no file within a minute; a user would click again, and so does this helper. The
    test still fails when no click of ``tries`` yields the file.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, tries):
        try:
            with page.expect_download(timeout=20_000) as download:
                button.click()
            return download.value
        except PlaywrightTimeout:
            print(f"download: no file after click {attempt}, clicking again")
    with page.expect_download(timeout=20_000) as download:  # the last click: its timeout fails the test
        button.click()
    return download.value
