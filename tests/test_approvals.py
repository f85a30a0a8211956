"""Several approvers for money as tables over `decide` (SPEC §14, `approvals:` in funding.yml): a grant (or
a later part of it) takes effect only when enough distinct reviewers agree; every approval is kept, and
every bad one refused with the figures, nothing released. No I/O; end to end (a two-approver grant with a
redelivered `/approve`) in tests/test_approvals_e2e.py."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from fund_config import section
from decide_tables import (
    REVIEWER, T1, at_stage, comment_on, with_sections, funding_rules, reply_of, acked, with_report,
)

from bot.policy.approvals import pending, released_with_approvers
from bot.policy.ledger import FundingLedger
from bot.policy.markers import read_record
from bot.policy.models import CloseIssue, RecordGrant, UpsertStatusComment
from bot.policy.record import Recusal

RITA, RAVI, RUTH = REVIEWER, dict(user="ravi", association="MEMBER"), dict(user="ruth", association="MEMBER")


def two_approvers(rules, **approvals):
    return funding_rules(rules, approvals={"grant": 2, **approvals})


def said(decision) -> str:
    """The reply and the status comment, as read (mentions the bot keeps inert shown plain)."""
    status = next(a.body for a in decision.actions if isinstance(a, UpsertStatusComment))
    return plain(reply_of(decision) + "\n" + status)


def plain(text: str) -> str:
    return text.replace("@\u2060", "@")


def approved(rules, *steps, record=None, **snap_kw):
    """Each (who, command) in turn on the application in its decision stage; the last decision and record."""
    record = record or at_stage(rules, "decision")
    decision = None
    for who, body in steps:
        decision, record = comment_on(rules, record, body, who, **snap_kw)
    return decision, record


def test_a_grant_waits_for_its_second_approver_and_says_who_is_still_needed(rules):
    ruled = two_approvers(rules)
    decision, record = approved(ruled, (RITA, "/approve 10000"))
    assert not record.funded and acked(decision)
    assert not any(isinstance(a, RecordGrant) for a in decision.actions)
    text = said(decision)
    assert "Approval recorded: 1 of 2 for $10,000. Still needed: 1 more reviewer's `/approve 10000`." in text
    assert "1 of 2 approvals for $10,000: @rita (Nov 2, 2026)." in text
    decision, record = approved(ruled, (RAVI, "/approve $10,000"), record=record)
    assert record.funded and record.outcome.amount == Decimal(10000) and record.outcome.by == "ravi"
    assert [a for a in decision.actions if isinstance(a, RecordGrant)] == [RecordGrant("2026", 1, Decimal(10000), (Decimal(100),))]
    assert "Approved by" in reply_of(decision) and "the grant of $10,000 is made" in reply_of(decision)
    assert [(a.by, a.amount) for a in record.approvals] == [("rita", Decimal(10000)), ("ravi", Decimal(10000))]
    assert [e.what for e in record.audit[-4:]] == ["approve", "approve", "outcome", "tranche"]
    assert released_with_approvers(record, ruled) == []
    kept = read_record(next(a.body for a in decision.actions if isinstance(a, UpsertStatusComment))).record
    assert kept.approvals == record.approvals


@pytest.mark.parametrize("steps, refusal", [
    ([(RITA, "/approve 10000"), (RAVI, "/approve 12000")],
     "`/approve $12,000`: @rita approved $10,000. Approvals must be for the same amount"),
    ([(RITA, "/approve 10000"), (RITA, "/approve 10,000")],
     "`/approve $10,000`: you approved it on Nov 2, 2026 already; 1 of 2 approvals so far"),
    ([(RITA, "/approve 60000")], "is over the per-project cap of $50,000"),
    ([(RITA, "/approve nothing")], "give the amount granted as a positive number"),
], ids=["different amounts", "twice by the same person", "over the cap", "not an amount"])
def test_bad_approvals_are_refused_with_the_figures_and_release_nothing(rules, steps, refusal):
    ruled = two_approvers(rules)
    decision, record = approved(ruled, *steps)
    assert refusal in plain(reply_of(decision))
    assert not record.funded and not record.tranches
    assert not any(isinstance(a, (RecordGrant, CloseIssue)) for a in decision.actions)


def test_ones_own_approval_of_another_amount_replaces_ones_own(rules):
    ruled = two_approvers(rules)
    _, record = approved(ruled, (RITA, "/approve 10000"), (RITA, "/approve 12000"))
    assert [(a.by, a.amount) for a in pending(record, "grant")] == [("rita", Decimal(12000))]
    _, record = approved(ruled, (RAVI, "/approve 12000"), record=record)
    assert record.funded and record.outcome.amount == Decimal(12000)


def test_the_pool_is_checked_when_the_grant_takes_effect(rules):
    ruled = two_approvers(rules)
    _, record = approved(ruled, (RITA, "/approve 30000"), ledger=FundingLedger(Decimal(400000), {}))
    # Meanwhile other grants took most of the pool: the second approval would overspend it.
    decision, record = approved(ruled, (RAVI, "/approve 30000"), record=record,
                                ledger=FundingLedger(Decimal(480000), {9: Decimal(80000)}))
    assert "is more than is left in round 2026: $20,000 of $500,000" in reply_of(decision)
    assert not record.funded and len(pending(record, "grant")) == 1


def test_a_recused_approver_stops_counting(rules):
    ruled = two_approvers(rules)
    _, record = approved(ruled, (RITA, "/approve 10000"))
    record = dataclasses.replace(record, recusals=(Recusal("rita", "", T1),))
    _, record = approved(ruled, (RAVI, "/approve 10000"), record=record)
    assert not record.funded and [a.by for a in pending(record, "grant")] == ["ravi"]


def test_approvals_start_afresh_when_the_application_leaves_the_deciding_stage(rules):
    ruled = two_approvers(rules)
    _, record = approved(ruled, (RITA, "/approve 10000"), (RAVI, "/stage funding"))
    assert record.stage == "funding" and pending(record, "grant") == ()
    record = record.moved_to("decision", at=T1.replace(hour=12), by="rita", via="/stage")
    _, record = approved(ruled, (RAVI, "/approve 10000"), record=record)
    assert not record.funded and [a.by for a in pending(record, "grant")] == ["ravi"]


@pytest.mark.parametrize("amount, funded_at_once", [("20000", True), ("20000.01", False)])
def test_only_grants_above_the_amount_need_several_approvers(rules, amount, funded_at_once):
    ruled = two_approvers(rules, above=20000)
    _, record = approved(ruled, (RITA, f"/approve {amount}"))
    assert record.funded is funded_at_once


def test_three_approvers_must_agree(rules):
    ruled = funding_rules(rules, approvals={"grant": 3})
    decision, record = approved(ruled, (RITA, "/approve 5000"), (RAVI, "/approve 5000"))
    assert "Still needed: 1 more reviewer's `/approve 5000`" in reply_of(decision)
    decision, record = approved(ruled, (RUTH, "/approve 4000"), record=record)
    assert "@rita and @ravi approved $5,000" in plain(reply_of(decision)) and not record.funded
    _, record = approved(ruled, (RUTH, "/approve 5000"), record=record)
    assert record.funded and {a.by for a in pending(record, "grant")} == {"rita", "ravi", "ruth"}


def test_the_status_names_who_may_still_approve_when_the_rules_name_the_reviewers(rules):
    stages = section("stages")
    stages["reviewers"] = {"users": ["rita", "ravi", "ruth"], "author_associations": []}
    funding = section("funding")
    funding["approvals"] = {"grant": 2}
    ruled = with_sections(rules, stages=stages, funding=funding)
    decision, _ = approved(ruled, (RITA, "/approve 10000"))
    status = said(decision)
    assert "### Approvals" in status and "1 of 2 approvals for $10,000" in status
    assert "Any of @ravi or @ruth." in status


# --- tranches ------------------------------------------------------------------------------------------


def test_a_tranche_needs_its_acceptances(rules):
    ruled = funding_rules(rules, tranches=[50, 50], approvals={"tranche": 2})
    _, record = approved(ruled, (RITA, "/approve 10000"))
    assert record.funded and len(record.tranches) == 1  # one approver for the grant itself
    record = with_report(record)
    decision, record = comment_on(ruled, record, "/accept-report", RITA)
    assert "Acceptance recorded: 1 of 2. Still needed: 1 more reviewer's `/accept-report`." in reply_of(decision)
    assert len(record.tranches) == 1
    decision, record = comment_on(ruled, record, "/accept-report", RITA)
    assert "you accepted this report already; 1 of 2 acceptances" in reply_of(decision) and len(record.tranches) == 1
    decision, record = comment_on(ruled, record, "/accept-report", RAVI)
    assert [t.k for t in record.tranches] == [1, 2] and record.reports[-1].review == "accepted"
    assert released_with_approvers(record, ruled) == []


def test_a_rejected_report_drops_its_acceptances(rules):
    ruled = funding_rules(rules, tranches=[50, 50], approvals={"tranche": 2})
    _, record = approved(ruled, (RITA, "/approve 10000"))
    record = with_report(record)
    _, record = comment_on(ruled, record, "/accept-report", RITA)
    _, record = comment_on(ruled, record, "/reject-report Not enough detail.", RAVI)
    assert record.reports[-1].review == "rejected" and len(record.tranches) == 1


def test_released_money_without_its_approvers_is_caught(rules):
    ruled = two_approvers(rules)
    _, record = approved(ruled, (RITA, "/approve 10000"), (RAVI, "/approve 10000"))
    stripped = dataclasses.replace(record, approvals=record.approvals[1:])
    assert released_with_approvers(stripped, ruled) == ["part 1 of 1 released with 1 of 2 approvers"]
