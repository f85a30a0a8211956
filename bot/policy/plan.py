"""plan: what to read for one application's run, named in full before anything beyond the issue and
its comments is read. Pure.

`plan(trigger, issue, comments, record, rules, now)` looks at what is known once the issue and its
comments have been read again under the application's lock, and names every further read `decide`
needs — and nothing more: repository facts only when the form is new or changed (SPEC §3), reactions
in the community stage (never again once its vote closed) and the voters its `voters:` rule makes look
up (`VoterAsk`: at most `MAX_VOTER_LOOKUPS` new ones, answered from the cache after), who is away when a
reminder is due, the round's ledger when money may move, team memberships of commenters whose
role depends on them, the names a reviewer's `/assign` gives (only a reviewer's: a command's
permission is checked before any lookup it needs, SPEC §11), and the reviewers whose membership of the
applicant's organisation decides a conflict. The pipeline then reads them in one pass.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.policy.command_parse import MAX_COMMANDS, ParsedCommand, assign_names, parse_commands
from bot.policy.commands import REGISTRY
from bot.policy.answers import RepoRef
from bot.policy.parsed_form import ParsedForm
from bot.policy.intake import intake_due, recheck_due
from bot.policy.ledger import ledger_round
from bot.policy.markers import NoticeKey
from bot.policy.models import Comment, Issue, RepoFacts
from bot.policy.record import Record, iso
from bot.policy.roles import Role, needs_team_lookup, stage_reviewer_mentions, standing
from bot.policy.governance_rules import VoterRules
from bot.policy.rules import Rules
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.votes import MAX_VOTER_LOOKUPS, closing_due, never_counted, vote_opened


def unprocessed(comments: tuple[Comment, ...], record: Record | None, trigger: Trigger) -> list[Comment]:
    """People's comments newer than the last one processed, oldest first (the delivery's own comment
    included). Bots' comments (the App's own too) are never obeyed."""
    seen = {c.id: c for c in comments}
    if trigger.comment is not None:
        seen.setdefault(trigger.comment.id, trigger.comment)  # GitHub's list may lag the webhook
    last = record.last_comment_id if record else 0
    return sorted((c for c in seen.values() if c.id > last and not c.user.is_bot), key=lambda c: (c.created_at, c.id))


def commands_of(comment: Comment) -> tuple[list[ParsedCommand], int]:
    """The commands of a comment that are carried out (at most MAX_COMMANDS), and how many more it has."""
    commands = parse_commands(comment.body)
    return commands[:MAX_COMMANDS], max(len(commands) - MAX_COMMANDS, 0)


def reactions_rollup(issue: Issue) -> str:
    return f"{issue.reactions_up}/{issue.reactions_down}"


def stalled(record: Record | None, rules: Rules, now: dt.datetime) -> bool:
    """The application has sat in its stage longer than the rules allow (waiting for a round is not that)."""
    if record is None or record.outcome or not record.stage_since:
        return False
    if rules.funding.dated and not record.round:
        return False
    stage = rules.stages.stage(record.stage)
    return bool(stage and stage.max_days and (now - record.stage_since).days > stage.max_days)


def assignment_key_of(record: Record) -> str:
    return NoticeKey.assignment(record.stage, iso(record.stage_since) if record.stage_since else "")


def assignment_due(record: Record | None, rules: Rules) -> bool:
    """The application sits in a stage that assigns by load, and no assignment was made on entering it."""
    stage = rules.stages.stage(record.stage) if record else None
    return bool(record and stage and stage.assign_count and not record.outcome
                and assignment_key_of(record) not in record.notices)


@dataclass(frozen=True)
class AssignAsk:
    """The names one commenter's `/assign` commands give, and what makes that commenter a reviewer in
    some stage: the names are looked up only if they are one."""

    login: str
    names: tuple[str, ...]
    reviewer: bool  # a reviewer without any team
    via_teams: frozenset[str] = frozenset()  # else, a member of any of these teams ("org/slug", lower-case)

    def allowed(self, teams: Iterable[str]) -> bool:
        """Whether the names may be looked up, given the commenter's teams (as read)."""
        return self.reviewer or bool(self.via_teams & {t.lower() for t in teams})


@dataclass(frozen=True)
class VoterAsk:
    """The voters to look up for the rules' `voters:` once the reactions are read: each at most once (the
    answers are cached), at most `limit` new ones a run, none of those whose reaction never counts."""

    rules: VoterRules
    opened: dt.datetime  # the day the vote opened: an account's age is taken then
    excluded: frozenset[str] = frozenset()
    limit: int = MAX_VOTER_LOOKUPS


@dataclass(frozen=True)
class Reads:
    """Everything `gather` reads for `decide`, beyond the issue and its comments."""

    repo: RepoRef | None = None  # the repository's facts (SPEC §3)
    reactions: bool = False
    voters: VoterAsk | None = None  # with the reactions: whose votes the rules' `voters:` make look up
    ledger_round: str | None = None  # the round whose ledger is read ("": a rebuild, any round); None: none
    fund_state: bool = False  # a command may change the fund-state issue: read it, under the fund's lock
    load: bool = False  # the application may enter a stage that assigns reviewers by load
    load_collaborators: bool = False  # ... one whose reviewers are the repository's collaborators
    team_lookups: tuple[str, ...] = ()  # logins whose team membership decides their role
    assign: tuple[AssignAsk, ...] = ()
    collaborators: bool = False  # a stalled stage names no one to remind
    away: bool = False  # a reminder to the assignees is due: who is away (the fund-state issue) is left out
    org: str = ""  # the applicant's organisation as the record knows it (facts read now may name it)
    affiliation_lookups: tuple[str, ...] = ()  # reviewers whose membership of that organisation decides a conflict
    affiliation_known: frozenset[str] = frozenset()  # reviewers looked up before (the record keeps the answer)

    @property
    def ledger(self) -> bool:
        return self.ledger_round is not None

    @property
    def fund(self) -> bool:
        """The fund-state issue is read: for the ledger, the reviewers' load, or a change to it."""
        return self.fund_state or self.ledger or self.load or self.away

    def org_of(self, facts: RepoFacts | None) -> str:
        """The organisation whose public members are conflicted: as read now, else as recorded."""
        if facts is not None and facts.owner_is_org:
            return (facts.full_name or "").split("/", 1)[0].lower()
        return "" if facts is not None else self.org

    def affiliations(self, candidates: Iterable[str] = ()) -> tuple[str, ...]:
        """Whose membership to look up: the reviewers acting now and the candidates for assignment by
        load, each once per application."""
        return tuple(sorted((set(self.affiliation_lookups) | set(candidates)) - self.affiliation_known))


def plan(trigger: Trigger, issue: Issue, comments: tuple[Comment, ...], record: Record | None, form: ParsedForm,
         rules: Rules, now: dt.datetime) -> Reads:
    """What to read, from what is already known (the issue and its comments, re-read under the lock)."""
    pending = [(c, cmd) for c in unprocessed(comments, record, trigger) for cmd in commands_of(c)[0]]
    names = {cmd.name for _, cmd in pending}
    lookups = sorted({c.user.login for c, _ in pending if needs_team_lookup(c.user.login, c.author_association, rules)})
    stage = rules.stages.stage(record.stage) if record else None
    # A vote that closed for this very entry into the stage is frozen: its reactions are never read again.
    closed_here = bool(record and record.vote and not record.vote.is_open and record.vote.stage == record.stage
                       and record.vote.opened == record.stage_since)
    voting = bool(stage and stage.community_vote and record and not record.outcome and not closed_here)
    # The issue's roll-up says whether any vote changed; the sweep lists reactions only then — or when the
    # vote's time to close has come, or voters are left to look up.
    votes_moved = not record or record.reactions_seen != reactions_rollup(issue) or closing_due(record, now) \
        or bool(record.votes_uncounted.get("unchecked"))
    # A stalled stage's reminder (or its escalation to the leads) not posted yet: the assignees away are left out.
    since = record.stage_since.astimezone(dt.timezone.utc).date().isoformat() if record and record.stage_since else ""
    leads = stage.leads if stage else None
    reminding = bool(record and stalled(record, rules, now) and issue.state == "open" and (
        NoticeKey.stalled(record.stage, since) not in record.notices
        or (leads and record.stage_since and NoticeKey.escalated(record.stage, since) not in record.notices
            and (now - record.stage_since).days > (stage.max_days or 0) + leads.after_days)))
    is_stalled = stalled(record, rules, now) and record is not None and not stage_reviewer_mentions(rules, record.stage) \
        and (not issue.assignees or reminding)
    intake = intake_due(trigger, record, issue)
    # Assignment by load: when the application may enter (or has entered, unassigned) such a stage.
    assigning = any(s.assign_count for s in rules.stages.stages) and not (record and record.outcome) and (
        intake or bool(names & {"advance", "stage", "waive", "recheck"}) or trigger.kind is TriggerKind.LABELED
        or assignment_due(record, rules))
    reviewing = {c.user.login.lower() for c, cmd in pending
                 if cmd.name in REGISTRY and Role.REVIEWER in REGISTRY[cmd.name].roles}
    # The round's ledger: to check `/approve`, and for the status comment of a deciding stage (which a
    # move in this very delivery may reach); for a rebuild, what was granted then, in any round.
    ledger = (rules.funding.has_pool and (
        bool(names & {"approve", "advance", "stage"}) or trigger.kind is TriggerKind.LABELED
        or bool(stage and stage.decides))) or (record is None and "approve" in names)
    round_name = ledger_round(record, issue.created_at, rules)
    # With no record (a new application, or one rebuilt), whatever votes the issue has are counted.
    reactions = (voting and (not trigger.kind.scheduled or votes_moved)) or \
        (record is None and reactions_rollup(issue) != "0/0")
    voter_rules = rules.stages.voters_for(record.stage if record else None)
    opened = vote_opened(record) if record else None
    return Reads(
        repo=form.repository if intake or "recheck" in names or recheck_due(trigger, record, issue, rules) else None,
        reactions=reactions,
        voters=VoterAsk(voter_rules, opened, never_counted(issue, form, record))
        if reactions and record is not None and opened is not None and voter_rules.looked_up else None,
        ledger_round=round_name if ledger and (round_name or record is None) else None,
        fund_state=bool(names & {"approve", "away", "back"}) or assigning,
        load=assigning,
        load_collaborators=assigning and any(s.assign_count and not rules.stages.reviewers_for(s.name).users
                                             for s in rules.stages.stages),
        team_lookups=tuple(lookups),
        assign=_assign_asks(trigger, issue, comments, record, form, rules),
        collaborators=is_stalled,
        away=reminding and bool(issue.assignees),
        org=record.repo_org if record else "",
        affiliation_lookups=tuple(sorted(reviewing - set(record.affiliated + record.cleared if record else ()))),
        affiliation_known=frozenset(record.affiliated + record.cleared) if record else frozenset(),
    )


def _assign_asks(trigger: Trigger, issue: Issue, comments: tuple[Comment, ...], record: Record | None,
                 form: ParsedForm, rules: Rules) -> tuple[AssignAsk, ...]:
    """The logins named by `/assign` commands, at most MAX_ASSIGNEES per command and MAX_COMMANDS per
    comment (SPEC §11), with what would make their commenter a reviewer in some stage."""
    base = record or Record()
    asks: list[AssignAsk] = []
    for comment in unprocessed(comments, record, trigger):
        commands = [cmd for cmd in commands_of(comment)[0] if cmd.name == "assign"]
        names = tuple(sorted({n for cmd in commands for n in assign_names(cmd.args) or ()}))
        if not names:
            continue
        login, association = comment.user.login, comment.author_association
        outright, teams = False, set()
        for stage in rules.stages.stages:
            at_stage = dataclasses.replace(base, stage=stage.name)
            held = standing(login, association, issue, form, at_stage, rules, {})
            if held.has(Role.REVIEWER):
                outright = True
            elif not held.conflicts:
                teams |= {str(t).lower() for t in rules.stages.reviewers_for(stage.name).teams}
        if outright or teams:
            asks.append(AssignAsk(login, names, outright, frozenset(teams)))
    return tuple(asks)


__all__ = ["AssignAsk", "Reads", "VoterAsk", "assignment_due", "commands_of", "plan", "reactions_rollup",
           "stalled", "unprocessed"]
