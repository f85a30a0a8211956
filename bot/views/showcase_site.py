"""The showcase written out: a static site in every language, `grants.json`, a JSON Feed and an Atom feed.

Pages are Jinja templates (`templates/showcase/`, autoescaped: user text is always text) that need no
JavaScript: plain HTML and one small stylesheet, nothing loaded from elsewhere. Each language has its
folder (`en/`, `zh/`) with the same pages — the index of grants by round with each round's totals, a
page per grant, a page per accepted report — each linking to itself in the other languages; the site's
root sends a browser to the fund's language. Beside them, language-neutral: `grants.json` (one entry per
grant; its JSON schema `grants.schema.json` is copied beside it), and in each language's folder a JSON
Feed 1.1 (`feed.json`) and an Atom feed (`atom.xml`, by feedgen) of the decisions and accepted reports.

A grant whose pages cannot be written is left out of every page and feed, and said; the rest are built.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.policy.i18n import LANGUAGES, Translator, language_name, translator
from bot.policy.record import iso
from bot.views.showcase import Grant, Showcase, ShownReport, inert, without
from bot.views.words import words

TEMPLATES = Path(__file__).parent / "templates" / "showcase"
SCHEMA = Path(__file__).parent / "schemas" / "grants.schema.json"
GRANTS_VERSION = 1  # grants.json's `version`: raised when a field changes meaning (a new field does not)
FEED_ITEMS = 50  # the newest decisions and accepted reports a feed holds
FEED_SUMMARY = 500  # characters of a report's text in a feed item


@dataclass(frozen=True)
class Site:
    """The site's files (path under OUT -> content), and what the build says."""

    files: dict[str, str]
    shown: Showcase


def languages(first: str) -> list[str]:
    """The languages the site is written in, the fund's first."""
    return [first, *(code for code in LANGUAGES if code != first)]


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["day"] = lambda moment: moment.astimezone(dt.timezone.utc).date().isoformat()
    return env


def _page_links(page: str, codes: list[str]) -> list[dict[str, str]]:
    """The same page in each language, relative to a page `page` (inside a language's folder)."""
    up = "../" * (page.count("/") + 1)
    return [{"code": code, "href": f"{up}{code}/{page}", **_language(code)} for code in codes]


@functools.cache
def _language(code: str) -> dict[str, str]:
    return {"name": language_name(code), "lang": translator(code).locale.replace("_", "-")}


class _Pages:
    """The pages of one language (what every page of it shares is worked out once: a thousand grants are
    four thousand pages)."""

    def __init__(self, env: Environment, shown: Showcase, tr: Translator, codes: list[str], built: dt.datetime,
                 base_url: str) -> None:
        self.env, self.shown, self.tr, self.codes = env, shown, tr, codes
        self.code = tr.language
        self.shared = {**words(tr), "repo": shown.repo, "built": tr.date(built.date()), "built_iso": iso(built),
                       "money": lambda amount: tr.amount(amount, shown.currency)}

    def render(self, template: str, page: str, **context: Any) -> str:
        up = "../" * (page.count("/") + 1)
        return self.env.get_template(template).render(
            **self.shared, root=up, here=f"{up}{self.code}/", page=page,
            switch=[link for link in _page_links(page, self.codes) if link["code"] != self.code], **context)

    def index(self) -> str:
        return self.render("index.html", "index.html", rounds=self.shown.rounds, grants=self.shown.grants)

    def grant(self, grant: Grant) -> str:
        return self.render("grant.html", f"grants/{grant.number}.html", grant=grant)

    def report(self, grant: Grant, report: ShownReport) -> str:
        return self.render("report.html", f"reports/{grant.number}-{report.k}.html", grant=grant, report=report)


def render_site(shown: Showcase, language: str, built: dt.datetime, base_url: str = "") -> Site:
    """Every file of the site. A grant whose pages fail to render is left out (and said), never the build."""
    env = _environment()
    codes = languages(language)
    pages = {code: _Pages(env, shown, translator(code), codes, built, base_url) for code in codes}
    files: dict[str, str] = {}
    for grant in shown.grants:
        try:
            mine = {}
            for code, p in pages.items():
                mine[f"{code}/grants/{grant.number}.html"] = p.grant(grant)
                for report in grant.reports:
                    mine[f"{code}/reports/{grant.number}-{report.k}.html"] = p.report(grant, report)
        except Exception as err:  # noqa: BLE001 - one grant's surprise is said; the others are built
            shown = without(shown, grant.number, f"its page could not be written ({type(err).__name__}: "
                                                 f"{str(err)[:200]})")
            continue
        files.update(mine)
    pages = {code: _Pages(env, shown, translator(code), codes, built, base_url) for code in codes}
    for code, p in pages.items():
        files[f"{code}/index.html"] = p.index()
        files[f"{code}/feed.json"] = json_feed(shown, p.tr, base_url, built)
        files[f"{code}/atom.xml"] = atom_feed(shown, p.tr, base_url, built)
    files["index.html"] = env.get_template("root.html").render(
        **words(translator(language)), target=f"{language}/index.html", links=_page_links("index.html", codes),
        repo=shown.repo)
    files["site.css"] = (TEMPLATES / "site.css").read_text(encoding="utf-8")
    files["grants.json"] = json.dumps(grants_json(shown, built, codes), indent=1, ensure_ascii=False) + "\n"
    files["grants.schema.json"] = SCHEMA.read_text(encoding="utf-8")
    return Site(files, shown)


# --- grants.json ----------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _day(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone.utc).date().isoformat() if moment else None


def grant_json(grant: Grant, codes: list[str]) -> dict[str, Any]:
    """One grant as grants.json holds it (bot/views/schemas/grants.schema.json)."""
    return {
        "application": grant.number, "url": grant.url, "project": grant.project,
        "repository": grant.repository or None, "repository_url": grant.repository_url or None,
        "licence": grant.licence or None, "round": grant.round, "currency": grant.currency,
        "amount": _money(grant.amount), "released": _money(grant.released),
        "decided_on": _day(grant.decided_at), "decided_by": grant.decided_by,
        "tranches": [{"k": t.k, "n": t.n, "amount": _money(t.amount),
                      "status": "released" if t.released else "pending",
                      "released_on": _day(t.released.at) if t.released else None} for t in grant.tranches],
        "reports": [{"k": r.k, "sent_on": _day(r.sent_at), "accepted_on": _day(r.accepted_at), "url": r.url,
                     "pages": {code: f"{code}/reports/{grant.number}-{r.k}.html" for code in codes}}
                    for r in grant.reports],
        "evidence": [{"what": e.what, "at_application": e.at_application, "now": e.now} for e in grant.evidence],
        "pages": {code: f"{code}/grants/{grant.number}.html" for code in codes},
    }


def grants_json(shown: Showcase, built: dt.datetime, codes: list[str]) -> dict[str, Any]:
    return {
        "version": GRANTS_VERSION, "repository": shown.repo, "generated_at": iso(built), "currency": shown.currency,
        "rounds": [{"name": r.name, "pool": _money(r.pool), "granted": _money(r.granted),
                    "released": _money(r.released), "grants": len(r.grants)} for r in shown.rounds],
        "grants": [grant_json(g, codes) for g in shown.grants],
    }


# --- feeds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    title: str
    text: str
    at: dt.datetime

    def __post_init__(self) -> None:
        # XML 1.0 holds no control character: whatever a fund's rules or a record hold, one item never
        # stops the feed (user text is made inert before it gets here).
        for name in ("title", "text"):
            object.__setattr__(self, name, inert(getattr(self, name), 10 * FEED_SUMMARY).text)


def feed_items(shown: Showcase, tr: Translator, page_url: Callable[[str], str]) -> list[Item]:
    """The decisions and accepted reports, newest first (at most FEED_ITEMS)."""
    items: list[Item] = []
    for grant in shown.grants:
        amount = tr.amount(grant.amount, grant.currency)
        items.append(Item(
            id=f"{grant.url}#fund-bot-decision", url=page_url(f"grants/{grant.number}.html") or grant.url,
            title=tr.gettext("%(project)s: granted %(amount)s", project=grant.project, amount=amount),
            text=tr.gettext("%(project)s was granted %(amount)s in round %(round)s, on %(date)s.",
                            project=grant.project, amount=amount, round=grant.round,
                            date=tr.date(grant.decided_at.date())),
            at=grant.decided_at))
        for report in grant.reports:
            text = " ".join(s.text for s in report.sections)
            summary = text if len(text) <= FEED_SUMMARY else text[:FEED_SUMMARY - 1] + "…"
            items.append(Item(
                id=report.url, url=page_url(f"reports/{grant.number}-{report.k}.html") or report.url,
                title=tr.gettext("%(project)s: progress report of %(date)s", project=grant.project,
                                 date=tr.date(report.sent_at.date())),
                text=summary or tr.gettext("The report is on GitHub."), at=report.accepted_at))
    items.sort(key=lambda i: (i.at, i.id), reverse=True)
    return items[:FEED_ITEMS]


def _urls(base_url: str, code: str) -> Callable[[str], str]:
    base = base_url.rstrip("/") + "/" if base_url else ""
    return lambda page: f"{base}{code}/{page}" if base else ""


def _title(shown: Showcase, tr: Translator) -> str:
    return tr.gettext("Grants of %(repo)s", repo=shown.repo)


def json_feed(shown: Showcase, tr: Translator, base_url: str, built: dt.datetime) -> str:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of the decisions and accepted reports."""
    url = _urls(base_url, tr.language)
    feed: dict[str, Any] = {"version": "https://jsonfeed.org/version/1.1", "title": _title(shown, tr),
                            "language": tr.locale.replace("_", "-")}
    if base_url:
        feed["home_page_url"] = url("index.html")
        feed["feed_url"] = url("feed.json")
    feed["items"] = [{"id": i.id, "url": i.url, "title": i.title, "content_text": i.text,
                      "date_published": iso(i.at)} for i in feed_items(shown, tr, url)]
    return json.dumps(feed, indent=1, ensure_ascii=False) + "\n"


def atom_feed(shown: Showcase, tr: Translator, base_url: str, built: dt.datetime) -> str:
    """An Atom feed (RFC 4287, written by feedgen) of the decisions and accepted reports."""
    url = _urls(base_url, tr.language)
    fg = FeedGenerator()
    fg.id(url("atom.xml") or f"urn:fund-bot:showcase:{shown.repo}:{tr.language}")
    fg.title(_title(shown, tr))
    fg.author({"name": shown.repo})
    fg.language(tr.locale.replace("_", "-"))
    fg.updated(built)
    if base_url:
        fg.link(href=url("atom.xml"), rel="self")
        fg.link(href=url("index.html"), rel="alternate")
    for item in feed_items(shown, tr, url):
        entry = fg.add_entry(order="append")
        entry.id(item.id)
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate")
        entry.content(item.text, type="text")
        entry.published(item.at)
        entry.updated(item.at)
    return fg.atom_str(pretty=True).decode("utf-8")


# --- writing --------------------------------------------------------------------------------------


MARKER = "grants.json"  # a folder that holds it is a showcase built before: it may be replaced whole


def files_in(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def write_site(site: Site, out: Path) -> None:
    """The site written to `out`, replacing a showcase built there before (a folder that is empty, absent, or
    holds `grants.json`); anything else in `out` is refused (`FileExistsError`), never deleted. The new
    site is written beside it first, then put in its place, so a failed build leaves the old one whole."""
    import shutil
    import tempfile

    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise FileExistsError(f"{out} exists and holds no showcase built before (no {MARKER}): choose an empty "
                              "or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for folder in sorted({(fresh / name).parent for name in site.files}):
            folder.mkdir(parents=True, exist_ok=True)
        for name, text in site.files.items():
            with open(fresh / name, "wb") as file:
                file.write(text.encode("utf-8"))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))  # its own: builds never share it
            out.rename(old / out.name)
            fresh.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            fresh.rename(out)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
