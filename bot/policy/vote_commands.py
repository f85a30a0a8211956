"""The community vote's commands (SPEC §14): `/close-vote`, a reviewer closing a vote whose rules say
`close: manual`, and `/tally`, anyone asking how the vote stands (or, once closed, what it decided — and
that reactions made since change nothing). Pure handlers, registered in `bot.policy.commands.REGISTRY`."""
from __future__ import annotations

from bot.policy.command_context import CommandContext, CommandResult, done, refuse
from bot.policy.votes import close_vote, tally_in_words, too_soon, window_in_words


def on_close_vote(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr, record = ctx.tr, ctx.record
    stage = ctx.rules.stages.stage(record.stage)
    vote = record.vote
    if stage is None or stage.vote is None or vote is None or vote.stage != record.stage:
        return refuse(ctx, tr.gettext("`/close-vote`: there is no community vote with a window in %(stage)s.",
                                      stage=record.stage or "—"))
    if not vote.is_open and vote.closed is not None:
        return refuse(ctx, tr.gettext("`/close-vote`: the vote closed on %(date)s (UTC) already: %(tally)s",
                                      date=tr.date(vote.closed.date()), tally=tally_in_words(record, ctx.rules, tr)))
    if not vote.manual:
        when = tr.date(vote.closes.date()) if vote.closes else "—"
        return refuse(ctx, tr.gettext("`/close-vote`: this vote closes by itself on %(date)s (UTC): `close: auto` in "
                                      "%(file)s.", date=when, file=ctx.rules.source_of("stages")))
    problem = too_soon(record, ctx.at, "/close-vote", tr)
    if problem:
        return refuse(ctx, problem)
    closed = close_vote(record, ctx.at, ctx.actor)
    return done(ctx, closed, message=tr.sentences(
        tr.gettext("The community vote is closed: %(tally)s", tally=tally_in_words(closed, ctx.rules, tr)),
        tr.gettext("Reactions made from now on change nothing.")))


def on_tally(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr, record = ctx.tr, ctx.record
    stage = ctx.rules.stages.stage(record.stage)
    voting = bool(stage and stage.community_vote and not record.outcome)
    if not voting and record.vote is None and not (record.votes_up or record.votes_down):
        return done(ctx, message=tr.gettext("There is no community vote on this application."))
    window = window_in_words(record, tr)
    head = tr.gettext("Community vote: %(tally)s", tally=tally_in_words(record, ctx.rules, tr))
    if not window and not voting:
        window = tr.gettext("Voting has closed.")
    return done(ctx, message=tr.sentences(head, window) if window else head)


__all__ = ["on_close_vote", "on_tally"]
