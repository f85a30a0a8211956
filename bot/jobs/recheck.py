"""`fundbot recheck`: the eligibility checks run again on the open applications still in screening,
under the rules now in force — after the thresholds changed, say. Each goes through the webhook's
own path (`run_application`: its lock, gather, decide, apply) with a `RECHECK` trigger, which runs
the checks only where `bot.policy.decide.recheck_due` says so (open, in the first stage, no outcome;
decided under the lock, on the record read again); everything else is as a sweep would do it. A
preview unless `apply` is given. An application a reviewer has moved on is not judged again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, RequestStats
from bot.jobs.context import Context
from bot.jobs.pipeline import run_application
from bot.policy.intake import to_recheck
from bot.policy.lines import failure, refused
from bot.policy.record import Note
from bot.policy.triggers import Trigger, TriggerKind

log = logging.getLogger("fundbot.recheck")


@dataclass
class RecheckResult:
    rechecked: list[int] = field(default_factory=list)  # the applications whose checks ran again
    lines: list[Note] = field(default_factory=list)  # writes made (or, in a preview, that would be)
    failures: list[Note] = field(default_factory=list)
    stats: RequestStats | None = None


def recheck(ctx: Context, gateway: GitHubGateway, repo: str, *, apply: bool = False) -> RecheckResult:
    """:calls: `GET /repos/{owner}/{repo}/issues?labels=<application>&state=open`, then each candidate
    as a delivery would. Failures are collected per application, not raised."""
    result = RecheckResult(stats=gateway.stats)
    try:
        config = ctx.funds.config(gateway, repo, fresh=True)
        rules = config.rules
        if rules is None:
            result.failures.append(failure("not_fund", repo=repo))
            return result
        listed = gateway.issues(repo, labels=rules.stages.labels.application.name, state="open")
    except GitHubError as err:
        result.failures.append(failure("read", repo=repo, error=str(err)))
        return result
    # What the listing's labels show moved on is left out at once; the rest is decided under the lock.
    for issue in to_recheck(listed, rules):
        now = ctx.clock()
        try:
            applied = run_application(ctx, gateway, issue, Trigger(TriggerKind.RECHECK), rules=rules,
                                      dry_run=not apply)
        except GitHubError as err:
            result.failures.append(failure("application", number=issue.number, error=str(err)))
            continue
        if applied.record is not None and applied.record.checked_at is not None and applied.record.checked_at >= now:
            result.rechecked.append(issue.number)
        result.lines += applied.lines
        result.failures += [refused(issue.number, f.what, f.status, f.message) for f in applied.failures]
    return result
