"""The evidence pack's follow-up (issue 21): read after the application's run, then taken in under its lock.

The run that posts the status comment only notes that a pack is wanted (`evidence_due`: a new application,
a changed repository, a progress report, `/evidence`, `/recheck`); the handler then hands the application to
`schedule`, which queues a follow-up job — behind the deliveries waiting in the in-process queue, or as an
RQ job (`bot.jobs.worker.run_evidence`) — so the applicant's first answer never waits for the pack. The job
(`follow_up`) reads the record (no lock: it only asks whether a pack is still wanted, and for which
repository), reads the pack outside the lock, and runs the application through the pipeline with an
`EVIDENCE` trigger carrying it: under the application's lock, re-reading everything, so it never races a
delivery (a pack for a repository the application no longer names is ignored there).

A pack is used again (`PackCache`, per process) for the rules' `cache_hours` by anything that did not ask
for a fresh one; an ask (a report, `/evidence`, `/recheck`) is answered with a fresh read, unless the record's
own pack is younger than `FRESH_FOR`. A job that is lost (a restart, a failure) is repaired by the sweep,
which finds the record still wanting a pack and reads it there (`bot.jobs.sweep`).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from bot.github.gateway import GitHubGateway
from bot.jobs.context import Context
from bot.jobs.evidence_read import read_pack
from bot.jobs.fund_setup import fund_config
from bot.jobs.pipeline import Applied, run_application
from bot.policy.answers import AnswerError, parse_packages
from bot.policy.evidence_flow import FRESH_FOR, evidence_due, reusable
from bot.policy.evidence_pack import Pack, PackageRef
from bot.policy.markers import find_status
from bot.policy.rules import Rules
from bot.policy.seal import verified
from bot.policy.triggers import Trigger, TriggerKind

log = logging.getLogger("fundbot.evidence")

# What queues a follow-up: (fund repository, issue number, installation id, the delivery that asked for it) ->
# queued now (False: one is queued already).
Later = Callable[[str, int, "int | None", "str | None"], bool]


def named_packages(rules: Rules, body: str | None) -> tuple[PackageRef, ...]:
    """The packages the application's form names (none when the answer does not parse: the status comment
    says what is wrong with it)."""
    answer = rules.read_application(body).answers.get("packages")
    if not isinstance(answer, str) or not answer.strip():
        return ()
    try:
        return parse_packages(answer)
    except AnswerError:
        return ()


def pack_for(ctx: Context, gateway: GitHubGateway, repository: str, named: tuple[PackageRef, ...], rules: Rules,
             now: dt.datetime, *, fresh: bool = False, delivery: str | None = None) -> Pack:
    """The pack for `repository`: this process's own within the rules' `cache_hours` (`FRESH_FOR` when a
    fresh one was asked for), else read now."""
    key = (repository.lower(), tuple(str(p) for p in named))
    max_age = FRESH_FOR if fresh else dt.timedelta(hours=rules.evidence.cache_hours)
    cached = ctx.packs.get(key, now, max_age)
    if cached is not None:
        return cached
    pack = read_pack(gateway, ctx.outside, repository, named, rules.evidence, now, sleep=ctx.sleep)
    ctx.packs.put(key, pack)
    log.info("evidence pack read", extra={"delivery": delivery, "repo": repository, "requests": f"{pack.requests} GitHub",
                                          "reason": pack.gap or f"{sum(1 for r in pack.readings if r.gap)} gaps"})
    return pack


def follow_up(ctx: Context, gateway: GitHubGateway, repo: str, number: int, *, rules: Rules | None = None,
              delivery: str | None = None) -> Applied | None:
    """Read the pack the application wants and take it in through the pipeline (None: none is wanted now).

    :calls: `GET /repos/{o}/{r}/issues/{n}` and its comments (conditional) to learn what is wanted; then the
    pack (`bot.jobs.evidence_read`, unless one is at hand); then the pipeline under the application's lock."""
    rules = rules or fund_config(ctx, gateway, repo).rules
    if rules is None:
        return None
    issue = gateway.issue(repo, number)
    comments = gateway.comments(repo, number)
    record = verified(find_status(comments, gateway.app_login)[1], ctx.seal_key, issue.repo, issue.number,
                      ctx.seal_previous).record
    if record is None or not evidence_due(record, rules):
        return None
    now = ctx.clock()
    asked = bool(record.evidence and record.evidence.asks)
    pack = (reusable(record, now) if asked else None) or \
        pack_for(ctx, gateway, record.repository, named_packages(rules, issue.body), rules, now, fresh=asked,
                 delivery=delivery)
    return run_application(ctx, gateway, issue, Trigger(TriggerKind.EVIDENCE, pack=pack), rules=rules,
                           delivery=delivery)


def run_follow_up(ctx: Context, repo: str, number: int, installation_id: int | None,
                  delivery: str | None = None) -> Applied | None:
    """A queued follow-up: a gateway of its own (the installation's, else found for the repository). Its log
    lines carry the delivery that asked for it."""
    gateway = ctx.github.for_installation(installation_id) if installation_id is not None else \
        ctx.github.for_repository(repo)
    return follow_up(ctx, gateway, repo, number, delivery=delivery)


def schedule(ctx: Context, applied: Applied, installation_id: int | None, *, dry_run: bool = False,
             delivery: str | None = None) -> None:
    """Queue the follow-ups a run asked for (`Applied.follow_ups`); with no queue (`fundbot replay`, the CLI),
    read them now."""
    if dry_run:
        return
    for repo, number in dict.fromkeys(applied.follow_ups):
        if ctx.later is not None:
            ctx.later(repo, number, installation_id, delivery)
            continue
        try:
            run_follow_up(ctx, repo, number, installation_id, delivery)
        except Exception:  # the delivery is done; the sweep reads the pack if this failed
            log.exception("the evidence pack could not be read; left for the sweep",
                          extra={"delivery": delivery, "issue": number})


def in_process_later(queue: Any, ctx: Context) -> Later:
    """Follow-ups on the in-process queue (`InProcessQueue.submit_job`), behind the deliveries waiting there,
    each application's queued once."""

    def later(repo: str, number: int, installation_id: int | None, delivery: str | None = None) -> bool:
        return queue.submit_job(f"evidence:{repo.lower()}#{number}",
                                lambda: run_follow_up(ctx, repo, number, installation_id, delivery))

    return later


__all__ = ["Later", "follow_up", "in_process_later", "named_packages", "pack_for", "run_follow_up",
           "schedule"]
