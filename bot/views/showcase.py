"""The showcase's content (成果展示): the fund's grants as the public may see them, from sealed records only.

`showcase()` turns the applications — each one's row (`bot.views.rows`, the export's and the dashboard's
reading) and its comments — and the fund's progress-report issues into grants by round, with what the
build must say about each. Pure: it reads nothing and writes nothing.

What is published is decided here:
- only funded applications whose record holds its seal (the outcome, the amount, the tranches, the
  reports accepted all come from the record, never from labels); declined, withdrawn and open ones never
  appear, and a record that fails its seal (edited by hand, copied from another issue) is left out and said;
- of the progress reports, those a reviewer accepted (`/accept-report`), each with its text as it stands
  on GitHub (the `/report` comment's text, or the report issue's answers) and its link;
- user text (a project's name, a report) is made inert here — bidirectional and other control characters
  removed, shortened to a bound — and is escaped where it is written (Jinja's autoescape, JSON, XML): HTML in
  it is shown as text, never run. Each of these is said in the build's output, never silently.

One grant's surprise never stops the others: it is left out and said (`Showcase.said`).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.policy.form_template import FieldType
from bot.policy.ledger import PlannedTranche, tranche_schedule
from bot.policy.models import Comment, Issue
from bot.policy.record import Record, ReportEntry
from bot.policy.reports import comment_report
from bot.policy.rules import Rules
from bot.policy.text import BIDI_RE, shorten
from bot.views.rows import ApplicationRow

NAME_LIMIT = 200  # characters of a project's name
REPORT_LIMIT = 20_000  # characters of one report shown; the whole is on GitHub, linked
# C0 and C1 controls but tab and newline, lone surrogates, and the two non-characters XML refuses: an
# Atom feed (XML 1.0) cannot hold them, and no reader needs them.
_CONTROLS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MARKUP_RE = re.compile(r"<[A-Za-z!/?]|&#?\w+;")


@dataclass(frozen=True)
class Shown:
    """User text as the showcase shows it, and what was done to make it so (for the build's output)."""

    text: str
    changes: tuple[str, ...] = ()  # "bidi", "controls", "markup", "shortened"


def inert(text: str, limit: int, *, one_line: bool = False) -> Shown:
    """`text` without bidirectional or other control characters, within `limit` characters (one line,
    when `one_line`); markup in it is noted (it is escaped where it is written, so it shows as text)."""
    changes = []
    if BIDI_RE.search(text):
        changes.append("bidi")
        text = BIDI_RE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROLS_RE.search(text):
        changes.append("controls")
        text = _CONTROLS_RE.sub("", text)
    if one_line:
        text = " ".join(text.split())
    else:
        text = text.strip()
    if _MARKUP_RE.search(text):
        changes.append("markup")
    if len(text) > limit:
        changes.append("shortened")
        text = shorten(text, limit)
    return Shown(text, tuple(changes))


@dataclass(frozen=True)
class EvidenceLine:
    """One line of the evidence at application and now (a figure the fund checked then, and today)."""

    what: str
    at_application: str
    now: str


def evidence_lines(record: Record) -> tuple[EvidenceLine, ...]:
    """SLOT — the evidence at application and now. The evidence pack (kept in the record by work done
    apart from the showcase) fills this: each of its figures as a line. A record without one has none,
    and the grant's page then shows no evidence section at all."""
    return ()


@dataclass(frozen=True)
class ReportSection:
    heading: str  # the report form's question ("" for a `/report` comment's text)
    text: str


@dataclass(frozen=True)
class ShownReport:
    """A progress report a reviewer accepted."""

    k: int  # its place among the grant's accepted reports (its page: reports/<number>-<k>.html)
    sent_at: dt.datetime
    sent_by: str
    accepted_at: dt.datetime
    url: str  # on GitHub
    sections: tuple[ReportSection, ...]  # () when the comment or issue is gone: the link only
    shortened: bool = False


@dataclass(frozen=True)
class Grant:
    number: int
    project: str
    url: str  # the application on GitHub
    repository: str  # OWNER/NAME as the eligibility check found it; "" when the record has none
    repository_url: str
    licence: str  # the SPDX id GitHub detected at the check; "" when none
    round: str
    amount: Decimal
    currency: str
    decided_at: dt.datetime
    decided_by: str
    tranches: tuple[PlannedTranche, ...]
    reports: tuple[ShownReport, ...]
    evidence: tuple[EvidenceLine, ...] = ()

    @property
    def released(self) -> Decimal:
        return sum((t.amount for t in self.tranches if t.released), Decimal(0))


@dataclass(frozen=True)
class Round:
    name: str
    grants: tuple[Grant, ...]  # latest decision first
    pool: Decimal | None

    @property
    def granted(self) -> Decimal:
        return sum((g.amount for g in self.grants), Decimal(0))

    @property
    def released(self) -> Decimal:
        return sum((g.released for g in self.grants), Decimal(0))


@dataclass(frozen=True)
class Showcase:
    repo: str
    currency: str
    rounds: tuple[Round, ...]  # the rules' rounds, latest first, then any a record names that they lack
    read: int  # applications read
    said: tuple[str, ...] = field(default=())  # what the build tells its operator, one line each

    @property
    def grants(self) -> tuple[Grant, ...]:
        return tuple(g for r in self.rounds for g in r.grants)


def _licence(record: Record) -> str:
    check = next((c for c in record.checks if c.id == "licence"), None)
    licence = check.figure.params.get("licence") if check and check.figure.code == "licence.detected" else None
    return inert(str(licence), 60, one_line=True).text if licence else ""


def _web_root(issue_url: str) -> str:
    """`https://github.com` (or a GitHub Enterprise host) from an issue's address."""
    return "/".join(issue_url.split("/")[:3])


def _report_sections(entry: ReportEntry, comments: Mapping[int, Comment], report_issues: Mapping[int, Issue],
                     rules: Rules) -> tuple[tuple[ReportSection, ...], str | None]:
    """The report's text as sections, and its address when it was found (None: it is gone)."""
    kind, _, ref = entry.ref.partition(":")
    if not ref.isdigit():
        return (), None
    if kind == "comment" and (comment := comments.get(int(ref))) is not None:
        text = comment_report(comment.body)
        return ((ReportSection("", text),) if text else ()), comment.html_url or None
    if kind == "issue" and (issue := report_issues.get(int(ref))) is not None:
        form = rules.read_report(issue.body)
        fields = form.template.fields if form.template is not None else ()
        sections = tuple(ReportSection(f.label, answer) for f in fields
                         if f.type in (FieldType.INPUT, FieldType.TEXTAREA) and f.id != "application"
                         and isinstance(answer := form.answers.get(f.id), str) and answer.strip())
        return sections, issue.html_url
    return (), None


def _report_url(entry: ReportEntry, application: Issue) -> str:
    kind, _, ref = entry.ref.partition(":")
    if kind == "comment":
        return f"{application.html_url}#issuecomment-{ref}"
    return f"{application.html_url.rsplit('/issues/', 1)[0]}/issues/{ref}"


def grant_of(row: ApplicationRow, issue: Issue, comments: Sequence[Comment], report_issues: Mapping[int, Issue],
             rules: Rules, said: list[str]) -> Grant | None:
    """The grant a funded application with a sealed record shows; None for every other application
    (those not funded silently, the others said)."""
    record = row.record
    if not row.sealed:
        said.append(f"#{row.number}: left out: its record does not hold its seal (edited by hand, or copied from "
                    "another issue); `fundbot verify` lists it, and the bot rebuilds it at its next run")
        return None
    if record is None or not record.funded or record.outcome is None:
        if row.outcome == "funded":
            said.append(f"#{row.number}: left out: labelled funded, but no record of a grant holds it")
        return None
    tag = f"#{row.number}"
    name = inert(row.project, NAME_LIMIT, one_line=True)
    _say_changes(said, tag, "the project's name", name)
    repository = inert(record.repository, 140, one_line=True).text
    if not repository:
        said.append(f"{tag}: no repository in its record: shown without one")
    by_id = {c.id: c for c in comments}
    reports = []
    for entry in (r for r in record.reports if r.review == "accepted"):
        sections, found_url = _report_sections(entry, by_id, report_issues, rules)
        day = entry.at.date().isoformat()
        if found_url is None:
            said.append(f"{tag}: the report of {day} is gone from GitHub (its {entry.ref.partition(':')[0]} was "
                        "deleted): shown as a link")
        elif not sections:
            said.append(f"{tag}: the report of {day} no longer holds a report on GitHub (edited since): shown as a "
                        "link")
        shown = []
        shortened = False
        budget = REPORT_LIMIT
        for section in sections:
            text = inert(section.text, max(budget, 1))
            _say_changes(said, tag, f"the report of {day}", text, whole=len(section.text))
            shortened = shortened or "shortened" in text.changes
            budget -= len(text.text)
            shown.append(ReportSection(inert(section.heading, 200, one_line=True).text, text.text))
            if budget <= 0:
                break
        reports.append(ShownReport(k=len(reports) + 1, sent_at=entry.at, sent_by=entry.by,
                                   accepted_at=entry.reviewed_at or entry.at,
                                   url=found_url or _report_url(entry, issue), sections=tuple(shown),
                                   shortened=shortened))
    return Grant(
        number=row.number, project=name.text or f"#{row.number}", url=issue.html_url, repository=repository,
        repository_url=f"{_web_root(issue.html_url)}/{repository}" if repository else "",
        licence=_licence(record), round=record.round or rules.funding.rounds[0].name,
        amount=record.granted, currency=rules.funding.currency, decided_at=record.outcome.at,
        decided_by=record.outcome.by, tranches=tranche_schedule(record, rules), reports=tuple(reports),
        evidence=evidence_lines(record),
    )


_CHANGE_WORDS = {
    "bidi": "bidirectional control characters removed from {what}",
    "controls": "control characters removed from {what}",
    "markup": "{what} holds HTML: shown as text, never run",
    "shortened": "{what} is {length:,} characters long: shown shortened to {limit:,}, the whole on GitHub",
}


def _say_changes(said: list[str], tag: str, what: str, shown: Shown, whole: int = 0) -> None:
    for change in shown.changes:
        said.append(f"{tag}: " + _CHANGE_WORDS[change].format(what=what, length=whole, limit=len(shown.text)))


def showcase(repo: str, applications: Iterable[tuple[ApplicationRow, Issue, Sequence[Comment]]],
             report_issues: Mapping[int, Issue], rules: Rules) -> Showcase:
    """The fund's grants by round, from each application's row, issue and comments, and the fund's
    progress-report issues (by number)."""
    said: list[str] = []
    grants: list[Grant] = []
    read = 0
    for row, issue, comments in applications:
        read += 1
        try:
            grant = grant_of(row, issue, comments, report_issues, rules, said)
        except Exception as err:  # noqa: BLE001 - one grant's surprise is said; the others are built
            said.append(f"#{row.number}: left out: it could not be read ({type(err).__name__}: {str(err)[:200]})")
            continue
        if grant is not None:
            grants.append(grant)
    names = [r.name for r in reversed(rules.funding.rounds)]
    names += sorted({g.round for g in grants} - set(names))
    rounds = tuple(
        Round(name, tuple(sorted((g for g in grants if g.round == name), key=lambda g: (g.decided_at, g.number),
                                 reverse=True)), rules.funding.pool(name))
        for name in names)
    return Showcase(repo=repo, currency=rules.funding.currency,
                    rounds=tuple(r for r in rounds if r.grants or r.pool is not None), read=read, said=tuple(said))


def without(shown: Showcase, number: int, reason: str) -> Showcase:
    """`shown` with grant `number` left out (it could not be written), and why."""
    rounds = tuple(Round(r.name, tuple(g for g in r.grants if g.number != number), r.pool) for r in shown.rounds)
    return Showcase(shown.repo, shown.currency, rounds, shown.read, shown.said + (f"#{number}: left out: {reason}",))
