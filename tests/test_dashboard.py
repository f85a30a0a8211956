"""`GET /dashboard` through the Flask test client: what the page says (it needs no JavaScript),
the token, its cost in GitHub requests, and how it fails."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pipeline_world import HOSTILE_NAME

from bot.config.settings import Settings, SettingsError
from bot.demo.world import FUND_REPO, World
from bot.views.dashboard import authorised
from bot.web.app import create_app, shutdown

TOKEN = "dash-7f3a9c2e5b"


@contextmanager
def app_with(world: World, **settings) -> Iterator:
    """The service wired to the world's sandbox, with other settings (a token, no repository ...)."""
    app = create_app({"SETTINGS": dataclasses.replace(world.settings, **settings), "RULES": world.rules,
                      "GITHUB": world.github, "CLOCK": world.sandbox.now})
    try:
        yield app.test_client()
    finally:
        shutdown(app, 5)


@pytest.fixture
def page(seeded_pair):
    """The seeded world's page, as the Flask test client gets it."""
    world, _ = seeded_pair
    return world.client.get("/dashboard")


def column_counts(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in
            re.findall(r'<h3 id="col-([a-z-]+)">[^<]*<span class="count">(\d+)</span>', html)}


def card_links(html: str) -> dict[int, str]:
    return {int(n): href for href, n in re.findall(r'<h4><a href="([^"]+)">#(\d+) ', html)}


def test_the_page_shows_the_pipeline_by_stage_with_links_to_the_issues(seeded_pair, page):
    world, seeded = seeded_pair
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert column_counts(html) == {"screening": 2, "technical": 3, "community": 1, "funding": 1, "decision": 1,
                                   "funded": 2, "declined": 1, "withdrawn": 1}
    links = card_links(html)
    assert links == {n: world.sandbox.issue(FUND_REPO, n)["html_url"] for n in seeded.numbers.values()}
    overdue = re.search(r'<li class="card overdue">\s*<h4><a href="[^"]+">#(\d+) ', html)
    assert overdue and int(overdue.group(1)) == seeded["funded_overdue"]
    assert html.count('<tr class="overdue">') == 1 and '<span class="flag">Overdue</span>' in html
    assert "110 days <span class=\"flag\">over the 21-day limit</span>" in html  # the stalled one
    assert "2 for, 1 against" in html  # the community's votes; the applicant's own is not counted
    assert "technical 4.5 (2) · impact 3.0 (1)" in html
    assert "for information from the applicant" in html
    # Median of 10 (funded on day 10), 30 (declined on day 30) and 0 (funded the day it was filed).
    assert re.search(r"Median days from filing to decision</dt>\s*<dd>10</dd>", html)
    assert "$55,000.50" in html  # granted in all


def test_user_text_is_escaped_and_the_page_runs_no_script_and_loads_nothing(page):
    response = page
    html = response.get_data(as_text=True)
    assert HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert "<script" not in html and not re.search(r"<[^>]*\son[a-z]+=", html)  # no script, no handlers
    assert not re.search(r'\b(?:src|href)="(?!https://github\.com/|#)', html)  # no CDN, no font, no script
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy  # so no script may run at all
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy  # the inline CSS, and only it, is allowed
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(response.data) < 200_000


def test_the_sweep_section_says_when_it_ran_and_links_the_log(seeded_pair, page):
    _, seeded = seeded_pair
    html = page.get_data(as_text=True)
    found = re.search(r'Last logged run: <time datetime="([^"]+)">', html)
    assert found and found.group(1)[:10] == seeded.now.date().isoformat()
    assert re.search(r'<a href="https://github\.com/open-source-fund/applications/issues/(\d+)">The sweep log', html)
    # The sweep goes through open applications: the eight under review and the two funded.
    assert "10 applications and 0 report issues swept" in html


def test_before_any_sweep_the_page_says_so(world):
    html = world.client.get("/dashboard").get_data(as_text=True)
    assert "No sweep has been logged yet" in html and "No grants yet." in html
    assert column_counts(html)["screening"] == 0


def test_the_page_is_in_the_funds_language(seeded_pair):
    world, seeded = seeded_pair
    chinese = dataclasses.replace(world.rules, language="zh")
    app = create_app({"SETTINGS": world.settings, "RULES": chinese, "GITHUB": world.github, "CLOCK": world.sandbox.now})
    try:
        html = app.test_client().get("/dashboard").get_data(as_text=True)
    finally:
        shutdown(app, 5)
    assert '<html lang="zh-Hans">' in html and "<title>基金申请流程 · " in html
    assert "已逾期" in html and "US$55,000.50" in html
    assert "检查了 10 个申请、0 个报告 issue" in html
    assert column_counts(html) == column_counts(world.client.get("/dashboard").get_data(as_text=True))
    assert "At a glance" not in html and "Funded grants and their reports" not in html  # no English left
    assert HOSTILE_NAME not in html  # user text is escaped in any language


def test_repeated_views_inside_the_ttl_cost_no_request(seeded_pair):
    world, _ = seeded_pair
    world.client.get("/dashboard")
    world.sandbox.clear_log()
    for _ in range(3):
        assert world.client.get("/dashboard").status_code == 200
    assert world.sandbox.requests() == []


@pytest.mark.parametrize("headers, query, status", [
    ({}, "", 401),
    ({"Authorization": "Bearer wrong"}, "", 401),
    ({}, "?token=wrong", 401),
    ({"Authorization": f"Bearer {TOKEN}"}, "", 200),
    ({"Authorization": f"bearer {TOKEN}"}, "", 200),
    ({}, f"?token={TOKEN}", 200),
    ({"Authorization": "Bearer wrong"}, f"?token={TOKEN}", 401),  # a header given is the one used
    ({"Authorization": f"Basic {TOKEN}"}, "", 401),
], ids=["none", "wrong-bearer", "wrong-query", "bearer", "bearer-lowercase", "query", "header-wins", "basic"])
def test_a_configured_token_is_required(world, caplog, headers, query, status):
    caplog.set_level(logging.DEBUG)
    with app_with(world, dashboard_token=TOKEN) as client:
        response = client.get(f"/dashboard{query}", headers=headers)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "private, no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "A token is needed" in response.get_data(as_text=True)
    else:
        assert "Fund pipeline" in response.get_data(as_text=True)
    assert TOKEN not in caplog.text and TOKEN not in response.get_data(as_text=True)


def test_without_a_token_configured_the_page_is_open(world):
    response = world.client.get("/dashboard")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("expected, header, query, ok", [
    (None, None, None, True), ("", None, None, True), ("abc", None, None, False), ("abc", "Bearer abc", None, True),
    ("abc", "Bearer abcd", None, False), ("abc", None, "abc", True), ("abc", "Bearer  abc ", None, True),
    ("abc", "Bearer", "abc", True),
], ids=["unset", "empty", "missing", "bearer", "longer", "query", "spaces", "bare-bearer-word"])
def test_authorised(expected, header, query, ok):
    assert authorised(expected, header, query) is ok


def test_without_a_repository_the_page_says_what_to_set(world):
    with app_with(world, repo=None) as client:
        response = client.get("/dashboard")
    assert response.status_code == 503 and "FUNDBOT_REPO" in response.get_data(as_text=True)


def test_when_github_cannot_be_read_the_page_says_so(world):
    with app_with(world, repo="open-source-fund/missing") as client:
        response = client.get("/dashboard")
    assert response.status_code == 503
    assert "GitHub could not be read" in response.get_data(as_text=True)


def test_the_data_cache_time_is_a_setting():
    assert Settings.from_env({}).dashboard_ttl == 30
    assert Settings.from_env({"FUNDBOT_DASHBOARD_TTL": "120"}).dashboard_ttl == 120
    with pytest.raises(SettingsError, match="FUNDBOT_DASHBOARD_TTL"):
        Settings.from_env({"FUNDBOT_DASHBOARD_TTL": "0"})
