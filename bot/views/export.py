"""`fundbot export --format csv|json|md`: the dashboard's rows for the fund's own reporting; with
`--payouts`, what to pay (one line per tranche released); with `--audit`, every decision as JSON lines.

The rows are `bot.views.rows`'s (one source of truth with the dashboard), one per application, in
issue order, with the columns in a fixed order (`COLUMNS`, then one mean score per criterion of
the rules). Dates are UTC calendar dates (ISO-8601); amounts are decimal text in the rules'
currency, never floats. JSON keys are the column names; the CSV and Markdown headings are the same
names in the fund's language (catalogue messages whose English is the name itself).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from bot.github.transport import GitHubError
from bot.policy.i18n import N_, Translator, translator
from bot.policy.record import iso
from bot.policy.rules import Rules
from bot.policy.text import escape_inline
from bot.views.rows import ApplicationRow, fund, in_round, pipeline_rows

FORMATS = ("csv", "json", "md")
# Translators: the export's column headings (CSV, Markdown); keep them short, without spaces.
COLUMNS = (
    N_("number"), N_("project"), N_("applicant"), N_("url"), N_("state"), N_("stage"), N_("outcome"),
    N_("eligibility"), N_("filed_on"), N_("stage_since"), N_("days_in_stage"), N_("decided_on"),
    N_("days_to_decision"), N_("currency"), N_("amount_requested"), N_("amount_granted"), N_("votes_up"),
    N_("votes_down"), N_("assignees"), N_("reports_received"), N_("reports_expected"), N_("next_report_due"),
    N_("report_status"), N_("report_overdue"),
)
SCORE_COLUMN = N_("score_%(criterion)s")
# The evidence pack (issue 21): the latest figures and their change since the application (empty: not read).
EVIDENCE_COLUMNS = (
    N_("evidence_read_on"), N_("stars"), N_("stars_change"), N_("active_contributors"),
    N_("active_contributors_change"), N_("commits_90d"), N_("releases_year"), N_("median_response_hours"),
    N_("community_health"), N_("scorecard"), N_("scorecard_change"), N_("dependents"), N_("dependents_change"),
    N_("pypi_downloads_30d"), N_("npm_downloads_30d"),
)
EVIDENCE_FIGURES = {"stars": ("stars", "count"), "active_contributors": ("contributors", "active"),
                    "commits_90d": ("commits", "count"), "releases_year": ("releases", "year"),
                    "median_response_hours": ("responsiveness", "median_hours"), "community_health": ("community", "health"),
                    "scorecard": ("scorecard", "score"), "dependents": ("dependents", "count"),
                    "pypi_downloads_30d": ("pypi_downloads", "month"), "npm_downloads_30d": ("npm_downloads", "month")}


def columns(rules: Rules) -> tuple[str, ...]:
    return COLUMNS + EVIDENCE_COLUMNS + tuple(SCORE_COLUMN % {"criterion": criterion} for criterion in rules.stages.criteria)


def headings(rules: Rules, tr: Translator) -> tuple[str, ...]:
    """The column names in `tr`'s language (the CSV's and the Markdown table's first row)."""
    return tuple(tr.gettext(name) for name in COLUMNS + EVIDENCE_COLUMNS) + tuple(
        tr.gettext(SCORE_COLUMN, criterion=criterion) for criterion in rules.stages.criteria)


def record(row: ApplicationRow, rules: Rules) -> dict[str, Any]:
    """One row as plain JSON values, keys in `columns(rules)` order."""
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    out: dict[str, Any] = {
        "number": row.number, "project": row.project, "applicant": row.applicant, "url": row.html_url,
        "state": row.state, "stage": row.stage, "outcome": row.outcome, "eligibility": row.eligibility.value,
        "filed_on": text(row.filed_on), "stage_since": text(row.stage_since), "days_in_stage": row.days_in_stage,
        "decided_on": text(row.decided_on), "days_to_decision": row.days_to_decision,
        "currency": rules.funding.currency, "amount_requested": _amount(row.amount_requested),
        "amount_granted": _amount(row.amount_granted), "votes_up": row.votes_up, "votes_down": row.votes_down,
        "assignees": list(row.assignees), "reports_received": row.reports_received,
        "reports_expected": row.reports_expected, "next_report_due": text(row.next_report_due),
        "report_status": row.report_state.value, "report_overdue": row.overdue,
    }
    out.update(evidence_columns(row))
    for score in row.scores:
        out[f"score_{score.criterion}"] = None if score.mean is None else round(score.mean, 2)
    return out


def evidence_columns(row: ApplicationRow) -> dict[str, Any]:
    """The evidence pack's columns: each figure as read last (None: not read), and for some its change since
    the pack read at application."""
    latest, first = row.evidence, row.evidence_first
    out: dict[str, Any] = {"evidence_read_on": iso(latest.at)[:10] if latest else None}
    for name, (key, figure) in EVIDENCE_FIGURES.items():
        value = latest.figure(key, figure) if latest else None
        out[name] = value
        if f"{name}_change" in EVIDENCE_COLUMNS:
            before = first.figure(key, figure) if first else None
            out[f"{name}_change"] = round(value - before, 2) if isinstance(value, (int, float)) \
                and isinstance(before, (int, float)) else None
    return {name: out[name] for name in EVIDENCE_COLUMNS}


PAYOUT_COLUMNS = (N_("date"), N_("application"), N_("project"), N_("payee"), N_("amount"), N_("currency"),
                  N_("tranche"))


def payouts(rows: Sequence[ApplicationRow], rules: Rules, since: dt.date | None = None) -> str:
    """CSV of the tranches released (on or after `since`), oldest first: what the fund is to pay, to
    whom (the applicant's handle), and which part of the grant it is."""
    lines = sorted(((t.at, row, t) for row in rows for t in row.tranches
                    if since is None or t.at.astimezone(dt.timezone.utc).date() >= since),
                   key=lambda item: (item[0], item[1].number, item[2].k))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    tr = translator(rules.language)  # headings in the fund's language; dates and amounts stay machine-readable
    writer.writerow([tr.gettext(name) for name in PAYOUT_COLUMNS])
    for at, row, t in lines:
        writer.writerow([at.astimezone(dt.timezone.utc).date().isoformat(), row.number, _cell(row.project),
                         _cell(row.applicant), format(t.amount, "f"), rules.funding.currency,
                         tr.gettext("%(k)s of %(n)s", k=t.k, n=t.n)])
    return buffer.getvalue()


def audit(rows: Sequence[ApplicationRow], repo: str) -> str:
    """Every decision of every application as JSON lines: who, when, what, why — and whether the
    record it comes from holds its seal."""
    entries = sorted(((a, row) for row in rows for a in row.audit), key=lambda item: (item[0].at, item[1].number))
    return "".join(json.dumps({"repository": repo, "application": row.number, "at": iso(entry.at), "by": entry.by,
                               "what": entry.what, "detail": entry.detail, "sealed": row.sealed},
                              ensure_ascii=False) + "\n" for entry, row in entries)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def render(rows: Sequence[ApplicationRow], rules: Rules, fmt: str, *, repo: str = "", as_of: str = "") -> str:
    """The rows in `fmt` (csv, json or md); headings in the fund's language."""
    tr = translator(rules.language)
    names = columns(rules)
    records = [record(row, rules) for row in rows]
    if fmt == "json":
        return json.dumps({"repository": repo, "as_of": as_of, "columns": list(names), "applications": records},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headings(rules, tr))
        writer.writerows([_cell(r[name]) for name in names] for r in records)
        return buffer.getvalue()
    if fmt == "md":
        lines = ["| " + " | ".join(headings(rules, tr)) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(_md(r[name]) for name in names) + " |" for r in records]
        title = ""
        if repo:
            title = "# " + (tr.gettext("Applications to %(repo)s as of %(time)s", repo=repo, time=as_of) if as_of
                            else tr.gettext("Applications to %(repo)s", repo=repo)) + "\n\n"
        return title + "\n".join(lines) + "\n"
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    # A spreadsheet runs a cell that starts like a formula; an applicant's project name must not.
    text = _plain(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def _md(value: Any) -> str:
    # Pasted into a GitHub issue, user text must not mention people or break the table.
    return escape_inline(_plain(value), limit=200) if isinstance(value, str) else _plain(value)


def run_export(ctx: Any, repo: str, fmt: str, output: str | None, *, stdout: TextIO | None = None,
               kind: str = "applications", since: dt.date | None = None, round_name: str | None = None) -> int:
    """`fundbot export`: read the pipeline through the gateway and write it, by the fund's own rules
    (`ctx.fund_rules`: its `.github/fund-bot.yml` with the server's); 1 when GitHub fails or (payouts) a record
    fails its seal, 2 for a round the fund does not have."""
    out = stdout or sys.stdout
    now = ctx.clock()
    try:
        if (found := fund(ctx, repo)) is None:
            return 1
        gateway, rules = found
        if round_name is not None and rules.funding.round_named(round_name) is None:  # as the dashboard's 404
            names = ", ".join(r.name for r in rules.funding.rounds)
            print(f"fundbot: {repo} has no funding round named {round_name[:40]!r} (its rounds: {names})",
                  file=sys.stderr)
            return 2
        rows = in_round(pipeline_rows(gateway, repo, rules, now.date(), ctx.seal_key, ctx.seal_previous), round_name)
    except GitHubError as err:
        print(f"fundbot: could not read the applications of {repo}: {err}", file=sys.stderr)
        return 1
    unsealed = [r.number for r in rows if not r.sealed] if kind == "payouts" else []
    if unsealed:
        # What an edited record says was released is no payout: left out, said, and exit 1.
        print(f"fundbot: the records of {', '.join(f'#{n}' for n in unsealed)} fail their seal (see `fundbot "
              "verify`): their payouts are left out until the bot has rebuilt them", file=sys.stderr)
        rows = [r for r in rows if r.sealed]
    if kind == "payouts":
        text = payouts(rows, rules, since)
    elif kind == "audit":
        text = audit(rows, repo)
    else:
        text = render(rows, rules, fmt, repo=repo, as_of=iso(now))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {len(rows)} applications to {output} ({fmt})", file=sys.stderr)
    else:
        out.write(text)
    return 1 if unsealed else 0
