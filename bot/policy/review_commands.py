"""The review's commands (SPEC §5, §14): moving stages, scores, questions, assignment, waivers,
declining, recusal and availability. Pure handlers, registered with their help in
`bot.policy.commands.REGISTRY`; the money commands are in `bot.policy.funding_commands`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

from bot.policy.command_context import CommandContext, CommandResult, done, refuse, usage_of
from bot.policy.command_parse import MAX_ASSIGNEES, assign_names
from bot.policy.evidence_flow import asked
from bot.policy.i18n import Translator
from bot.policy.models import Action, Assign, CloseIssue, SetAway
from bot.policy.record import NeedsInfo, Record, Recusal, Score, Waiver
from bot.policy.roles import applicant_logins
from bot.policy.rules import Rules, StageSpec
from bot.policy.text import escape_block, shorten
from bot.policy.votes import too_soon


def on_recheck(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return done(ctx, asked(ctx.record, "recheck", str(ctx.comment_id), ctx.at, ctx.actor, ctx.rules), recheck=True)


def on_withdraw(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return finish(ctx, "withdrawn")


def finish(ctx: CommandContext, outcome: str, amount: Decimal | None = None, reason: str | None = None,
            message: str = "") -> CommandResult:
    """The review ended with `outcome`; the issue closed when the rules say so."""
    record = ctx.record.finished(outcome, by=ctx.actor, at=ctx.at, amount=amount, reason=reason)
    return done(ctx, record, message=message, actions=close_for(outcome, ctx.rules))


def close_for(outcome: str, rules: Rules) -> tuple[Action, ...]:
    """Closing the issue, when the rules close it on `outcome`."""
    if not rules.stages.outcomes[outcome].close_issue:
        return ()
    return (CloseIssue("not_planned" if outcome != "funded" else "completed"),)

def on_advance(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages = ctx.rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(ctx.record.stage)
    later = [n for n in (current.next if current else ()) if order.index(n) > order.index(current.name)]
    if current is None or not later:
        return refuse(ctx, ctx.tr.gettext("`/advance`: there is no stage after %(stage)s; use `/approve <amount>` or "
                                           "`/decline <reason>`.", stage=ctx.record.stage or "—"))
    return move(ctx, later[0], via="/advance")


def on_stage(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    target = args.strip().lower()
    names = [s.name for s in ctx.rules.stages.stages]
    if not target or target not in names:
        return refuse(ctx, usage_of(ctx, tr.gettext("name one of %(stages)s", stages=tr.join(names, "or"))))
    if target == ctx.record.stage:
        return refuse(ctx, tr.gettext("`/stage %(stage)s`: the application is already there.", stage=target))
    current = ctx.rules.stages.stage(ctx.record.stage)
    if current is not None and target not in current.next:
        allowed = tr.join(current.next, "or") or "—"
        return refuse(ctx, tr.gettext("`/stage %(stage)s`: from %(current)s the application may move to: "
                                       "%(allowed)s.", stage=target, current=current.name, allowed=allowed))
    return move(ctx, target, via="/stage")


def move_problem(record: Record, rules: Rules, target: str, via: str, tr: Translator,
                 at: dt.datetime | None = None) -> str | None:
    """Why the application may not move to `target` at `at` (None: it may), in `tr`'s language. The same
    checks hold for a command and for a stage label put on by hand: screening passed, the stage's
    scores given, its vote's minimum days gone by and its quorum reached."""
    stages = rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(record.stage)
    forward = current is None or order.index(target) > order.index(current.name)
    if not forward or current is None:
        return None
    if rules.funding.dated and not record.round:
        return tr.gettext("`%(via)s`: the application waits for the next funding round; its review starts when "
                          "that opens.", via=via)
    if current.name == stages.first.name and not record.eligible:
        return tr.gettext("`%(via)s`: the application has not passed screening (see the status comment); fix the "
                          "findings, or `/waive <check> <reason>` a failed check.", via=via)
    missing = current.min_scores - len(record.scorers_in(current.name))
    if missing > 0:
        return tr.ngettext("`%(via)s`: %(stage)s needs scores from %(needed)s reviewers before it may advance; "
                           "%(n)s more needed (`/score <criterion> <n>`).",
                           "`%(via)s`: %(stage)s needs scores from %(needed)s reviewers before it may advance; "
                           "%(n)s more needed (`/score <criterion> <n>`).", missing, via=via, stage=current.name,
                           needed=tr.number(current.min_scores))
    return (too_soon(record, at, via, tr) if at is not None else None) or quorum_problem(record, current, via, tr)


def quorum_problem(record: Record, stage: StageSpec, via: str, tr: Translator) -> str | None:
    """Why the community vote does not let the application leave `stage` yet (SPEC §14), with the figures."""
    if not stage.community_vote:
        return None
    voters = record.votes_up + record.votes_down
    if voters < stage.min_voters:
        return tr.gettext("`%(via)s`: the community vote needs at least %(needed)s voters; %(voters)s so far "
                          "(👍 %(up)s · 👎 %(down)s).", via=via, needed=tr.number(stage.min_voters),
                          voters=tr.number(voters), up=tr.number(record.votes_up), down=tr.number(record.votes_down))
    if stage.min_approval is not None:
        share = Decimal(record.votes_up) / voters if voters else Decimal(0)
        if share < stage.min_approval:
            return tr.gettext("`%(via)s`: the community vote needs %(needed)s 👍; it has %(share)s "
                              "(👍 %(up)s · 👎 %(down)s).", via=via, needed=tr.number(stage.min_approval, "0%"),
                              share=tr.number(share, "0%"), up=tr.number(record.votes_up),
                              down=tr.number(record.votes_down))
    return None


def move(ctx: CommandContext, target: str, via: str) -> CommandResult:
    problem = move_problem(ctx.record, ctx.rules, target, via, ctx.tr, ctx.at)
    if problem:
        return refuse(ctx, problem)
    return done(ctx, ctx.record.moved_to(target, at=ctx.at, by=ctx.actor, via=via))


def on_score(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages, tr = ctx.rules.stages, ctx.tr
    parts = args.split()
    usage = usage_of(ctx, tr.gettext("name a criterion (%(criteria)s) and a whole number from %(min)s to %(max)s",
                                            criteria=tr.join(stages.criteria, "or"), min=stages.score_min,
                                            max=stages.score_max)).replace("1-5", f"{stages.score_min}-{stages.score_max}")
    if len(parts) != 2 or parts[0].lower() not in stages.criteria or not re.fullmatch(r"\d{1,3}", parts[1]):
        return refuse(ctx, usage)
    value = int(parts[1])
    if not stages.score_min <= value <= stages.score_max:
        return refuse(ctx, usage)
    score = Score(reviewer=ctx.actor, criterion=parts[0].lower(), value=value, stage=ctx.record.stage, at=ctx.at)
    record = ctx.record.with_score(score).audited(ctx.at, ctx.actor, "score", f"{score.criterion} {value}")
    return done(ctx, record)


def on_needs_info(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not args.strip():
        return refuse(ctx, usage_of(ctx, tr.gettext("say what information is needed")))
    question = shorten(args.strip(), 2000)
    record = dataclasses.replace(ctx.record, needs_info=NeedsInfo(by=ctx.actor, at=ctx.at, text=question))
    applicants = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    message = "\n\n".join((
        tr.gettext("%(applicants)s: a reviewer asks for more information:", applicants=applicants),
        escape_block(question),
        tr.gettext("Edit the application or answer in a comment; the `%(label)s` label goes when you do.",
                   label=ctx.rules.stages.labels.needs_info.name)))
    return done(ctx, record, message=message)


def on_assign(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    logins = assign_names(args)
    if logins is None:
        return refuse(ctx, usage_of(ctx, tr.gettext("name one to %(max)s GitHub users", max=MAX_ASSIGNEES)))
    refused = [login for login in logins if not ctx.assignable.get(login.lower(), False)]
    if refused:
        names = tr.join(f"`{login}`" for login in refused)
        return refuse(ctx, tr.gettext("`/assign`: %(names)s cannot be assigned here (only people with access to "
                                       "this repository can be assigned).", names=names))
    return done(ctx, actions=(Assign(tuple(logins)),))


def on_decline(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not args.strip():
        return refuse(ctx, usage_of(ctx, ctx.tr.gettext("give the reason, which the applicant will read")))
    return finish(ctx, "declined", reason=shorten(args.strip(), 2000))


def on_waive(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    parts = args.split(maxsplit=1)
    failed = [c.id for c in ctx.record.checks if not c.ok]
    if len(parts) != 2 or parts[0].lower() not in {c.id for c in ctx.record.checks}:
        known = tr.join((c.id for c in ctx.record.checks), "or") or tr.gettext("none yet")
        return refuse(ctx, usage_of(ctx, tr.gettext("name a check (%(checks)s) and give the reason",
                                                            checks=known)))
    check = parts[0].lower()
    if check not in failed:
        return refuse(ctx, tr.gettext("`/waive %(check)s`: that check has not failed.", check=check))
    reason = shorten(parts[1].strip(), 500)
    waiver = Waiver(check=check, by=ctx.actor, reason=reason, at=ctx.at)
    waivers = tuple(w for w in ctx.record.waivers if w.check != check) + (waiver,)
    record = dataclasses.replace(ctx.record, waivers=waivers).audited(ctx.at, ctx.actor, "waive", f"{check}: {reason}")
    return done(ctx, record)


def on_recuse(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    earlier = ctx.record.recused(ctx.actor)
    if earlier:
        return refuse(ctx, tr.gettext("`/recuse`: you recused yourself on %(date)s already.",
                                       date=tr.date(earlier.at.astimezone(dt.timezone.utc).date())))
    reason = shorten(args.strip(), 500)
    record = dataclasses.replace(ctx.record, recusals=ctx.record.recusals + (Recusal(ctx.actor, reason, ctx.at),))
    return done(ctx, record.audited(ctx.at, ctx.actor, "recuse", reason),
                 message=tr.gettext("Recorded: you are off this application. Your scores and vote here no longer "
                                    "count, and its review commands are not yours to give."))


def on_away(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    match = re.fullmatch(r"(?:until\s+)?(\d{4}-\d{2}-\d{2})", args.strip(), re.IGNORECASE)
    try:
        until = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        until = None
    today = ctx.at.astimezone(dt.timezone.utc).date()
    if until is None or not today < until <= today + dt.timedelta(days=366):
        return refuse(ctx, usage_of(ctx, tr.gettext("give the day you are back, after today and within a year")))
    return done(ctx, actions=(SetAway(ctx.actor, until),),
                 message=tr.gettext("Noted: you are away until %(date)s (UTC); no application is assigned to you "
                                    "before then. Say `/back` if you return sooner.", date=tr.date(until)))


def on_back(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return done(ctx, actions=(SetAway(ctx.actor, None),),
                 message=ctx.tr.gettext("Welcome back: applications may be assigned to you again."))

