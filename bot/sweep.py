"""The sweep (SPEC §7): walk every application and bring it up to date, safely, at any time.

It sends reminders that are due, labels overdue reports, and repairs what lost deliveries left
behind (no status comment, an edit never checked, commands never carried out, labels out of step),
by running each application through the same pipeline as a webhook with a `SWEEP` trigger. All
state is read from GitHub, so running it twice, or after a crash, changes nothing more.

Cost: one listing per 100 applications, then one (conditional) comment listing per application,
plus the open progress-report issues (one more listing), plus the writes it must make.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.decide import Trigger, TriggerKind
from bot.gateway import GitHubError, GitHubGateway, RequestStats
from bot.gather import find_status, ledger_from_records
from bot.handlers import Context, run_application, run_report_issue

log = logging.getLogger("fundbot.sweep")


@dataclass
class SweepResult:
    applications: int = 0
    reports: int = 0
    lines: list[str] = field(default_factory=list)  # writes made (or, in a dry run, that would be)
    failures: list[str] = field(default_factory=list)
    stats: RequestStats | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def sweep(ctx: Context, gateway: GitHubGateway, repo: str, *, dry_run: bool = False) -> SweepResult:
    """Sweep `repo`; failures of single applications are collected, not raised."""
    result = SweepResult(stats=gateway.stats)
    labels = ctx.rules.stages.labels
    funded_label = ctx.rules.stages.outcomes["funded"].label.name
    try:
        applications = gateway.issues(repo, labels=labels.application.name, state="all")
    except GitHubError as err:
        result.failures.append(f"listing applications of {repo}: {err}")
        return result
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
    return result


def parse_now(text: str | None) -> dt.datetime:
    """`--now` as an aware UTC datetime (a date alone means midnight UTC)."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
