"""decide: `(trigger, snapshot, rules, now) -> Decision`. All policy, no I/O, no clock.

Every delivery and every sweep ends in the same place: the record is brought up to date (intake,
unprocessed comments in order, a stage label put on by hand, a report issue, the calendar), then
labels and the status comment are made to mirror it. Because the record says how far it got
(the last comment processed, the body it checked, the notices already posted), running this twice,
late, or after a crash gives the same result.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.policy.commands import CommandContext, FundingLedger, Role, applicant_logins, parse_commands, run_command
from bot.policy.eligibility import evaluate
from bot.policy.forms import ParsedForm, parse_form
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, Comment, Decision, Issue, PostComment, React, Reaction, RemoveLabel,
    RepoFacts, UpsertStatusComment,
)
from bot.policy.record import Record, ReportEntry, iso
from bot.policy.reports import ReportState, report_status
from bot.policy.rules import Rules
from bot.policy.status import person, render_status

BOT_ACTOR = "fund-bot"


class TriggerKind(enum.Enum):
    OPENED = "opened"
    EDITED = "edited"
    REOPENED = "reopened"
    COMMENT = "comment"
    LABELED = "labeled"
    REPORT_ISSUE = "report_issue"
    SWEEP = "sweep"


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


@dataclass(frozen=True)
class Snapshot:
    """What `gather` read from GitHub for one application."""

    issue: Issue
    comments: tuple[Comment, ...] = ()
    status_comment: Comment | None = None
    record: Record | None = None
    repo_facts: RepoFacts | None = None
    reactions: tuple[Reaction, ...] | None = None
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # login -> "org/slug" teams
    assignable: Mapping[str, bool] = field(default_factory=dict)
    ledger: FundingLedger | None = None
    bot_markers: frozenset[str] = frozenset()  # keys of the one-off comments already on the issue
    form: ParsedForm | None = None  # the issue body read as the application form (read here if None)


@dataclass(frozen=True)
class Needs:
    """What `gather` must read for `decide` to run (so nothing is fetched in vain)."""

    repo_facts: bool
    reactions: bool
    ledger: bool
    team_lookups: tuple[str, ...]  # logins whose team membership decides their role
    assignees: tuple[str, ...]  # logins named by `/assign`


def body_sha(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode()).hexdigest()[:16]


def unprocessed(comments: tuple[Comment, ...], record: Record | None, trigger: Trigger) -> list[Comment]:
    """Comments newer than the last one processed, oldest first (the delivery's own comment included)."""
    seen = {c.id: c for c in comments}
    if trigger.comment is not None:
        seen.setdefault(trigger.comment.id, trigger.comment)  # GitHub's list may lag the webhook
    last = record.last_comment_id if record else 0
    return sorted((c for c in seen.values() if c.id > last), key=lambda c: (c.created_at, c.id))


def intake_due(trigger: Trigger, record: Record | None, issue: Issue) -> bool:
    if record is None or not record.checks:
        return True
    if trigger.kind in (TriggerKind.OPENED, TriggerKind.REOPENED):
        return True
    return record.body_sha != body_sha(issue.body)


def needs(trigger: Trigger, issue: Issue, comments: tuple[Comment, ...], record: Record | None, rules: Rules) -> Needs:
    """Decide what to gather, from what is already known (the payload and the comments)."""
    pending = [c for c in unprocessed(comments, record, trigger) if not c.user.is_bot]
    commands = [(c, cmd) for c in pending for cmd in parse_commands(c.body)]
    names = {cmd.name for _, cmd in commands}
    reviewers = rules.stages.reviewers
    teams_configured = bool(reviewers.teams or any(s.reviewers and s.reviewers.teams for s in rules.stages.stages))
    trusted = set(reviewers.author_associations)
    lookups = sorted({
        c.user.login for c, _ in commands
        if teams_configured and c.user.login.lower() not in reviewers.users and c.author_association not in trusted
    })
    assignees = sorted({t.lstrip("@") for _, cmd in commands if cmd.name == "assign" for t in cmd.args.split()})
    stage = rules.stages.stage(record.stage) if record else None
    voting = bool(stage and stage.community_vote and record and not record.outcome)
    # The issue's roll-up says whether any vote changed; the sweep lists reactions only then.
    votes_moved = not record or record.reactions_seen != reactions_rollup(issue)
    return Needs(
        repo_facts=intake_due(trigger, record, issue) or "recheck" in names,
        reactions=voting and (trigger.kind is not TriggerKind.SWEEP or votes_moved),
        # The round's ledger: to check `/approve`, and for the status comment of a deciding stage
        # (which a move in this very delivery may reach).
        ledger=rules.funding.pool is not None and (
            bool(names & {"approve", "advance", "stage"}) or trigger.kind is TriggerKind.LABELED
            or bool(stage and stage.decides)),
        team_lookups=tuple(lookups),
        assignees=tuple(assignees),
    )


def roles_of(login: str, association: str, issue: Issue, form: ParsedForm, record: Record, rules: Rules,
             team_members: Mapping[str, frozenset[str]]) -> frozenset[Role]:
    roles = {Role.ANYONE}
    applicants = {a.lower() for a in applicant_logins(issue, form)}
    if login.lower() in applicants:
        roles.add(Role.APPLICANT)
        if record.outcome and record.outcome.name == "funded":
            roles.add(Role.MAINTAINER)
        return frozenset(roles)  # nobody reviews their own application
    reviewers = rules.stages.reviewers_for(record.stage)
    teams = {str(t).lower() for t in reviewers.teams}
    if (
        login.lower() in reviewers.users
        or association in reviewers.author_associations
        or teams & {t.lower() for t in team_members.get(login.lower(), frozenset())}
    ):
        roles.add(Role.REVIEWER)
    return frozenset(roles)


def decide(trigger: Trigger, snap: Snapshot, rules: Rules, now: dt.datetime) -> Decision:
    """Bring the record up to date and say what to change on GitHub."""
    issue = snap.issue
    form = snap.form or parse_form(rules.application_form, issue.body)
    record = snap.record or Record()
    actions: list[Action] = []
    posted = set(snap.bot_markers) | set(record.notices)

    # 1. Intake: the form and the eligibility checks, when new or when the body changed.
    if intake_due(trigger, snap.record, issue):
        body_changed = snap.record is not None and snap.record.body_sha != body_sha(issue.body)
        record = _intake(record, form, snap, rules, now)
        applicants = {a.lower() for a in applicant_logins(issue, form)}
        edited_by_applicant = trigger.kind is TriggerKind.EDITED and (trigger.actor or "").lower() in applicants
        if record.needs_info and (edited_by_applicant or (trigger.kind is TriggerKind.SWEEP and body_changed)):
            record = dataclasses.replace(record, needs_info=None)  # the applicant answered by editing
    record = _auto_advance(record, rules, record.checked_at or iso(now))

    # 2. Comments not processed yet, in order, once. Bots' comments (ours included) are passed
    #    over without moving the mark, so the bot's own replies never cause another edit.
    for comment in unprocessed(snap.comments, snap.record, trigger):
        if comment.user.is_bot:
            continue
        record, comment_actions = _process_comment(comment, record, form, snap, rules, now)
        record = _auto_advance(record, rules, iso(comment.created_at))  # e.g. after a /waive
        actions.extend(comment_actions)
        record = dataclasses.replace(record, last_comment_id=max(record.last_comment_id, comment.id))

    # 3. A stage label put on by a person moves the stage (the bot's own label events never get here).
    if trigger.kind is TriggerKind.LABELED and trigger.label and not record.outcome:
        stage = rules.stages.stage_by_label(trigger.label)
        if stage and stage.name != record.stage:
            record = record.moved_to(stage.name, at=iso(now), by=trigger.actor or "someone", via="label")

    # 4. A progress-report issue that names this application.
    if trigger.kind is TriggerKind.REPORT_ISSUE and trigger.report:
        record, report_actions = _report_issue(trigger.report, record, issue, form, rules)
        actions.extend(report_actions)

    # 5. The calendar: community votes, report reminders, stalled stages.
    record = _count_votes(record, snap, form, rules)
    record, calendar_actions = _calendar(record, issue, form, rules, now, posted)
    actions.extend(calendar_actions)

    # 6. Mirror the record: labels, the status comment, and closing when an outcome says so.
    actions.extend(_label_actions(record, issue, rules, now))
    body = render_status(record, rules, now.date(), snap.ledger)
    if snap.status_comment is None or snap.status_comment.body != body:
        actions.append(UpsertStatusComment(body))
    if record.outcome and rules.stages.outcomes[record.outcome.name].close_issue and issue.state == "open" \
            and not any(isinstance(a, CloseIssue) for a in actions):
        actions.append(CloseIssue("not_planned"))
    return Decision(actions=_ordered(actions))


def _auto_advance(record: Record, rules: Rules, at: str) -> Record:
    """Screening passed: move on, when the rules say so — as soon as it passes, so that what
    follows (scores, commands) happens in the next stage whenever the bot gets to see it. Not when
    a reviewer has sent the application back to screening on purpose."""
    first = rules.stages.first
    if rules.stages.auto_advance and record.stage == first.name and record.eligible and first.next \
            and not record.outcome and record.history and record.history[-1].via == "intake":
        return record.moved_to(first.next[0], at=at, by=BOT_ACTOR, via="eligibility")
    return record


def _intake(record: Record, form: ParsedForm, snap: Snapshot, rules: Rules, now: dt.datetime) -> Record:
    issue = snap.issue
    checks = evaluate(form, rules.application_form, snap.repo_facts, rules.eligibility, now)
    repository = snap.repo_facts.full_name or snap.repo_facts.requested if snap.repo_facts else ""
    record = dataclasses.replace(
        record,
        body_sha=body_sha(issue.body),
        form_problems=tuple(p.message for p in form.problems),
        checks=checks,
        checked_at=iso(now),
        repository=repository or "",
    )
    if not record.stage:
        record = record.moved_to(rules.stages.first.name, at=iso(issue.created_at), by=issue.user.login, via="intake")
    return record


def _process_comment(comment: Comment, record: Record, form: ParsedForm, snap: Snapshot, rules: Rules,
                     now: dt.datetime) -> tuple[Record, list[Action]]:
    issue = snap.issue
    actions: list[Action] = []
    login = comment.user.login
    roles = roles_of(login, comment.author_association, issue, form, record, rules, snap.team_members)
    if Role.APPLICANT in roles and record.needs_info:
        record = dataclasses.replace(record, needs_info=None)  # the applicant answered
    messages: list[str] = []
    acknowledged = False
    for parsed in parse_commands(comment.body):
        # Roles depend on the stage (per-stage reviewers) and outcome, which earlier commands may change.
        roles = roles_of(login, comment.author_association, issue, form, record, rules, snap.team_members)
        ctx = CommandContext(record=record, issue=issue, form=form, rules=rules, actor=login, roles=roles,
                             at=iso(comment.created_at), comment_id=comment.id, ledger=snap.ledger,
                             assignable={k.lower(): v for k, v in snap.assignable.items()})
        result = run_command(ctx, parsed)
        record = result.record
        actions.extend(result.actions)
        if result.recheck:
            record = _intake(record, form, snap, rules, now)
        if result.message:
            messages.append(result.message)
        acknowledged = acknowledged or result.ok
    if acknowledged:
        actions.append(React(comment.id, "+1"))
    if messages:
        reply = f"@{login} " + "\n\n".join(messages) if len(messages) == 1 else \
            f"@{login}\n\n" + "\n\n---\n\n".join(messages)
        actions.append(PostComment(key=f"reply:{comment.id}", body=reply))
    return record, actions


def _report_issue(report: ReportIssue, record: Record, issue: Issue, form: ParsedForm,
                  rules: Rules) -> tuple[Record, list[Action]]:
    ref = f"issue:{report.number}"
    if any(r.ref == ref for r in record.reports):
        return record, [CloseIssue("completed", number=report.number)]  # recorded; only the closing was lost
    maintainers = {a.lower() for a in applicant_logins(issue, form)}
    refused = f"report-refused:{report.number}"
    if record.outcome is None or record.outcome.name != "funded":
        text = f"@{report.author} #{issue.number} is not a funded application, so it takes no progress reports."
        return record, [PostComment(key=f"{refused}:not-funded", body=text, number=report.number)]
    if report.author.lower() not in maintainers:
        names = ", ".join(person(m) for m in applicant_logins(issue, form))
        text = (f"@{report.author} only the maintainers of #{issue.number} ({names}) can report on it, so this "
                "issue was not recorded as its progress report.")
        return record, [PostComment(key=f"{refused}:not-maintainer", body=text, number=report.number)]
    entry = ReportEntry(at=iso(report.created_at), by=report.author, ref=ref)
    record = dataclasses.replace(record, reports=record.reports + (entry,))
    status = report_status(record, rules.reports, report.created_at.date())
    after = f" The next one is due on {status.next_due.isoformat()} (UTC)." if status.next_due else \
        " That was the last report the grant needs."
    text = f"Thank you, @{report.author}: recorded as a progress report on #{issue.number}.{after}"
    return record, [PostComment(key=f"report-ack:{report.number}", body=text, number=report.number),
                    CloseIssue("completed", number=report.number)]


def _count_votes(record: Record, snap: Snapshot, form: ParsedForm, rules: Rules) -> Record:
    if snap.reactions is None:
        return record
    excluded = {a.lower() for a in applicant_logins(snap.issue, form)}
    voters = [r for r in snap.reactions if not r.user.is_bot and r.user.login.lower() not in excluded]
    up = len({r.user.login.lower() for r in voters if r.content == "+1"})
    down = len({r.user.login.lower() for r in voters if r.content == "-1"})
    return dataclasses.replace(record, votes_up=up, votes_down=down, reactions_seen=reactions_rollup(snap.issue))


def reactions_rollup(issue: Issue) -> str:
    return f"{issue.reactions_up}/{issue.reactions_down}"


def _calendar(record: Record, issue: Issue, form: ParsedForm, rules: Rules, now: dt.datetime,
              posted: set[str]) -> tuple[Record, list[Action]]:
    actions: list[Action] = []
    today = now.date()
    maintainers = " ".join(f"@{m}" for m in applicant_logins(issue, form))

    def notice(key: str, body: str) -> None:
        nonlocal record
        if key not in posted:
            actions.append(PostComment(key=key, body=body))
        record = record.with_notice(key)

    if record.outcome and record.outcome.name == "funded" and issue.state == "open":
        status = report_status(record, rules.reports, today)
        due = status.next_due.isoformat() if status.next_due else ""
        if status.state is ReportState.OVERDUE:
            mentions = _overdue_mentions(issue, record, rules)
            notice(f"report-overdue:{due}",
                   f"{maintainers} the progress report due on **{due}** (UTC) is overdue. Please comment `/report` "
                   f"followed by the report, or open a progress-report issue naming #{issue.number}."
                   + (f"\n\ncc {mentions}" if mentions else ""))
        elif status.state is ReportState.DUE and f"report-overdue:{due}" not in posted:
            notice(f"report-reminder:{due}",
                   f"{maintainers} a progress report is due on **{due}** (UTC): progress against milestones, use of "
                   "funds, community feedback and outcomes. Comment `/report` followed by the report, or open a "
                   f"progress-report issue naming #{issue.number}.")
    elif not record.outcome and record.stage_since:
        stage = rules.stages.stage(record.stage)
        since = dt.datetime.fromisoformat(record.stage_since.replace("Z", "+00:00"))
        if stage and stage.max_days and (now - since).days > stage.max_days:
            people = issue.assignees or tuple(sorted(rules.stages.reviewers_for(stage.name).users))
            mentions = " ".join(f"@{p}" for p in people) or "Reviewers:"
            notice(f"stalled:{stage.name}:{record.stage_since[:10]}",
                   f"{mentions} this application has been in **{stage.name}** since {record.stage_since[:10]} (UTC), "
                   f"longer than the {stage.max_days} days the rules allow. Please review it, or move it on with "
                   "`/advance`.")
    return record, actions


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
    unique = list(dict.fromkeys(p.lower() for p in people))
    return " ".join(f"@{p}" for p in unique)


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
    state = report_status(record, rules.reports, today).state
    if state is ReportState.DUE:
        labels.add(stages.labels.report_due.name)
    elif state is ReportState.OVERDUE:
        labels.add(stages.labels.report_overdue.name)
    return labels


def _label_actions(record: Record, issue: Issue, rules: Rules, now: dt.datetime) -> list[Action]:
    wanted = desired_labels(record, rules, now.date())
    managed = {label.name.lower() for label in rules.stages.all_labels()} - {rules.stages.labels.report.name.lower()}
    present = {label.lower(): label for label in issue.labels}
    add = tuple(sorted(name for name in wanted if name.lower() not in present))
    actions: list[Action] = [AddLabels(add)] if add else []
    wanted_lower = {name.lower() for name in wanted}
    actions += [RemoveLabel(present[name]) for name in sorted(present) if name in managed and name not in wanted_lower]
    return actions


_ORDER = (PostComment, React, Assign, AddLabels, RemoveLabel, UpsertStatusComment, CloseIssue)


def _ordered(actions: list[Action]) -> tuple[Action, ...]:
    """Side effects that are idempotent on their own (marked comments, reactions) first, the record
    last: a crash in between is repaired by re-running, and never posts anything twice."""
    return tuple(sorted(actions, key=lambda a: _ORDER.index(type(a))))


