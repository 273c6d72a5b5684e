"""What the browser tests share: Debian's headless Chromium through Playwright (never a downloaded
browser), and the app of ``app.create_app`` served by uvicorn on loopback in a thread."""
from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.samples import free_port

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"  # git-ignored, for a person to look at


def need_browser() -> None:
    if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
        pytest.skip("needs playwright and Debian's chromium at /usr/bin/chromium (scripts/install.sh installs both)")


@contextmanager
def serving(settings) -> Iterator[str]:
    """The whole app (API + UI) on a free loopback port; yields its base URL once /health answers."""
    import httpx
    import uvicorn

    from app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()
