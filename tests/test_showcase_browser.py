"""The showcase as people read it (issue 22): headless Chromium (Debian's, driven by Playwright, as
tests/test_dashboard_browser.py launches it) opens the built site served over loopback as GitHub Pages
would serve it, follows index → grant → report, switches language, and runs axe-core (its own script,
bundled in axe-playwright-python: nothing is downloaded) on every page it visits: no serious or critical
violation. A screenshot of each page is kept in test-artifacts/.

Without /usr/bin/chromium the tests skip, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_fixtures import ARTIFACTS, need
from pipeline_world import frozen_world
from fund_config import app_environ
from showcase_world import HOSTILE_NAME, seed_showcase

from bot.cli import main

SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def axe():
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        need(False, "the axe-playwright-python package is missing (pip install -e '.[test]')")
    return Axe()


@pytest.fixture(scope="module")
def built(app_key, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("showcase") / "site"
    with frozen_world(app_key) as world:
        numbers = seed_showcase(world)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["showcase", "build", str(out)], app_environ(world, app_key)) == 0
    return out, numbers


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def served(built) -> Iterator[tuple[str, dict[str, int]]]:
    """The site over HTTP on 127.0.0.1, as GitHub Pages serves the folder; stopped after the module."""
    out, numbers = built
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", numbers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serious(axe, page) -> list[str]:
    results = axe.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_a_reader_follows_index_grant_report_and_switches_language(served, browser, axe):
    url, n = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    trouble: list[str] = []
    page.on("dialog", lambda d: trouble.append(f"a dialog opened: {d.message}"))  # a script in user text ran
    page.on("console", lambda m: trouble.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: None if r.url.startswith(url) else trouble.append(f"loaded from elsewhere: {r.url}"))
    ARTIFACTS.mkdir(exist_ok=True)
    checked: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("load")
        checked[page.url] = serious(axe, page)
        page.screenshot(path=str(ARTIFACTS / f"showcase-{name}.png"), full_page=True)

    page.goto(url)  # the root sends the browser to the fund's language
    page.wait_for_url(f"{url}en/index.html")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Funded projects"
    assert page.locator("table.totals tbody tr").count() == 1
    assert page.locator("main a[href^='grants/']").count() == 4  # declined, withdrawn, open, edited: never
    check("index")

    page.locator(f"a[href='grants/{n['hostile']}.html']").click()
    page.wait_for_url(f"{url}en/grants/{n['hostile']}.html")
    assert page.locator("h1").inner_text() == HOSTILE_NAME.replace("\u202e", "")  # shown as text
    assert page.locator("main script, main b").count() == 0
    assert "released on" in page.locator("main table").inner_text()
    check("grant")

    page.get_by_role("link", name="Report of").first.click()
    page.wait_for_url(f"{url}en/reports/{n['hostile']}-1.html")
    assert "Progress against milestones" in page.locator("main").inner_text()
    assert page.locator("main a[href='https://example.com/x']").count() == 0  # a link in a report is text
    check("report")

    page.locator("nav a[hreflang='zh-Hans']").click()
    page.wait_for_url(f"{url}zh/reports/{n['hostile']}-1.html")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "的进展报告" in page.locator("h1").inner_text()
    check("report-zh")

    page.locator("p.crumbs a").first.click()
    page.wait_for_url(f"{url}zh/index.html")
    assert page.locator("h1").inner_text() == "已资助项目"
    check("index-zh")

    assert trouble == []
    assert len(checked) == 5 and all(v == [] for v in checked.values()), checked
    page.close()


def test_it_reads_the_same_without_javascript(served, browser):
    url, n = served
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{url}en/index.html")
    text = page.inner_text("main")
    assert "Funded projects" in text and "Fresh Grant" in text and "Totals by round" in text
    page.goto(f"{url}en/grants/{n['fresh']}.html")
    assert "pending" in page.inner_text("main")
    context.close()


def test_the_accessibility_check_finds_a_serious_violation_offline(browser, axe):
    # It can fail: a page with an image without words and a button without a name has serious violations.
    page = browser.new_page()
    page.set_content('<!doctype html><html><body><main><img src="data:,"><button></button></main></body></html>')
    found = serious(axe, page)
    assert any(v.startswith("image-alt") for v in found) and any(v.startswith("button-name") for v in found)
    page.close()
