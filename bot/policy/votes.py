"""Community votes (SPEC §14): who counts, the tally — with how many reactions were not counted and why —
and a vote's window: opened when the application enters a stage with `vote:`, closed by its time, by a
reviewer's `/close-vote` or by leaving the stage, and frozen at its close. Pure: `now` is given, never read.

Reactions carry the moment they were made, so a vote closed late (the sweep runs after its time) still
counts only what was there at the close: a reaction made later is not counted ("late"). Once closed, the
record's counts are never replaced (GitHub keeps no trace of a reaction removed, so what was removed
between the close and the first read after it is not seen).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bot.policy.governance_rules import VoteClose, VoterKind, VoterRules
from bot.policy.i18n import Translator
from bot.policy.models import Issue, Reaction
from bot.policy.parsed_form import ParsedForm
from bot.policy.record import BOT_ACTOR, Record
from bot.policy.record_votes import VoteState
from bot.policy.roles import voter_exclusion
from bot.policy.rules import Rules

VOTES = ("+1", "-1")
MAX_VOTER_LOOKUPS = 100  # new voters looked up in one run (the next runs look up the rest)
# Why a 👍/👎 reaction was not counted, in the order the tally names them.
UNCOUNTED = ("bot", "applicant", "conflicted", "ineligible", "unchecked", "late")


@dataclass(frozen=True)
class VoterFacts:
    """What GitHub said of one voter, for the rules' `voters:` (gathered once, cached)."""

    login: str
    member: bool | None = None  # members, team: whether a member
    created_at: dt.datetime | None = None  # established: when the account was made
    contributions: int | None = None  # established: public contributions in the year before the vote opened
    exists: bool = True  # False: GitHub knows no such account (renamed, deleted)


def counts_under(facts: VoterFacts | None, rules: VoterRules, opened: dt.datetime) -> str | None:
    """Whether the rules' `voters:` let this voter count: None when they do, else "ineligible" — or
    "unchecked" while nothing was read of them yet. An account's age is taken on the day the vote opened."""
    if rules.who is VoterKind.ANYONE:
        return None
    if facts is None:
        return "unchecked"
    if not facts.exists:
        return "ineligible"
    if rules.who in (VoterKind.MEMBERS, VoterKind.TEAM):
        return None if facts.member else "ineligible"
    if facts.created_at is None or facts.contributions is None:
        return "unchecked"
    old_enough = facts.created_at <= opened - dt.timedelta(days=rules.min_account_days)
    return None if old_enough and facts.contributions >= rules.min_contributions else "ineligible"


@dataclass(frozen=True)
class Tally:
    up: int = 0
    down: int = 0
    uncounted: Mapping[str, int] = field(default_factory=dict)  # reason -> 👍/👎 reactions not counted


def _votes(reactions: Iterable[Reaction]) -> list[Reaction]:
    """The 👍/👎 reactions, each (person, vote) once, in the order given."""
    seen: set[tuple[str, str]] = set()
    found = []
    for reaction in reactions:
        key = (reaction.user.login.lower(), reaction.content)
        if reaction.content in VOTES and key not in seen:
            seen.add(key)
            found.append(reaction)
    return found


def tally(reactions: Iterable[Reaction], issue: Issue, form: ParsedForm, record: Record, rules: VoterRules,
          facts: Mapping[str, VoterFacts], opened: dt.datetime, until: dt.datetime | None = None) -> Tally:
    """👍 and 👎 counted once per person — without bots, the application's own people, conflicted reviewers,
    and those the rules' `voters:` do not let vote — and, with `until`, without reactions made after it."""
    up: set[str] = set()
    down: set[str] = set()
    uncounted: Counter[str] = Counter()
    for reaction in _votes(reactions):
        login = reaction.user.login
        if until is not None and reaction.created_at is not None and reaction.created_at > until:
            uncounted["late"] += 1
            continue
        reason = voter_exclusion(login, reaction.user.is_bot, issue, form, record) or \
            counts_under(facts.get(login.lower()), rules, opened)
        if reason:
            uncounted[reason] += 1
        else:
            (up if reaction.content == "+1" else down).add(login.lower())
    return Tally(len(up), len(down), {k: uncounted[k] for k in UNCOUNTED if uncounted[k]})


def to_look_up(reactions: Iterable[Reaction], excluded: Collection[str], known: Collection[str],
               limit: int = MAX_VOTER_LOOKUPS) -> tuple[str, ...]:
    """The voters to look up now: those who voted, are not bots nor never counted (`excluded`), and are not
    `known` yet — the first `limit` of them in the order they voted (lower-case logins)."""
    wanted: dict[str, None] = {}
    skip = {k.lower() for k in excluded} | {k.lower() for k in known}
    for reaction in _votes(reactions):
        login = reaction.user.login.lower()
        if not reaction.user.is_bot and login not in skip:
            wanted.setdefault(login)
            if len(wanted) >= limit:
                break
    return tuple(wanted)


def never_counted(issue: Issue, form: ParsedForm, record: Record) -> frozenset[str]:
    """The people whose reactions are never counted here (bots aside), so no lookup is spent on them."""
    people = {issue.user.login, *form.maintainers, *(r.reviewer for r in record.recusals),
              *(c.reviewer for c in record.conflicts), *record.affiliated}
    return frozenset(p.lower() for p in people if voter_exclusion(p, False, issue, form, record))


# --- the window ------------------------------------------------------------------------------------------


def vote_opened(record: Record) -> dt.datetime | None:
    """When the current vote opened: its window's opening, else when the application entered the stage."""
    return record.vote.opened if record.vote and record.vote.stage == record.stage else record.stage_since


def frozen(record: Record) -> bool:
    """The vote has closed: its counts are what they were at the close, and stay so."""
    return record.vote is not None and not record.vote.is_open


def closing_due(record: Record, now: dt.datetime) -> bool:
    vote = record.vote
    return bool(vote and vote.is_open and vote.closes and now >= vote.closes)


def open_window(record: Record, rules: Rules) -> Record:
    """A vote window opened for the stage the application is in, when the stage has `vote:` and none is
    open for this entry into it: its dates pinned now, its counts starting afresh."""
    stage = rules.stages.stage(record.stage)
    if stage is None or stage.vote is None or not stage.community_vote or record.outcome or record.stage_since is None:
        return record
    if record.vote is not None and record.vote.stage == stage.name and record.vote.opened == record.stage_since:
        return record
    opened, window = record.stage_since, stage.vote
    vote = VoteState(stage.name, opened, window.earliest_close(opened), window.closes_at(opened),
                     window.close is VoteClose.MANUAL)
    return dataclasses.replace(record, vote=vote, votes_up=0, votes_down=0, votes_uncounted={}, reactions_seen="")


def close_vote(record: Record, at: dt.datetime, by: str) -> Record:
    """The open vote closed at `at` on `by`'s word (the bot's, when its time came or its stage was left): its
    counts frozen as they are, and audited."""
    vote = record.vote
    if vote is None or not vote.is_open:
        return record
    uncounted = ", ".join(f"{k} {v}" for k, v in record.votes_uncounted.items()) or "none"
    closed = dataclasses.replace(record, vote=dataclasses.replace(vote, closed=at, closed_by=by))
    return closed.audited(at, by, "vote", f"{vote.stage} closed: +1 {record.votes_up}, -1 {record.votes_down}; "
                                          f"not counted: {uncounted}")


def settle(record: Record, rules: Rules) -> Record:
    """A vote whose stage was left (or whose review ended) closed at that moment; a window opened for the
    stage the application is in now."""
    vote = record.vote
    if vote is not None and vote.is_open and (record.outcome or record.stage_since != vote.opened):
        entered = max((i for i, e in enumerate(record.history) if e.stage == vote.stage and e.at == vote.opened),
                      default=len(record.history))
        left = [e.at for e in record.history[entered + 1:]]
        ended = [record.outcome.at] if record.outcome else []
        record = close_vote(record, min(left + ended, default=vote.opened), BOT_ACTOR)
    return open_window(record, rules)


def update_votes(record: Record, reactions: tuple[Reaction, ...] | None, facts: Mapping[str, VoterFacts],
                 issue: Issue, form: ParsedForm, rules: Rules, now: dt.datetime, seen: str) -> Record:
    """The vote brought up to date: closed when its time has come (counting what was there at its close),
    else counted afresh from the reactions read now (`seen`: the issue's roll-up then). A closed vote's
    counts never change."""
    record = settle(record, rules)
    if frozen(record) or (reactions is None and not closing_due(record, now)):
        return record
    vote = record.vote
    until = vote.closes if vote is not None and closing_due(record, now) else None
    if reactions is not None:
        opened = vote_opened(record) or now
        counted = tally(reactions, issue, form, record, rules.stages.voters_for(record.stage), facts, opened, until)
        record = dataclasses.replace(record, votes_up=counted.up, votes_down=counted.down,
                                     votes_uncounted=dict(counted.uncounted), reactions_seen=seen)
    if until is not None:
        record = close_vote(record, until, BOT_ACTOR)
    return record


def too_soon(record: Record, at: dt.datetime, via: str, tr: Translator) -> str | None:
    """Why the vote may not close yet — so neither `/close-vote` nor leaving its stage — with the dates."""
    vote = record.vote
    if vote is None or not vote.is_open or vote.stage != record.stage or at >= vote.earliest:
        return None
    days = (vote.earliest - vote.opened).days
    left = max((vote.earliest.date() - at.astimezone(dt.timezone.utc).date()).days, 1)
    return tr.ngettext("`%(via)s`: the community vote opened on %(opened)s and stays open at least %(n)s day, "
                       "until %(date)s (UTC); %(left)s to go.",
                       "`%(via)s`: the community vote opened on %(opened)s and stays open at least %(n)s days, "
                       "until %(date)s (UTC); %(left)s to go.", days, via=via,
                       opened=tr.date(vote.opened.date()), date=tr.date(vote.earliest.date()),
                       left=tr.ngettext("%(n)s day", "%(n)s days", left))


# --- in words --------------------------------------------------------------------------------------------


def voters_in_words(rules: VoterRules, tr: Translator) -> str:
    if rules.who is VoterKind.MEMBERS:
        return tr.gettext("members of %(org)s", org=rules.org)
    if rules.who is VoterKind.TEAM:
        return tr.gettext("members of the team %(team)s", team=rules.team)
    if rules.who is VoterKind.ESTABLISHED:
        return tr.ngettext("accounts at least %(n)s day old with at least %(contributions)s public contributions in "
                           "the past year",
                           "accounts at least %(n)s days old with at least %(contributions)s public contributions in "
                           "the past year", rules.min_account_days, contributions=tr.number(rules.min_contributions))
    return tr.gettext("anyone")


def uncounted_in_words(uncounted: Mapping[str, int], rules: VoterRules, tr: Translator) -> str:
    """The reactions not counted, by reason, in words ("" when every one counted)."""
    words = {
        "bot": lambda n: tr.ngettext("%(n)s by a bot", "%(n)s by bots", n),
        "applicant": lambda n: tr.ngettext("%(n)s by the application's own people", "%(n)s by the application's own "
                                           "people", n),
        "conflicted": lambda n: tr.ngettext("%(n)s by a conflicted reviewer", "%(n)s by conflicted reviewers", n),
        "ineligible": lambda n: tr.ngettext("%(n)s by an account the rules do not let vote (only %(who)s)",
                                            "%(n)s by accounts the rules do not let vote (only %(who)s)", n,
                                            who=voters_in_words(rules, tr)),
        "unchecked": lambda n: tr.ngettext("%(n)s not checked yet (at most %(max)s voters are looked up a run)",
                                           "%(n)s not checked yet (at most %(max)s voters are looked up a run)", n,
                                           max=MAX_VOTER_LOOKUPS),
        "late": lambda n: tr.ngettext("%(n)s made after the vote closed", "%(n)s made after the vote closed", n),
    }
    parts = [words[k](n) for k in UNCOUNTED if (n := uncounted.get(k, 0))]
    if not parts:
        return ""
    total = sum(uncounted.values())
    return tr.ngettext("%(n)s reaction not counted: %(why)s.", "%(n)s reactions not counted: %(why)s.", total,
                       why=tr.join(parts))


def tally_in_words(record: Record, rules: Rules, tr: Translator) -> str:
    """The counts and what was not counted, in words: the status comment and `/tally` say the same."""
    counts = f"👍 {tr.number(record.votes_up)} · 👎 {tr.number(record.votes_down)}"
    uncounted = uncounted_in_words(record.votes_uncounted, rules.stages.voters_for(record.vote.stage if record.vote
                                                                                   else record.stage), tr)
    return tr.figures([counts, uncounted]) if uncounted else counts


def window_in_words(record: Record, tr: Translator) -> str:
    """When the vote closes or closed, in words ("" without a window)."""
    vote = record.vote
    if vote is None:
        return ""
    if not vote.is_open and vote.closed is not None:
        return tr.gettext("The vote closed on %(date)s (UTC); reactions made since change nothing.",
                          date=tr.date(vote.closed.date()))
    parts = []
    if vote.closes is not None:
        parts.append(tr.gettext("The vote closes on %(date)s (UTC).", date=tr.date(vote.closes.date())))
    if vote.manual:
        parts.append(tr.gettext("A reviewer may close it with `/close-vote` from %(date)s (UTC).",
                                date=tr.date(vote.earliest.date())))
    elif vote.earliest > vote.opened:
        parts.append(tr.gettext("The application may move on from %(date)s (UTC).", date=tr.date(vote.earliest.date())))
    return tr.sentences(*parts) if parts else ""


__all__ = ["MAX_VOTER_LOOKUPS", "Tally", "UNCOUNTED", "VoterFacts", "close_vote", "closing_due", "counts_under",
           "frozen", "never_counted", "open_window", "settle", "tally", "tally_in_words", "to_look_up", "too_soon",
           "uncounted_in_words", "update_votes", "vote_opened", "voters_in_words", "window_in_words"]
