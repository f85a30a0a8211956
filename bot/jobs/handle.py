"""Handlers and the ordered routing table: which deliveries the bot acts on, and how.

Every handler ends in the same gather -> decide -> apply pipeline (`run_application`), which the
sweep calls too, with a synthetic trigger, so scheduled work is tested exactly like a webhook.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.policy.decide import ReportIssue, Snapshot, Trigger, TriggerKind, decide
from bot.jobs.apply import Applied, apply
from bot.policy.forms import FormTemplate, could_be_form, parse_form
from bot.github.gateway import GitHubApp, GitHubGateway
from bot.jobs.gather import TeamCache, bot_markers, gather
from bot.jobs.locks import IssueLocks
from bot.policy.models import Comment, Issue, PostComment
from bot.policy.rules import Rules
from bot.policy.text import escape_inline
from bot.github.webhooks import Event, Route, route

log = logging.getLogger("fundbot.handlers")


@dataclass
class Context:
    """What handlers share for the life of the process."""

    rules: Rules
    github: GitHubApp
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.timezone.utc))
    teams: TeamCache = field(default_factory=TeamCache)
    locks: IssueLocks = field(default_factory=IssueLocks)
    sweep_logs: dict[str, Any] = field(default_factory=dict)  # repo -> the sweep log this process last saw


def _is_form(template: FormTemplate, body: str) -> bool:
    return could_be_form(template, body) and parse_form(template, body).recognised


def is_report_issue(issue: Issue, rules: Rules) -> bool:
    if issue.has_label(rules.stages.labels.report.name):
        return True
    return not issue.has_label(rules.stages.labels.application.name) and _is_form(rules.report_form, issue.body)


def is_application(issue: Issue, rules: Rules) -> bool:
    """Labelled by the issue form, or a body that parses as the application form."""
    if issue.has_label(rules.stages.labels.application.name):
        return True
    return not is_report_issue(issue, rules) and _is_form(rules.application_form, issue.body)


def run_application(
    ctx: Context, gateway: GitHubGateway, issue: Issue, trigger: Trigger, *, dry_run: bool = False, **gathered: Any
) -> Applied:
    """gather -> decide -> apply for one application (one at a time per issue)."""
    with ctx.locks.lock(issue.repo, issue.number):
        now = ctx.clock()
        snap = gather(gateway, issue, trigger, ctx.rules, now, teams=ctx.teams, **gathered)
        decision = decide(trigger, snap, ctx.rules, now)
        return apply(gateway, snap, decision.actions, dry_run=dry_run)


def run_report_issue(ctx: Context, gateway: GitHubGateway, report: Issue, *, dry_run: bool = False) -> Applied:
    """A progress-report issue: record it on the application it names, or say what is wrong.

    Each kind of refusal has its own marker, so a report fixed by an edit is still acknowledged."""
    form = parse_form(ctx.rules.report_form, report.body)
    markers = bot_markers(gateway.comments(report.repo, report.number)) if report.comments else frozenset()
    number = form.application_number
    author = report.user.login
    refusal: tuple[str, str] | None = None
    if number is None:
        problems = " ".join(p.message for p in form.problems_for("application")) or "the application is not named."
        refusal = ("unnamed", f"@{author} I could not tell which application this reports on: {escape_inline(problems)}")
    elif form.problems:
        missing = "\n".join(f"- {escape_inline(p.message)}" for p in form.problems)
        digest = hashlib.sha256(missing.encode()).hexdigest()[:8]
        refusal = (f"incomplete-{digest}", f"@{author} this progress report is not complete yet; edit the issue to "
                                           f"fix:\n\n{missing}")
    else:
        application = gateway.issue(report.repo, number)
        if application.is_pull_request or not is_application(application, ctx.rules):
            refusal = ("not-application", f"@{author} #{number} is not an application to the fund. Edit this issue "
                                          "to name one.")
    if refusal is not None:
        action = PostComment(key=f"report-refused:{report.number}:{refusal[0]}", body=refusal[1])
        return apply(gateway, Snapshot(issue=report, bot_markers=markers), (action,), dry_run=dry_run)
    trigger = Trigger(
        TriggerKind.REPORT_ISSUE,
        actor=author,
        report=ReportIssue(number=report.number, author=author, created_at=report.created_at),
    )
    return run_application(ctx, gateway, application, trigger, dry_run=dry_run, extra_markers=markers)


# --- webhook handlers ----------------------------------------------------------------------------

_ISSUE_TRIGGERS = {"opened": TriggerKind.OPENED, "edited": TriggerKind.EDITED, "reopened": TriggerKind.REOPENED}


def _issue(event: Event) -> Issue | None:
    data, repo = event.payload.get("issue"), event.repository
    if not isinstance(data, dict) or not repo or "number" not in data:
        return None
    issue = Issue.from_api(data, repo)
    return None if issue.is_pull_request else issue  # issue_comment fires for pull requests too


def _gateway(ctx: Context, event: Event) -> GitHubGateway | None:
    if event.installation_id is None:
        log.warning("delivery without an installation; ignored", extra={"delivery": event.delivery_id})
        return None
    return ctx.github.for_installation(event.installation_id)


def on_issue(ctx: Context, event: Event) -> None:
    issue = _issue(event)
    if issue is None:
        return
    if is_report_issue(issue, ctx.rules):
        if issue.state == "open" and (gateway := _gateway(ctx, event)):
            _log_done(event, gateway, run_report_issue(ctx, gateway, issue))
        return
    if not is_application(issue, ctx.rules) or not (gateway := _gateway(ctx, event)):
        return
    trigger = Trigger(_ISSUE_TRIGGERS[event.action or ""], actor=event.sender_login)
    _log_done(event, gateway, run_application(ctx, gateway, issue, trigger))


def on_label(ctx: Context, event: Event) -> None:
    issue = _issue(event)
    label = event.payload.get("label") or {}
    name = label.get("name") if isinstance(label, dict) else None
    if issue is None or not name or not is_application(issue, ctx.rules):
        return
    if ctx.rules.stages.stage_by_label(name) is None:
        return  # only a stage label put on by hand is input; the sweep puts other labels right
    if gateway := _gateway(ctx, event):
        trigger = Trigger(TriggerKind.LABELED, actor=event.sender_login, label=name)
        _log_done(event, gateway, run_application(ctx, gateway, issue, trigger))


def on_comment(ctx: Context, event: Event) -> None:
    issue = _issue(event)
    data = event.payload.get("comment")
    if issue is None or not isinstance(data, dict) or not is_application(issue, ctx.rules):
        return
    comment = Comment.from_api(data)
    if comment.user.is_bot:
        return
    if gateway := _gateway(ctx, event):
        trigger = Trigger(TriggerKind.COMMENT, actor=comment.user.login, comment=comment)
        _log_done(event, gateway, run_application(ctx, gateway, issue, trigger))


def on_ping(ctx: Context, event: Event) -> None:
    log.info("ping received", extra={"delivery": event.delivery_id})


# The ordered routing table: the first match handles the delivery; anything else is answered 202
# and ignored. Only `issue_comment.created` runs commands, so an edited comment never runs twice;
# only `issues.labeled` with a stage label is input (the bot's own label events come from a bot).
ROUTES: tuple[Route, ...] = (
    Route("issues", frozenset(_ISSUE_TRIGGERS), on_issue),
    Route("issues", frozenset({"labeled"}), on_label),
    Route("issue_comment", frozenset({"created"}), on_comment),
    Route("ping", None, on_ping),
)


def process(ctx: Context, event: Event) -> None:
    """Handle one delivery (called by the queue's workers)."""
    matched = route(ROUTES, event)
    if matched is not None:
        matched.handler(ctx, event)


def _log_done(event: Event, gateway: GitHubGateway, applied: Applied) -> None:
    log.info(
        "delivery processed",
        extra={"delivery": event.delivery_id, "event": event.name, "action": event.action, "repo": event.repository,
               "requests": str(gateway.stats), "reason": "; ".join(applied.lines) or "nothing to change"},
    )

