"""The rules of votes, voters, leads and approvals (SPEC §14): what a fund may write, and every bad
value refused with the figures, all at once. No I/O."""
from __future__ import annotations

from decimal import Decimal

import pytest
from fund_config import section
from decide_tables import with_sections, stage_rules, funding_rules

from bot.policy.governance_rules import ApprovalRules, VoteClose, VoterKind
from bot.policy.rules import RulesError


def errors_of(make) -> list[str]:
    with pytest.raises(RulesError) as err:
        make()
    return err.value.errors


def test_the_shipped_rules_change_nothing(rules):
    assert rules.stages.voters.who is VoterKind.ANYONE
    assert all(s.vote is None and s.leads is None for s in rules.stages.stages)
    assert rules.funding.approvals == ApprovalRules(grant=1, tranche=1)


def test_a_vote_window_voters_leads_and_approvals_are_read(rules):
    changed = stage_rules(rules, community={"vote": {"min_days": 3, "max_days": 10, "close": "manual"},
                                            "voters": {"who": "team", "team": "fund/voters"}},
                          decision={"leads": {"users": ["lea"], "teams": ["fund/leads"], "after_days": 5}})
    community = changed.stages.stage("community")
    assert (community.vote.min_days, community.vote.max_days, community.vote.close) == (3, 10, VoteClose.MANUAL)
    assert changed.stages.voters_for("community").team == "fund/voters"
    assert changed.stages.voters_for("technical").who is VoterKind.ANYONE
    assert changed.stages.stage("decision").leads.mentions == ("lea", "fund/leads")
    money = funding_rules(rules, approvals={"grant": 2, "above": 20000})
    assert money.funding.approvals.for_grant(Decimal(20000)) == 1
    assert money.funding.approvals.for_grant(Decimal("20000.01")) == 2


@pytest.mark.parametrize("vote, said", [
    ({"max_days": 0}, "0 is less than the minimum of 1"),
    ({"max_days": 10_000}, "10000 is greater than the maximum of 366"),
    ({"min_days": 10_000, "max_days": 14}, "10000 is greater than the maximum of 365"),
    ({"min_days": -1, "max_days": 14}, "-1 is less than the minimum of 0"),
    ({"min_days": 20, "max_days": 14}, "20 days is more than max_days (14)"),
    ({"min_days": 3}, "close: auto needs max_days"),
    ({"max_days": 14, "close": "whenever"}, "'whenever' is not one of ['auto', 'manual']"),
    ({"max_days": 14, "opens": "tomorrow"}, "'tomorrow' is not one of ['on_entry']"),
    ({"min_days": 15, "max_days": 20}, "max_days: 14 days is shorter than vote.min_days (15)"),
], ids=["window of 0 days", "window of 10,000 days", "minimum of 10,000 days", "negative minimum",
        "minimum over maximum", "auto close without an end", "unknown close", "unknown opening",
        "reminded before it may move"])
def test_a_bad_vote_window_is_refused_with_the_figures(rules, vote, said):
    errors = errors_of(lambda: stage_rules(rules, community={"vote": vote}))
    assert any(said in e for e in errors), errors
    assert all(e.startswith(".github/fund-bot.yml: stages") for e in errors), errors


@pytest.mark.parametrize("voters, said", [
    ({"who": "members"}, "who: members needs org"),
    ({"who": "team"}, "who: team needs team"),
    ({"who": "established", "min_contributions": 3}, "who: established needs min_account_days"),
    ({"who": "anyone", "org": "fund"}, "voters.org: not read with who: anyone"),
    ({"who": "team", "team": "fund/voters", "min_account_days": 30}, "min_account_days: not read with who: team"),
    ({"who": "team", "team": "not a team"}, "does not match"),
    ({"who": "everyone"}, "'everyone' is not one of"),
    ({"who": "established", "min_account_days": 0}, "0 is less than the minimum of 1"),
], ids=["members without org", "team without team", "established without age", "stray org", "stray age",
        "malformed team", "unknown kind", "zero age"])
def test_bad_voters_are_refused(rules, voters, said):
    stages = section("stages")
    stages["voters"] = voters
    errors = errors_of(lambda: with_sections(rules, stages=stages))
    assert any(said in e for e in errors), errors


def test_vote_keys_and_leads_are_checked_where_they_are(rules):
    errors = errors_of(lambda: stage_rules(rules, technical={"vote": {"max_days": 5}, "voters": {"who": "anyone"}},
                                           decision={"leads": {"after_days": 3}}))
    assert any("stages[1]: vote and voters need community_vote: true" in e for e in errors), errors
    assert any("stages[4].leads: name users or teams" in e for e in errors), errors


@pytest.mark.parametrize("reviewers, approvals, said", [
    ({"users": ["rita", "ravi"], "author_associations": []}, {"grant": 3}, "approvals.grant: 3 approvals needed, but the decision stage has "
                                                "only 2 reviewers"),
    ({"users": ["rita"], "author_associations": []}, {"tranche": 2}, "approvals.tranche: 2 approvals needed"),
    ({"users": [], "author_associations": ["MEMBER"]}, {"grant": 1, "above": 100}, "above: needs grant of 2 or more"),
    ({"users": [], "author_associations": ["MEMBER"]}, {"grant": 11}, "11 is greater than the maximum of 10"),
    ({"users": [], "author_associations": ["MEMBER"]}, {"grant": 0}, "0 is less than the minimum of 1"),
], ids=["more approvers than reviewers", "more tranche approvers than reviewers", "above without several",
        "eleven approvers", "no approver"])
def test_approvals_that_could_never_be_given_are_refused(rules, reviewers, approvals, said):
    stages = section("stages")
    stages["reviewers"] = reviewers
    funding = section("funding")
    funding["approvals"] = approvals
    errors = errors_of(lambda: with_sections(rules, stages=stages, funding=funding))
    assert any(said in e for e in errors), errors


def test_approvals_with_teams_are_not_counted_in_advance(rules):
    stages = section("stages")
    stages["reviewers"] = {"users": ["rita"], "teams": ["fund/reviewers"], "author_associations": []}
    funding = section("funding")
    funding["approvals"] = {"grant": 3}
    assert with_sections(rules, stages=stages, funding=funding).funding.approvals.grant == 3
