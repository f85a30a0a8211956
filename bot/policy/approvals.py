"""Several approvers for money (SPEC §14, `approvals:` in funding.yml): a grant takes effect when enough
distinct reviewers have `/approve`d the same amount, a later part of it when enough have `/accept-report`ed
the report. Pure.

Each approval is kept in the record with who, what and when (`bot.policy.record_votes.Approval`), and
audited. Until the last one needed is given, nothing moves; when it is, the grant is made through the money
rules (`bot.policy.ledger`: the cap and the pool checked at that moment) or the tranche released. An
approval of another amount than the others' is refused with the figures; one's own second approval of
the same amount changes nothing (and says so); one's own approval of another amount replaces one's own
when no one else's differs. A grant's approvals count while the application stays in the deciding stage:
moving it elsewhere and back starts them afresh. A reviewer who recuses, or is found conflicted, stops
counting.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from bot.policy.command_context import CommandContext, CommandResult, done, refuse
from bot.policy.i18n import Translator
from bot.policy.ledger import approval_problem, grant, release_tranche
from bot.policy.record import Record, ReportEntry
from bot.policy.record_votes import Approval
from bot.policy.review_commands import close_for
from bot.policy.rules import Rules
from bot.policy.shown import person


def pending(record: Record, kind: str, target: str = "") -> tuple[Approval, ...]:
    """The approvals that count towards the next release: a grant's, given since the application last
    entered its current stage; a tranche's, of the report `target`; in both, only of reviewers still
    unconflicted."""
    return tuple(a for a in record.approvals
                 if a.kind == kind and record.counts(a.by)
                 and (a.target == target if kind == "tranche" else a.entered == record.stage_since))


def needed_for(kind: str, rules: Rules, amount: Decimal | None = None) -> int:
    approvals = rules.funding.approvals
    return approvals.for_grant(amount or Decimal(0)) if kind == "grant" else approvals.tranche


def _people(approvals: tuple[Approval, ...], tr: Translator) -> str:
    return tr.join(person(a.by) for a in approvals)


def _with(record: Record, approval: Approval, replaced: tuple[Approval, ...], what: str) -> Record:
    kept = tuple(a for a in record.approvals if a not in replaced) + (approval,)
    return dataclasses.replace(record, approvals=kept).audited(approval.at, approval.by, "approve", what)


def approve_grant(ctx: CommandContext, amount: Decimal, plan: tuple[Decimal, ...], *, checked: bool = True
                  ) -> CommandResult:
    """`/approve <amount>` by a reviewer, in a deciding stage: recorded, and — with the last approval needed —
    the grant made (`checked`: the cap and the pool checked first; a rebuild replaying what the App's own
    ledger proves it granted does not check them again)."""
    tr, record, money = ctx.tr, ctx.record, ctx.rules.funding
    needed = needed_for("grant", ctx.rules, amount)
    given = pending(record, "grant")
    mine = tuple(a for a in given if a.by.lower() == ctx.actor.lower())
    others = tuple(a for a in given if a not in mine)
    shown = tr.amount(amount, money.currency)
    differing = tuple(a for a in others if a.amount != amount)
    if differing:
        theirs = tr.join(sorted({tr.amount(a.amount or Decimal(0), money.currency) for a in differing}), "or")
        return refuse(ctx, tr.gettext(
            "`/approve %(amount)s`: %(people)s approved %(theirs)s. Approvals must be for the same amount: approve "
            "%(theirs)s, or ask them to approve %(amount)s (a later `/approve` replaces one's own).",
            amount=shown, people=_people(differing, tr), theirs=theirs))
    if mine and mine[-1].amount == amount:
        return refuse(ctx, tr.gettext(
            "`/approve %(amount)s`: you approved it on %(date)s already; %(have)s of %(needed)s approvals so far, "
            "the others must come from other reviewers.", amount=shown,
            date=tr.date(mine[-1].at.date()), have=tr.number(len(given)), needed=tr.number(needed)))
    have = len(others) + 1
    if checked:
        problem = approval_problem(amount, record, ctx.issue.number, ctx.rules, ctx.ledger, tr)
        if problem:
            return refuse(ctx, problem)
    approval = Approval("grant", ctx.actor, ctx.at, f"comment:{ctx.comment_id}", amount, entered=record.stage_since)
    record = _with(record, approval, mine, f"grant {format(amount, 'f')}: {have} of {needed}")
    if have < needed:
        return done(ctx, record, message=tr.ngettext(
            "Approval recorded: %(have)s of %(needed)s for %(amount)s. Still needed: %(n)s more reviewer's "
            "`/approve %(arg)s`.",
            "Approval recorded: %(have)s of %(needed)s for %(amount)s. Still needed: %(n)s more reviewers' "
            "`/approve %(arg)s`.", needed - have, have=tr.number(have), needed=tr.number(needed), amount=shown,
            arg=format(amount, "f")))
    funded = grant(record, amount, plan, ctx.rules, ctx.at, ctx.actor)
    message = tr.gettext("Approved by %(people)s: the grant of %(amount)s is made.",
                         people=_people(pending(funded, "grant"), tr), amount=shown) if needed > 1 else ""
    return done(ctx, funded, message=message, actions=close_for("funded", ctx.rules))


def accept_report(ctx: CommandContext, report: ReportEntry) -> CommandResult:
    """`/accept-report` of the oldest report waiting: recorded, and — with the last acceptance needed — the
    report accepted and the grant's next part released."""
    tr, record = ctx.tr, ctx.record
    needed = needed_for("tranche", ctx.rules)
    given = pending(record, "tranche", report.ref)
    if any(a.by.lower() == ctx.actor.lower() for a in given):
        return refuse(ctx, tr.gettext("`/accept-report`: you accepted this report already; %(have)s of %(needed)s "
                                      "acceptances so far, the others must come from other reviewers.",
                                      have=tr.number(len(given)), needed=tr.number(needed)))
    have = len(given) + 1
    approval = Approval("tranche", ctx.actor, ctx.at, f"comment:{ctx.comment_id}", target=report.ref)
    record = _with(record, approval, (), f"report {report.ref}: {have} of {needed}")
    if have < needed:
        return done(ctx, record, message=tr.ngettext(
            "Acceptance recorded: %(have)s of %(needed)s. Still needed: %(n)s more reviewer's `/accept-report`.",
            "Acceptance recorded: %(have)s of %(needed)s. Still needed: %(n)s more reviewers' `/accept-report`.",
            needed - have, have=tr.number(have), needed=tr.number(needed)))
    record = reviewed(record, report, "accepted", ctx.actor, ctx.at)
    released = release_tranche(record, ctx.rules, ctx.at, ctx.actor, report.ref)
    if released is record:
        return done(ctx, record, message=tr.gettext("Report accepted. Every part of the grant has been released "
                                                     "already."))
    tranche = released.tranches[-1]
    return done(ctx, released, message=tr.gettext(
        "Report accepted: part %(k)s of %(n)s of the grant, %(amount)s, is released for payment.",
        k=tr.number(tranche.k), n=tr.number(tranche.n), amount=tr.amount(tranche.amount, ctx.rules.funding.currency)))


def reviewed(record: Record, report: ReportEntry, verdict: str, by: str, at: dt.datetime, reason: str = "") -> Record:
    """A progress report accepted or rejected on `by`'s word, audited."""
    reports = tuple(dataclasses.replace(r, review=verdict, reviewed_by=by, reviewed_at=at, reason=reason)
                    if r is report else r for r in record.reports)
    return dataclasses.replace(record, reports=reports).audited(at, by, "review-report",
                                                                f"{verdict} {report.ref}" + (f": {reason}" if reason else ""))


def released_with_approvers(record: Record, rules: Rules) -> list[str]:
    """Problems with the money released so far: each part with fewer distinct approvers than the rules
    needed (a record must never hold one). The property test and the audit check it."""
    problems = []
    for tranche in record.tranches:
        if tranche.ref == "approve":
            amount = record.outcome.amount if record.outcome else None
            people = {a.by.lower() for a in record.approvals if a.kind == "grant" and a.amount == amount
                      and a.entered == record.stage_since and record.outcome is not None and a.at <= record.outcome.at}
            needed = needed_for("grant", rules, amount)
        else:
            people = {a.by.lower() for a in record.approvals if a.kind == "tranche" and a.target == tranche.ref}
            needed = needed_for("tranche", rules)
        if len(people) < needed:
            problems.append(f"part {tranche.k} of {tranche.n} released with {len(people)} of {needed} approvers")
    return problems


__all__ = ["accept_report", "approve_grant", "needed_for", "pending", "released_with_approvers", "reviewed"]
