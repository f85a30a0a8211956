"""People's comments and hand-put labels, taken in (SPEC §5, §11, §14). Pure.

Each comment not processed yet is taken in once, in order: its commands run one after another (roles
depend on the stage, which an earlier command may change), the comment gets one 👍 when any was
carried out and one reply with every refusal and answer. A stage label put on by hand moves the stage
when `/stage` could; otherwise it is taken off again with a reply. When the record had to be rebuilt,
the history is replayed as the App decided it then (`Replay`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from bot.policy.command_context import CommandContext, CommandResult
from bot.policy.command_parse import MAX_COMMANDS, ParsedCommand
from bot.policy.commands import REGISTRY, conflicts_in_words, permitted, run_command
from bot.policy.answers import AnswerError, parse_amount
from bot.policy.parsed_form import ParsedForm
from bot.policy.approvals import approve_grant, needed_for, pending
from bot.policy.funding_commands import received_report
from bot.policy.i18n import Translator
from bot.policy.intake import take_in
from bot.policy.ledger import FundingLedger
from bot.policy.markers import NoticeKey
from bot.policy.models import Action, Comment, Issue, PostComment, React, SetAway
from bot.policy.plan import commands_of, reactions_rollup
from bot.policy.record import Record, iso
from bot.policy.review_commands import move_problem
from bot.policy.roles import applicant_logins, conflicts_of, standing
from bot.policy.rules import Rules
from bot.policy.snapshot import Snapshot
from bot.policy.triggers import Trigger
from bot.policy.votes import update_votes


@dataclass(frozen=True)
class Replay:
    """A rebuild (the record failed its seal, or could not be read): what the App itself wrote at the time,
    so that the history is replayed as it was decided then — not judged again under today's rules,
    which may have changed the cap, the pool, the tranches or the words a report needs since.

    Only the App's own writing counts (`posted` and the ledger are read from the App's comments and
    its fund-state issue, recognised by its login, the ledger sealed). A command its caller may not
    give is judged as usual (refused). `/report` is answered only when refused, so one the App did not
    reply to was accepted. An `/approve` was accepted exactly when the fund's ledger, where the App
    entered the grant before the record, holds it for this application with the same amount — whatever
    else that comment was refused — and the ledger gives the tranche plan pinned then (with `approvals:`,
    every approval of that amount is recorded again, the grant made by the last one needed; an approval
    that could not have made the grant — more were needed — moved no money, and is judged as usual);
    with no ledger read (no pool) or one edited by hand, the `/approve` is judged as usual under today's
    rules. Every
    comment replayed moves the cursor, so none is judged again later. `/accept-report` and `/reject-report`
    follow from the replayed state, and release the same parts of the same plan. Nothing is said anew
    about an old comment: its reply, if any, is on the issue already."""

    posted: frozenset[str]
    ledger: FundingLedger | None
    number: int
    fresh: int | None  # the delivery's own comment: new, so judged as usual

    @classmethod
    def of(cls, snap: Snapshot, trigger: Trigger) -> "Replay | None":
        answered = any(NoticeKey.is_reply(key) for key in snap.posted)
        if snap.record is not None or not (snap.found.problem or answered):
            return None
        ledger = snap.ledger if snap.ledger is not None and snap.ledger.verified else None  # an edited one proves nothing
        return cls(frozenset(snap.posted), ledger, snap.issue.number,
                   trigger.comment.id if trigger.comment else None)

    def history(self, comment: Comment) -> bool:
        return comment.id != self.fresh

    def decided(self, ctx: CommandContext, parsed: ParsedCommand) -> CommandResult | None:
        """The command as the App decided it then (None: judge it as usual, under today's rules)."""
        if parsed.name not in ("approve", "report") or (parsed.name == "approve" and ctx.record.outcome):
            return None
        if not permitted(REGISTRY[parsed.name], ctx.standing):
            return None  # never the caller's then either: refused as usual (its reply is there, or is now)
        if parsed.name == "report":
            if NoticeKey.reply(ctx.comment_id) in self.posted:  # refused then
                return CommandResult(record=ctx.record, ok=False)
            return received_report(ctx) if ctx.record.funded else None
        try:
            amount = parse_amount(parsed.args)
        except AnswerError:
            return None
        if self.ledger is None:
            return None  # nothing the App wrote proves a grant (an edited ledger proves nothing): as usual
        # The ledger, sealed, holds what the App granted — whatever else the same comment was refused.
        if self.ledger.grants.get(self.number) == amount:
            return approve_grant(ctx, amount, self.ledger.plans.get(self.number) or ctx.rules.funding.tranches,
                                 checked=False)
        if len(pending(ctx.record, "grant")) + 1 < needed_for("grant", ctx.rules, amount):
            return None  # an approval that moved no money then (more were needed): judged as usual
        return CommandResult(record=ctx.record, ok=False)  # the App granted no such thing



def process_comment(comment: Comment, record: Record, form: ParsedForm, snap: Snapshot, rules: Rules,
                     now: dt.datetime, tr: Translator, replay: Replay | None = None) -> tuple[Record, list[Action]]:
    issue = snap.issue
    old = replay is not None and replay.history(comment)
    actions: list[Action] = []
    login = comment.user.login
    if record.needs_info and login.lower() in {a.lower() for a in applicant_logins(issue, form)}:
        record = dataclasses.replace(record, needs_info=None)  # the applicant answered
    commands, more = commands_of(comment)
    messages: list[str] = []
    acknowledged = False
    for parsed in commands:
        # Roles depend on the stage (per-stage reviewers) and outcome, which earlier commands may change.
        person_standing = standing(login, comment.author_association, issue, form, record, rules, snap.team_members)
        ctx = CommandContext(record=record, issue=issue, form=form, rules=rules, actor=login, standing=person_standing,
                             at=comment.created_at, comment_id=comment.id, tr=tr, ledger=snap.ledger,
                             assignable={k.lower(): v for k, v in snap.assignable.items()})
        result = (replay.decided(ctx, parsed) if old and replay else None) or run_command(ctx, parsed)
        record = result.record
        # /away and /back of an old comment changed the fund's state then; later words may have changed it since.
        actions.extend(a for a in result.actions if not (old and isinstance(a, SetAway)))
        if result.recheck:
            record = take_in(record, form, issue, snap.repo_facts, rules, now)
        if result.message:
            messages.append(result.message)
        acknowledged = acknowledged or result.ok
    if more:
        messages.append(tr.ngettext("This comment has %(n)s more command that I did not carry out: I carry out at "
                                    "most %(max)s per comment. Put the rest in another comment.",
                                    "This comment has %(n)s more commands that I did not carry out: I carry out at "
                                    "most %(max)s per comment. Put the rest in another comment.", more,
                                    max=MAX_COMMANDS))
    if acknowledged:
        actions.append(React(comment.id, "+1"))
    if messages and not old:
        reply = f"@{login} " + "\n\n".join(messages) if len(messages) == 1 else \
            f"@{login}\n\n" + "\n\n---\n\n".join(messages)
        actions.append(PostComment(key=NoticeKey.reply(comment.id), body=reply))
    return record, actions


def hand_label(trigger: Trigger, record: Record, issue: Issue, form: ParsedForm, rules: Rules,
                now: dt.datetime, tr: Translator) -> tuple[Record, list[Action]]:
    """A stage label put on by a person: the same checks as `/stage` (screening passed, the stage's
    scores given, no conflict); refused, the label is taken off again and the reply says why."""
    stage = rules.stages.stage_by_label(trigger.label or "")
    if stage is None or stage.name == record.stage:
        return record, []
    actor = trigger.actor or "someone"
    via = tr.gettext("label %(label)s", label=trigger.label)  # shown as code, as a command is: `label stage:review`
    problem = move_problem(record, rules, stage.name, via=via, tr=tr, at=now)
    conflicts = conflicts_of(actor, issue, form, record)
    if record.outcome:
        problem = tr.gettext("`%(via)s`: the review has ended (%(outcome)s).", via=via, outcome=record.outcome.name)
    elif conflicts:
        problem = tr.gettext("`%(via)s`: you are %(why)s.", via=via, why=conflicts_in_words(conflicts, tr))
    if problem:
        where = record.outcome.name if record.outcome else record.stage or rules.stages.first.name
        text = tr.gettext("@%(actor)s %(problem)s The label was taken off again; the application stays in "
                          "**%(stage)s**.", actor=actor, problem=problem, stage=where)
        key = NoticeKey.label_refused(trigger.delivery or iso(now))
        return record, [PostComment(key=key, body=text)]
    return record.moved_to(stage.name, at=now, by=actor, via="label"), []


def count_votes_of(record: Record, snap: Snapshot, form: ParsedForm, rules: Rules, now: dt.datetime) -> Record:
    """The community vote brought up to date from the reactions read (`bot.policy.votes.update_votes`)."""
    return update_votes(record, snap.reactions, snap.voters, snap.issue, form, rules, now, reactions_rollup(snap.issue))


def record_affiliations(record: Record, snap: Snapshot) -> Record:
    """Reviewers looked up as public members of the applicant's organisation: kept, so that each is
    looked up at most once per application."""
    if not snap.affiliations:
        return record
    members = tuple(sorted({*record.affiliated, *(k.lower() for k, v in snap.affiliations.items() if v)}))
    cleared = tuple(sorted({*record.cleared, *(k.lower() for k, v in snap.affiliations.items() if not v)}))
    return dataclasses.replace(record, affiliated=members, cleared=cleared)

