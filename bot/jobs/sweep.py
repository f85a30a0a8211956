"""The sweep (SPEC §7): walk every application and bring it up to date, safely, at any time.

It sends reminders that are due, labels overdue reports, and repairs what lost deliveries left
behind (no status comment, an edit never checked, commands never carried out, labels out of step,
a status comment duplicated by an older version), by running each application through the same
pipeline as a webhook with a `SWEEP` trigger — under the same per-application lock, re-reading the
issue and its comments once it holds it. All state is read from GitHub, so running it twice, or
after a crash, or while deliveries arrive, changes nothing more.

Every sweep finishes (SPEC §11): a failure on one application is reported for it and the sweep
goes on; the summary and exit status say what failed. Funded applications are swept whoever
closed them: reports are owed while the grant runs.

Cost: one listing per 100 applications, then two conditional reads per application (the issue and
its comments: 304s, free against the rate limit, when nothing changed), plus the open progress-report
issues (one more listing), plus the writes it must make, plus the sweep log (read and written only
when something changed or failed, or on a process's first sweep of a UTC day). An application still
wanting its evidence pack (its follow-up job was lost: a restart, a failure) has it read here — at most
`MAX_PACKS` a sweep, each at most 25 GitHub requests and one per outside service.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, RequestStats
from bot.jobs.context import Context
from bot.jobs.evidence import follow_up
from bot.jobs.digest import keep_digest
from bot.jobs.fund_setup import reconcile
from bot.jobs.pipeline import apply, run_application, run_report_issue
from bot.metrics import observe_sweep
from bot.policy.fundstate import fund_state_write
from bot.policy.intake import to_sweep
from bot.policy.ledger import reconcile as reconciled_ledger
from bot.policy.lines import failure, line, refused
from bot.policy.models import Issue
from bot.policy.record import Note, Record
from bot.policy.rules import Rules
from bot.policy.sweeplog import LOG_MARKER, SweepLog, log_write, make_run, next_runs, pick_log
from bot.policy.triggers import Trigger, TriggerKind

log = logging.getLogger("fundbot.sweep")
MAX_PACKS = 10  # evidence packs one sweep reads for applications whose follow-up was lost (issue 21)


@dataclass
class SweepResult:
    applications: int = 0
    reports: int = 0
    lines: list[Note] = field(default_factory=list)  # writes made (or, in a dry run, that would be)
    failures: list[Note] = field(default_factory=list)
    stats: RequestStats | None = None
    log: SweepLog | None = None  # the sweep log as found, or as written by this run
    logged: bool = False  # this run was written to the sweep log

    @property
    def ok(self) -> bool:
        return not self.failures


def sweep(ctx: Context, gateway: GitHubGateway, repo: str, *, dry_run: bool = False) -> SweepResult:
    """Sweep the fund `repo`, then log the run (not in a dry run); failures are collected, not raised."""
    result = _swept(ctx, gateway, repo, dry_run)
    if not dry_run:
        observe_sweep(result.applications, len(result.lines), len(result.failures), time.time())
    return result


def _swept(ctx: Context, gateway: GitHubGateway, repo: str, dry_run: bool) -> SweepResult:
    result = SweepResult(stats=gateway.stats)
    try:
        # Read afresh; outside a dry run, also put the configuration issue and the fund state in step.
        config = ctx.funds.config(gateway, repo, fresh=True) if dry_run else reconcile(ctx, gateway, repo)
    except GitHubError as err:
        result.failures.append(failure("config_read", repo=repo, error=str(err)))
        return result
    if config.rules is None:
        result.failures.append(failure("not_fund_problems", repo=repo, count=len(config.problems)) if config.problems
                               else failure("not_fund", repo=repo))
        return result
    if config.problems:
        result.failures.append(failure("config_problems", repo=repo, count=len(config.problems)))
    _sweep(ctx, gateway, repo, config.rules, result, dry_run)
    if not dry_run:
        _keep_log(ctx, gateway, repo, config.rules, result)
    return result


def find_log(gateway: GitHubGateway, repo: str, rules: Rules) -> SweepLog | None:
    """:calls: `GET /repos/{owner}/{repo}/issues?labels=<labels.bot>&state=all` (conditional)"""
    return pick_log(gateway.issues(repo, labels=rules.stages.labels.bot.name, state="all"), gateway.app_login)


def _keep_log(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, result: SweepResult) -> None:
    """Leave the run on GitHub for the dashboard, under the quiet-day rule (`bot.policy.sweeplog`)."""
    run = make_run(ctx.clock(), result.applications, result.reports, result.lines, result.failures,
                   str(gateway.stats))
    known = ctx.sweep_logs.get(repo.lower())
    if known and known.last and log_write(known, run, rules) is None:
        result.log = known  # a quiet sweep already logged today by this process: not even a read
        return
    try:
        with ctx.locks.fund(repo):  # two sweeps at once must not open two logs
            found = find_log(gateway, repo, rules)  # read afresh: another process may have logged
            result.log = found
            write = log_write(found, run, rules)
            if write is not None:
                applied = apply(gateway, (write,), ctx.clock(), repo=repo)
                issue = applied.opened.get(LOG_MARKER)
                result.log = SweepLog(number=issue.number if issue else found.number,  # type: ignore[union-attr]
                                      html_url=issue.html_url if issue else found.html_url,  # type: ignore[union-attr]
                                      runs=next_runs(run, found))
                result.logged = True
        if result.log:
            ctx.sweep_logs[repo.lower()] = result.log
    except GitHubError as err:
        result.failures.append(failure("log", error=str(err)))
        log.warning("sweep could not write its log", extra={"repo": repo, "reason": str(err)})


def _sweep(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, result: SweepResult, dry_run: bool) -> None:
    labels = rules.stages.labels
    try:
        applications = gateway.issues(repo, labels=labels.application.name, state="all")
    except GitHubError as err:
        result.failures.append(failure("listing", repo=repo, error=str(err)))
        return
    relevant = to_sweep(applications, rules)
    # The ledger as it was before any record is read: a grant made while the sweep runs (after it read that
    # application's record) is not in it, and the reconciliation leaves such a grant alone.
    try:
        before = ctx.funds.issues.fund_state(gateway, repo, labels.bot.name).state.grants
    except GitHubError as err:
        result.failures.append(failure("ledger", error=str(err)))
        before = None
    records: list[tuple[int, Record]] = []
    swept: list[tuple[Issue, Record]] = []  # for the weekly digest
    complete = True
    packs = MAX_PACKS  # evidence packs a lost follow-up left unread, read here (the rest at the next sweep)
    for issue in relevant:
        result.applications += 1
        try:
            applied = run_application(ctx, gateway, issue, Trigger(TriggerKind.SWEEP), rules=rules, dry_run=dry_run)
            if applied.follow_ups and packs > 0:
                packs -= 1
                read = follow_up(ctx, gateway, issue.repo, issue.number, rules=rules)
                if read is not None:
                    applied.lines += read.lines
                    applied.failures += read.failures
                    applied.record = read.record or applied.record
            result.lines.extend(applied.lines)
            result.failures.extend(refused(issue.number, f.what, f.status, f.message) for f in applied.failures)
            if applied.record is not None:
                records.append((issue.number, applied.record))
                swept.append((issue, applied.record))
            continue
        except GitHubError as err:
            result.failures.append(failure("application", number=issue.number, error=str(err)))
            log.warning("sweep could not finish an application", extra={"issue": issue.number, "reason": str(err)})
        except Exception as err:  # one application's surprise must not stop the others
            result.failures.append(failure("application", number=issue.number, error=f"{type(err).__name__}: {err}"))
            log.exception("sweep failed on an application", extra={"issue": issue.number})
        complete = False
    if complete and before is not None:
        _reconcile_ledger(ctx, gateway, repo, rules, records, before, result, dry_run)
    digest_lines, digest_failures = keep_digest(ctx, gateway, repo, rules, swept, dry_run)
    result.lines.extend(digest_lines)
    result.failures.extend(digest_failures)

    try:
        reports = gateway.issues(repo, labels=labels.report.name, state="open")
    except GitHubError as err:
        result.failures.append(failure("reports", error=str(err)))
        reports = []
    for report in reports:
        result.reports += 1
        try:
            applied = run_report_issue(ctx, gateway, report, rules=rules, dry_run=dry_run)
            result.lines.extend(applied.lines)
        except GitHubError as err:
            result.failures.append(failure("report", number=report.number, error=str(err)))
        except Exception as err:
            result.failures.append(failure("report", number=report.number, error=f"{type(err).__name__}: {err}"))
            log.exception("sweep failed on a report issue", extra={"issue": report.number})


def _reconcile_ledger(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, records: list[tuple[int, Record]],
                      before: Mapping[str, Mapping[int, Decimal]], result: SweepResult, dry_run: bool) -> None:
    """Put the fund's ledger in step with the funded applications' own records (a grant entered whose
    record never got written, after a crash; a record edited by hand is not trusted anyway)."""
    try:
        with ctx.locks.fund(repo):
            fund = ctx.funds.issues.fund_state(gateway, repo, rules.stages.labels.bot.name)
            state = reconciled_ledger(fund.state, records, rules, held_before=before)
            if state is None:
                return
            result.lines.append(line("ledger", repo=repo))
            write = fund_state_write(fund, state, repo, rules, ctx.seal_key)
            applied = apply(gateway, (write,), ctx.clock(), repo=repo, dry_run=dry_run)
            for marker, opened in applied.opened.items():
                ctx.funds.issues.remember(repo, marker, opened.number)
    except GitHubError as err:
        result.failures.append(failure("ledger", error=str(err)))


def parse_now(text: str | None) -> dt.datetime:
    """`--now` as an aware UTC datetime (a date alone means midnight UTC)."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
