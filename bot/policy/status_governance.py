"""The status comment's parts about votes and approvals (SPEC §6, §14): the community vote's live tally and
when it closes (or its frozen result), and who approved money and who is still needed. Pure; the status
comment (`bot.policy.status`) puts them under their headings."""
from __future__ import annotations

from bot.policy.governance_rules import VoterKind
from bot.policy.approvals import needed_for, pending
from bot.policy.i18n import Translator
from bot.policy.record import Record
from bot.policy.record_votes import Approval
from bot.policy.rules import Rules
from bot.policy.shown import day, person
from bot.policy.votes import frozen, tally_in_words, voters_in_words, window_in_words


def vote_lines(record: Record, rules: Rules, tr: Translator) -> list[str]:
    """The community vote's blocks: its tally (with what was not counted and why), then how to vote, who
    may, what moving on needs and when it closes — or that it has closed. Empty when there is no vote."""
    stage = rules.stages.stage(record.stage)
    voting = bool(stage and stage.community_vote and not record.outcome and not frozen(record))
    if not voting and not (record.votes_up or record.votes_down or record.vote):
        return []
    notes: list[str] = []
    if voting and stage is not None:
        notes.append(tr.gettext("React with 👍 or 👎 on the application to vote."))
        voters = rules.stages.voters_for(stage.name)
        if voters.who is not VoterKind.ANYONE:
            notes.append(tr.gettext("Only the votes of %(who)s count.", who=voters_in_words(voters, tr)))
        needed = []
        if stage.min_voters:
            needed.append(tr.ngettext("at least %(n)s voter", "at least %(n)s voters", stage.min_voters))
        if stage.min_approval is not None:
            needed.append(tr.gettext("%(share)s 👍", share=tr.number(stage.min_approval, "0%")))
        if needed:
            notes.append(tr.gettext("To move on, the vote needs %(needed)s.", needed=tr.join(needed)))
    window = window_in_words(record, tr)
    if window:
        notes.append(window)
    elif not voting:
        notes.append(tr.gettext("Voting has closed."))
    return [tally_in_words(record, rules, tr), "<sub>" + tr.sentences(*notes) + "</sub>"]


def _given(approvals: tuple[Approval, ...], tr: Translator) -> str:
    return tr.join(tr.gettext("%(person)s (%(date)s)", person=person(a.by), date=day(a.at, tr)) for a in approvals)


def _still_needed(record: Record, rules: Rules, approvals: tuple[Approval, ...], missing: int, command: str,
                  tr: Translator) -> str:
    """Who is still needed: how many more, and — when the rules name the reviewers — which of them may give it."""
    done = {a.by.lower() for a in approvals}
    named = sorted(u for u in rules.stages.reviewers_for(record.stage).users if u not in done and record.counts(u))
    text = tr.ngettext("Still needed: %(n)s more reviewer's `%(command)s`.",
                       "Still needed: %(n)s more reviewers' `%(command)s`.", missing, command=command)
    if named:
        text = tr.sentences(text, tr.gettext("Any of %(people)s.", people=tr.join((person(u) for u in named), "or")))
    return text


def approval_lines(record: Record, rules: Rules, tr: Translator) -> list[str]:
    """Who approved money and who is still needed, when the rules ask for more than one approver (one
    approver is shown in the decision itself)."""
    rule = rules.funding.approvals
    lines: list[str] = []
    stage = rules.stages.stage(record.stage)
    grant = pending(record, "grant")
    amount = grant[-1].amount if grant else None
    needed = needed_for("grant", rules, amount) if grant else rule.grant
    currency = rules.funding.currency
    if not record.outcome and stage is not None and stage.decides and (rule.grant > 1 or len(grant) > 0) \
            and (needed > 1 or not grant):
        if grant and amount is not None:
            lines.append(tr.gettext("%(have)s of %(needed)s approvals for %(amount)s: %(people)s.",
                                    have=tr.number(len(grant)), needed=tr.number(needed),
                                    amount=tr.amount(amount, currency), people=_given(grant, tr)))
            lines.append(_still_needed(record, rules, grant, needed - len(grant), f"/approve {format(amount, 'f')}", tr))
        elif rule.above is not None:
            lines.append(tr.gettext("A grant above %(above)s needs the approval of %(n)s reviewers, each with "
                                    "`/approve <amount>` of the same amount.", above=tr.amount(rule.above, currency),
                                    n=tr.number(rule.grant)))
        else:
            lines.append(tr.gettext("A grant needs the approval of %(n)s reviewers, each with `/approve <amount>` of "
                                    "the same amount.", n=tr.number(rule.grant)))
    elif record.funded and record.outcome and needed_for("grant", rules, record.outcome.amount) > 1 and grant:
        lines.append(tr.gettext("The grant was approved by %(people)s.", people=_given(grant, tr)))
    if record.funded and rule.tranche > 1:
        waiting = next((r for r in record.reports if not r.review), None)
        given = pending(record, "tranche", waiting.ref) if waiting else ()
        if waiting is not None:
            lines.append(tr.gettext("The progress report of %(date)s: %(have)s of %(needed)s acceptances%(people)s.",
                                    date=day(waiting.at, tr), have=tr.number(len(given)),
                                    needed=tr.number(rule.tranche),
                                    people=(": " + _given(given, tr)) if given else ""))
            lines.append(_still_needed(record, rules, given, rule.tranche - len(given), "/accept-report", tr))
        for tranche in record.tranches:
            accepted = pending(record, "tranche", tranche.ref) if tranche.ref != "approve" else ()
            if accepted:
                lines.append(tr.gettext("Part %(k)s of %(n)s released on the acceptance of %(people)s.",
                                        k=tr.number(tranche.k), n=tr.number(tranche.n), people=_given(accepted, tr)))
    return lines


__all__ = ["approval_lines", "vote_lines"]
