"""Slash commands (SPEC §5): the registry, and running one command.

Each command is registered here once with its usage, help text, who may use it and its handler, so
`/help` is generated from the registry and can never drift from what the bot does (the handlers are
in `bot.policy.review_commands` and `bot.policy.funding_commands`). A refused command always says
why. Commands are the same words in every language; what the bot answers is in the application's
(`ctx.tr`, SPEC §15).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.policy import funding_commands as money
from bot.policy import review_commands as review
from bot.policy import vote_commands as votes
from bot.policy.command_context import CommandContext, CommandResult, CommandSpec, done, refuse
from bot.policy.command_parse import MAX_ASSIGNEES, MAX_COMMANDS, ParsedCommand
from bot.policy.evidence_flow import on_evidence
from bot.policy.i18n import N_, Translator
from bot.policy.roles import Conflict, Role, Standing
from bot.policy.text import escape_inline

# The figures a command's help text may name (`%(max_assignees)s`).
HELP_FIGURES = {"max_assignees": MAX_ASSIGNEES, "max_commands": MAX_COMMANDS}
# Who may give a command, in words (`/help`, refusals).
ROLE_WORDS = {Role.ANYONE: N_("anyone"), Role.APPLICANT: N_("applicants"), Role.REVIEWER: N_("reviewers"),
              Role.MAINTAINER: N_("funded maintainers")}


def help_text(roles: frozenset[Role], tr: Translator) -> str:
    """The commands someone with `roles` may use, generated from the registry, in `tr`'s language."""
    lines = [tr.gettext("Commands you can use here (one per line, at the start of a line):"), ""]
    for spec in REGISTRY.values():
        if Role.ANYONE in spec.roles or spec.roles & roles:
            lines.append("- " + tr.gettext("`%(usage)s`: %(summary)s", usage=tr.gettext(spec.usage),
                                           summary=tr.gettext(spec.summary, **HELP_FIGURES)))
    return "\n".join(lines)


def on_help(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return done(ctx, message=help_text(ctx.roles, ctx.tr))


_ANYONE, _APPLICANT, _REVIEWER, _MAINTAINER = Role.ANYONE, Role.APPLICANT, Role.REVIEWER, Role.MAINTAINER


def _spec(name: str, usage: str, summary: str, roles: Iterable[Role], run, **flags: bool) -> CommandSpec:
    return CommandSpec(name, usage, summary, frozenset(roles), run, **flags)


REGISTRY: dict[str, CommandSpec] = {spec.name: spec for spec in (
    # Translators: the usages (`/help`, `/stage <name>` …) keep the command word; translate the words in <>.
    _spec("help", N_("/help"), N_("list the commands you may use"), [_ANYONE], on_help, open_after_outcome=True),
    _spec("recheck", N_("/recheck"), N_("run the eligibility checks again"), [_APPLICANT, _REVIEWER], review.on_recheck),
    _spec("withdraw", N_("/withdraw"), N_("withdraw the application (closes the issue)"), [_APPLICANT],
          review.on_withdraw),
    _spec("advance", N_("/advance"), N_("move the application on to the next stage"), [_REVIEWER], review.on_advance),
    _spec("stage", N_("/stage <name>"), N_("move the application to a named stage"), [_REVIEWER], review.on_stage),
    _spec("score", N_("/score <criterion> <1-5>"), N_("record your score for a criterion (a later one replaces it)"),
          [_REVIEWER], review.on_score),
    _spec("needs-info", N_("/needs-info <question>"), N_("ask the applicant for more information"), [_REVIEWER],
          review.on_needs_info),
    _spec("assign", N_("/assign @user [@user ...]"),
          N_("assign reviewers to the application (at most %(max_assignees)s)"), [_REVIEWER], review.on_assign),
    _spec("approve", N_("/approve <amount>"), N_("fund the application with the amount granted (decision stage)"),
          [_REVIEWER], money.on_approve),
    _spec("decline", N_("/decline <reason>"), N_("decline the application, saying why (closes the issue)"),
          [_REVIEWER], review.on_decline),
    _spec("waive", N_("/waive <check> <reason>"), N_("waive a failed eligibility check, saying why"), [_REVIEWER],
          review.on_waive),
    _spec("recuse", N_("/recuse [reason]"),
          N_("take yourself off this application (your scores and vote stop counting)"), [_REVIEWER],
          review.on_recuse, open_after_outcome=True, conflicted_ok=True),
    _spec("away", N_("/away until YYYY-MM-DD"), N_("say you are away: nothing is assigned to you until that day"),
          [_REVIEWER], review.on_away, open_after_outcome=True, conflicted_ok=True),
    _spec("back", N_("/back"), N_("say you are back (applications may be assigned to you again)"), [_REVIEWER],
          review.on_back, open_after_outcome=True, conflicted_ok=True),
    _spec("accept-report", N_("/accept-report"), N_("accept the progress report (releases the grant's next part)"),
          [_REVIEWER], money.on_accept_report, open_after_outcome=True),
    _spec("reject-report", N_("/reject-report <reason>"),
          N_("send the progress report back, saying why (another is asked for)"), [_REVIEWER], money.on_reject_report,
          open_after_outcome=True),
    _spec("evidence", N_("/evidence"), N_("read the evidence (usage, community health) again and reply with the change "
                                          "since the application"), [_REVIEWER], on_evidence, open_after_outcome=True),
    _spec("report", N_("/report <progress report text>"), N_("submit a progress report (the rest of the comment)"),
          [_MAINTAINER], money.on_report, open_after_outcome=True),
    _spec("close-vote", N_("/close-vote"), N_("close the community vote (when the rules say `close: manual`)"),
          [_REVIEWER], votes.on_close_vote),
    _spec("tally", N_("/tally"), N_("show how the community vote stands (or what it decided)"), [_ANYONE],
          votes.on_tally, open_after_outcome=True),
)}


def permitted(spec: CommandSpec, standing: Standing) -> bool:
    return Role.ANYONE in spec.roles or bool(spec.roles & standing.roles) or \
        (spec.conflicted_ok and Role.REVIEWER in spec.roles and standing.would_review)


def run_command(ctx: CommandContext, parsed: ParsedCommand) -> CommandResult:
    """Check the command exists, that the actor may use it and that the review allows it; run it.

    Who may give a command is checked before anything else about it, so a stranger's command
    never costs a lookup (SPEC §11)."""
    tr = ctx.tr
    spec = REGISTRY.get(parsed.name)
    if spec is None:
        return refuse(ctx, tr.gettext("`/%(command)s` is not a command I know. Say `/help` for the list.",
                                      command=escape_inline(parsed.name, 40)))
    if not permitted(spec, ctx.standing):
        if Role.REVIEWER in spec.roles and ctx.standing.would_review:
            refused = refuse(ctx, tr.gettext("`/%(command)s`: you are a reviewer, but not of this application: you "
                                             "are %(why)s.", command=spec.name, why=conflict_reasons(ctx)))
            first = ctx.standing.conflicts[0]
            if first is Conflict.RECUSED:
                return refused
            # A conflict the bot found is noted once, and listed in the status comment.
            return dataclasses.replace(refused, record=ctx.record.with_conflict(ctx.actor, first.value, ctx.at))
        who = tr.join((tr.gettext(ROLE_WORDS[r]) for r in sorted(spec.roles, key=lambda r: r.value)), "or")
        return refuse(ctx, tr.gettext("`/%(command)s` is for %(who)s, and you are not one here. Say `/help` for what "
                                      "you can use.", command=spec.name, who=who))
    if ctx.record.outcome and not spec.open_after_outcome:
        return refuse(ctx, tr.gettext("`/%(command)s`: the review has ended (%(outcome)s).", command=spec.name,
                                      outcome=ctx.record.outcome.name))
    return spec.run(dataclasses.replace(ctx, spec=spec), parsed.args, parsed.rest)


def conflicts_in_words(conflicts: Iterable[Conflict], tr: Translator) -> str:
    """Why someone does not review this application, in words."""
    return tr.join(tr.gettext(c.value) for c in conflicts)


def conflict_reasons(ctx: CommandContext) -> str:
    """Why the actor may not review this application, in words, with their recusal's own reason."""
    tr = ctx.tr
    reasons = []
    for conflict in ctx.standing.conflicts:
        recusal = ctx.record.recused(ctx.actor) if conflict is Conflict.RECUSED else None
        words = tr.gettext(conflict.value)
        reasons.append(tr.gettext("%(conflict)s (%(reason)s)", conflict=words, reason=escape_inline(recusal.reason, 200))
                       if recusal and recusal.reason else words)
    return tr.join(reasons)
