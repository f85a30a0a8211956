"""`fundbot showcase build OUT/` end to end (issue 22): a fund on the sandbox GitHub whose grants were made
the way people make them, built by the CLI as the workflow runs it. Only funded applications with sealed
records appear; the pages, `grants.json` (checked against its published schema), the JSON Feed and the Atom
feed agree; user text is inert; what was left out or changed is said; a fund can switch it off."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from pipeline_world import frozen_world
from fund_config import app_environ, use_fund_file
from showcase_world import HOSTILE_NAME, LONG_REPORT, seed_showcase, showcase_fund_file

from bot.cli import main
from bot.demo.world import FUND_REPO
from bot.views.showcase import REPORT_LIMIT

BASE = "https://open-source-fund.github.io/applications/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def fund(app_key):
    with frozen_world(app_key) as world:
        yield world, seed_showcase(world)


@pytest.fixture(scope="module")
def site(fund, app_key, tmp_path_factory):
    world, _ = fund
    out = tmp_path_factory.mktemp("showcase") / "site"
    import contextlib
    import io

    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        assert main(["showcase", "build", str(out), "--base-url", BASE], app_environ(world, app_key)) == 0
    return out, said.getvalue()


def read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_only_funded_applications_with_sealed_records_appear(fund, site):
    _, n = fund
    out, _ = site
    data = json.loads(read(out, "grants.json"))
    assert sorted(g["application"] for g in data["grants"]) == sorted([n["reported"], n["hostile"], n["long"], n["fresh"]])
    pages = {p.name for p in (out / "en" / "grants").iterdir()}
    assert pages == {f"{g['application']}.html" for g in data["grants"]}
    index = read(out, "en/index.html")
    for role in ("declined", "withdrawn", "open", "edited"):
        assert f"grants/{n[role]}.html" not in index
    for never in ("Declined Thing", "Changed Mind", "Still In Review", "Edited Record", "999,999"):
        assert never not in index and never not in read(out, "grants.json") and never not in read(out, "en/atom.xml")


def test_the_build_says_what_it_left_out_and_what_it_changed(fund, site):
    _, n = fund
    _, said = site
    lines = said.splitlines()
    assert f"#{n['edited']}: left out: its record does not hold its seal (edited by hand, or copied from another " \
           "issue); `fundbot verify` lists it, and the bot rebuilds it at its next run" in lines
    assert f"#{n['hostile']}: the project's name holds HTML: shown as text, never run" in lines
    assert f"#{n['hostile']}: bidirectional control characters removed from the project's name" in lines
    assert any(line.startswith(f"#{n['hostile']}: the report of ") and line.endswith("holds HTML: shown as text, never run")
               for line in lines)
    assert any(line.startswith(f"#{n['long']}: the report of ") and f"is {len(LONG_REPORT):,} characters long" in line
               for line in lines)
    assert lines[-1].startswith(f"built the showcase of {FUND_REPO} in ") and "4 grants of 8 applications read" in lines[-1]


def test_grants_json_follows_its_published_schema(site):
    out, _ = site
    schema = json.loads(read(out, "grants.schema.json"))
    data = json.loads(read(out, "grants.json"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    # The schema can refuse: a float amount, a grant without its tranches.
    broken = json.loads(read(out, "grants.json"))
    broken["grants"][0]["amount"] = 30000.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    del data["grants"][0]["tranches"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_grants_json_holds_each_grants_decision_tranches_and_accepted_reports(fund, site):
    _, n = fund
    out, _ = site
    data = json.loads(read(out, "grants.json"))
    grants = {g["application"]: g for g in data["grants"]}
    reported = grants[n["reported"]]
    assert (reported["project"], reported["repository"], reported["licence"], reported["amount"], reported["currency"],
            reported["decided_by"]) == ("Tiny Inference", "tiny-org/tiny-inference", "MIT", "30000", "USD", "rita")
    assert [(t["k"], t["amount"], t["status"]) for t in reported["tranches"]] == [
        (1, "15000.00", "released"), (2, "15000.00", "released")]
    assert len(reported["reports"]) == 1  # the second report waits for a reviewer: not shown
    assert reported["reports"][0]["url"].startswith(f"https://github.com/{FUND_REPO}/issues/{n['reported']}#issuecomment-")
    fresh = grants[n["fresh"]]
    assert [(t["status"], t["released_on"] is None) for t in fresh["tranches"]] == [("released", False), ("pending", True)]
    assert grants[n["hostile"]]["reports"][0]["url"] == f"https://github.com/{FUND_REPO}/issues/{n['report_issue']}"
    assert data["rounds"] == [{"name": "2026", "pool": "500000", "granted": "72000.50", "released": "66000.25",
                               "grants": 4}]


class Page(HTMLParser):
    """A page's links, scripts, elements with inline handlers, and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.handlers: list[str] = []
        self.text: list[str] = []
        self.lang = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "script":
            self.scripts += 1
        self.handlers += [name for name in attrs if name.startswith("on")]
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])

    def handle_data(self, data):
        self.text.append(data)


def test_every_page_is_inert_and_every_link_of_the_site_leads_somewhere(site):
    out, _ = site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        page = Page(path.read_text(encoding="utf-8"))
        assert page.scripts == 0 and page.handlers == [], path
        for link in page.links:
            if link == "data:,":  # the empty icon: the browser asks for no favicon.ico
                continue
            if re.match(r"^[a-z]+:", link):
                assert link.startswith("https://github.com/"), (path, link)  # nothing else is linked, or loaded
                continue
            target = (path.parent / link.split("#")[0]).resolve() if not link.startswith("#") else path.resolve()
            assert target.is_file() and out.resolve() in target.parents, (path, link)


def test_a_hostile_name_and_report_are_shown_as_text(fund, site):
    _, n = fund
    out, _ = site
    grant = read(out, f"en/grants/{n['hostile']}.html")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &lt;b&gt;Bold&lt;/b&gt; evil" in grant
    assert "\u202e" not in grant and "<b>" not in grant
    report = read(out, f"en/reports/{n['hostile']}-1.html")
    assert "&lt;a href=&#34;https://example.com/x&#34;&gt;a link&lt;/a&gt;" in report and "example.com/x\">" not in report
    assert "Progress against milestones" in report  # the report form's question
    [entry] = [g for g in json.loads(read(out, "grants.json"))["grants"] if g["application"] == n["hostile"]]
    assert entry["project"] == HOSTILE_NAME.replace("\u202e", "")  # JSON holds text: its reader escapes it


def test_a_100_kb_report_is_shortened_with_a_link_to_the_whole(fund, site):
    _, n = fund
    out, _ = site
    report = read(out, f"en/reports/{n['long']}-1.html")
    [text] = [t for t in Page(report).text if LONG_REPORT[:50] in t]
    assert len(LONG_REPORT.encode()) > 100_000
    assert len(text) == REPORT_LIMIT and text.endswith("…") and LONG_REPORT.startswith(text[:-1])
    assert "This report is shortened here; the whole of it is on GitHub." in report


def test_both_languages_link_to_each_other(fund, site):
    _, n = fund
    out, _ = site
    en, zh = Page(read(out, "en/index.html")), Page(read(out, "zh/index.html"))
    assert (en.lang, zh.lang) == ("en", "zh-Hans")
    assert "../zh/index.html" in en.links and "../en/index.html" in zh.links
    assert "已资助项目" in "".join(zh.text) and "Funded projects" in "".join(en.text)
    grant = Page(read(out, f"zh/grants/{n['fresh']}.html"))
    assert f"../../en/grants/{n['fresh']}.html" in grant.links
    root = read(out, "index.html")
    assert 'content="0; url=en/index.html"' in root and 'href="zh/index.html"' in root


def test_the_feeds_hold_the_decisions_and_accepted_reports(fund, site):
    _, n = fund
    out, _ = site
    feed = json.loads(read(out, "en/feed.json"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1" and feed["feed_url"] == BASE + "en/feed.json"
    items = feed["items"]
    assert len(items) == 4 + 3 and len({i["id"] for i in items}) == len(items)
    assert all(set(i) >= {"id", "url", "title", "content_text", "date_published"} for i in items)
    assert [i["date_published"] for i in items] == sorted((i["date_published"] for i in items), reverse=True)
    assert {i["url"] for i in items} >= {BASE + f"en/grants/{n['fresh']}.html", BASE + f"en/reports/{n['long']}-1.html"}

    atom = ET.fromstring(read(out, "zh/atom.xml").encode())
    assert atom.tag == f"{ATOM}feed" and atom.find(f"{ATOM}id").text == BASE + "zh/atom.xml"
    entries = atom.findall(f"{ATOM}entry")
    assert len(entries) == 7
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert any("进展报告" in t for t in titles)
    assert all(e.find(f"{ATOM}link").get("href").startswith(BASE + "zh/") for e in entries)
    hostile = [e for e in entries if "Bold" in e.find(f"{ATOM}title").text]
    assert hostile and all("<b>" in e.find(f"{ATOM}title").text for e in hostile)  # text, escaped by XML


def test_a_build_replaces_the_last_one_and_refuses_a_folder_that_holds_something_else(fund, app_key, tmp_path,
                                                                                      capsys):
    world, _ = fund
    out = tmp_path / "site"
    assert main(["showcase", "build", str(out)], app_environ(world, app_key)) == 0
    (out / "en" / "grants" / "999.html").write_text("a grant taken back")  # stale: gone after the next build
    assert main(["showcase", "build", str(out)], app_environ(world, app_key)) == 0
    assert not (out / "en" / "grants" / "999.html").exists()
    assert json.loads(read(out, "en/feed.json")).get("feed_url") is None  # no --base-url: links to GitHub
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_text("not a showcase")
    capsys.readouterr()
    assert main(["showcase", "build", str(other)], app_environ(world, app_key)) == 2
    assert "holds no showcase built before" in capsys.readouterr().err
    assert [p.name for p in other.iterdir()] == ["holiday.jpg"]


def test_the_build_needs_the_apps_key_to_check_the_seals(fund, app_key, tmp_path, capsys):
    world, _ = fund
    env = {k: v for k, v in app_environ(world, app_key).items() if k not in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY")}
    assert main(["showcase", "build", str(tmp_path / "site")], {**env, "GITHUB_TOKEN": "a-token"}) == 2
    assert "GITHUB_APP_ID" in capsys.readouterr().err and not (tmp_path / "site").exists()


def test_a_fund_can_switch_its_showcase_off(app_key, tmp_path, capsys):
    with frozen_world(app_key) as world:
        use_fund_file(world, showcase_fund_file(language="en", showcase=False))
        capsys.readouterr()
        assert main(["showcase", "build", str(tmp_path / "site")], app_environ(world, app_key)) == 0
        said = capsys.readouterr().out
        assert "switches its showcase off (fund.showcase: false in .github/fund-bot.yml): nothing built" in said
        assert not (tmp_path / "site").exists()


def test_when_github_fails_nothing_is_written_and_the_last_site_stays(app_key, tmp_path, capsys):
    from showcase_world import funded

    with frozen_world(app_key) as world:
        use_fund_file(world, showcase_fund_file())
        world.add_applicant_repo("tiny-org/tiny-inference")
        funded(world, "ada", "Tiny Inference", "30000")
        out = tmp_path / "site"
        assert main(["showcase", "build", str(out)], app_environ(world, app_key)) == 0
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        world.sandbox.refuse("GET", "/repos/*/issues/*/comments", 403, "Resource not accessible by integration")
        capsys.readouterr()
        assert main(["showcase", "build", str(out)], app_environ(world, app_key)) == 1
        assert "could not read the applications" in capsys.readouterr().err
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing left half-written beside it
