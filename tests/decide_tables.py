"""The tables' vocabulary for tests over `decide` (no I/O): an application at a stage, a comment on it,
a sweep, the rules with a section changed, and what the decision said. One place, so that the tables
of intake, governance, votes, approvals and waiting read alike."""
from __future__ import annotations

import dataclasses
import datetime as dt

from factories import T0, make_comment, make_issue
from fund_config import fund_file, funding_section, stages_section

from bot.config.rules import fund_rules
from bot.policy.decide import decide
from bot.policy.i18n import SOURCE, translator
from bot.policy.markers import FoundRecord, read_record
from bot.policy.models import (AddLabels, PostComment, React, Reaction, RemoveLabel, RepoFacts, RepoStatus,
                               UpsertStatusComment, User)
from bot.policy.record import Record, ReportEntry, parse_iso
from bot.policy.snapshot import Snapshot
from bot.policy.triggers import Trigger, TriggerKind

EN = translator(SOURCE)

NOW = T0 + dt.timedelta(hours=1)
GOOD = RepoFacts(requested="tiny-org/tiny-inference", status=RepoStatus.OK, full_name="tiny-org/tiny-inference",
                 licence_spdx="MIT", default_branch="main", commits_in_window=12,
                 last_commit_at=T0 - dt.timedelta(days=3), people=5)
REVIEWER = dict(user="rita", association="MEMBER")
STRANGER = dict(user="stan", association="NONE")
APPLICANT = dict(user="applicant", association="NONE")


def snapshot(issue, record: Record | None = None, **kw) -> Snapshot:
    return Snapshot(issue=issue, found=FoundRecord(record, None), **kw)


def run(snap: Snapshot, trigger: Trigger, rules, now=NOW):
    decision = decide(trigger, snap, rules, now)
    [upsert] = [a for a in decision.actions if isinstance(a, UpsertStatusComment)]
    assert read_record(upsert.body).record == decision.record  # the status comment keeps the whole record
    return decision, decision.record


def writes(decision, snap: Snapshot):
    """The actions that would write something (the executor skips a status comment already so)."""
    current = snap.status_comment.body if snap.status_comment else None
    return [a for a in decision.actions if not (isinstance(a, UpsertStatusComment) and a.body == current)]


def open_application(rules, facts=GOOD, **issue_kw):
    issue = make_issue(**issue_kw)
    return run(snapshot(issue, repo_facts=facts), Trigger(TriggerKind.OPENED, actor=issue.user.login), rules)


T1 = parse_iso("2026-11-02T10:00:00Z")


def at_stage(rules, stage: str, **record_changes) -> Record:
    _, record = open_application(rules)
    record = record.moved_to(stage, at=T1, by="rita", via="/stage")
    return dataclasses.replace(record, **record_changes)


def labels_after(decision, issue_labels=("fund: application",)):
    labels = {l.lower() for l in issue_labels}
    for action in decision.actions:
        if isinstance(action, AddLabels):
            labels |= {n.lower() for n in action.names}
        if isinstance(action, RemoveLabel):
            labels.discard(action.name.lower())
    return labels


def comment_on(rules, record: Record, body: str, who: dict, *, issue_kw=None, comment_id: int | None = None,
               **snap_kw):
    """`who` comments `body` on the application: a comment newer than any the record has processed, or
    the comment `comment_id` (one seen before, to show it is not carried out twice)."""
    issue = make_issue(comments=2, **(issue_kw or {}))
    comment_id = record.last_comment_id + 1 if comment_id is None else comment_id
    comment = make_comment(comment_id, body, user=who["user"], association=who["association"],
                           at=T0 + dt.timedelta(minutes=30, seconds=comment_id % 1000))
    snap = snapshot(issue, record, comments=(comment,), **snap_kw)
    return run(snap, Trigger(TriggerKind.COMMENT, actor=who["user"], comment=comment), rules)


def with_sections(rules, **sections):
    """The rules a fund's `.github/fund-bot.yml` of these sections makes of the shipped ones."""
    return fund_rules(rules, fund_file(**sections), {})


def stage_rules(rules, **changes_by_stage):
    return with_sections(rules, stages=stages_section(**changes_by_stage))


def funding_rules(rules, **changes):
    return with_sections(rules, funding=funding_section(**changes))


def reply_of(decision) -> str:
    return "\n".join(a.body for a in decision.actions if isinstance(a, PostComment))


def acked(decision) -> bool:
    return any(isinstance(a, React) and a.content == "+1" for a in decision.actions)


def funded(rules, amount: str = "30000"):
    _, record = comment_on(rules, at_stage(rules, "decision"), f"/approve {amount}", REVIEWER)
    return record


def with_report(record: Record, ref: str = "comment:77") -> Record:
    return dataclasses.replace(record, reports=record.reports + (ReportEntry(at=T1, by="applicant", ref=ref),))


DAY = dt.timedelta(days=1)
SWEEP = Trigger(TriggerKind.SWEEP)


def windowed(rules, **vote):
    return stage_rules(rules, community={"vote": {"min_days": 3, "max_days": 7, **vote}})


def votes(up: int = 0, down: int = 0, at=T1 + DAY, prefix: str = "v") -> tuple[Reaction, ...]:
    return tuple(Reaction("+1", User(f"{prefix}up{i}"), at) for i in range(up)) + \
        tuple(Reaction("-1", User(f"{prefix}down{i}"), at) for i in range(down))


def swept(rules, record, now, reactions=None, **snap_kw):
    """A sweep at `now`, with the issue's reactions as GitHub lists them then."""
    issue = make_issue(comments=2)
    return run(snapshot(issue, record, reactions=reactions, **snap_kw), SWEEP, rules, now)


def status_of(decision) -> str:
    [upsert] = [a for a in decision.actions if isinstance(a, UpsertStatusComment)]
    return upsert.body
