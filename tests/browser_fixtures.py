"""The browser the tests read pages with: Debian's Chromium, driven by Playwright with no browser
download, one per test module. Without /usr/bin/chromium the tests skip, except in CI (CI=true), where
they fail: `.ci/run` installs Chromium, so CI can never skip them silently. Screenshots go to
test-artifacts/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["ARTIFACTS", "browser", "need", "playwright"]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Chromium on a machine with no network but loopback: no background connections, no sandbox as root.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright():
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()
