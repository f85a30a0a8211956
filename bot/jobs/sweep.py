"""The sweep (SPEC §7): walk every application and bring it up to date, safely, at any time.

It sends reminders that are due, labels overdue reports, and repairs what lost deliveries left
behind (no status comment, an edit never checked, commands never carried out, labels out of step),
by running each application through the same pipeline as a webhook with a `SWEEP` trigger. All
state is read from GitHub, so running it twice, or after a crash, changes nothing more.

Cost: one listing per 100 applications, then one (conditional) comment listing per application,
plus the open progress-report issues (one more listing), plus the writes it must make, plus the
sweep log (`bot.jobs.sweeplog`: read and written only when something changed or failed, or on a
process's first sweep of a UTC day; a quiet sweep the same process already logged today costs
nothing for it).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.policy.decide import Trigger, TriggerKind
from bot.github.gateway import GitHubError, GitHubGateway, RequestStats
from bot.jobs.gather import find_status, ledger_from_records
from bot.jobs.handle import Context, run_application, run_report_issue
from bot.jobs.sweeplog import SweepLog, find_log, make_run, should_log, write_log

log = logging.getLogger("fundbot.sweep")


@dataclass
class SweepResult:
    applications: int = 0
    reports: int = 0
    lines: list[str] = field(default_factory=list)  # writes made (or, in a dry run, that would be)
    failures: list[str] = field(default_factory=list)
    stats: RequestStats | None = None
    log: SweepLog | None = None  # the sweep log as found, or as written by this run
    logged: bool = False  # this run was written to the sweep log

    @property
    def ok(self) -> bool:
        return not self.failures


def sweep(ctx: Context, gateway: GitHubGateway, repo: str, *, dry_run: bool = False) -> SweepResult:
    """Sweep `repo`, then log the run (not in a dry run); failures are collected, not raised."""
    result = SweepResult(stats=gateway.stats)
    _sweep(ctx, gateway, repo, result, dry_run)
    if not dry_run:
        _keep_log(ctx, gateway, repo, result)
    return result


def _keep_log(ctx: Context, gateway: GitHubGateway, repo: str, result: SweepResult) -> None:
    """Leave the run on GitHub for the dashboard, under the quiet-day rule (`bot.jobs.sweeplog`)."""
    run = make_run(ctx.clock(), result.applications, result.reports, result.lines, result.failures,
                   str(gateway.stats))
    known = ctx.sweep_logs.get(repo.lower())
    if known and known.last and not should_log(known.last, run):
        result.log = known  # a quiet sweep already logged today by this process: not even a read
        return
    try:
        result.log = find_log(gateway, repo, ctx.rules)  # read afresh: another process may have logged
        if should_log(result.log.last if result.log else None, run):
            result.log = write_log(gateway, repo, ctx.rules, run, result.log)
            result.logged = True
        if result.log:
            ctx.sweep_logs[repo.lower()] = result.log
    except GitHubError as err:
        result.failures.append(f"writing the sweep log: {err}")
        log.warning("sweep could not write its log", extra={"repo": repo, "reason": str(err)})


def _sweep(ctx: Context, gateway: GitHubGateway, repo: str, result: SweepResult, dry_run: bool) -> None:
    labels = ctx.rules.stages.labels
    funded_label = ctx.rules.stages.outcomes["funded"].label.name
    try:
        applications = gateway.issues(repo, labels=labels.application.name, state="all")
    except GitHubError as err:
        result.failures.append(f"listing applications of {repo}: {err}")
        return
    # Closed applications are finished, except funded ones, which still count against the pool.
    relevant = [i for i in applications if i.state == "open" or i.has_label(funded_label)]
    comments = {}
    for issue in relevant:
        try:
            comments[issue.number] = tuple(gateway.comments(repo, issue.number)) if issue.comments else ()
        except GitHubError as err:
            result.failures.append(f"#{issue.number}: reading comments: {err}")
    records = [(n, record) for n, listed in comments.items() if (record := find_status(listed)[1])]
    ledger = ledger_from_records(records, ctx.rules) if ctx.rules.funding.pool is not None else None

    for issue in relevant:
        if issue.state != "open" or issue.number not in comments:
            continue
        result.applications += 1
        try:
            applied = run_application(ctx, gateway, issue, Trigger(TriggerKind.SWEEP), dry_run=dry_run,
                                      comments=comments[issue.number], ledger=ledger)
            result.lines.extend(applied.lines)
        except GitHubError as err:
            result.failures.append(f"#{issue.number}: {err}")
            log.warning("sweep could not finish an application", extra={"issue": issue.number, "reason": str(err)})

    try:
        reports = gateway.issues(repo, labels=labels.report.name, state="open")
    except GitHubError as err:
        result.failures.append(f"listing progress-report issues: {err}")
        reports = []
    for report in reports:
        result.reports += 1
        try:
            result.lines.extend(run_report_issue(ctx, gateway, report, dry_run=dry_run).lines)
        except GitHubError as err:
            result.failures.append(f"report #{report.number}: {err}")


def parse_now(text: str | None) -> dt.datetime:
    """`--now` as an aware UTC datetime (a date alone means midnight UTC)."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
