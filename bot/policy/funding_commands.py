"""The money commands (SPEC §5, §14): `/approve` a grant, `/accept-report` and `/reject-report` a
progress report (releasing the grant's next part), and a maintainer's `/report`. Pure handlers,
registered with their help in `bot.policy.commands.REGISTRY`; the rules they apply (cap, pool, tranches)
are `bot.policy.ledger`'s.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from bot.policy.command_context import CommandContext, CommandResult, done, refuse, usage_of
from bot.policy.eligibility import count_words
from bot.policy.answers import AnswerError, parse_amount
from bot.policy.approvals import accept_report, approve_grant, reviewed
from bot.policy.record import Record, ReportEntry
from bot.policy.reports import report_text
from bot.policy.review_commands import close_for
from bot.policy.roles import applicant_logins
from bot.policy.text import escape_block, escape_inline, shorten
from bot.policy.wording import answer_error


def on_approve(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    stage = ctx.rules.stages.stage(ctx.record.stage)
    if stage is None or not stage.decides:
        deciding = tr.join((s.name for s in ctx.rules.stages.stages if s.decides), "or")
        return refuse(ctx, tr.gettext("`/approve` is only possible in the %(deciding)s stage; the application is in "
                                      "%(stage)s.", deciding=deciding, stage=ctx.record.stage or "—"))
    try:
        amount = parse_amount(args)
    except AnswerError as err:
        problem = tr.gettext("give the amount granted as a positive number (%(why)s)",
                             why=escape_inline(answer_error(err.code, err.params, tr)))
        return refuse(ctx, usage_of(ctx, problem))
    return approve_grant(ctx, amount, ctx.rules.funding.tranches)


def _pending_report(record: Record) -> ReportEntry | None:
    """The oldest progress report no reviewer has accepted or rejected yet."""
    return next((r for r in record.reports if not r.review), None)


def on_accept_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return refuse(ctx, ctx.tr.gettext("`/accept-report`: no progress report waits for review here."))
    return accept_report(ctx, report)


def on_reject_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not args.strip():
        return refuse(ctx, usage_of(ctx, tr.gettext("give the reason, which the maintainers will read")))
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return refuse(ctx, tr.gettext("`/reject-report`: no progress report waits for review here."))
    reason = shorten(args.strip(), 2000)
    record = reviewed(ctx.record, report, "rejected", ctx.actor, ctx.at, reason)
    maintainers = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    message = "\n\n".join((
        tr.gettext("The progress report of %(date)s was not accepted:",
                   date=tr.date(report.at.astimezone(dt.timezone.utc).date())),
        escape_block(reason),
        tr.gettext("%(maintainers)s please send another: comment `/report` followed by the report, or open a "
                   "progress-report issue.", maintainers=maintainers)))
    return done(ctx, record, message=message)


def on_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not ctx.record.funded:
        return refuse(ctx, tr.gettext("`/report`: progress reports start once the application is funded."))
    text = report_text(args, rest)
    needed = ctx.rules.reports.min_words
    if count_words(text) < needed:
        return refuse(ctx, usage_of(ctx, tr.ngettext(
            "a progress report needs at least %(n)s word (progress against milestones, use of funds, community "
            "feedback, outcomes)",
            "a progress report needs at least %(n)s words (progress against milestones, use of funds, community "
            "feedback, outcomes)", needed)))
    return received_report(ctx)


def received_report(ctx: CommandContext) -> CommandResult:
    """The comment recorded as a progress report (its checks passed, now or when the App accepted it)."""
    entry = ReportEntry(at=ctx.at, by=ctx.actor, ref=f"comment:{ctx.comment_id}")
    record = dataclasses.replace(ctx.record, reports=ctx.record.reports + (entry,))
    return done(ctx, record.audited(ctx.at, ctx.actor, "report", entry.ref))
