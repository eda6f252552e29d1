"""What a user sees at start-up, measured in a real headless Chromium: ``python -m bench.browser``.

Owns: starting ``streamlit run app.py`` on a free loopback port over an existing data directory, opening the
page at once, and timing (from the server's start) the first painted title, the chat input, and the answer
to a question typed as soon as the input appears. Does not own: the app (``app.py``) or its tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
QUESTION, EXPECT = "刷脸付受理终端布放了多少台？", "4821台"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(env: dict[str, str]) -> dict[str, float]:
    """Seconds from ``streamlit run`` to: page title shown, chat input shown, early question answered."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    exe = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    started = time.perf_counter()
    proc = subprocess.Popen([exe, "run", str(ROOT / "app.py"), "--server.port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    out: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _open(page, f"http://127.0.0.1:{port}", started + 120)
            page.get_by_text("试点问答").first.wait_for(timeout=120_000)
            out["title_s"] = time.perf_counter() - started
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=120_000)
            out["chat_input_s"] = time.perf_counter() - started
            box.fill(QUESTION)
            box.press("Enter")
            page.get_by_test_id("stChatMessage").filter(has_text=EXPECT).last.wait_for(timeout=180_000)
            out["early_question_answered_s"] = time.perf_counter() - started
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def _open(page: Any, url: str, deadline: float) -> None:
    """Load the page as soon as the server accepts connections."""
    while True:
        try:
            page.goto(url, timeout=5_000)
            return
        except Exception:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.1)


def main() -> int:
    home = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".pilotqa"
    env = {**os.environ, "PILOTQA_HOME": str(home)}
    print(json.dumps(measure(env), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
