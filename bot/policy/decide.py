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
from dataclasses import dataclass

from bot.policy.assign import assign_on_entry
from bot.policy.calendar import calendar
from bot.policy.evidence_flow import ask_for_reports, take_pack
from bot.policy.comments import Replay, count_votes_of, hand_label, process_comment, record_affiliations
from bot.policy.fundstate import fund_state_write
from bot.policy.i18n import translator
from bot.policy.intake import auto_advance, body_sha, checks_due, join_round, take_in
from bot.policy.labels import label_actions
from bot.policy.models import (
    FUND_CHANGES, Action, AddLabels, Assign, CloseIssue, DeleteComment, PostComment, React, RecordAssignment,
    RecordGrant, RemoveLabel, SetAway, UpsertIssue, UpsertStatusComment,
)
from bot.policy.plan import unprocessed
from bot.policy.record import BOT_ACTOR, Record, WriteFailure
from bot.policy.report_issue import record_report_issue
from bot.policy.roles import applicant_logins
from bot.policy.rules import Rules
from bot.policy.seal import seal
from bot.policy.snapshot import Snapshot
from bot.policy.status import StatusContext, render_status
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.votes import settle


@dataclass(frozen=True)
class Decision:
    """The outcome of `decide`: the actions to apply in order, the record, and the status body."""

    actions: tuple[Action, ...]
    record: Record
    status: str


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
    if checks_due(trigger, snap.record, issue, rules):
        body_changed = snap.record is not None and snap.record.body_sha != body_sha(issue.body)
        record = take_in(record, form, issue, snap.repo_facts, rules, now)
        edited_by_applicant = trigger.kind is TriggerKind.EDITED and \
            (trigger.actor or "").lower() in {a.lower() for a in applicant_logins(issue, form)}
        if record.needs_info and (edited_by_applicant or (trigger.kind.scheduled and body_changed)):
            record = dataclasses.replace(record, needs_info=None)  # the applicant answered by editing
    record = record_affiliations(record, snap)
    record = count_votes_of(record, snap, form, rules, now)  # before the commands: `/advance` checks the quorum
    waiting = rules.funding.dated and not record.round
    record, round_actions = join_round(record, issue, rules, now, posted, tr)
    actions.extend(round_actions)
    # Screening passed at the checks, or — for one that waited for its round — when the round opened.
    record = auto_advance(record, rules, now if waiting and record.round else record.checked_at or now)

    # 2. Comments not processed yet, in order, once. In a rebuild, those the App answered at the time
    # are replayed as it decided them then (see `Replay`).
    replay = Replay.of(snap, trigger)
    for comment in unprocessed(snap.comments, snap.record, trigger):
        before = record
        record, comment_actions = process_comment(comment, record, form, snap, rules, now, tr, replay)
        record = auto_advance(record, rules, comment.created_at)  # e.g. after a /waive
        actions.extend(comment_actions)
        if record != before or comment_actions or (replay is not None and replay.history(comment)):
            # The cursor moves with something to record; a plain discussion costs no write. A rebuild
            # moves it past all history: what it refused is never judged again, under other rules.
            record = dataclasses.replace(record, last_comment_id=max(record.last_comment_id, comment.id))

    if replay is not None:
        record = count_votes_of(record, snap, form, rules, now)  # again, now that the recusals are known

    # 3. A stage label put on by a person moves the stage — when the same checks as /stage allow it.
    if trigger.kind is TriggerKind.LABELED and trigger.label:
        record, label_refusal = hand_label(trigger, record, issue, form, rules, now, tr)
        actions.extend(label_refusal)

    # 4. A progress-report issue that names this application.
    if trigger.kind is TriggerKind.REPORT_ISSUE and trigger.report:
        record, report_actions = record_report_issue(trigger.report, record, issue, form, rules, tr)
        actions.extend(report_actions)

    # 4b. The evidence pack: a report recorded now asks for it; a pack read after the status comment is taken in.
    record = ask_for_reports(snap.record, record, rules)
    if trigger.kind is TriggerKind.EVIDENCE and trigger.pack is not None:
        record, evidence_actions = take_pack(record, trigger.pack, rules, posted, tr)
        record = auto_advance(record, rules, now)  # screening passed once the pack's checks are decided
        actions.extend(evidence_actions)
    # A vote whose stage was left closes then (frozen); one opens for a stage just entered that has a window.
    record = settle(record, rules)

    # 5. The calendar: report reminders, stalled stages.
    record, calendar_actions = calendar(record, issue, form, rules, now, posted, snap.collaborators, tr, snap.away)
    actions.extend(calendar_actions)

    # 6. Reviewers assigned by load on entering a stage that asks for them.
    record, assign_actions = assign_on_entry(record, issue, form, snap.load, rules, now)
    actions.extend(assign_actions)

    # A grant made now enters the fund's ledger first (the ledger is what /approve checks the pool with).
    if record.funded and record.outcome and record.outcome.amount is not None and not (snap.record and snap.record.funded):
        actions.append(RecordGrant(record.round, issue.number, record.outcome.amount, record.plan))

    # 7. Mirror the record: labels, the status comment, and closing when an outcome says so.
    actions.extend(label_actions(record, issue, rules, now))
    actions.extend(DeleteComment(c.id) for c in snap.duplicates)
    body = status_body(record, snap, rules, now)
    actions.append(UpsertStatusComment(body))  # the executor skips it when the comment already says this
    if record.outcome and rules.stages.outcomes[record.outcome.name].close_issue and issue.state == "open" \
            and not any(isinstance(a, CloseIssue) and a.number is None for a in actions):
        actions.append(CloseIssue("not_planned"))
    return Decision(actions=ordered(fund_state_actions(actions, snap, rules)), record=record, status=body)


def fund_state_actions(actions: list[Action], snap: Snapshot, rules: Rules) -> list[Action]:
    """The changes to the fund-state issue (a grant, an absence, an assignment by load) as one write of it,
    when it was read: the state they make, rendered in the fund's language and sealed. Without it (decide's
    tables), the changes stay as they are."""
    changes = [a for a in actions if isinstance(a, FUND_CHANGES)]
    if not changes or snap.fund is None:
        return actions
    rest = [a for a in actions if not isinstance(a, FUND_CHANGES)]
    state = snap.fund.state
    for change in changes:
        state = state.with_change(change)
    return [fund_state_write(snap.fund, state, snap.issue.repo, rules, snap.seal_key, tuple(changes))] + rest


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
    return Decision(actions=ordered(actions), record=record, status=body)


# The fund's state first, the record last: side effects that are idempotent on their own (marked comments,
# reactions) come first, so a crash in between is repaired by re-running, and never posts anything twice.
_ORDER = (UpsertIssue, RecordGrant, SetAway, RecordAssignment, PostComment, React, Assign, AddLabels, RemoveLabel,
          DeleteComment, UpsertStatusComment, CloseIssue)


def ordered(actions: list[Action]) -> tuple[Action, ...]:
    return tuple(sorted(actions, key=lambda a: _ORDER.index(type(a))))


def record_and_after(actions: tuple[Action, ...]) -> int:
    """Where the status comment (the record) comes in `actions`: what comes before it is written first."""
    return next((i for i, a in enumerate(actions) if isinstance(a, UpsertStatusComment)), len(actions))
