"""``make compat`` (``python -m bench.compat``): `pilotqa serve` through clients nobody on this project wrote.

Installs Open WebUI, langchain-openai and the openai client each into its own environment under ``.compat/``
(once; pinned versions below), starts a real service over a temporary home with corpus/ ingested, asks the same
question through each client, and checks in headless Chromium (Debian's, driven by Playwright) that Open WebUI
shows the answer and its source chips. Writes docs/CLIENTS.md with what each client received, and screenshots
under docs/clients/. Not part of ``make test``: it downloads the clients (Open WebUI is large) and takes minutes.
Open WebUI runs offline (OFFLINE_MODE, no sign-in, no Ollama, embeddings via the API) on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".compat"
DOCS = ROOT / "docs"
SHOTS = DOCS / "clients"
CHROMIUM = Path("/usr/bin/chromium")
QUESTION = "刷脸付受理终端布放了多少台？"
EXPECT = "4821台"
CLIENTS = {"openwebui": ["open-webui==0.12.4"], "langchain": ["langchain-openai==1.8.1"], "openai": ["openai==3.63.0"]}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
OPENAI_SCRIPT = """
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="compat", max_retries=0, timeout=120)
done = c.chat.completions.create(model="pilotqa", messages=[{"role": "user", "content": sys.argv[2]}])
m = done.choices[0].message
chunks = list(c.chat.completions.create(model="pilotqa", messages=[{"role": "user", "content": sys.argv[2]}],
                                        stream=True, stream_options={"include_usage": True}))
print(json.dumps({"version": openai.__version__, "content": m.content,
    "annotations": [a.model_dump() for a in m.annotations or []], "usage": done.usage.model_dump(),
    "stream_annotations": len((chunks[-2].choices[0].delta.model_extra or {}).get("annotations", [])),
    "stream_usage": chunks[-1].usage.model_dump() if chunks[-1].usage else None}, ensure_ascii=False))
"""
LANGCHAIN_SCRIPT = """
import json, sys
from importlib.metadata import version
from langchain_openai import ChatOpenAI
chat = ChatOpenAI(base_url=sys.argv[1] + "/v1", api_key="compat", model="pilotqa", use_responses_api=True)
invoked = chat.invoke(sys.argv[2])
streamed = None
for piece in chat.stream(sys.argv[2]):
    streamed = piece if streamed is None else streamed + piece
plain = ChatOpenAI(base_url=sys.argv[1] + "/v1", api_key="compat", model="pilotqa").invoke(sys.argv[2])
print(json.dumps({"version": version("langchain-openai"), "text": invoked.content[0]["text"],
    "invoke_annotations": invoked.content[0].get("annotations", []),
    "stream_annotations": len(streamed.content[0].get("annotations", [])),
    "chat_completions_kwargs": sorted(plain.additional_kwargs)}, ensure_ascii=False))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: the server exited ({proc.returncode})") from None
            time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def venv(name: str) -> Path:
    """``.compat/<name>``'s python, the environment made and the client installed when missing."""
    python = ENVS / name / "bin" / "python"
    stamp = ENVS / name / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ENVS / name)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *CLIENTS[name]], check=True)
        stamp.write_text(" ".join(CLIENTS[name]))
    return python


def ask_through(name: str, script: str, url: str) -> dict[str, Any]:
    run = subprocess.run([str(venv(name)), "-c", script, url, QUESTION], capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"}
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def open_webui(url: str, tmp: Path) -> dict[str, Any]:
    """Open WebUI against the service, and what headless Chromium shows after asking through it."""
    python, port = venv("openwebui"), _free_port()
    env = {**os.environ, "DATA_DIR": str(tmp / "openwebui"), "OFFLINE_MODE": "true", "WEBUI_AUTH": "False",
           "ENABLE_OLLAMA_API": "False", "OPENAI_API_BASE_URL": url + "/v1", "OPENAI_API_KEY": "compat",
           "RAG_EMBEDDING_ENGINE": "openai", "DEFAULT_MODELS": "pilotqa", "HF_HUB_OFFLINE": "1",
           "ENABLE_VERSION_UPDATE_CHECK": "False", "ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "True",
           "ENABLE_CODE_INTERPRETER": "False", "WEBUI_SECRET_KEY": "compat-secret"}  # fmt: skip
    env.pop("PYTHONPATH", None)
    log = (tmp / "openwebui.log").open("w")
    exe = python.parent / "open-webui"
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp)  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/health", proc, 420)
        return _browse(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def _browse(webui: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        try:
            page.goto(webui, wait_until="domcontentloaded", timeout=180_000)  # its socket never lets the network idle
            box = page.locator("#chat-input")
            box.wait_for(timeout=180_000)
            page.keyboard.press("Escape")  # a "what's new" dialog, when it shows
            box.click()
            page.keyboard.type(QUESTION)
            page.keyboard.press("Enter")
            page.get_by_text(EXPECT).first.wait_for(timeout=180_000)
            page.wait_for_timeout(5000)  # the stream's end, the source chips, the title
            page.screenshot(path=str(SHOTS / "openwebui-answer.png"), full_page=True)
            found["answer_shown"] = page.get_by_text(EXPECT).count() > 0
            chips = page.locator("button", has_text="央行刘振海")
            found["source_chips"] = chips.count()
            if chips.count():
                chips.last.click()
                page.wait_for_timeout(1500)
                page.screenshot(path=str(SHOTS / "openwebui-source.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ENVS / "openwebui-failure.png"), full_page=True)  # what it showed, to look at
            raise
        finally:
            browser.close()
    return found


def serve(tmp: Path) -> tuple[str, subprocess.Popen[bytes]]:
    env = {**os.environ, "PILOTQA_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("PILOTQA_API_KEY", None)
    subprocess.run([sys.executable, "-m", "cli", "ingest", str(ROOT / "corpus"), "--quiet"], env=env, cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    _wait(f"http://127.0.0.1:{port}/health", proc, 180)
    return f"http://127.0.0.1:{port}", proc


def report(results: dict[str, dict[str, Any]]) -> str:
    def block(obj: dict[str, Any]) -> str:
        return "```json\n" + json.dumps(obj, ensure_ascii=False, indent=1)[:3000] + "\n```"

    webui = results["openwebui"]
    shots = "".join(f"\n![{n}](clients/{n}.png)\n" for n in ("openwebui-answer", "openwebui-source")
                    if (SHOTS / f"{n}.png").exists())  # fmt: skip
    text = f"""\
# Clients of `pilotqa serve` (`make compat`)

Run {dt.datetime.now().isoformat(timespec="seconds")} on this machine: each client in its own environment
under `.compat/` ({", ".join(" ".join(v) for v in CLIENTS.values())}), against a real service over the
shipped corpus, asking 「{QUESTION}」 (expected: {EXPECT}).

## Open WebUI (headless Chromium)

Started offline (`OFFLINE_MODE=true WEBUI_AUTH=False ENABLE_OLLAMA_API=False RAG_EMBEDDING_ENGINE=openai
OPENAI_API_BASE_URL=<service>/v1 DEFAULT_MODELS=pilotqa`); the question typed into its chat box.

- answer shown: {webui.get("answer_shown")}
- source chips (buttons naming the cited report): {webui.get("source_chips")}
- error: {webui.get("error", "none")}
{shots}
## openai (official client)

{block(results["openai"])}

## langchain-openai (`ChatOpenAI(use_responses_api=True)`)

Citations in `message.content[0]["annotations"]` (invoke) and in the summed stream chunks; a plain
chat-completions `ChatOpenAI` keeps only these `additional_kwargs`: see `chat_completions_kwargs`.

{block(results["langchain"])}
"""
    return text


def main() -> int:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        url, proc = serve(tmp)
        try:
            results["openai"] = ask_through("openai", OPENAI_SCRIPT, url)
            results["langchain"] = ask_through("langchain", LANGCHAIN_SCRIPT, url)
            try:
                results["openwebui"] = open_webui(url, tmp)
            except Exception as exc:  # a failed check is reported; Open WebUI's log kept in .compat/
                logged = tmp / "openwebui.log"
                if logged.exists():
                    shutil.copy(logged, ENVS / "openwebui-last.log")
                results["openwebui"] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    (DOCS / "CLIENTS.md").write_text(report(results), "utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=1)[:4000])
    webui = results["openwebui"]
    ok = webui.get("answer_shown") and webui.get("source_chips") and "error" not in results["openai"]
    return 0 if ok and "error" not in results["langchain"] else 1


if __name__ == "__main__":
    sys.exit(main())
