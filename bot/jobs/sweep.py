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
when something changed or failed, or on a process's first sweep of a UTC day).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, RequestStats
from bot.jobs.gather import grants_by_round
from bot.jobs.handle import Context, run_application, run_report_issue
from bot.metrics import observe_sweep
from bot.policy.decide import Trigger, TriggerKind
from bot.policy.i18n import translator
from bot.policy.record import Record
from bot.policy.rules import Rules
from bot.policy.sweeplog import (
    LINE_LEDGER, LOG_MARKER, LOG_TITLE, SweepLog, make_run, next_runs, pick_log, render_log, should_log,
)

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
    """Sweep the fund `repo`, then log the run (not in a dry run); failures are collected, not raised."""
    result = _swept(ctx, gateway, repo, dry_run)
    if not dry_run:
        observe_sweep(result.applications, len(result.lines), len(result.failures), time.time())
    return result


def _swept(ctx: Context, gateway: GitHubGateway, repo: str, dry_run: bool) -> SweepResult:
    result = SweepResult(stats=gateway.stats)
    assert ctx.funds is not None
    try:
        # Read afresh; outside a dry run, also put the configuration issue and the fund state in step.
        config = ctx.funds.config(gateway, repo, fresh=True) if dry_run else ctx.funds.reconcile(gateway, repo)
    except GitHubError as err:
        result.failures.append(f"reading the configuration of {repo}: {err}")
        return result
    if config.rules is None:
        result.failures.append(f"{repo} is not a fund, or has no valid configuration yet"
                               + (f" ({len(config.problems)} problems)" if config.problems else ""))
        return result
    if config.problems:
        result.failures.append(f"{repo}: the configuration has {len(config.problems)} problems; the last valid "
                               "configuration is used meanwhile (see the configuration issue)")
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
    if known and known.last and not should_log(known.last, run):
        result.log = known  # a quiet sweep already logged today by this process: not even a read
        return
    try:
        with ctx.locks.fund(repo):  # two sweeps at once must not open two logs
            found = find_log(gateway, repo, rules)  # read afresh: another process may have logged
            result.log = found
            if should_log(found.last if found else None, run):
                result.log = _write_log(gateway, repo, rules, next_runs(run, found), found)
                result.logged = True
        if result.log:
            ctx.sweep_logs[repo.lower()] = result.log
    except GitHubError as err:
        result.failures.append(f"writing the sweep log: {err}")
        log.warning("sweep could not write its log", extra={"repo": repo, "reason": str(err)})


def _write_log(gateway: GitHubGateway, repo: str, rules: Rules, runs: tuple, found: SweepLog | None) -> SweepLog:
    """:calls: `PATCH /repos/{owner}/{repo}/issues/{n}` (or `POST …/issues` the first time)"""
    tr = translator(rules.language)
    body = render_log(runs, tr)
    if found is None:
        label = rules.stages.labels.bot.name
        issue = gateway.create_issue(repo, tr.gettext(LOG_TITLE), body, labels=(label,), marker=LOG_MARKER)
        if not issue.has_label(label):  # GitHub drops labels it will not set: the next run must find it
            gateway.add_labels(repo, issue.number, (label,))
    else:
        issue = gateway.update_issue(repo, found.number, body=body)
    return SweepLog(number=issue.number, html_url=issue.html_url, runs=runs)


def _sweep(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, result: SweepResult, dry_run: bool) -> None:
    labels = rules.stages.labels
    funded_label = rules.stages.outcomes["funded"].label.name
    try:
        applications = gateway.issues(repo, labels=labels.application.name, state="all")
    except GitHubError as err:
        result.failures.append(f"listing applications of {repo}: {err}")
        return
    # Closed applications are finished, except funded ones: reports are owed whoever closed them.
    relevant = [i for i in applications if i.state == "open" or i.has_label(funded_label)]
    records: list[tuple[int, Record]] = []
    complete = True
    for issue in relevant:
        result.applications += 1
        try:
            applied = run_application(ctx, gateway, issue, Trigger(TriggerKind.SWEEP), rules=rules, dry_run=dry_run)
            result.lines.extend(applied.lines)
            result.failures.extend(f"#{issue.number}: GitHub refused {f.what}: {f.status} {f.message}"
                                   for f in applied.failures)
            if applied.record is not None:
                records.append((issue.number, applied.record))
            continue
        except GitHubError as err:
            result.failures.append(f"#{issue.number}: {err}")
            log.warning("sweep could not finish an application", extra={"issue": issue.number, "reason": str(err)})
        except Exception as err:  # one application's surprise must not stop the others
            result.failures.append(f"#{issue.number}: {type(err).__name__}: {err}")
            log.exception("sweep failed on an application", extra={"issue": issue.number})
        complete = False
    if complete:
        _reconcile_ledger(ctx, gateway, repo, rules, records, result, dry_run)

    try:
        reports = gateway.issues(repo, labels=labels.report.name, state="open")
    except GitHubError as err:
        result.failures.append(f"listing progress-report issues: {err}")
        reports = []
    for report in reports:
        result.reports += 1
        try:
            applied = run_report_issue(ctx, gateway, report, rules=rules, dry_run=dry_run)
            result.lines.extend(applied.lines)
        except GitHubError as err:
            result.failures.append(f"report #{report.number}: {err}")
        except Exception as err:
            result.failures.append(f"report #{report.number}: {type(err).__name__}: {err}")
            log.exception("sweep failed on a report issue", extra={"issue": report.number})


def _reconcile_ledger(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules,
                      records: list[tuple[int, Record]], result: SweepResult, dry_run: bool) -> None:
    """Put the fund's ledger in step with the funded applications' own records (a grant entered whose
    record never got written, after a crash; a record edited by hand is not trusted anyway)."""
    assert ctx.funds is not None
    found = grants_by_round(records, rules)
    examined = {number for number, _ in records}
    try:
        with ctx.locks.fund(repo):
            state, number = ctx.funds.states.read(gateway, repo, rules)
            current = {r: dict(g) for r, g in state.grants.items() if g}
            # Grants of applications this sweep did not examine (closed, the funded label taken off) stay.
            wanted = {r: {n: a for n, a in g.items() if n not in examined} for r, g in current.items()}
            for round_name, grants in found.items():
                wanted.setdefault(round_name, {}).update(grants)
            wanted = {r: g for r, g in wanted.items() if g}
            # An edited ledger is written again, sealed, even if right; so is one sealed with the previous key.
            if current == wanted and state.verified and not state.stale_seal:
                return
            result.lines.append(LINE_LEDGER % {"repo": repo})
            if not dry_run:
                granted = {n for g in wanted.values() for n in g}
                plans = {n: plan for n, plan in state.plans.items() if n in granted}
                ctx.funds.states.write(gateway, repo, rules, dataclasses.replace(state, grants=wanted, plans=plans),
                                       number)
    except GitHubError as err:
        result.failures.append(f"reconciling the ledger: {err}")


def parse_now(text: str | None) -> dt.datetime:
    """`--now` as an aware UTC datetime (a date alone means midnight UTC)."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
