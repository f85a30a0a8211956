"""Handling one delivery: the routing table, the handlers, and lock → gather → decide → apply.

The web tier routes a delivery once (`triage`) and queues it with its handler; a worker calls the
handler (and `fundbot replay` does, in its own process, with or without a dry run). Every handler
ends in `run_application` (or `run_report_issue`), which the sweep calls too, with a synthetic
trigger, so scheduled work is tested exactly like a webhook; it hands back what it wrote. Work on
one application is serialised by its lock, and everything is read again under it (SPEC §11).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.github.app import GitHubApp
from bot.github.gateway import GitHubGateway
from bot.github.transport import NotFound
from bot.github.webhooks import Event, _get
from bot.jobs.apply import Applied, apply
from bot.jobs.funds import CONFIG_PATHS, FundConfig, Funds
from bot.jobs.labels import sync_labels
from bot.jobs.gather import FundAccess, TeamCache, gather, open_application
from bot.jobs.locks import LocalLocks, Locks
from bot.metrics import observe_delivery, processing
from bot.policy.commands import FundingLedger
from bot.policy.decide import (
    Named, Snapshot, Trigger, TriggerKind, decide, decide_report_issue, report_language, with_failures,
)
from bot.policy.fundstate import FundState
from bot.policy.form_body import could_be_form, parse_any
from bot.policy.form_template import FormTemplate
from bot.policy.markers import notices_posted
from bot.policy.assign import ReviewerLoad
from bot.policy.i18n import translator
from bot.policy.models import FUND_CHANGES, Comment, FundChange, Issue, RecordGrant, SetAway
from bot.policy.rules import Rules
from bot.policy.seal import record_key
from bot.policy.sweeplog import LINE_ASSIGNED, LINE_AWAY, LINE_BACK, LINE_GRANT
from bot.config.settings import Settings

log = logging.getLogger("fundbot.handle")


@dataclass
class Context:
    """What handlers share for the life of the process. `rules` are the server's; each fund's own are
    `funds.config(gateway, repo).rules`."""

    rules: Rules
    github: GitHubApp
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    teams: TeamCache = field(default_factory=TeamCache)
    locks: Locks = field(default_factory=LocalLocks)
    sweep_logs: dict[str, Any] = field(default_factory=dict)  # repo -> the sweep log this process last saw
    funds: Funds | None = None
    seal_key: bytes | None = None  # seals records (derived from the App's private key); None: unsealed
    seal_previous: tuple[bytes, ...] = ()  # from GITHUB_PRIVATE_KEY_PREVIOUS: still accepted while rotating

    def __post_init__(self) -> None:
        if self.funds is None:
            self.funds = Funds(self.rules)

    def fund_rules(self, gateway: GitHubGateway, repo: str) -> Rules | None:
        """The rules `repo` is run by, or None when it is not a fund (or has no valid configuration)."""
        assert self.funds is not None
        return self.funds.config(gateway, repo).rules


def build_context(settings: Settings, rules: Rules, *, github: GitHubApp | None = None,
                  clock: Callable[[], dt.datetime] | None = None, redis: Any = None) -> Context:
    """The context a process handles deliveries and sweeps with: locks and the pacing of content
    writes shared through Redis when it is configured (every process), in memory otherwise."""
    if redis is None and settings.redis_url:
        from bot.jobs.worker import connect

        redis = connect(settings.redis_url)
    locks: Locks = LocalLocks()
    pacer = None
    if redis is not None:
        from bot.github.pacing import Limits, RedisPacer
        from bot.jobs.redis_locks import RedisLocks

        locks = RedisLocks(redis, timeout=settings.lock_timeout)
        pacer = RedisPacer(redis, Limits.under(*settings.content_limits))
    seal_key = record_key(settings.private_key) if settings.has_app else None
    previous = (record_key(settings.private_key_previous),) if seal_key and settings.private_key_previous else ()
    return Context(rules=rules, github=github or GitHubApp(settings, pacer=pacer),
                   clock=clock or (lambda: dt.datetime.now(dt.timezone.utc)), locks=locks,
                   funds=Funds(rules, narrow_to=settings.repo, ttl=settings.config_ttl, seal_key=seal_key,
                               seal_previous=previous),
                   seal_key=seal_key, seal_previous=previous)


# --- what an issue is ------------------------------------------------------------------------


def _is_form(templates: tuple[FormTemplate, ...], body: str) -> bool:
    """The body is one of `templates` (a form in its languages): a cheap look at its headings first."""
    return could_be_form(templates[0], body) and parse_any(templates, body).recognised


def is_report_issue(issue: Issue, rules: Rules) -> bool:
    if issue.has_label(rules.stages.labels.report.name):
        return True
    return not issue.has_label(rules.stages.labels.application.name) and _is_form(rules.report_forms, issue.body)


def is_application(issue: Issue, rules: Rules) -> bool:
    """Labelled by the issue form, or a body that parses as the application form."""
    if issue.is_pull_request:
        return False
    if issue.has_label(rules.stages.labels.application.name):
        return True
    return not is_report_issue(issue, rules) and _is_form(rules.application_forms, issue.body)


# --- one application --------------------------------------------------------------------------


def run_application(ctx: Context, gateway: GitHubGateway, issue: Issue, trigger: Trigger, *, rules: Rules,
                    dry_run: bool = False, extra_posted: frozenset[str] = frozenset(),
                    delivery: str | None = None) -> Applied:
    """lock → gather → decide → apply for one application of the fund `rules` run. `issue` only names
    it: it is read again. A command that changes the fund-state issue (a grant, `/away`, an assignment
    by load) also holds the fund's lock, so the ledger it checks the pool with is the one it writes:
    two `/approve`s racing for the last of the pool cannot both succeed."""
    with ctx.locks.application(issue.repo, issue.number):
        now = ctx.clock()
        opened = open_application(gateway, issue, trigger, rules, now, seal_key=ctx.seal_key,
                                  seal_previous=ctx.seal_previous)
        with ctx.locks.fund(issue.repo) if opened.wanted.fund_state else contextlib.nullcontext():
            fund = _FundReads(ctx, gateway, issue.repo, rules, now)
            snap = gather(gateway, opened, trigger, rules, now, teams=ctx.teams, fund=fund.access())
            if extra_posted:
                snap = dataclasses.replace(snap, posted=snap.posted | extra_posted)
            decision = decide(trigger, snap, rules, now)
            changes = [a for a in decision.actions if isinstance(a, FUND_CHANGES)]
            if changes and not dry_run:
                state, number = fund.state()
                for change in changes:
                    state = state.with_change(change)
                ctx.funds.states.write(gateway, issue.repo, rules, state, number)
            # GitHub may refuse some writes for good: the status comment then says so, and the run goes on.
            applied = apply(gateway, snap, tuple(a for a in decision.actions if not isinstance(a, FUND_CHANGES)), now,
                            dry_run=dry_run, delivery=delivery,
                            restate=lambda failures: with_failures(decision, failures, snap, rules, now).status)
            applied.lines[:0] = [_fund_line(issue.number, change) for change in changes]
            applied.record = decision.record
            return applied


def _fund_line(number: int, change: FundChange) -> str:
    if isinstance(change, RecordGrant):
        return LINE_GRANT % {"number": number, "amount": change.amount, "round": change.round}
    if isinstance(change, SetAway):
        return LINE_AWAY % {"number": number, "login": change.login, "date": change.until} if change.until \
            else LINE_BACK % {"number": number, "login": change.login}
    return LINE_ASSIGNED % {"number": number, "logins": ", ".join(change.logins)}


class _FundReads:
    """The fund-state issue and the open applications, read at most once in one application's run."""

    def __init__(self, ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, now: dt.datetime) -> None:
        self._ctx, self._gateway, self._repo, self._rules, self._now = ctx, gateway, repo, rules, now
        self._state: tuple[FundState, int | None] | None = None

    def state(self) -> tuple[FundState, int | None]:
        if self._state is None:
            assert self._ctx.funds is not None
            self._state = self._ctx.funds.states.read(self._gateway, self._repo, self._rules)
        return self._state

    def ledger(self, round_name: str, number: int | None = None) -> FundingLedger:
        """The round's ledger — the round that holds application `number`'s grant, when one does (a
        rebuilt record's round is not known yet, and rounds are renamed)."""
        fund = self.state()[0]
        holding = [name for name, grants in sorted(fund.grants.items()) if number is not None and number in grants]
        round_name = holding[0] if holding else round_name
        grants = dict(fund.grants.get(round_name, {}))
        return FundingLedger(committed=fund.committed(round_name), grants=grants,
                             plans={n: p for n, p in fund.plans.items() if n in grants}, verified=fund.verified)

    def load(self, rules: Rules) -> ReviewerLoad:
        """:calls: the open applications (conditional, paged), and the collaborators when a stage that
        assigns names no reviewer: each candidate's open assignments, last assignment, absence."""
        state = self.state()[0]
        open_issues = self._gateway.issues(self._repo, labels=rules.stages.labels.application.name, state="open")
        counts: dict[str, int] = {}
        for other in open_issues:
            for login in other.assignees:
                counts[login.lower()] = counts.get(login.lower(), 0) + 1
        collaborators: tuple[str, ...] | None = None
        candidates: dict[str, tuple[str, ...]] = {}
        for stage in rules.stages.stages:
            if not stage.assign_count:
                continue
            named = rules.stages.reviewers_for(stage.name).users
            if not named and collaborators is None:
                collaborators = tuple(c.lower() for c in self._gateway.collaborators(self._repo, limit=100))
            candidates[stage.name] = tuple(sorted(named)) if named else collaborators or ()
        return ReviewerLoad(candidates=candidates, open=counts, last=dict(state.assigned),
                            away=state.away_on(self._now.astimezone(dt.timezone.utc).date()))

    def access(self) -> FundAccess:
        return FundAccess(ledger=self.ledger, load=self.load)


def run_report_issue(ctx: Context, gateway: GitHubGateway, report: Issue, *, rules: Rules, dry_run: bool = False,
                     delivery: str | None = None) -> Applied:
    """A progress-report issue: refused with a reply that says why, or recorded on its application."""
    with ctx.locks.application(report.repo, report.number):
        now = ctx.clock()
        fresh = gateway.issue(report.repo, report.number)
        comments = tuple(gateway.comments(fresh.repo, fresh.number))
        posted = notices_posted(comments, gateway.app_login)
        form = rules.read_report(fresh.body)
        named, application = _named(gateway, fresh, form.application_number, rules)
        tr = translator(report_language(rules, form, application))
        decision = decide_report_issue(fresh, form, named, posted, tr)
        applied = apply(gateway, Snapshot(issue=fresh, comments=comments, posted=posted), decision.actions, now,
                        dry_run=dry_run, delivery=delivery)
    if decision.forward is None or application is None:
        return applied
    trigger = Trigger(TriggerKind.REPORT_ISSUE, actor=decision.forward.author, report=decision.forward)
    recorded = run_application(ctx, gateway, application, trigger, rules=rules, dry_run=dry_run,
                               extra_posted=posted, delivery=delivery)
    applied.lines += recorded.lines
    applied.failures += recorded.failures
    return applied


def _named(gateway: GitHubGateway, report: Issue, number: int | None, rules: Rules) -> tuple[Named, Issue | None]:
    """:calls: `GET /repos/{o}/{r}/issues/{number}` for the issue a report names."""
    if number is None:
        return Named.NOTHING, None
    if number == report.number:
        return Named.NOT_APPLICATION, None
    try:
        application = gateway.issue(report.repo, number)
    except NotFound:
        return Named.MISSING, None
    if not is_application(application, rules):
        return Named.NOT_APPLICATION, None
    return Named.APPLICATION, application


# --- webhook handlers ----------------------------------------------------------------------------

_ISSUE_TRIGGERS = {"opened": TriggerKind.OPENED, "edited": TriggerKind.EDITED, "reopened": TriggerKind.REOPENED}


def _issue(event: Event) -> Issue | None:
    data, repo = event.payload.get("issue"), event.repository
    if not isinstance(data, dict) or not repo or "number" not in data:
        return None
    try:
        issue = Issue.from_api(data, repo)
    except (KeyError, TypeError, ValueError):
        return None
    return None if issue.is_pull_request else issue  # issue_comment fires for pull requests too


def _gateway(ctx: Context, event: Event) -> GitHubGateway | None:
    if event.installation_id is None:
        log.warning("delivery without an installation; ignored", extra=event.log_context(outcome="ignored"))
        return None
    if event.repository:
        ctx.github.remember_installation(event.repository, event.installation_id)
    return ctx.github.for_installation(event.installation_id)


def _fund(ctx: Context, event: Event) -> tuple[GitHubGateway, Rules] | None:
    """The gateway and the fund's rules for a delivery from a fund's repository; None otherwise."""
    gateway = _gateway(ctx, event)
    if gateway is None or not event.repository:
        return None
    rules = ctx.fund_rules(gateway, event.repository)
    if rules is None:
        log.info("not a fund, or no valid configuration; ignored", extra=event.log_context(outcome="ignored"))
        return None
    return gateway, rules


def _run(ctx: Context, event: Event, gateway: GitHubGateway, rules: Rules, issue: Issue, trigger: Trigger,
         dry_run: bool) -> Applied:
    return _done(event, gateway, issue, dry_run,
                 run_application(ctx, gateway, issue, trigger, rules=rules, dry_run=dry_run,
                                 delivery=event.delivery_id))


def on_issue(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    issue = _issue(event)
    if issue is None or not (fund := _fund(ctx, event)):
        return None
    gateway, rules = fund
    if is_report_issue(issue, rules):
        return _done(event, gateway, issue, dry_run,
                     run_report_issue(ctx, gateway, issue, rules=rules, dry_run=dry_run, delivery=event.delivery_id))
    if not is_application(issue, rules):
        return None
    trigger = Trigger(_ISSUE_TRIGGERS[event.action or ""], actor=event.sender_login, delivery=event.delivery_id)
    return _run(ctx, event, gateway, rules, issue, trigger, dry_run)


def on_label(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    issue = _issue(event)
    label = event.payload.get("label") or {}
    name = label.get("name") if isinstance(label, dict) else None
    if issue is None or not isinstance(name, str) or not (fund := _fund(ctx, event)):
        return None
    gateway, rules = fund
    if not is_application(issue, rules) or rules.stages.stage_by_label(name) is None:
        return None  # only a stage label put on by hand is input; the sweep puts other labels right
    trigger = Trigger(TriggerKind.LABELED, actor=event.sender_login, label=name, delivery=event.delivery_id)
    return _run(ctx, event, gateway, rules, issue, trigger, dry_run)


def on_comment(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    issue = _issue(event)
    data = event.payload.get("comment")
    if issue is None or not isinstance(data, dict):
        return None
    try:
        comment = Comment.from_api(data)
    except (KeyError, TypeError, ValueError):
        return None
    if comment.user.is_bot or not (fund := _fund(ctx, event)):
        return None
    gateway, rules = fund
    if not is_application(issue, rules):
        return None
    trigger = Trigger(TriggerKind.COMMENT, actor=comment.user.login, comment=comment, delivery=event.delivery_id)
    return _run(ctx, event, gateway, rules, issue, trigger, dry_run)


def on_push(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    """A push to a fund's default branch that touches its configuration: read it again now (and open,
    update or close the configuration issue)."""
    repo = event.repository
    if not repo or ctx.funds is None:
        return None
    branch = _get(event.payload, "repository", "default_branch")
    if branch and event.payload.get("ref") != f"refs/heads/{branch}":
        return None
    touched = {path for commit in event.payload.get("commits") or [] if isinstance(commit, dict)
               for key in ("added", "modified", "removed") for path in commit.get(key) or []}
    if not touched & set(CONFIG_PATHS):
        return None
    ctx.funds.invalidate(repo)
    if not dry_run and (gateway := _gateway(ctx, event)):
        config = prepare_fund(ctx, gateway, repo)  # a label renamed in the file is renamed on GitHub at once
        log.info("the fund's configuration changed",
                 extra=event.log_context(outcome="changed", reason=f"{len(config.problems)} problems"))
    return None


def on_installation(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    """The App installed on repositories (or more of them): prepare every fund among them; removed:
    stop all work there."""
    added = event.payload.get("repositories_added") if event.name == "installation_repositories" else \
        event.payload.get("repositories")
    removed = event.payload.get("repositories_removed") if event.name == "installation_repositories" else \
        (event.payload.get("repositories") if event.action == "deleted" else [])

    def names(items: object) -> list[str]:
        return [r["full_name"] for r in items or [] if isinstance(r, dict) and "full_name" in r]  # type: ignore[union-attr]

    assert ctx.funds is not None
    for repo in names(removed):
        ctx.funds.forget(repo)
        log.info("the App was removed; nothing more is done there", extra=event.log_context(repo=repo))
    if event.action == "deleted" or event.installation_id is None or dry_run:
        return None
    gateway = ctx.github.for_installation(event.installation_id)
    for repo in names(added):
        ctx.github.remember_installation(repo, event.installation_id)
        prepare_fund(ctx, gateway, repo)
    return None


def prepare_fund(ctx: Context, gateway: GitHubGateway, repo: str) -> FundConfig:
    """A new fund needs no command line (SPEC §13): its labels made as `labels sync` does, its
    configuration checked (and the configuration issue opened if it is invalid)."""
    assert ctx.funds is not None
    config = ctx.funds.reconcile(gateway, repo)
    if config.is_fund and config.rules is not None:
        changes = sync_labels(gateway, repo, config.rules)
        log.info("fund prepared", extra={"repo": repo, "reason": f"{len(changes)} labels made or updated; "
                                                                 f"{len(config.problems)} configuration problems"})
    return config


def on_ping(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    log.info("ping received", extra={"delivery": event.delivery_id})
    return None


# A handler: `(ctx, event, *, dry_run=False)`, returning what it wrote (or, in a dry run, would
# write), or None when the delivery concerns nothing the bot acts on.
Handler = Callable[..., Applied | None]


@dataclass(frozen=True)
class Route:
    """`(event, actions) -> handler`; `actions=None` matches every action of the event."""

    event: str
    actions: frozenset[str] | None
    handler: Handler

    def matches(self, event: Event) -> bool:
        return event.name == self.event and (self.actions is None or event.action in self.actions)


# The ordered routing table: the first match handles the delivery; anything else is answered 202
# and ignored. Only `issue_comment.created` runs commands, so an edited comment never runs twice;
# only `issues.labeled` with a stage label is input (the bot's own label events come from a bot).
ROUTES: tuple[Route, ...] = (
    Route("issues", frozenset(_ISSUE_TRIGGERS), on_issue),
    Route("issues", frozenset({"labeled"}), on_label),
    Route("issue_comment", frozenset({"created"}), on_comment),
    Route("push", None, on_push),
    Route("installation", frozenset({"created", "deleted"}), on_installation),
    Route("installation_repositories", frozenset({"added", "removed"}), on_installation),
    Route("ping", None, on_ping),
)


HANDLERS: dict[str, Handler] = {r.handler.__name__: r.handler for r in ROUTES}  # by name, for queued jobs


def route(event: Event) -> Route | None:
    """The first route that takes `event`, or None (answered 202 and ignored)."""
    return next((r for r in ROUTES if r.matches(event)), None)


@dataclass(frozen=True)
class Ignored:
    """Why a verified delivery is answered 202 and not processed."""

    reason: str


def triage(event: Event) -> Route | Ignored:
    """What becomes of a verified delivery: the route that handles it, or why it is ignored (a bot's
    delivery, an event the bot does not handle). Called once per delivery, by the web tier, which
    queues the delivery with its handler; `fundbot replay` asks the same."""
    if event.sender_is_bot:
        return Ignored("sent by a bot")
    return route(event) or Ignored(f"{event.name}.{event.action or '-'} is not handled")


def process(ctx: Context, event: Event, handler: Handler | None = None, *, dry_run: bool = False) -> Applied | None:
    """Handle one delivery with the handler it was routed to (called by the queue's workers, and by
    `fundbot replay`); returns what the handler wrote, or would write with `dry_run`."""
    if handler is None:
        matched = route(event)
        handler = matched.handler if matched else None
    if dry_run:
        return handler(ctx, event, dry_run=True) if handler is not None else None
    with processing(event.name):  # a failure is counted by the caller, which knows whether it is final
        applied = handler(ctx, event, dry_run=False) if handler is not None else None
    observe_delivery(event.name, event.action, "ignored" if applied is None else "processed")
    return applied


def _done(event: Event, gateway: GitHubGateway, issue: Issue, dry_run: bool, applied: Applied) -> Applied:
    """Log what a delivery changed (or, in a dry run, would change), and hand it on."""
    outcome = "partial" if applied.failures else "changed" if applied.lines else "unchanged"
    log.info(
        "delivery processed" + (" (dry run: nothing written)" if dry_run else ""),
        extra=event.log_context(issue=issue.number, outcome=outcome, requests=str(gateway.stats),
                                reason="; ".join(applied.lines) or "nothing to change"),
    )
    return applied
