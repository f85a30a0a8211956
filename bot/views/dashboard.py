"""`GET /dashboard`: the pipeline at a glance, for reviewers and the fund's administrators.

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
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from markupsafe import Markup, escape

from bot.github.gateway import GitHubError
from bot.policy.i18n import N_, Translator, translator
from bot.views.rows import ApplicationRow, Column, Pipeline, PipelineSource, columns, grants, median_days_to_decision
from bot.policy.reports import ReportState
from bot.policy.rules import Rules
from bot.policy.sweeplog import counts, when

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


@dataclass(frozen=True)
class DashboardState:
    source: PipelineSource | None  # None: FUNDBOT_REPO is not set
    token: str | None
    rules: Rules


@dashboard.record_once
def _setup(state: BlueprintSetupState) -> None:
    runtime = state.app.extensions["fundbot"]
    settings = runtime.settings
    source = None
    if settings.repo:
        github, repo = runtime.context.github, settings.repo
        # In the background mode only the first view after start waits for GitHub.
        source = PipelineSource(lambda: github.for_repository(repo), repo, runtime.rules, runtime.context.clock,
                                ttl=settings.dashboard_ttl, background=True)
    state.app.extensions[EXTENSION] = DashboardState(source, settings.dashboard_token, runtime.rules)


def authorised(expected: str | None, authorization: str | None, query_token: str | None) -> bool:
    """No token configured: open. Otherwise the bearer header (or `?token=`) must match, compared
    in constant time."""
    if not expected:
        return True
    given = query_token or ""
    if authorization and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def words(tr: Translator) -> dict[str, Any]:
    """What a template says its words with, in `tr`'s language: `_` and `ngettext` (whose parameters are
    escaped, and whose result is markup, so a message may hold a link built in the template)."""
    def safe(params: dict[str, Any]) -> dict[str, Any]:
        return {key: escape(value) for key, value in params.items()}

    return {
        "lang": tr.locale.replace("_", "-"),
        "_": lambda message, **params: Markup(tr.gettext(message, **safe(params))),
        "ngettext": lambda singular, plural, n, **params: Markup(tr.ngettext(singular, plural, n, **safe(params))),
        "number": tr.number,
        "date": lambda day: tr.date(day) if day else "—",
    }


def _page(template: str, status: int, private: bool, tr: Translator, **context: Any) -> Response:
    html = render_template(template, css=CSS, **words(tr), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    # A protected page must not be kept by a shared cache; an open one may be revalidated.
    response.headers["Cache-Control"] = "private, no-store" if private else "no-cache"
    return response


@dashboard.get("/dashboard")
def page() -> Response:
    state: DashboardState = current_app.extensions[EXTENSION]
    private = bool(state.token)
    tr = translator(state.rules.language)  # the fund's language
    if not authorised(state.token, request.headers.get("Authorization"), request.args.get("token")):
        response = _page("dashboard_message.html", 401, private, tr, title=tr.gettext("A token is needed"),
                         message=tr.gettext("This dashboard is private. Send the dashboard token as “Authorization: "
                                            "Bearer <token>”, or open /dashboard?token=<token>."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="Fund Bot dashboard"'
        return response
    if state.source is None:
        return _page("dashboard_message.html", 503, private, tr, title=tr.gettext("No repository configured"),
                     message=tr.gettext("Set FUNDBOT_REPO to OWNER/NAME of the applications repository to see its "
                                        "pipeline."))
    try:
        pipeline = state.source.get()
    except GitHubError as err:
        return _page("dashboard_message.html", 503, private, tr, title=tr.gettext("GitHub could not be read"),
                     message=tr.gettext("The pipeline could not be read from GitHub (%(error)s). Try again in a "
                                        "minute.", error=str(err)))
    return _page("dashboard.html", 200, private, tr, **view(pipeline, state.rules, tr))


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


def view(pipeline: Pipeline, rules: Rules, tr: Translator) -> dict[str, Any]:
    """What the template needs, computed here so the template only lays it out (in `tr`'s language)."""
    cols = columns(pipeline.rows, rules)
    funded = grants(pipeline.rows)
    currency = rules.funding.currency
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
        "pool": tr.amount(rules.funding.pool, currency) if rules.funding.pool is not None else None,
        "last_run": last,
        "last_run_age": (pipeline.today - last.day).days if last else None,
        "criteria": rules.stages.criteria,
        "money": lambda amount: tr.amount(amount, currency) if amount is not None else "—",
        "report_text": lambda row: report_text(row, tr),
        "scores_text": lambda row: scores_text(row, tr),
        "eligibility_text": lambda row: tr.gettext(row.eligibility.value),
        "as_of": tr.gettext("%(date)s %(time)s UTC", date=tr.date(pipeline.as_of.astimezone(dt.timezone.utc).date()),
                            time=pipeline.as_of.astimezone(dt.timezone.utc).strftime("%H:%M")),
        "last_run_when": when(last, tr) if last else "",
        "last_run_counts": counts(last, tr) if last else "",
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
