"""decide: `(trigger, snapshot, rules, now) -> Decision`. All policy, no I/O, no clock.

Every delivery and every sweep ends in the same place: the record is brought up to date (intake,
unprocessed comments in order, a stage label put on by hand, a report issue, the calendar), then
labels and the status comment are made to mirror it. Because the record says how far it got
(the last comment processed, the body it checked, the notices already posted), running this twice,
late, or after a crash gives the same result. The snapshot was read under the application's lock,
so nothing here trusts a count a payload carried (SPEC §11).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.policy.assign import ReviewerLoad, pick_reviewers
from bot.policy.commands import (
    MAX_COMMANDS, REGISTRY, CommandContext, CommandResult, FundingLedger, ParsedCommand, assign_names,
    conflicts_in_words, grant, move_problem, parse_commands, permitted, received_report, run_command,
)
from bot.policy.eligibility import evaluate
from bot.policy.answers import AnswerError, parse_amount
from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import Translator, translator
from bot.policy.markers import FoundRecord
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, Comment, DeleteComment, Issue, PostComment, React, Reaction, RecordAssignment,
    RecordGrant, RemoveLabel, RepoFacts, SetAway, UpsertStatusComment,
)
from bot.policy.record import Record, ReportEntry, WriteFailure, iso
from bot.policy.reports import ReportState, report_status
from bot.policy.roles import (
    Role, applicant_logins, conflicts_of, count_votes, needs_team_lookup, stage_reviewer_mentions, standing,
)
from bot.policy.rules import Rules
from bot.policy.seal import seal
from bot.policy.status import StatusContext, person, render_status
from bot.policy.text import escape_inline
from bot.policy.wording import describe

BOT_ACTOR = "fund-bot"
MAX_MENTIONS = 10  # people one reminder mentions


class TriggerKind(enum.Enum):
    OPENED = "opened"
    EDITED = "edited"
    REOPENED = "reopened"
    COMMENT = "comment"
    LABELED = "labeled"
    REPORT_ISSUE = "report_issue"
    SWEEP = "sweep"
    RECHECK = "recheck"  # `fundbot recheck`: a sweep that also runs the eligibility checks again in screening

    @property
    def scheduled(self) -> bool:
        """Work the operator's schedule or command started, not a person on the issue."""
        return self in (TriggerKind.SWEEP, TriggerKind.RECHECK)


@dataclass(frozen=True)
class ReportIssue:
    """A progress-report issue that names this application."""

    number: int
    author: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    actor: str | None = None
    label: str | None = None
    comment: Comment | None = None  # the comment of an issue_comment delivery
    report: ReportIssue | None = None
    delivery: str = ""  # X-GitHub-Delivery (kept by a redelivery): keys a reply to a labelling


@dataclass(frozen=True)
class Snapshot:
    """What `gather` read from GitHub for one application, under its lock."""

    issue: Issue
    comments: tuple[Comment, ...] = ()
    status_comment: Comment | None = None
    found: FoundRecord = FoundRecord(None, None)
    duplicates: tuple[Comment, ...] = ()  # the App's other status comments (left by older versions)
    repo_facts: RepoFacts | None = None
    reactions: tuple[Reaction, ...] | None = None
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # login -> "org/slug" teams
    assignable: Mapping[str, bool] = field(default_factory=dict)
    ledger: FundingLedger | None = None
    posted: frozenset[str] = frozenset()  # keys of the one-off comments the App already posted
    form: ParsedForm | None = None  # the issue body read as the application form (read here if None)
    collaborators: tuple[str, ...] | None = None  # people to remind when a stage names no one
    affiliations: Mapping[str, bool] = field(default_factory=dict)  # login -> public member of the repo's org
    load: ReviewerLoad | None = None  # for assignment by load, when the application may enter such a stage
    seal_key: bytes | None = None  # signs the record (None: unsigned, as in decide's tables)

    @property
    def record(self) -> Record | None:
        return self.found.record


@dataclass(frozen=True)
class Decision:
    """The outcome of `decide`: the actions to apply in order, the record, and the status body."""

    actions: tuple[Action, ...]
    record: Record
    status: str


@dataclass(frozen=True)
class Needs:
    """What `gather` must read for `decide` to run (so nothing is fetched in vain)."""

    repo_facts: bool
    reactions: bool
    ledger: bool
    team_lookups: tuple[str, ...]  # logins whose team membership decides their role
    collaborators: bool  # a stalled stage names no one to remind
    fund_state: bool = False  # a command may change the fund-state issue: it runs under the fund's lock
    load: bool = False  # the application may enter a stage that assigns reviewers by load
    affiliation_lookups: tuple[str, ...] = ()  # reviewers whose membership of the applicant's org decides a conflict


def body_sha(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode()).hexdigest()[:16]


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


def intake_due(trigger: Trigger, record: Record | None, issue: Issue) -> bool:
    """A new application, a changed body, or a reopened one; not a redelivered `opened`."""
    if record is None or not record.checks:
        return True
    if trigger.kind is TriggerKind.REOPENED:
        return True
    return record.body_sha != body_sha(issue.body)


def recheck_due(trigger: Trigger, record: Record | None, issue: Issue, rules: Rules) -> bool:
    """`fundbot recheck`: the checks run again, under the rules now in force, on an open application
    still in the first stage (screening) with no outcome — never on one a reviewer has moved on."""
    return trigger.kind is TriggerKind.RECHECK and issue.state == "open" and (
        record is None or (record.outcome is None and record.stage == rules.stages.first.name))


def _stalled(record: Record | None, rules: Rules, now: dt.datetime) -> bool:
    if record is None or record.outcome or not record.stage_since:
        return False
    if rules.funding.dated and not record.round:
        return False  # waiting for its round is not stalling
    stage = rules.stages.stage(record.stage)
    return bool(stage and stage.max_days and (now - record.stage_since).days > stage.max_days)


def needs(trigger: Trigger, issue: Issue, comments: tuple[Comment, ...], record: Record | None, rules: Rules,
          now: dt.datetime) -> Needs:
    """Decide what to gather, from what is already known (the issue and its comments, re-read)."""
    pending = [(c, cmd) for c in unprocessed(comments, record, trigger) for cmd in commands_of(c)[0]]
    names = {cmd.name for _, cmd in pending}
    lookups = sorted({c.user.login for c, _ in pending if needs_team_lookup(c.user.login, c.author_association, rules)})
    stage = rules.stages.stage(record.stage) if record else None
    voting = bool(stage and stage.community_vote and record and not record.outcome)
    # The issue's roll-up says whether any vote changed; the sweep lists reactions only then.
    votes_moved = not record or record.reactions_seen != reactions_rollup(issue)
    stalled = _stalled(record, rules, now) and not issue.assignees and record is not None \
        and not stage_reviewer_mentions(rules, record.stage)
    intake = intake_due(trigger, record, issue)
    # Assignment by load: when the application may enter (or has entered, unassigned) such a stage.
    assigning = any(s.assign_count for s in rules.stages.stages) and not (record and record.outcome) and (
        intake or bool(names & {"advance", "stage", "waive", "recheck"}) or trigger.kind is TriggerKind.LABELED
        or _assignment_due(record, rules))
    checked = set(record.affiliated + record.cleared) if record else set()
    reviewing = {c.user.login.lower() for c, cmd in pending
                 if cmd.name in REGISTRY and Role.REVIEWER in REGISTRY[cmd.name].roles}
    return Needs(
        repo_facts=intake or "recheck" in names or recheck_due(trigger, record, issue, rules),
        # With no record (a new application, or one rebuilt), whatever votes the issue has are counted.
        reactions=(voting and (not trigger.kind.scheduled or votes_moved))
        or (record is None and reactions_rollup(issue) != "0/0"),
        # The round's ledger: to check `/approve`, and for the status comment of a deciding stage
        # (which a move in this very delivery may reach); for a rebuild, what was granted then.
        ledger=(rules.funding.has_pool and (
            bool(names & {"approve", "advance", "stage"}) or trigger.kind is TriggerKind.LABELED
            or bool(stage and stage.decides))) or (record is None and "approve" in names),
        team_lookups=tuple(lookups),
        collaborators=stalled,
        fund_state=bool(names & {"approve", "away", "back"}) or assigning,
        load=assigning,
        affiliation_lookups=tuple(sorted(reviewing - checked)),
    )


def _assignment_key(record: Record) -> str:
    return f"assign:{record.stage}:{iso(record.stage_since) if record.stage_since else ''}"


def _assignment_due(record: Record | None, rules: Rules) -> bool:
    """The application sits in a stage that assigns by load, and no assignment was made on entering it."""
    stage = rules.stages.stage(record.stage) if record else None
    return bool(record and stage and stage.assign_count and not record.outcome
                and _assignment_key(record) not in record.notices)


def assignee_lookups(trigger: Trigger, issue: Issue, comments: tuple[Comment, ...], record: Record | None,
                     form: ParsedForm, rules: Rules, teams: Mapping[str, frozenset[str]]) -> tuple[str, ...]:
    """The logins named by `/assign` commands of reviewers (in some stage): only theirs are looked up,
    at most MAX_ASSIGNEES per command, MAX_COMMANDS per comment (SPEC §11)."""
    base = record or Record()
    stages = [s.name for s in rules.stages.stages]
    found: set[str] = set()
    for comment in unprocessed(comments, record, trigger):
        commands = [cmd for cmd in commands_of(comment)[0] if cmd.name == "assign"]
        if not commands:
            continue
        login, association = comment.user.login, comment.author_association
        if not any(standing(login, association, issue, form, dataclasses.replace(base, stage=s), rules, teams)
                   .has(Role.REVIEWER) for s in stages):
            continue
        for cmd in commands:
            found |= set(assign_names(cmd.args) or ())
    return tuple(sorted(found))


def decide(trigger: Trigger, snap: Snapshot, rules: Rules, now: dt.datetime) -> Decision:
    """Bring the record up to date and say what to change on GitHub."""
    issue = snap.issue
    form = snap.form or rules.read_application(issue.body)
    tr = translator(rules.language_of(form))  # the application's language: replies, reminders, the status comment
    record = snap.record or Record()
    if snap.record is None and snap.found.problem:
        record = record.audited(now, BOT_ACTOR, "rebuilt", snap.found.problem)  # said in the status comment
    actions: list[Action] = []
    posted = set(snap.posted) | set(record.notices)

    # 1. Intake: the form and the eligibility checks, when new or when the body changed.
    if intake_due(trigger, snap.record, issue) or recheck_due(trigger, snap.record, issue, rules):
        body_changed = snap.record is not None and snap.record.body_sha != body_sha(issue.body)
        record = _intake(record, form, snap, rules, now)
        edited_by_applicant = trigger.kind is TriggerKind.EDITED and \
            (trigger.actor or "").lower() in {a.lower() for a in applicant_logins(issue, form)}
        if record.needs_info and (edited_by_applicant or (trigger.kind.scheduled and body_changed)):
            record = dataclasses.replace(record, needs_info=None)  # the applicant answered by editing
    record = _affiliations(record, snap)
    record = _count_votes(record, snap, form)  # before the commands: `/advance` checks the vote's quorum
    waiting = rules.funding.dated and not record.round
    record, round_actions = _round(record, issue, rules, now, posted, tr)
    actions.extend(round_actions)
    # Screening passed at the checks, or — for one that waited for its round — when the round opened.
    record = _auto_advance(record, rules, now if waiting and record.round else record.checked_at or now)

    # 2. Comments not processed yet, in order, once. In a rebuild, those the App answered at the time
    # are replayed as it decided them then (see `Replay`).
    replay = Replay.of(snap, trigger)
    for comment in unprocessed(snap.comments, snap.record, trigger):
        before = record
        record, comment_actions = _process_comment(comment, record, form, snap, rules, now, tr, replay)
        record = _auto_advance(record, rules, comment.created_at)  # e.g. after a /waive
        actions.extend(comment_actions)
        if record != before or comment_actions or (replay is not None and replay.history(comment)):
            # The cursor moves with something to record; a plain discussion costs no write. A rebuild
            # moves it past all history: what it refused is never judged again, under other rules.
            record = dataclasses.replace(record, last_comment_id=max(record.last_comment_id, comment.id))

    if replay is not None:
        record = _count_votes(record, snap, form)  # again, now that the recusals are known

    # 3. A stage label put on by a person moves the stage — when the same checks as /stage allow it.
    if trigger.kind is TriggerKind.LABELED and trigger.label:
        record, label_actions = _hand_label(trigger, record, issue, form, rules, now, tr)
        actions.extend(label_actions)

    # 4. A progress-report issue that names this application.
    if trigger.kind is TriggerKind.REPORT_ISSUE and trigger.report:
        record, report_actions = _report_issue(trigger.report, record, issue, form, rules, tr)
        actions.extend(report_actions)

    # 5. The calendar: community votes, report reminders, stalled stages.
    record, calendar_actions = _calendar(record, issue, form, rules, now, posted, snap.collaborators, tr)
    actions.extend(calendar_actions)

    # 6. Reviewers assigned by load on entering a stage that asks for them.
    record, assign_actions = _assign_by_load(record, issue, form, snap, rules, now)
    actions.extend(assign_actions)

    # A grant made now enters the fund's ledger first (the ledger is what /approve checks the pool with).
    if record.funded and record.outcome and record.outcome.amount is not None and not (snap.record and snap.record.funded):
        actions.append(RecordGrant(record.round, issue.number, record.outcome.amount, record.plan))

    # 7. Mirror the record: labels, the status comment, and closing when an outcome says so.
    actions.extend(_label_actions(record, issue, rules, now))
    actions.extend(DeleteComment(c.id) for c in snap.duplicates)
    body = status_body(record, snap, rules, now)
    actions.append(UpsertStatusComment(body))  # the executor skips it when the comment already says this
    if record.outcome and rules.stages.outcomes[record.outcome.name].close_issue and issue.state == "open" \
            and not any(isinstance(a, CloseIssue) and a.number is None for a in actions):
        actions.append(CloseIssue("not_planned"))
    return Decision(actions=_ordered(actions), record=record, status=body)




def status_body(record: Record, snap: Snapshot, rules: Rules, now: dt.datetime) -> str:
    """The status comment, in the application's language (SPEC §15), its record sealed when a key is given."""
    language = rules.language_of(snap.form or rules.read_application(snap.issue.body))
    issue = snap.issue
    sealer = (lambda payload: seal(snap.seal_key, issue.repo, issue.number, payload)) if snap.seal_key else None
    return render_status(record, rules, StatusContext(now.date(), snap.ledger, language, sealer))


def with_failures(decision: Decision, failures: list[WriteFailure], snap: Snapshot, rules: Rules,
                  now: dt.datetime) -> Decision:
    """The decision once GitHub refused some writes for good: the record keeps them (shown in the
    status comment) and the comment cursor stays where it is, past them — nothing is retried."""
    record = decision.record
    for failure in failures:
        record = record.with_failure(failure)
    body = status_body(record, snap, rules, now)
    actions = [a for a in decision.actions if not isinstance(a, UpsertStatusComment)] + [UpsertStatusComment(body)]
    return Decision(actions=_ordered(actions), record=record, status=body)


def _auto_advance(record: Record, rules: Rules, at: dt.datetime) -> Record:
    """Screening passed: move on, when the rules say so — as soon as it passes, so that what
    follows (scores, commands) happens in the next stage whenever the bot gets to see it. Not when
    a reviewer has sent the application back to screening on purpose, nor while it waits for a round."""
    first = rules.stages.first
    if rules.funding.dated and not record.round:
        return record
    if rules.stages.auto_advance and record.stage == first.name and record.eligible and first.next \
            and not record.outcome and record.history and record.history[-1].via == "intake":
        return record.moved_to(first.next[0], at=at, by=BOT_ACTOR, via="eligibility")
    return record


def _intake(record: Record, form: ParsedForm, snap: Snapshot, rules: Rules, now: dt.datetime) -> Record:
    issue = snap.issue
    facts = snap.repo_facts
    checks = evaluate(form, rules.application_form, facts, rules.eligibility, now)
    repository = (facts.full_name or facts.requested) if facts else ""
    record = dataclasses.replace(
        record,
        body_sha=body_sha(issue.body),
        form_problems=tuple(p.note for p in form.problems),
        checks=checks,
        checked_at=now,
        repository=repository or "",
        repo_people=facts.people_logins if facts and facts.people_logins else record.repo_people,
    )
    if not record.stage:
        record = record.moved_to(rules.stages.first.name, at=issue.created_at, by=issue.user.login, via="intake")
    if facts and facts.owner_is_org and (facts.full_name or ""):
        record = dataclasses.replace(record, repo_org=(facts.full_name or "").split("/", 1)[0].lower())
    if not record.round:
        record = dataclasses.replace(record, round=round_of(rules, issue.created_at.date()))
    return record


def round_of(rules: Rules, filed: dt.date) -> str:
    """The funding round an application filed on `filed` belongs to ("" when outside every round)."""
    spec = rules.funding.round_on(filed)
    return spec.name if spec else ""


def _round(record: Record, issue: Issue, rules: Rules, now: dt.datetime, posted: set[str],
           tr: Translator) -> tuple[Record, list[Action]]:
    """With dated rounds, an application filed outside every round waits: it is told (once) when the
    next round opens, and joins the round that is open when the bot next sees it."""
    if record.round or record.outcome or not record.checks:
        return record, []
    if not rules.funding.dated:  # one round: a record from before rounds were kept joins it
        return dataclasses.replace(record, round=rules.funding.rounds[0].name), []
    today = now.astimezone(dt.timezone.utc).date()
    current = rules.funding.round_on(today)
    if current is not None:
        joined = dataclasses.replace(record, round=current.name).audited(now, BOT_ACTOR, "round", current.name)
        return joined, []
    upcoming = rules.funding.next_round(today)
    key = f"round-wait:{upcoming.name if upcoming else '-'}"
    if key in posted or key in record.notices:
        return record, []
    filed = tr.date(issue.created_at.astimezone(dt.timezone.utc).date())
    if upcoming is not None and upcoming.opens is not None:
        text = tr.gettext("@%(login)s applications are taken during the fund's rounds, and this one was filed on "
                          "%(filed)s (UTC), outside them. The next round, **%(round)s**, opens on **%(opens)s**: the "
                          "application waits for it, and its review starts then. Nothing needs doing meanwhile; "
                          "edits are checked as usual.", login=issue.user.login, filed=filed,
                          round=escape_inline(upcoming.name, 40), opens=tr.date(upcoming.opens))
    else:
        text = tr.gettext("@%(login)s applications are taken during the fund's rounds, and this one was filed on "
                          "%(filed)s (UTC), outside them. No later round is announced yet: the application waits, "
                          "and its review starts when the next round opens.", login=issue.user.login, filed=filed)
    return record.with_notice(key), [PostComment(key=key, body=text)]


def ledger_round(record: Record | None, issue: Issue, rules: Rules) -> str:
    """The round whose ledger the application's grant counts in ("" while it waits for one)."""
    if record is not None and record.round:
        return record.round
    return round_of(rules, issue.created_at.astimezone(dt.timezone.utc).date())


def _affiliations(record: Record, snap: Snapshot) -> Record:
    """Reviewers looked up as public members of the applicant's organisation: kept, so that each is
    looked up at most once per application."""
    if not snap.affiliations:
        return record
    members = tuple(sorted({*record.affiliated, *(k.lower() for k, v in snap.affiliations.items() if v)}))
    cleared = tuple(sorted({*record.cleared, *(k.lower() for k, v in snap.affiliations.items() if not v)}))
    return dataclasses.replace(record, affiliated=members, cleared=cleared)


def _assign_by_load(record: Record, issue: Issue, form: ParsedForm, snap: Snapshot, rules: Rules,
                    now: dt.datetime) -> tuple[Record, list[Action]]:
    """On entering a stage with `assign`, its reviewers by load (once per entry into the stage)."""
    stage = rules.stages.stage(record.stage)
    if not _assignment_due(record, rules) or snap.load is None or stage is None:
        return record, []
    excluded = [c for c in snap.load.candidates.get(stage.name, ()) if conflicts_of(c, issue, form, record)]
    chosen = pick_reviewers(snap.load, stage.name, stage.assign_count, excluded=excluded, assigned=issue.assignees)
    record = record.with_notice(_assignment_key(record))
    if not chosen:
        return record, []
    record = record.audited(now, BOT_ACTOR, "assign", f"{stage.name}: {', '.join(chosen)} (by load)")
    return record, [Assign(chosen), RecordAssignment(chosen, now)]


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
    else that comment was refused — and the ledger gives the tranche plan pinned then; with no ledger
    read (no pool) or one edited by hand, the `/approve` is judged as usual under today's rules. Every
    comment replayed moves the cursor, so none is judged again later. `/accept-report` and `/reject-report`
    follow from the replayed state, and release the same parts of the same plan. Nothing is said anew
    about an old comment: its reply, if any, is on the issue already."""

    posted: frozenset[str]
    ledger: FundingLedger | None
    number: int
    fresh: int | None  # the delivery's own comment: new, so judged as usual

    @classmethod
    def of(cls, snap: Snapshot, trigger: Trigger) -> "Replay | None":
        answered = any(key.startswith("reply:") for key in snap.posted)
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
            if f"reply:{ctx.comment_id}" in self.posted:  # refused then
                return CommandResult(record=ctx.record, ok=False)
            return received_report(ctx) if ctx.record.funded else None
        try:
            amount = parse_amount(parsed.args)
        except AnswerError:
            return None
        if self.ledger is None:
            return None  # nothing the App wrote proves a grant (an edited ledger proves nothing): as usual
        # The ledger, sealed, holds what the App granted — whatever else the same comment was refused.
        if self.ledger.grants.get(self.number) != amount:
            return CommandResult(record=ctx.record, ok=False)  # the App granted no such thing
        return grant(ctx, amount, self.ledger.plans.get(self.number) or ctx.rules.funding.tranches)


def _process_comment(comment: Comment, record: Record, form: ParsedForm, snap: Snapshot, rules: Rules,
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
            record = _intake(record, form, snap, rules, now)
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
        actions.append(PostComment(key=f"reply:{comment.id}", body=reply))
    return record, actions


def _hand_label(trigger: Trigger, record: Record, issue: Issue, form: ParsedForm, rules: Rules,
                now: dt.datetime, tr: Translator) -> tuple[Record, list[Action]]:
    """A stage label put on by a person: the same checks as `/stage` (screening passed, the stage's
    scores given, no conflict); refused, the label is taken off again and the reply says why."""
    stage = rules.stages.stage_by_label(trigger.label or "")
    if stage is None or stage.name == record.stage:
        return record, []
    actor = trigger.actor or "someone"
    via = tr.gettext("label %(label)s", label=trigger.label)  # shown as code, as a command is: `label stage:review`
    problem = move_problem(record, rules, stage.name, via=via, tr=tr)
    conflicts = conflicts_of(actor, issue, form, record)
    if record.outcome:
        problem = tr.gettext("`%(via)s`: the review has ended (%(outcome)s).", via=via, outcome=record.outcome.name)
    elif conflicts:
        problem = tr.gettext("`%(via)s`: you are %(why)s.", via=via, why=conflicts_in_words(conflicts, tr))
    if problem:
        where = record.outcome.name if record.outcome else record.stage or rules.stages.first.name
        text = tr.gettext("@%(actor)s %(problem)s The label was taken off again; the application stays in "
                          "**%(stage)s**.", actor=actor, problem=problem, stage=where)
        key = f"label-refused:{trigger.delivery or iso(now)}"
        return record, [PostComment(key=key, body=text)]
    return record.moved_to(stage.name, at=now, by=actor, via="label"), []


def _report_issue(report: ReportIssue, record: Record, issue: Issue, form: ParsedForm,
                  rules: Rules, tr: Translator) -> tuple[Record, list[Action]]:
    ref = f"issue:{report.number}"
    if any(r.ref == ref for r in record.reports):
        return record, [CloseIssue("completed", number=report.number)]  # recorded; only the closing was lost
    maintainers = {a.lower() for a in applicant_logins(issue, form)}
    refused = f"report-refused:{report.number}"
    if not record.funded:
        text = tr.gettext("@%(author)s #%(number)s is not a funded application, so it takes no progress reports.",
                          author=report.author, number=issue.number)
        return record, [PostComment(key=f"{refused}:not-funded", body=text, number=report.number)]
    if report.author.lower() not in maintainers:
        names = tr.join(person(m) for m in applicant_logins(issue, form))
        text = tr.gettext("@%(author)s only the maintainers of #%(number)s (%(names)s) can report on it, so this issue "
                          "was not recorded as its progress report.", author=report.author, number=issue.number,
                          names=names)
        return record, [PostComment(key=f"{refused}:not-maintainer", body=text, number=report.number)]
    entry = ReportEntry(at=report.created_at, by=report.author, ref=ref)
    record = dataclasses.replace(record, reports=record.reports + (entry,)).audited(
        report.created_at, report.author, "report", ref)
    status = report_status(record, rules.reports, report.created_at.date())
    if status.next_due:
        text = tr.gettext("Thank you, @%(author)s: recorded as a progress report on #%(number)s. The next one is due "
                          "on %(date)s (UTC).", author=report.author, number=issue.number,
                          date=tr.date(status.next_due))
    else:
        text = tr.gettext("Thank you, @%(author)s: recorded as a progress report on #%(number)s. That was the last "
                          "report the grant needs.", author=report.author, number=issue.number)
    return record, [PostComment(key=f"report-ack:{report.number}", body=text, number=report.number),
                    CloseIssue("completed", number=report.number)]


def _count_votes(record: Record, snap: Snapshot, form: ParsedForm) -> Record:
    if snap.reactions is None:
        return record
    up, down = count_votes(snap.reactions, snap.issue, form, record)
    return dataclasses.replace(record, votes_up=up, votes_down=down, reactions_seen=reactions_rollup(snap.issue))


def reactions_rollup(issue: Issue) -> str:
    return f"{issue.reactions_up}/{issue.reactions_down}"


def _mentions(people: list[str]) -> str:
    unique = list(dict.fromkeys(p.lower() for p in people if p))[:MAX_MENTIONS]
    return " ".join(f"@{p}" for p in unique)


def _calendar(record: Record, issue: Issue, form: ParsedForm, rules: Rules, now: dt.datetime,
              posted: set[str], collaborators: tuple[str, ...] | None, tr: Translator) -> tuple[Record, list[Action]]:
    actions: list[Action] = []
    today = now.date()
    maintainers = _mentions(list(applicant_logins(issue, form)))

    def notice(key: str, body: str) -> None:
        nonlocal record
        if key not in posted:
            actions.append(PostComment(key=key, body=body))
        record = record.with_notice(key)

    # Reports are owed while the grant runs, whoever closed the issue (SPEC §11): the reminders go
    # on, on the closed issue, and still notify the maintainers and reviewers they mention.
    if record.funded:
        status = report_status(record, rules.reports, today)
        due = status.next_due.isoformat() if status.next_due else ""
        if status.state is ReportState.OVERDUE:
            mentions = _overdue_mentions(issue, record, rules)
            text = tr.gettext("%(maintainers)s the progress report due on **%(date)s** (UTC) is overdue. Please comment "
                              "`/report` followed by the report, or open a progress-report issue naming #%(number)s.",
                              maintainers=maintainers, date=tr.date(status.next_due), number=issue.number)
            notice(f"report-overdue:{due}", text + ("\n\ncc " + mentions if mentions else ""))
        elif status.state is ReportState.DUE and f"report-overdue:{due}" not in posted:
            notice(f"report-reminder:{due}",
                   tr.gettext("%(maintainers)s a progress report is due on **%(date)s** (UTC): progress against "
                              "milestones, use of funds, community feedback and outcomes. Comment `/report` followed "
                              "by the report, or open a progress-report issue naming #%(number)s.",
                              maintainers=maintainers, date=tr.date(status.next_due), number=issue.number))
    elif _stalled(record, rules, now) and issue.state == "open":
        stage = rules.stages.stage(record.stage)
        assert stage is not None and record.stage_since is not None
        since = day_of(record.stage_since)
        people = list(issue.assignees) or list(stage_reviewer_mentions(rules, stage.name)) or \
            _acted_on(record) or list(collaborators or ())
        mentions = _mentions(people) or tr.gettext("Reviewers:")
        notice(f"stalled:{stage.name}:{since}",
               tr.ngettext("%(mentions)s this application has been in **%(stage)s** since %(date)s (UTC), longer than "
                           "the %(n)s day the rules allow. Please review it, or move it on with `/advance`.",
                           "%(mentions)s this application has been in **%(stage)s** since %(date)s (UTC), longer than "
                           "the %(n)s days the rules allow. Please review it, or move it on with `/advance`.",
                           stage.max_days or 0, mentions=mentions, stage=stage.name,
                           date=tr.date(record.stage_since.astimezone(dt.timezone.utc).date())))
    return record, actions


def day_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).date().isoformat()


def _acted_on(record: Record) -> list[str]:
    """Reviewers who already acted on this application (moved it, scored it), newest first."""
    people = [e.by for e in reversed(record.history) if e.by != BOT_ACTOR and e.via != "intake"]
    return people + [s.reviewer for s in reversed(record.scores)]


def _overdue_mentions(issue: Issue, record: Record, rules: Rules) -> str:
    r = rules.reports
    people: list[str] = []
    if r.mention_reviewers:
        # The reviewers of the rules, and those who reviewed this application (scored, decided).
        reviewers = rules.stages.reviewers
        people += sorted(reviewers.users) + [str(t) for t in reviewers.teams]
        people += [record.outcome.by] if record.outcome else []
        people += sorted({s.reviewer for s in record.scores})
    if r.mention_assignees:
        people += list(issue.assignees)
    people += list(r.mention_users)
    return _mentions(people)


def desired_labels(record: Record, rules: Rules, today: dt.date) -> set[str]:
    stages = rules.stages
    labels = {stages.labels.application.name}
    if record.outcome:
        labels.add(stages.outcomes[record.outcome.name].label.name)
    elif record.stage and stages.stage(record.stage):
        labels.add(stages.stage(record.stage).label.name)  # type: ignore[union-attr]
    if record.checks:
        labels.add((stages.labels.eligible if record.eligible else stages.labels.ineligible).name)
    if record.needs_info and not record.outcome:
        labels.add(stages.labels.needs_info.name)
    round_label = rules.round_label(record.round) if record.round else None
    if round_label is not None:
        labels.add(round_label.name)
    state = report_status(record, rules.reports, today).state
    if state is ReportState.DUE:
        labels.add(stages.labels.report_due.name)
    elif state is ReportState.OVERDUE:
        labels.add(stages.labels.report_overdue.name)
    return labels


def _label_actions(record: Record, issue: Issue, rules: Rules, now: dt.datetime) -> list[Action]:
    wanted = desired_labels(record, rules, now.date())
    managed = {label.name.lower() for label in rules.all_labels()} - {rules.stages.labels.report.name.lower()}
    present = {label.lower(): label for label in issue.labels}
    add = tuple(sorted(name for name in wanted if name.lower() not in present))
    actions: list[Action] = [AddLabels(add)] if add else []
    wanted_lower = {name.lower() for name in wanted}
    actions += [RemoveLabel(present[name]) for name in sorted(present) if name in managed and name not in wanted_lower]
    return actions


_ORDER = (RecordGrant, SetAway, RecordAssignment, PostComment, React, Assign, AddLabels, RemoveLabel, DeleteComment, UpsertStatusComment,
          CloseIssue)


def _ordered(actions: list[Action]) -> tuple[Action, ...]:
    """Side effects that are idempotent on their own (marked comments, reactions) first, the record
    last: a crash in between is repaired by re-running, and never posts anything twice."""
    return tuple(sorted(actions, key=lambda a: _ORDER.index(type(a))))


# --- progress-report issues ---------------------------------------------------------------------


class Named(enum.Enum):
    """What a progress-report issue's `application` answer names."""

    NOTHING = "nothing"  # no readable issue number
    MISSING = "missing"  # no such issue in the repository
    NOT_APPLICATION = "not-application"  # an issue, but not an application
    APPLICATION = "application"


@dataclass(frozen=True)
class ReportDecision:
    """What to do on a progress-report issue itself, and whether to record it on the application."""

    actions: tuple[Action, ...]
    forward: ReportIssue | None  # record it on the application it names


def report_language(rules: Rules, form: ParsedForm, application: Issue | None) -> str:
    """The language a progress-report issue is answered in: its application's; when it names none,
    the report form's (`progress-report.zh.yml`), else the fund's."""
    if application is not None:
        return rules.language_of(rules.read_application(application.body))
    return rules.language_of(form)


def decide_report_issue(report: Issue, form: ParsedForm, named: Named, posted: frozenset[str],
                        tr: Translator) -> ReportDecision:
    """A progress-report issue: refused with a reply that says what is wrong (each kind of refusal
    has its own marker, so a report fixed by an edit is still acknowledged), or passed on."""
    author = report.user.login
    number = form.application_number
    if report.state != "open":
        return ReportDecision((), None)
    refusal: tuple[str, str] | None = None
    if named is Named.NOTHING or number is None:
        problems = " ".join(escape_inline(describe(p.note, tr, form.template), 500)
                            for p in form.problems_for("application")) or tr.gettext("the application is not named.")
        refusal = ("unnamed", tr.gettext("@%(author)s I could not tell which application this reports on: "
                                         "%(problems)s", author=author, problems=problems))
    elif form.problems:
        shown = form.problems[:20]
        # The marker's key comes from the problems, not from their words in a language.
        digest = hashlib.sha256("\n".join(f"- {escape_inline(p.message, 500)}" for p in shown).encode()).hexdigest()[:8]
        missing = "\n".join(f"- {escape_inline(describe(p.note, tr, form.template), 500)}" for p in shown)
        refusal = (f"incomplete-{digest}", tr.gettext("@%(author)s this progress report is not complete yet; edit the "
                                                      "issue to fix:", author=author) + f"\n\n{missing}")
    elif named is Named.MISSING:
        refusal = (f"missing-{number}", tr.gettext("@%(author)s there is no issue #%(number)s in this repository. Edit "
                                                   "this issue to name your application.", author=author,
                                                   number=number))
    elif named is Named.NOT_APPLICATION:
        refusal = (f"not-application-{number}", tr.gettext("@%(author)s #%(number)s is not an application to the fund. "
                                                           "Edit this issue to name one.", author=author, number=number))
    if refusal is not None:
        key = f"report-refused:{report.number}:{refusal[0]}"
        return ReportDecision((PostComment(key=key, body=refusal[1]),) if key not in posted else (), None)
    assert number is not None
    return ReportDecision((), ReportIssue(number=report.number, author=author, created_at=report.created_at))
