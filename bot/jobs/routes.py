"""Deliveries, routed: the table of `event.action → handler`, and the handlers.

The web tier routes a delivery once (`triage`) and queues it with its handler's name; a worker calls
the handler (`process`), and so does `fundbot replay`, in its own process, with or without a dry run.
A handler reads what the payload names — which repository, which issue, who — and hands the
application to the pipeline (`bot.jobs.pipeline`), which reads everything again under its lock.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.config.fund_files import CONFIG_PATHS
from bot.github.gateway import GitHubGateway
from bot.github.webhooks import Event, _get
from bot.jobs.context import Context
from bot.jobs.evidence import schedule
from bot.jobs.fund_setup import fund_config, prepare_fund
from bot.config.funds import FundConfig
from bot.jobs.pipeline import Applied, run_application, run_outside_fund, run_report_issue
from bot.metrics import observe_delivery, processing
from bot.policy.intake import is_application, is_report_issue
from bot.policy.models import Comment, Issue
from bot.policy.not_a_fund import NotAFund
from bot.policy.rules import Rules
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.wording import english

log = logging.getLogger("fundbot.routes")

# --- the handlers ------------------------------------------------------------------------------------

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


def _fund(ctx: Context, event: Event) -> tuple[GitHubGateway, FundConfig] | None:
    """The gateway and the repository as a fund (its rules None where no fund is served); None without
    an installation."""
    gateway = _gateway(ctx, event)
    if gateway is None or not event.repository:
        return None
    config = fund_config(ctx, gateway, event.repository)
    if config.rules is None:
        log.info("not a fund, or no valid configuration; ignored",
                 extra=event.log_context(outcome="ignored", reason=config.ignored.value if config.ignored else None))
    return gateway, config


def _outside_fund(ctx: Context, event: Event, gateway: GitHubGateway, config: FundConfig, issue: Issue,
                  dry_run: bool) -> Applied | None:
    """An issue labelled as an application where no fund is served gets its one answer (never on an edit:
    the handlers call this on `opened`, `reopened` and the application label put on). An issue without the
    label, or a bot's, costs no request; nor does a fund whose file has problems (its configuration issue says
    so)."""
    why = config.ignored
    if why in (None, NotAFund.NEVER_VALID) or issue.user.is_bot or \
            not issue.has_label(ctx.rules.stages.labels.application.name):
        return None
    return _done(event, gateway, issue, dry_run,
                 run_outside_fund(ctx, gateway, issue, why, dry_run=dry_run, delivery=event.delivery_id))


def _run(ctx: Context, event: Event, gateway: GitHubGateway, rules: Rules, issue: Issue, trigger: Trigger,
         dry_run: bool) -> Applied:
    applied = run_application(ctx, gateway, issue, trigger, rules=rules, dry_run=dry_run, delivery=event.delivery_id)
    schedule(ctx, applied, event.installation_id, dry_run=dry_run, delivery=event.delivery_id)  # the evidence pack
    return _done(event, gateway, issue, dry_run, applied)


def on_issue(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    issue = _issue(event)
    if issue is None or not (fund := _fund(ctx, event)):
        return None
    gateway, config = fund
    if (rules := config.rules) is None:
        return _outside_fund(ctx, event, gateway, config, issue, dry_run) if event.action != "edited" else None
    if is_report_issue(issue, rules):
        applied = run_report_issue(ctx, gateway, issue, rules=rules, dry_run=dry_run, delivery=event.delivery_id)
        schedule(ctx, applied, event.installation_id, dry_run=dry_run, delivery=event.delivery_id)  # evidence at the report
        return _done(event, gateway, issue, dry_run, applied)
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
    gateway, config = fund
    if (rules := config.rules) is None:
        application_label = ctx.rules.stages.labels.application.name
        return _outside_fund(ctx, event, gateway, config, issue, dry_run) if name == application_label else None
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
    if comment.user.is_bot or not (fund := _fund(ctx, event)) or (rules := fund[1].rules) is None:
        return None
    gateway = fund[0]
    if not is_application(issue, rules):
        return None
    trigger = Trigger(TriggerKind.COMMENT, actor=comment.user.login, comment=comment, delivery=event.delivery_id)
    return _run(ctx, event, gateway, rules, issue, trigger, dry_run)


def on_push(ctx: Context, event: Event, *, dry_run: bool = False) -> Applied | None:
    """A push to a fund's default branch that touches its configuration: read it again now (and open,
    update or close the configuration issue)."""
    repo = event.repository
    if not repo:
        return None
    branch = _get(event.payload, "repository", "default_branch")
    if branch and event.payload.get("ref") != f"refs/heads/{branch}":
        return None
    touched = {path for commit in event.payload.get("commits") or [] if isinstance(commit, dict)
               for key in ("added", "modified", "removed") for path in commit.get(key) or []}
    if not touched & set(CONFIG_PATHS):
        return None
    if not ctx.funds.pushed(repo):  # read within the TTL: a storm of pushes costs one reading per TTL
        log.info("the fund's configuration was pushed; it is read again when the last reading expires",
                 extra=event.log_context(outcome="deferred"))
        return None
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
                                reason="; ".join(english(line) for line in applied.lines) or "nothing to change"),
    )
    return applied
