"""The pipeline as data: one row per application, read from GitHub, for the dashboard and the export.

One source of truth for both: `pipeline_rows` lists the applications (one conditional listing per
100) and each one's comments (conditional, skipped when it has none), reads the bot's record from
the status comment, and makes a frozen `ApplicationRow` of each with `application_row`, a pure
function of the issue, its comments, the rules and today's UTC date.

`PipelineSource` keeps the last result for a short time (`ttl` seconds), so page views inside it
make no request at all, and after it the ETag cache turns an unchanged pipeline into 304s, which
cost nothing against the rate limit.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import mean, median
from typing import Any

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.evidence_flow import current_pack
from bot.policy.evidence_pack import Pack
from bot.policy.i18n import N_
from bot.policy.fundstate import decode
from bot.policy.markers import FUND_STATE_MARKER, find_status, own_issues
from bot.policy.models import Comment, Issue
from bot.policy.record import AuditEntry, Record, Tranche
from bot.policy.reports import ReportState, report_status
from bot.policy.rules import Rules
from bot.policy.seal import verified
from bot.policy.sweeplog import SweepLog, pick_log
from bot.policy.waiting import Waiting, waiting

log = logging.getLogger("fundbot.pipeline")

DEFAULT_TTL = 30.0  # seconds: a reviewer's refresh is answered from memory, yet the page is never old


class Eligibility(enum.Enum):
    """The value is what the export writes, and the dashboard shows translated (a catalogue message)."""

    PASSED = N_("passed")
    FAILED = N_("failed")
    INCOMPLETE = N_("incomplete")  # the form has problems to fix
    UNCHECKED = N_("not checked")  # no record yet (the bot has not seen it, or a delivery was lost)


@dataclass(frozen=True)
class CriterionScore:
    criterion: str
    mean: float | None  # None: nobody scored it yet
    count: int


@dataclass(frozen=True)
class ApplicationRow:
    """Everything the dashboard shows and the export writes about one application (dates UTC)."""

    number: int
    title: str
    project: str  # from the form, else the issue title
    applicant: str
    html_url: str
    state: str  # the issue's: open | closed
    column: str  # the outcome when there is one, else the stage
    stage: str
    outcome: str | None  # funded | declined | withdrawn
    eligibility: Eligibility
    waived: tuple[str, ...]
    scores: tuple[CriterionScore, ...]  # one per criterion of the rules, in their order
    votes_up: int
    votes_down: int
    filed_on: dt.date
    stage_since: dt.date
    days_in_stage: int | None  # None once there is an outcome
    stage_limit: int | None  # the stage's max_days
    needs_info: bool
    assignees: tuple[str, ...]
    decided_on: dt.date | None  # the outcome's date (withdrawals included)
    amount_requested: Decimal | None
    amount_granted: Decimal | None
    reports_received: int
    reports_expected: int | None  # None: the grant reports without end
    next_report_due: dt.date | None
    report_state: ReportState
    round: str = ""  # the funding round it belongs to ("" while it waits for one)
    tranches: tuple[Tranche, ...] = ()  # the parts of the grant released for payment
    audit: tuple[AuditEntry, ...] = ()  # every decision, with who, when and why
    sealed: bool = True  # the record's seal holds (or no key was given to check it)
    # The record itself, when there is one and its seal holds (or no key was given to check it): what
    # the showcase publishes comes from here only, never from labels or an unsealed record.
    record: Record | None = field(default=None, compare=False, repr=False)
    evidence: Pack | None = None  # the latest evidence pack (issue 21), about the repository applied with
    evidence_first: Pack | None = None  # the pack read at application, to compare with
    waiting: Waiting | None = None  # what it waits on, on whom, since when, and the next reminder

    @property
    def overdue(self) -> bool:
        return self.report_state is ReportState.OVERDUE

    @property
    def stalled(self) -> bool:
        """Longer in its stage than the rules allow (the sweep reminds the assignees)."""
        return self.days_in_stage is not None and self.stage_limit is not None and self.days_in_stage > self.stage_limit

    @property
    def days_to_decision(self) -> int | None:
        """Filing to funding or declining; withdrawals are not decisions."""
        if self.outcome not in ("funded", "declined") or self.decided_on is None:
            return None
        return (self.decided_on - self.filed_on).days


def _day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(dt.timezone.utc).date() if moment else None


def _eligibility(record: Record | None) -> Eligibility:
    if record is None or not (record.checks or record.form_problems):
        return Eligibility.UNCHECKED
    if record.form_problems:
        return Eligibility.INCOMPLETE
    return Eligibility.PASSED if record.eligible else Eligibility.FAILED


def _scores(record: Record, rules: Rules) -> tuple[CriterionScore, ...]:
    out = []
    for criterion in rules.stages.criteria:
        values = [s.value for s in record.scores if s.criterion == criterion and record.counts(s.reviewer)]
        out.append(CriterionScore(criterion, mean(values) if values else None, len(values)))
    return tuple(out)


def _project(issue: Issue, answers: dict[str, object]) -> str:
    name = answers.get("project_name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return issue.title.split(":", 1)[1].strip() if issue.title.startswith("[Application]:") else issue.title


def application_row(issue: Issue, comments: Iterable[Comment], rules: Rules, today: dt.date,
                    app_login: str, seal_key: bytes | None = None, seal_previous: tuple[bytes, ...] = (),
                    away: frozenset[str] = frozenset()) -> ApplicationRow:
    """One application's row, from the issue, its comments (for the status record) and the rules.

    Without a record yet (the bot has not seen the issue, or a delivery was lost), the labels
    say the stage or outcome, and the stage defaults to the first one."""
    read = find_status(comments, app_login)[1]
    checked = verified(read, seal_key, issue.repo, issue.number, seal_previous)
    found = read.record
    record = found or Record()
    form = rules.read_application(issue.body)
    stages = rules.stages
    by_label = next((s.name for label in issue.labels if (s := stages.stage_by_label(label))), None)
    stage = record.stage or by_label or stages.first.name
    outcome = record.outcome.name if record.outcome else next(
        (name for name, spec in stages.outcomes.items() if issue.has_label(spec.label.name)), None)
    filed = issue.created_at.date()
    since = _day(record.stage_since) or filed
    spec = stages.stage(stage)
    funded = outcome == "funded"
    granted = record.outcome.amount if funded and record.outcome else None
    reports = report_status(record, rules.reports, today)
    return ApplicationRow(
        number=issue.number, title=issue.title, project=_project(issue, dict(form.answers)),
        applicant=issue.user.login, html_url=issue.html_url, state=issue.state,
        column=outcome or stage, stage=stage, outcome=outcome,
        eligibility=_eligibility(found), waived=tuple(w.check for w in record.waivers),
        scores=_scores(record, rules), votes_up=record.votes_up, votes_down=record.votes_down,
        filed_on=filed, stage_since=since,
        days_in_stage=None if outcome else (today - since).days, stage_limit=spec.max_days if spec else None,
        needs_info=record.needs_info is not None, assignees=issue.assignees,
        decided_on=_day(record.outcome.at) if record.outcome else None,
        amount_requested=form.funding_amount, amount_granted=granted,
        reports_received=reports.received, reports_expected=reports.expected if funded else None,
        next_report_due=reports.next_due, report_state=reports.state,
        round=record.round, tranches=record.tranches, audit=record.audit,
        sealed=checked.record is not None or read.record is None,
        record=checked.record,
        evidence=current_pack(record), evidence_first=record.evidence.first if record.evidence else None,
        waiting=waiting(found, issue, form, rules, dt.datetime.combine(today, dt.time(), dt.timezone.utc), away),
    )


def read_applications(gateway: GitHubGateway, repo: str, rules: Rules) -> Iterator[tuple[Issue, list[Comment]]]:
    """Every application with its comments, in issue order — what `application_row` is made from.

    :calls: `GET /repos/{o}/{r}/issues?labels=<application>&state=all` (conditional, every page),
    then `GET …/issues/{n}/comments` for each application with comments (conditional)."""
    for issue in gateway.issues(repo, labels=rules.stages.labels.application.name, state="all"):
        yield issue, gateway.comments(repo, issue.number) if issue.comments else []


def pipeline_rows(gateway: GitHubGateway, repo: str, rules: Rules, today: dt.date,
                  seal_key: bytes | None = None, seal_previous: tuple[bytes, ...] = (),
                  away: frozenset[str] = frozenset()) -> list[ApplicationRow]:
    """One row per application (`read_applications`'s requests). `away`: the reviewers away today, whom no
    application waits on (`away_today`)."""
    login = gateway.app_login
    return [application_row(issue, comments, rules, today, login, seal_key, seal_previous, away)
            for issue, comments in read_applications(gateway, repo, rules)]


def fund(ctx: Any, repo: str) -> tuple[GitHubGateway, Rules] | None:
    """The fund's gateway and its own rules (its `.github/fund-bot.yml` over the server's), for a command that
    reads it (`ctx`: a process's context); None, said on stderr, when `repo` is no fund. Raises `GitHubError`."""
    gateway = ctx.github.for_repository(repo)
    rules = ctx.fund_rules(gateway, repo)
    if rules is None:
        print(f"fundbot: {repo} is not a fund, or has never had a valid .github/fund-bot.yml", file=sys.stderr)
        return None
    return gateway, rules


def away_today(bot_issues: Iterable[Issue], app_login: str, today: dt.date) -> frozenset[str]:
    """The reviewers away today, as the fund-state issue among the App's issues says (`/away` is no money: its
    seal is not needed to leave someone out of a list of whom an application waits on)."""
    found = own_issues(bot_issues, app_login, FUND_STATE_MARKER)
    state = decode(found[0].body) if found else None
    return state.away_on(today) if state is not None else frozenset()


def waiting_rows(rows: Iterable[ApplicationRow]) -> list[ApplicationRow]:
    """The applications that wait on someone or something, the longest waiting first."""
    return sorted((r for r in rows if r.waiting is not None), key=lambda r: (r.waiting.since, r.number))  # type: ignore[union-attr]


def in_round(rows: Iterable[ApplicationRow], round_name: str | None) -> list[ApplicationRow]:
    """The rows of one funding round (all of them when `round_name` is None)."""
    return [r for r in rows if round_name is None or r.round == round_name]


# --- views of the rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the stage's or outcome's name
    is_outcome: bool
    stage_limit: int | None
    rows: tuple[ApplicationRow, ...]


def columns(rows: Iterable[ApplicationRow], rules: Rules) -> tuple[Column, ...]:
    """Stages in the rules' order, then the outcomes. Waiting longest first in a stage; latest
    decision first in an outcome."""
    rows = list(rows)
    out = []
    for spec in rules.stages.stages:
        here = sorted((r for r in rows if r.column == spec.name), key=lambda r: (r.stage_since, r.number))
        out.append(Column(spec.name, False, spec.max_days, tuple(here)))
    for name in rules.stages.outcomes:
        here = sorted((r for r in rows if r.column == name),
                      key=lambda r: (r.decided_on or r.filed_on, r.number), reverse=True)
        out.append(Column(name, True, None, tuple(here)))
    return tuple(out)


def median_days_to_decision(rows: Iterable[ApplicationRow]) -> float | None:
    days = [d for r in rows if (d := r.days_to_decision) is not None]
    return median(days) if days else None


def grants(rows: Iterable[ApplicationRow]) -> list[ApplicationRow]:
    """Funded applications: overdue reports first, then by the next report's due date."""
    funded = [r for r in rows if r.outcome == "funded"]
    return sorted(funded, key=lambda r: (not r.overdue, r.next_report_due or dt.date.max, r.number))


# --- the cached source ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """What one read of GitHub gave, and what it cost."""

    repo: str
    as_of: dt.datetime  # UTC
    today: dt.date
    rows: tuple[ApplicationRow, ...]
    sweep_log: SweepLog | None
    reads: int  # requests that counted against the rate limit
    not_modified: int  # 304s, which do not
    error: str | None = None  # GitHub failed at the last refresh: these rows are older


class PipelineSource:
    """`pipeline_rows` and the sweep log behind a time-to-live, shared by the page's threads.

    Inside `ttl` seconds a view makes no request at all. After it, with `background` (the
    dashboard's way) the view is served the rows it already has at once, while one thread reads
    GitHub again (only 304s when nothing changed), so no view waits for GitHub but the very first;
    without it, the view waits for the read (the others wait for that one rather than each asking
    GitHub). When GitHub fails, the last rows are kept with the error, and the next try waits
    another `ttl`.
    """

    def __init__(self, gateway: Callable[[], GitHubGateway], repo: str, rules: Rules,
                 clock: Callable[[], dt.datetime], *, ttl: float = DEFAULT_TTL,
                 monotonic: Callable[[], float] = time.monotonic, background: bool = False) -> None:
        self._gateway = gateway
        self._repo = repo
        self.rules = rules
        self._clock = clock
        self._ttl = ttl
        self._monotonic = monotonic
        self._background = background
        self._lock = threading.Lock()  # guards the fields below
        self._reading = threading.Lock()  # one read of GitHub at a time
        self._current: Pipeline | None = None
        self._expires = 0.0
        self._refresher: threading.Thread | None = None
        self._first_error: GitHubError | None = None
        self.refreshes = 0  # reads of GitHub made (for tests and the benchmark)

    def get(self) -> Pipeline:
        """The pipeline, at most `ttl` seconds old (or, in the background mode, the last one while
        a fresher one is read); raises `GitHubError` only if none was ever read."""
        with self._lock:
            current = self._current
            if current is not None and self._monotonic() < self._expires:
                return current
            if current is not None and self._background:
                if self._refresher is None or not self._refresher.is_alive():
                    self._refresher = threading.Thread(target=self._refresh, name="dashboard-refresh", daemon=True)
                    self._refresher.start()
                return current
        self._refresh()
        with self._lock:
            if self._current is None:
                raise self._first_error or GitHubError(0, "GitHub could not be read")
            return self._current

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background refresh to finish (tests, and a clean shutdown)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    def invalidate(self) -> None:
        with self._lock:
            self._expires = 0.0

    def _refresh(self) -> None:
        with self._reading:
            with self._lock:
                if self._current is not None and self._monotonic() < self._expires:
                    return  # another thread refreshed while this one waited
            try:
                fresh: Pipeline | None = self._read()
                error = None
            except GitHubError as err:
                log.warning("dashboard could not read GitHub", extra={"repo": self._repo, "reason": str(err)})
                fresh, error = None, err
            with self._lock:
                if fresh is not None:
                    self._current = fresh
                elif self._current is not None:
                    self._current = dataclasses.replace(self._current, error=str(error))
                self._first_error = error if self._current is None else None
                self._expires = self._monotonic() + self._ttl

    def _read(self) -> Pipeline:
        self.refreshes += 1
        gateway = self._gateway()
        now = self._clock()
        bot_issues = gateway.issues(self._repo, labels=self.rules.stages.labels.bot.name, state="all")
        sweep_log = pick_log(bot_issues, gateway.app_login)
        rows = pipeline_rows(gateway, self._repo, self.rules, now.date(),
                             away=away_today(bot_issues, gateway.app_login, now.date()))
        return Pipeline(repo=self._repo, as_of=now, today=now.date(), rows=tuple(rows), sweep_log=sweep_log,
                        reads=gateway.stats.reads - gateway.stats.not_modified,
                        not_modified=gateway.stats.not_modified)
