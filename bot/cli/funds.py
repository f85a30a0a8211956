"""The CLI's commands that act on funds through GitHub: sweep, recheck, verify, labels sync, export, showcase build."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.cli.common import context_for, each_fund, fail, fund_settings, listed_funds, redis_for, rules_for, \
    settings_for
from bot.config.settings import REPO_NAME, Need, Settings
from bot.policy.wording import english

if TYPE_CHECKING:  # the commands import what they use when they run: `fundbot --help` stays quick
    from bot.config.funds import FundRef
    from bot.jobs.recheck import RecheckResult
    from bot.jobs.sweep import SweepResult


def cmd_sweep(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Sweep every fund (or FUNDBOT_REPO) here — or, with Redis, queue each fund's sweep for the workers."""
    from bot.config.funds import FundRef
    from bot.jobs.clock import gateway_for
    from bot.jobs.sweep import parse_now, sweep

    settings = settings_for(environ, Need.NOTHING)
    if settings.redis_url and settings.repo and not (args.dry_run or args.now or args.here):
        # One fund's sweep queued for the service's workers: they hold the App's key and the locks, so
        # nothing of GitHub is needed here (the sweep workflow of a fund's repository needs no key).
        return _enqueue_sweeps(settings, [FundRef(settings.repo, None)], [])
    settings = fund_settings(environ, "sweep")
    rules = rules_for(settings)
    try:
        now = parse_now(args.now)
    except ValueError:
        return fail(f"--now must be an ISO-8601 date or time, not {args.now!r}")
    real_now = dt.datetime.now(dt.timezone.utc)
    if now > real_now and not (args.dry_run or args.write_in_the_future):
        # A sweep in the future would post reminders and overdue notices, mentioning real applicants
        # and reviewers, that are not due yet (and record them as sent): a preview, unless meant.
        return fail(f"--now {now.isoformat()} is later than the real time ({real_now.isoformat(timespec='seconds')}): "
                    "a sweep there would post reminders and overdue notices that are not due. Add --dry-run to "
                    "preview it, or --write-in-the-future to write them anyway (a sandbox, a test fund)")
    ctx = context_for(settings, rules, now)
    if settings.cache_file:
        ctx.github.load_caches(settings.cache_file)
    failures: list[str] = []
    funds = listed_funds(ctx, settings, failures)
    if settings.redis_url and not (args.dry_run or args.now or args.here):
        return _enqueue_sweeps(settings, funds, failures)
    verb = "would" if args.dry_run else "did"

    def run(fund: FundRef) -> SweepResult:
        return sweep(ctx, gateway_for(ctx, fund, throttle_writes=not args.dry_run), fund.repo, dry_run=args.dry_run)

    for fund, result in each_fund(funds, run, failures):
        for line in result.lines:
            print(f"{verb}: {english(line)}")
        print(f"swept {result.applications} applications and {result.reports} report issues of {fund.repo} "
              f"at {now.isoformat()}: {len(result.lines)} changes "
              f"({'dry run, nothing written' if args.dry_run else 'written'}); requests {result.stats}")
        if result.logged and result.log:
            print(f"logged this run in the sweep log: {result.log.html_url}")
        failures += [f"{fund.repo}: {english(f)}" if len(funds) > 1 else english(f) for f in result.failures]
    if settings.cache_file:
        ctx.github.save_caches(settings.cache_file)
    if not funds:
        print("no fund found: no repository of the App's installations has .github/fund-bot.yml")
    for failure in failures:
        print(f"could not finish: {failure}", file=sys.stderr)
    return 0 if not failures else 1


def _enqueue_sweeps(settings: Settings, funds, failures: list[str]) -> int:
    """With Redis: one sweep job per fund, for the workers to run in parallel."""
    from bot.jobs.worker import enqueue_sweep

    redis = redis_for(settings)
    try:
        for fund in funds:
            queued = enqueue_sweep(redis, fund.repo, fund.installation_id)
            print(f"sweep of {fund.repo}: {'queued for the workers' if queued else 'already queued or running'}")
    finally:
        redis.close()
    for failure in failures:
        print(f"could not sweep: {failure}", file=sys.stderr)
    return 0 if not failures else 1


def cmd_recheck(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run the eligibility checks again on the open applications still in screening (a preview unless --apply)."""
    from bot.jobs.clock import gateway_for
    from bot.jobs.recheck import recheck

    settings = fund_settings(environ, "recheck")
    rules = rules_for(settings)
    ctx = context_for(settings, rules)
    failures: list[str] = []
    funds = listed_funds(ctx, settings, failures)
    verb = "did" if args.apply else "would"

    def run(fund: FundRef) -> RecheckResult:
        return recheck(ctx, gateway_for(ctx, fund, throttle_writes=args.apply), fund.repo, apply=args.apply)

    for fund, result in each_fund(funds, run, failures):
        for line in result.lines:
            print(f"{verb}: {english(line)}")
        numbers = ", ".join(f"#{n}" for n in result.rechecked) or "none"
        print(f"{fund.repo}: checks {'run again' if args.apply else 'would run again'} on {len(result.rechecked)} "
              f"application(s) in screening ({numbers}): {len(result.lines)} changes "
              f"({'written' if args.apply else 'a preview, nothing written: add --apply to write'})")
        failures += [f"{fund.repo}: {english(f)}" for f in result.failures]
    for failure in failures:
        print(f"could not finish: {failure}", file=sys.stderr)
    return 0 if not failures else 1


def cmd_verify(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Check the seal of every application's record in every fund (or FUNDBOT_REPO); exit 1 on any failure."""
    from bot.github.transport import GitHubError
    from bot.jobs.clock import gateway_for
    from bot.views.rows import pipeline_rows

    settings = fund_settings(environ, "verify")
    if not settings.has_app:
        return fail("records are sealed with a key derived from the App's private key: set GITHUB_APP_ID and it")
    rules = rules_for(settings)
    ctx = context_for(settings, rules)
    failures: list[str] = []
    broken = checked = 0
    for fund in listed_funds(ctx, settings, failures):
        try:
            gateway = gateway_for(ctx, fund, throttle_writes=False)
            fund_rules = ctx.fund_rules(gateway, fund.repo) or rules
            rows = pipeline_rows(gateway, fund.repo, fund_rules, ctx.clock().date(), ctx.seal_key, ctx.seal_previous)
        except GitHubError as err:
            failures.append(f"{fund.repo}: could not read it: {err}")
            continue
        for row in rows:
            checked += 1
            if not row.sealed:
                broken += 1
                print(f"{fund.repo}#{row.number}: the record does not hold its seal (edited, copied from another "
                      f"issue, or written before records were sealed): {row.html_url}")
    for failure in failures:
        print(f"could not finish: {failure}", file=sys.stderr)
    print(f"{checked} applications checked, {broken} records failed their seal")
    return 1 if broken or failures else 0


def cmd_labels_sync(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Every label of the rules, in FUNDBOT_REPO or in every fund of every installation (each by its own
    rules); the installed repositories ignored are logged at WARNING, with why."""
    from bot.config.funds import FundRef, survey
    from bot.config.startup import log_survey
    from bot.github.transport import GitHubError
    from bot.jobs.clock import gateway_for
    from bot.jobs.fund_setup import sync_labels
    from bot.logs import configure_logging
    from bot.policy.labels import is_problem, leftover_labels

    settings = fund_settings(environ, "sync the labels of")
    rules = rules_for(settings)
    configure_logging(settings.log_level, settings.log_format)
    ctx = context_for(settings, rules)
    failures: list[str] = []
    if settings.has_app:  # the installations walked once: the funds to sync, and those ignored (logged)
        try:
            found = survey(ctx.github, settings.repo)  # every repository: every fund is synced
        except GitHubError as err:
            return fail(f"could not list the App's installations: {err}", 1)
        log_survey(found, settings.repo, not_installed=False)  # syncing it says so, with what to do
        funds = [FundRef(settings.repo, None)] if settings.repo else list(found.served)
    else:
        funds = listed_funds(ctx, settings, failures)
    refused = False
    for fund in funds:
        try:
            gateway = gateway_for(ctx, fund, throttle_writes=False)
            fund_rules = ctx.fund_rules(gateway, fund.repo)
            if fund_rules is None:
                failures.append(f"{fund.repo}: its configuration is invalid (`fundbot validate --repo {fund.repo}`)")
                continue
            lines = sync_labels(gateway, fund.repo, fund_rules, dry_run=args.dry_run)
            leftovers = leftover_labels(gateway.repo_labels(fund.repo), fund_rules)
        except GitHubError as err:
            failures.append(f"could not sync labels on {fund.repo}: {err}")
            continue
        changes = [line for line in lines if not is_problem(line)]
        refused |= len(lines) > len(changes)
        for line in lines:
            print(line if is_problem(line) else ("would " if args.dry_run else "") + line)
        for leftover in leftovers:
            print(f"left alone {leftover}: the App made it, the rules no longer have it; delete it by hand once no "
                  "issue needs it")
        print(f"{fund.repo}: {len(changes)} label{'s' if len(changes) != 1 else ''} "
              f"{'to change' if args.dry_run else 'changed'}; {len(fund_rules.all_labels()) - len(lines)} already right")
    for failure in failures:
        print(f"fundbot: {failure}", file=sys.stderr)
    return 1 if refused or failures else 0


def cmd_export(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.views.export import run_export

    if args.repo and not REPO_NAME.fullmatch(args.repo):
        return fail(f"--repo must be OWNER/NAME, not {args.repo!r}")
    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        return fail(f"--since must be a date (YYYY-MM-DD), not {args.since!r}")
    settings = settings_for(environ, Need.APP_OR_TOKEN | (Need.NOTHING if args.repo else Need.REPO))
    rules = rules_for(settings)
    kind = "payouts" if args.payouts else "audit" if args.audit else "applications"
    return run_export(context_for(settings, rules), args.repo or settings.repo or "", args.format, args.output,
                      kind=kind, since=since, round_name=args.round)


def cmd_showcase_build(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from urllib.parse import urlparse

    from bot.views.showcase_build import run_showcase

    if args.repo and not REPO_NAME.fullmatch(args.repo):
        return fail(f"--repo must be OWNER/NAME, not {args.repo!r}")
    if args.base_url and (urlparse(args.base_url).scheme not in ("http", "https") or not urlparse(args.base_url).netloc):
        return fail(f"--base-url must be an http(s) address, not {args.base_url!r}")
    settings = settings_for(environ, Need.APP | (Need.NOTHING if args.repo else Need.REPO))
    rules = rules_for(settings)
    return run_showcase(context_for(settings, rules), args.repo or settings.repo or "", args.out,
                        base_url=args.base_url)
