"""Reviewers kept moving, as tables over `decide` and `waiting` (SPEC §7, §14): what each application
waits on and since when, the next reminder, the escalation from the assignees to the stage's leads, and
reassignment (`/assign`, `/away`) carrying scores and pending approvals. No I/O; the escalation end to
end is in tests/test_waiting_e2e.py."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from factories import make_issue
from decide_tables import (
    snapshot, run, T1, at_stage, comment_on, stage_rules, funding_rules, reply_of, DAY, windowed, swept,
)

from bot.policy.markers import NoticeKey
from bot.policy.models import PostComment
from bot.policy.record import NeedsInfo, ReportEntry
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.waiting import WaitingOn, waiting

RITA, RAVI, RUTH = (dict(user=u, association="MEMBER") for u in ("rita", "ravi", "ruth"))
LEADS = {"decision": {"leads": {"users": ["lea"], "teams": ["fund/leads"], "after_days": 7}}}


def waits(rules, record, now, assignees=(), away=()):
    issue = make_issue(assignees=assignees)
    return waiting(record, issue, rules.read_application(issue.body), rules, now, away)


@pytest.mark.parametrize("stage, changes, assignees, away, on, people", [
    ("technical", {"needs_info": NeedsInfo("rita", T1, "Which boards?")}, (), (), WaitingOn.APPLICANT, ("applicant", "alice-dev")),
    ("technical", {}, ("ravi", "ruth"), (), WaitingOn.REVIEWERS, ("ravi", "ruth")),
    ("technical", {}, ("ravi", "ruth"), ("ravi",), WaitingOn.REVIEWERS, ("ruth",)),
    ("decision", {}, ("ravi",), ("ravi",), WaitingOn.REVIEWERS, ("rita",)),  # all away: who acted on it
    ("decision", {}, (), (), WaitingOn.REVIEWERS, ("rita",)),
], ids=["a question", "assignees", "one away", "all away", "no one assigned"])
def test_what_an_application_waits_on(rules, stage, changes, assignees, away, on, people):
    record = at_stage(rules, stage, **changes)
    found = waits(rules, record, T1 + DAY, assignees, away)
    assert (found.on, found.people) == (on, people)


def test_the_next_reminder_then_the_escalation_then_none(rules):
    ruled = stage_rules(rules, **LEADS)
    record = at_stage(ruled, "decision")
    assert waits(ruled, record, T1 + DAY, ("ravi",)).next_reminder == dt.date(2026, 11, 17)  # 14 days, then one more
    reminded = record.with_notice(NoticeKey.stalled("decision", "2026-11-02"))
    found = waits(ruled, reminded, T1 + 16 * DAY, ("ravi",))
    assert found.next_reminder == dt.date(2026, 11, 24) and not found.escalated
    escalated = reminded.with_notice(NoticeKey.escalated("decision", "2026-11-02"))
    found = waits(ruled, escalated, T1 + 23 * DAY, ("ravi",))
    assert found.next_reminder is None and found.escalated and found.people == ("ravi", "lea", "fund/leads")


def test_an_open_vote_a_pending_approval_and_reports_are_waited_on(rules):
    ruled = windowed(rules)
    voting = at_stage(ruled, "community")
    _, voting = swept(ruled, voting, T1 + DAY)
    found = waits(ruled, voting, T1 + DAY)
    assert (found.on, found.since, found.next_reminder) == (WaitingOn.VOTE, T1, dt.date(2026, 11, 9))

    two = funding_rules(rules, approvals={"grant": 2}, tranches=[50, 50])
    _, pending = comment_on(two, at_stage(two, "decision"), "/approve 10000", RITA)
    found = waits(two, pending, T1 + DAY, ("rita", "ravi"))
    assert (found.on, found.people) == (WaitingOn.APPROVERS, ("ravi",))

    _, funded = comment_on(two, pending, "/approve 10000", RAVI)
    found = waits(two, funded, T1 + DAY)
    assert found.on is WaitingOn.MAINTAINERS and found.next_reminder == dt.date(2027, 1, 17)  # 90 days, 14 before
    reported = dataclasses.replace(funded, reports=(ReportEntry(T1 + 80 * DAY, "applicant", "comment:9"),))
    assert waits(two, reported, T1 + 81 * DAY, ("rita",)).on is WaitingOn.REPORT_REVIEW


def test_a_declined_application_waits_on_no_one(rules):
    _, declined = comment_on(rules, at_stage(rules, "decision"), "/decline Out of scope.", RITA)
    assert waits(rules, declined, T1 + DAY) is None


def sweep_at(rules, record, now, assignees=(), away=frozenset()):
    issue = make_issue(comments=2, assignees=assignees)
    return run(snapshot(issue, record, away=away), Trigger(TriggerKind.SWEEP), rules, now)


def notices(decision) -> dict[str, str]:
    return {a.key: a.body for a in decision.actions if isinstance(a, PostComment)}


def test_a_stalled_stage_reminds_its_assignees_then_escalates_to_its_leads_once(rules):
    ruled = stage_rules(rules, **LEADS)
    record = at_stage(ruled, "decision")
    decision, record = sweep_at(ruled, record, T1 + 15 * DAY, ("ravi", "ruth"), frozenset({"ruth"}))
    [(key, text)] = notices(decision).items()
    assert key == "stalled:decision:2026-11-02" and "@ravi" in text and "ruth" not in text  # ruth is away
    decision, record = sweep_at(ruled, record, T1 + 21 * DAY, ("ravi", "ruth"))
    assert notices(decision) == {}  # the second interval has not run out
    decision, record = sweep_at(ruled, record, T1 + 22 * DAY, ("ravi", "ruth"))
    [(key, text)] = notices(decision).items()
    assert key == "escalated:decision:2026-11-02"
    assert "@lea @fund/leads" in text and "reminded on Nov 17, 2026" in text
    decision, _ = sweep_at(ruled, record, T1 + 40 * DAY, ("ravi", "ruth"))
    assert notices(decision) == {}  # never twice


def test_a_stage_without_leads_is_reminded_once_and_never_escalated(rules):
    record = at_stage(rules, "decision")
    decision, record = sweep_at(rules, record, T1 + 15 * DAY, ("ravi",))
    assert list(notices(decision)) == ["stalled:decision:2026-11-02"]
    decision, _ = sweep_at(rules, record, T1 + 60 * DAY, ("ravi",))
    assert notices(decision) == {}


def test_reassignment_carries_scores_and_pending_approvals(rules):
    two = funding_rules(rules, approvals={"grant": 2})
    record = at_stage(two, "decision")
    _, record = comment_on(two, record, "/score funding 4", RAVI)
    _, record = comment_on(two, record, "/approve 12000", RAVI)
    _, record = comment_on(two, record, "/away until 2026-12-31", RAVI)
    decision, record = comment_on(two, record, "/assign @ruth", RITA, assignable={"ruth": True})
    assert record.scorers_in("decision") == {"ravi"}  # ravi's score stays counted
    found = waits(two, record, T1 + DAY, ("ravi", "ruth"), away=("ravi",))
    assert (found.on, found.people) == (WaitingOn.APPROVERS, ("ruth",))  # ravi approved, and is away
    decision, record = comment_on(two, record, "/approve 12000", RUTH)
    assert record.funded and record.outcome.amount == Decimal(12000)
    assert {a.by for a in record.approvals} == {"ravi", "ruth"}
    assert "Approved by" in reply_of(decision)
