"""`GET /dashboard/OWNER/NAME`: a fund's pipeline at a glance, for reviewers and the fund's administrators;
`GET /dashboard` lists the funds (or, with `FUNDBOT_REPO`, is that fund's page).

Server-rendered HTML (Jinja, autoescaped) that needs no JavaScript and loads nothing from
elsewhere: the chart is inline SVG drawn here, the CSS is inline and allowed by its hash in the
Content-Security-Policy, which allows no script at all. The data comes from `bot.views.rows`
(cached for `FUNDBOT_DASHBOARD_TTL` seconds, then conditional requests) and the sweep log.

When `FUNDBOT_DASHBOARD_TOKEN` is set, the page needs it, as `Authorization: Bearer <token>` or
`?token=<token>`, compared in constant time; the token is never logged, and the page sends no
`Referer` so a token in the address does not travel with a click on an issue link.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.evidence_view import delta_line, headline
from bot.policy.digest import WAITING_WORDS
from bot.policy.i18n import N_, Translator, translator
from bot.views.words import words
from bot.views.rows import (
    ApplicationRow, Column, Pipeline, PipelineSource, columns, grants, in_round, median_days_to_decision, waiting_rows,
)
from bot.policy.reports import ReportState
from bot.policy.rules import Rules
from bot.policy.sweeplog import counts, when
from bot.policy.wording import describe

dashboard = Blueprint("dashboard", __name__, template_folder="templates")
EXTENSION = "fundbot.dashboard"
CSS = (Path(__file__).parent / "templates" / "dashboard.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
HEADERS = {
    # No script, nothing from elsewhere; only this page's own inline CSS (by its hash).
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Directory(Protocol):
    """The funds this deployment serves (`bot.config.funds.FundDirectory`), handed in by the web tier."""

    def repos(self) -> list[str]: ...
    def find(self, repo: str) -> str | None: ...
    def gateway(self, repo: str) -> GitHubGateway: ...
    def rules(self, repo: str) -> Rules | None: ...


class DashboardState:
    """The funds, and one `PipelineSource` per fund viewed (made at its first view, made again when
    the fund's rules change)."""

    def __init__(self, directory: Directory, token: str | None, clock: Callable[[], dt.datetime],
                 ttl: float, single: str | None, language: str) -> None:
        self.directory = directory
        self.token = token
        self.language = language  # the server's rules': the pages that are no one fund's
        self.single = single  # FUNDBOT_REPO: `/dashboard` is that fund's page
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._sources: dict[str, PipelineSource] = {}

    def source(self, repo: str, rules: Rules) -> PipelineSource:
        with self._lock:
            source = self._sources.get(repo.lower())
            if source is None or source.rules is not rules:
                directory = self.directory
                # In the background mode only the first view after start waits for GitHub.
                source = PipelineSource(lambda: directory.gateway(repo), repo, rules, self._clock,
                                        ttl=self._ttl, background=True)
                self._sources[repo.lower()] = source
            return source


@dashboard.record_once
def _setup(state: BlueprintSetupState) -> None:
    runtime = state.app.extensions["fundbot"]
    settings = runtime.settings
    state.app.extensions[EXTENSION] = DashboardState(runtime.directory, settings.dashboard_token,
                                                     runtime.context.clock, settings.dashboard_ttl, settings.repo,
                                                     runtime.rules.language)


def authorised(expected: str | None, authorization: str | None, query_token: str | None) -> bool:
    """No token configured: open. Otherwise the bearer header (or `?token=`) must match, compared
    in constant time."""
    if not expected:
        return True
    given = query_token or ""
    if authorization and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def _page(template: str, status: int, private: bool, tr: Translator, **context: Any) -> Response:
    html = render_template(template, css=CSS, **words(tr), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    # A protected page must not be kept by a shared cache; an open one may be revalidated.
    response.headers["Cache-Control"] = "private, no-store" if private else "no-cache"
    return response


def _refused(state: DashboardState) -> Response | None:
    """The 401 page when a token is configured and this request does not carry it."""
    if authorised(state.token, request.headers.get("Authorization"), request.args.get("token")):
        return None
    tr = translator(state.language)
    response = _page("dashboard_message.html", 401, True, tr, title=tr.gettext("A token is needed"),
                     message=tr.gettext("This dashboard is private. Send the dashboard token as “Authorization: "
                                        "Bearer <token>”, or open /dashboard?token=<token>."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="Fund Bot dashboard"'
    return response


def _unreadable(private: bool, tr: Translator, err: GitHubError) -> Response:
    return _page("dashboard_message.html", 503, private, tr, title=tr.gettext("GitHub could not be read"),
                 message=tr.gettext("The pipeline could not be read from GitHub (%(error)s). Try again in a "
                                    "minute.", error=str(err)))


@dashboard.get("/dashboard")
def page() -> Response:
    """One fund's pipeline with `FUNDBOT_REPO`; otherwise the list of the funds, each linked to its page."""
    state: DashboardState = current_app.extensions[EXTENSION]
    if (refused := _refused(state)) is not None:
        return refused
    if state.single:
        return _fund_page(state, state.single)
    private = bool(state.token)
    tr = translator(state.language)
    try:
        repos = state.directory.repos()
    except GitHubError as err:
        return _unreadable(private, tr, err)
    if not repos:
        return _page("dashboard_message.html", 503, private, tr, title=tr.gettext("No fund found"),
                     message=tr.gettext("No repository where the App is installed has .github/fund-bot.yml yet. Add "
                                        "it to the applications repository, or set FUNDBOT_REPO to OWNER/NAME of one."))
    # A token that came in the address goes on with the links (the page sends no Referer).
    query = f"?token={quote(request.args['token'])}" if state.token and "token" in request.args else ""
    return _page("dashboard_funds.html", 200, private, tr, funds=repos, query=query)


@dashboard.get("/dashboard/<owner>/<name>")
def fund_page(owner: str, name: str) -> Response:
    state: DashboardState = current_app.extensions[EXTENSION]
    if (refused := _refused(state)) is not None:
        return refused
    return _fund_page(state, f"{owner}/{name}")


def _fund_page(state: DashboardState, asked: str) -> Response:
    private = bool(state.token)
    tr = translator(state.language)
    try:
        if state.single:
            repo = state.single if asked.lower() == state.single.lower() else None
        else:
            repo = state.directory.find(asked)
        if repo is None:
            # Only the deployment's funds: an address is not a way to make the App read any repository.
            return _page("dashboard_message.html", 404, private, tr, title=tr.gettext("Not a fund"),
                         message=tr.gettext("%(repo)s is not one of the funds this Fund Bot serves.", repo=asked))
        rules = state.directory.rules(repo)
        if rules is None:
            return _page("dashboard_message.html", 503, private, tr, title=tr.gettext("No valid configuration"),
                         message=tr.gettext("%(repo)s has never had a valid .github/fund-bot.yml: see its "
                                            "configuration issue.", repo=repo))
        tr = translator(rules.language)  # the fund's language
        pipeline = state.source(repo, rules).get()
    except GitHubError as err:
        return _unreadable(private, tr, err)
    round_name = request.args.get("round")
    if round_name is not None and rules.funding.round_named(round_name) is None:
        return _page("dashboard_message.html", 404, private, tr, title=tr.gettext("No such round"),
                     message=tr.gettext("%(repo)s has no funding round named %(round)s.", repo=repo,
                                        round=repr(round_name[:40])))
    query = f"token={quote(request.args['token'])}&" if state.token and "token" in request.args else ""
    return _page("dashboard.html", 200, private, tr, round_query=query, **view(pipeline, rules, tr, round_name))


# --- the view model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    color: str
    is_outcome: bool


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 640, 220, 24, 40


def chart(cols: tuple[Column, ...], rules: Rules) -> list[Bar]:
    """One bar per column, scaled to the largest count; drawn as inline SVG by the template."""
    colours = {s.name: s.label.color for s in rules.stages.stages}
    colours.update({name: o.label.color for name, o in rules.stages.outcomes.items()})
    most = max((len(c.rows) for c in cols), default=0) or 1
    slot = CHART_WIDTH / max(len(cols), 1)
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for i, col in enumerate(cols):
        height = usable * len(col.rows) / most
        bars.append(Bar(label=col.key, count=len(col.rows), x=round(i * slot + slot * 0.15, 1),
                        y=round(CHART_TOP + usable - height, 1), width=round(slot * 0.7, 1),
                        height=round(height, 1), color=colours.get(col.key, "777777"), is_outcome=col.is_outcome))
    return bars


def view(pipeline: Pipeline, rules: Rules, tr: Translator, round_name: str | None = None) -> dict[str, Any]:
    """What the template needs, computed here so the template only lays it out (in `tr`'s language);
    `round_name` keeps the applications of one funding round."""
    pipeline = dataclasses.replace(pipeline, rows=tuple(in_round(pipeline.rows, round_name)))
    cols = columns(pipeline.rows, rules)
    funded = grants(pipeline.rows)
    currency = rules.funding.currency
    shown_round = round_name or (rules.funding.round_on(pipeline.today) or rules.funding.rounds[-1]).name
    pool = rules.funding.pool(shown_round)
    granted = sum((r.amount_granted or Decimal(0) for r in funded), Decimal(0))
    decisions = sum(1 for r in pipeline.rows if r.days_to_decision is not None)
    last = pipeline.sweep_log.last if pipeline.sweep_log else None
    return {
        "pipeline": pipeline,
        "columns": cols,
        "stage_columns": [c for c in cols if not c.is_outcome],
        "outcome_columns": [c for c in cols if c.is_outcome],
        "bars": chart(cols, rules),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_HEIGHT - CHART_BOTTOM},
        "median_days": median_days_to_decision(pipeline.rows),
        "decisions": decisions,
        "open_count": sum(1 for r in pipeline.rows if not r.outcome),
        "grants": funded,
        "overdue_count": sum(1 for r in funded if r.overdue),
        "granted": tr.amount(granted, currency),
        "pool": tr.amount(pool, currency) if pool is not None and (round_name or not rules.funding.dated) else None,
        "rounds": [r.name for r in rules.funding.rounds] if rules.funding.dated else [],
        "round": round_name,
        "last_run": last,
        "last_run_age": (pipeline.today - last.day).days if last else None,
        "criteria": rules.stages.criteria,
        "money": lambda amount: tr.amount(amount, currency) if amount is not None else "—",
        "report_text": lambda row: report_text(row, tr),
        "scores_text": lambda row: scores_text(row, tr),
        "eligibility_text": lambda row: tr.gettext(row.eligibility.value),
        "evidence_text": lambda row: " · ".join(headline(row.evidence, tr)) if row.evidence else "",
        "evidence_change": lambda row: delta_line(row.evidence_first, row.evidence, tr)
        if row.evidence and row.evidence_first and row.evidence_first.at != row.evidence.at else "—",
        "as_of": tr.gettext("%(date)s %(time)s UTC", date=tr.date(pipeline.as_of.astimezone(dt.timezone.utc).date()),
                            time=pipeline.as_of.astimezone(dt.timezone.utc).strftime("%H:%M")),
        "last_run_when": when(last, tr) if last else "",
        "last_run_counts": counts(last, tr) if last else "",
        "last_run_lines": [describe(line, tr) for line in last.lines] if last else [],
        "last_run_failures": [describe(failure, tr) for failure in last.failures] if last else [],
        **waiting_view(pipeline, tr),
    }


def waiting_view(pipeline: Pipeline, tr: Translator) -> dict[str, Any]:
    """The stalled-review view: each application that waits, on what and whom, since when, the next reminder."""
    return {
        "waiting": waiting_rows(pipeline.rows),
        "waiting_text": lambda row: tr.gettext(WAITING_WORDS[row.waiting.on]),
        "waiting_days": lambda row: (pipeline.today - row.waiting.since.astimezone(dt.timezone.utc).date()).days,
    }


REPORT_WORDS = {ReportState.OVERDUE: N_("Overdue"), ReportState.DUE: N_("Due soon"),
                ReportState.UPCOMING: N_("On schedule"), ReportState.NONE: N_("All received")}


def report_text(row: ApplicationRow, tr: Translator) -> str:
    """The report state in words (the page also highlights it, never by colour alone)."""
    if row.report_state is ReportState.NONE and row.outcome != "funded":
        return "—"
    return tr.gettext(REPORT_WORDS[row.report_state])


def scores_text(row: ApplicationRow, tr: Translator) -> str:
    given = [tr.gettext("%(criterion)s %(mean)s (%(count)s)", criterion=s.criterion, mean=tr.number(s.mean, "0.0"),
                        count=tr.number(s.count)) for s in row.scores if s.mean is not None]
    return " · ".join(given) or tr.gettext("none yet")
