"""The sweep log's contents: one issue in the applications repository where the bot says when it
last swept. Pure: `bot.jobs.sweep` reads and writes the issue, the dashboard reads it.

The sweep runs in another process than the web service (the Procfile's `clock`, or the daily
workflow), and all state lives on GitHub, so the sweep leaves its summary there: one issue with
the rules' `labels.bot` label, found again by a hidden marker, whose body is edited in place with
the last run (UTC time, counts, failures) and a short history, plus the same as hidden JSON that
the dashboard reads back.

It is written only when the sweep changed something or failed, or when the last logged run is
from an earlier UTC day, so a repeated sweep with nothing changed still writes nothing (at most
one write a day when all is quiet). A dry run never writes it; a second log issue is never made.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.policy.i18n import LANGUAGES, N_, Translator, read_back, translator
from bot.policy.markers import SWEEP_LOG_MARKER, SWEEP_TAG, hidden, own_issues, read_hidden
from bot.policy.models import Issue, UpsertIssue
from bot.policy.record import Note, iso, parse_iso
from bot.policy.rules import Rules
from bot.policy.text import escape_inline
from bot.policy.wording import describe

LOG_MARKER = SWEEP_LOG_MARKER
LOG_TITLE = N_("Fund Bot: sweep log")  # in the fund's language
LOG_VERSION = 2  # 2: lines and failures as message ids with parameters (1: as English)
KEEP_RUNS = 14  # the history shown and kept: two weeks of daily sweeps
KEEP_LINES = 50  # changes and failures kept of one run (the body must stay far below GitHub's 65,536 characters)


# The log keeps what a sweep wrote and what failed as message ids with parameters (`bot.policy.lines`),
# shown in the fund's language. Version 1 kept them as English: its lines are read back once here, by the
# English words that version wrote (frozen: whatever the catalogue says now), its failures kept as words.
_V1_LINES = {
    "#%(number)s: update the status comment": "line.status",
    "#%(number)s: add labels %(labels)s": "line.add_labels",
    "#%(number)s: remove label %(label)s": "line.remove_label",
    "#%(number)s: comment (%(key)s)": "line.comment",
    "#%(number)s: react %(content)s to comment %(comment)s": "line.react",
    "#%(number)s: assign %(logins)s": "line.assign",
    "#%(number)s: close (%(reason)s)": "line.close",
    "#%(number)s: delete duplicate status comment %(comment)s": "line.delete",
    "#%(number)s: enter the grant of %(amount)s in the ledger (%(round)s)": "line.grant",
    "#%(number)s: %(login)s away until %(date)s": "line.away",
    "#%(number)s: %(login)s back": "line.back",
    "#%(number)s: note the assignment of %(logins)s by load": "line.assigned",
    "%(repo)s: put the ledger in step with the funded applications": "line.ledger",
}


def _v1_line(text: str) -> Note:
    found = read_back(text, _V1_LINES)
    return Note(_V1_LINES[found[0]], found[1]) if found else Note("text", {"text": text})


@dataclass(frozen=True)
class SweepRun:
    """One logged sweep. `lines`/`failures` may be cut to `KEEP_LINES`; the counts are whole."""

    at: str  # ISO-8601 UTC
    applications: int
    reports: int
    changes: int
    failures: tuple[Note, ...] = ()
    lines: tuple[Note, ...] = ()  # the writes made (kept for the latest run only)
    requests: str = ""  # RequestStats as text, e.g. "104r/3w/0nm/0retry"

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.at[:10])

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SweepLog:
    """The log issue as found: its number, address and the runs it holds (newest first)."""

    number: int
    html_url: str
    runs: tuple[SweepRun, ...] = ()

    @property
    def last(self) -> SweepRun | None:
        return self.runs[0] if self.runs else None


def should_log(last: SweepRun | None, run: SweepRun) -> bool:
    """The quiet-day rule: log a run that changed something or failed, or the first of a UTC day."""
    return bool(run.changes or run.failures) or last is None or last.day < run.day


def pick_log(issues: Iterable[Issue], app_login: str) -> SweepLog | None:
    """The sweep log among the issues labelled `labels.bot`: the oldest the App opened with the
    marker (so a second log is never made, and nobody else's issue is taken for it)."""
    issues = list(issues)
    mine = own_issues(issues, app_login, LOG_MARKER)
    if not mine:  # someone edited the marker away: the App's own issue by its title (in any language) is still the log
        titles = {translator(language).gettext(LOG_TITLE) for language in LANGUAGES}
        mine = sorted((i for i in issues if i.user.login.lower() == app_login.lower() and i.title in titles),
                      key=lambda i: i.number)
    return _log_of(mine[0]) if mine else None


def _log_of(issue: Issue) -> SweepLog:
    return SweepLog(number=issue.number, html_url=issue.html_url, runs=decode_runs(issue.body))


def next_runs(run: SweepRun, found: SweepLog | None) -> tuple[SweepRun, ...]:
    """The runs the log keeps after `run`: only the latest keeps its list of changes."""
    previous = found.runs if found else ()
    return (run,) + tuple(dataclasses.replace(r, lines=()) for r in previous)[: KEEP_RUNS - 1]


def make_run(at: dt.datetime, applications: int, reports: int, lines: Iterable[Note], failures: Iterable[Note],
             requests: str = "") -> SweepRun:
    lines, failures = tuple(lines), tuple(failures)
    return SweepRun(at=iso(at), applications=applications, reports=reports, changes=len(lines),
                    failures=failures[:KEEP_LINES], lines=lines[:KEEP_LINES], requests=requests)


# --- the issue body ------------------------------------------------------------------------------


def render_log(runs: tuple[SweepRun, ...], tr: Translator) -> str:
    """The whole body, in the fund's language: what a person reads, then the hidden data. User-derived
    text is escaped. (The lines of changes and failures are the sweep's own log lines, as its process logs them.)"""
    last = runs[0]
    parts = [LOG_MARKER, "## " + tr.gettext("Fund Bot sweep log"),
             tr.gettext("Fund Bot edits this issue after each sweep that changed something or failed, and after the "
                        "first quiet sweep of each day. The fund's dashboard shows it too. Times are UTC."),
             tr.gettext("**Last logged run:** %(when)s · %(counts)s", when=when(last, tr), counts=counts(last, tr))]
    if last.lines:
        more = "\n- " + tr.ngettext("… and %(n)s more", "… and %(n)s more", last.changes - len(last.lines)) \
            if last.changes > len(last.lines) else ""
        parts.append("### " + tr.gettext("Changes") + "\n\n"
                     + "\n".join(f"- {escape_inline(describe(line, tr))}" for line in last.lines) + more)
    if last.failures:
        parts.append("### " + tr.gettext("Could not finish") + "\n\n"
                     + "\n".join(f"- {escape_inline(describe(f, tr))}" for f in last.failures))
    heads = (tr.gettext("Run (UTC)"), tr.gettext("Applications"), tr.gettext("Report issues"), tr.gettext("Changes"),
             tr.gettext("Failures"))
    rows = ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|"]
    rows += [f"| {when(r, tr)} | {tr.number(r.applications)} | {tr.number(r.reports)} | {tr.number(r.changes)} | "
             f"{tr.number(len(r.failures))} |" for r in runs]
    parts.append("### " + tr.gettext("Recent runs") + "\n\n" + "\n".join(rows))
    parts.append(encode_runs(runs))
    return "\n\n".join(parts) + "\n"


def when(run: SweepRun, tr: Translator) -> str:
    """When a run was, in UTC: its date as the language writes dates, and the time."""
    moment = parse_iso(run.at)
    return tr.gettext("%(date)s %(time)s", date=tr.date(moment.date()), time=moment.strftime("%H:%M"))


def counts(run: SweepRun, tr: Translator) -> str:
    """What a run did, in words (the sweep log, the dashboard)."""
    swept = tr.ngettext("%(n)s application", "%(n)s applications", run.applications)
    reports = tr.ngettext("%(n)s report issue", "%(n)s report issues", run.reports)
    changes = tr.ngettext("%(n)s change", "%(n)s changes", run.changes)
    failed = tr.ngettext("%(n)s failure", "%(n)s failures", len(run.failures)) if run.failures \
        else tr.gettext("no failures")
    text = tr.gettext("%(applications)s and %(reports)s swept, %(changes)s, %(failures)s", applications=swept,
                      reports=reports, changes=changes, failures=failed)
    return tr.gettext("%(counts)s (GitHub requests %(requests)s)", counts=text, requests=run.requests) \
        if run.requests else text


def encode_runs(runs: tuple[SweepRun, ...]) -> str:
    return hidden(SWEEP_TAG, {"v": LOG_VERSION, "runs": [dataclasses.asdict(r) for r in runs]})


def decode_runs(body: str) -> tuple[SweepRun, ...]:
    """The runs in a log body (of either version); () when there are none or they cannot be read."""
    block = read_hidden(SWEEP_TAG, body)
    version = block.data.get("v") if block else None
    if block is None or version not in (1, LOG_VERSION):
        return ()

    def note(item: Any, old: Callable[[str], Note]) -> Note:
        if version == 1:
            return old(str(item))
        return Note(str(item["code"]), dict(item.get("params") or {}))

    try:
        return tuple(SweepRun(**{**item, "failures": tuple(note(f, lambda t: Note("text", {"text": t}))
                                                           for f in item.get("failures", ())),
                                 "lines": tuple(note(line, _v1_line) for line in item.get("lines", ()))})
                     for item in block.data["runs"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return ()


def log_write(found: SweepLog | None, run: SweepRun, rules: Rules) -> UpsertIssue | None:
    """The sweep log written with `run`, under the quiet-day rule (None: nothing to write); opened the
    first time, in the fund's language."""
    if not should_log(found.last if found else None, run):
        return None
    tr = translator(rules.language)
    body = render_log(next_runs(run, found), tr)
    return UpsertIssue(LOG_MARKER, tr.gettext(LOG_TITLE), body, found.number if found else None,
                       labels=(rules.stages.labels.bot.name,))
