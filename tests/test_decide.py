"""decide: the whole policy as tables over (trigger, snapshot, rules, now) -> actions. No I/O."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from factories import T0, application_body, make_comment, make_issue
from decide_tables import (
    EN, GOOD, REVIEWER, STRANGER, APPLICANT, snapshot, run, writes, open_application, T1, at_stage, labels_after,
    comment_on, reply_of, acked,
)

from decimal import Decimal

from bot.policy.ledger import FundingLedger
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.models import (
    Assign, CloseIssue, Reaction, RemoveLabel, RepoFacts, RepoStatus, UpsertStatusComment, User,
)
from bot.policy.record import CheckResult, Note, Score
from bot.policy.wording import describe


# --- intake ----------------------------------------------------------------------------------


def test_eligible_application_advances_and_is_labelled(rules):
    decision, record = open_application(rules)
    assert record.eligible and record.stage == "technical"
    assert [(e.stage, e.via) for e in record.history] == [("screening", "intake"), ("technical", "eligibility")]
    assert labels_after(decision) == {"fund: application", "stage: technical", "eligibility: passed"}
    assert sum(isinstance(a, UpsertStatusComment) for a in decision.actions) == 1


@pytest.mark.parametrize(
    "facts, failing, figure",
    [
        (dataclasses.replace(GOOD, licence_spdx=None), "licence", "no licence detected"),
        (dataclasses.replace(GOOD, licence_spdx="NOASSERTION", licence_key="other"), "licence", "NOASSERTION"),
        (dataclasses.replace(GOOD, licence_spdx="CC-BY-4.0"), "licence", "not OSI-approved"),
        (dataclasses.replace(GOOD, archived=True), "activity", "archived"),
        (dataclasses.replace(GOOD, commits_in_window=0, last_commit_at=None), "activity", "0 commits in 90 days"),
        (dataclasses.replace(GOOD, people=2, bots=3), "community", "2 contributors (3 bots not counted)"),
        (dataclasses.replace(GOOD, empty=True, commits_in_window=0, people=0), "activity", "empty repository"),
        (RepoFacts(requested="tiny-org/tiny-inference", status=RepoStatus.NOT_FOUND), "repository", "not found"),
    ],
    ids=["no-licence", "noassertion", "not-osi", "archived", "inactive", "too-few-people", "empty", "missing"],
)
def test_ineligible_application_stays_in_screening(rules, facts, failing, figure):
    decision, record = open_application(rules, facts=facts)
    assert not record.eligible and record.stage == "screening"
    failed = {c.id: c for c in record.checks if not c.ok}
    assert failing in failed and figure in describe(failed[failing].figure, EN)
    assert failed[failing].detail  # always says what to do
    assert labels_after(decision) == {"fund: application", "stage: screening", "eligibility: failed"}


def test_deprecated_gpl_id_is_osi_approved(rules):
    _, record = open_application(rules, facts=dataclasses.replace(GOOD, licence_spdx="GPL-3.0"))
    licence = next(c for c in record.checks if c.id == "licence")
    assert licence.ok and describe(licence.figure, EN) == "GPL-3.0-only"


def test_declared_licence_that_differs_is_flagged(rules):
    _, record = open_application(rules, facts=dataclasses.replace(GOOD, licence_spdx="Apache-2.0"))
    licence = next(c for c in record.checks if c.id == "licence")
    warning = describe(licence.warning, EN)
    assert licence.ok and "declares MIT" in warning and "Apache-2.0" in warning


def test_moved_repository_is_checked_and_flagged(rules):
    facts = dataclasses.replace(GOOD, full_name="tiny-org/tiny-inference-2")
    _, record = open_application(rules, facts=facts)
    repository = next(c for c in record.checks if c.id == "repository")
    assert repository.ok and "moved" in describe(repository.warning, EN)
    assert record.repository == "tiny-org/tiny-inference-2"


def test_incomplete_form_is_listed_and_not_eligible(rules):
    body = application_body(repository="gitlab.com/x/y", funding_amount="fifty thousand", milestones=None)
    decision, record = open_application(rules, facts=None, body=body)
    assert not record.eligible and len(record.form_problems) == 3
    status = next(a for a in decision.actions if isinstance(a, UpsertStatusComment)).body
    assert "Repository" in status and "Funding amount" in status and "milestones" in status.lower()


def test_repeating_a_delivery_changes_nothing(rules):
    decision, record = open_application(rules)
    status = next(a for a in decision.actions if isinstance(a, UpsertStatusComment))
    issue = make_issue(labels=tuple(labels_after(decision)), comments=1)
    snap = snapshot(issue, record, status_comment=make_comment(900, status.body, user="fund-bot[bot]", bot=True),
                    repo_facts=GOOD)
    for kind in (TriggerKind.EDITED, TriggerKind.OPENED, TriggerKind.SWEEP):  # a redelivered `opened` too
        again, _ = run(snap, Trigger(kind, actor="applicant"), rules)  # body unchanged: no re-check
        assert writes(again, snap) == []


def test_editing_the_body_rechecks(rules):
    _, record = open_application(rules, facts=dataclasses.replace(GOOD, licence_spdx=None))
    issue = make_issue(body=application_body(license="MIT (added a LICENSE file)"), comments=1)
    decision, after = run(snapshot(issue, record, repo_facts=GOOD),
                          Trigger(TriggerKind.EDITED, actor="applicant"), rules)
    assert after.eligible and after.stage == "technical"


# --- commands: who may do what, where ----------------------------------------------------------------



@pytest.mark.parametrize(
    "stage, body, who, outcome, check",
    [
        ("technical", "/advance", REVIEWER, "refused", "needs scores from 2 reviewers"),
        ("community", "/advance", REVIEWER, "accepted", lambda r: r.stage == "funding"),
        ("community", "/advance", STRANGER, "refused", "is for reviewers"),
        ("community", "/advance", APPLICANT, "refused", "is for reviewers"),
        ("decision", "/advance", REVIEWER, "refused", "no stage after decision"),
        ("technical", "/stage community", REVIEWER, "refused", "needs scores"),
        ("technical", "/stage screening", REVIEWER, "accepted", lambda r: r.stage == "screening"),
        ("technical", "/stage decision", REVIEWER, "refused", "may move to: community or screening"),
        ("technical", "/stage nowhere", REVIEWER, "usage", "Usage: `/stage <name>`"),
        ("technical", "/score technical 4", REVIEWER, "accepted", lambda r: r.scores[0].value == 4),
        ("technical", "/score technical 6", REVIEWER, "usage", "Usage: `/score <criterion> <1-5>`"),
        ("technical", "/score looks 3", REVIEWER, "usage", "name a criterion"),
        ("technical", "/score technical 4", STRANGER, "refused", "is for reviewers"),
        ("technical", "/needs-info Which licence applies to the models?", REVIEWER, "accepted",
         lambda r: r.needs_info and r.needs_info.by == "rita"),
        ("technical", "/needs-info", REVIEWER, "usage", "Usage: `/needs-info <question>`"),
        ("decision", "/approve 30000", REVIEWER, "accepted",
         lambda r: r.outcome.name == "funded" and r.outcome.amount == Decimal("30000")),
        ("decision", "/approve $30,000.50", REVIEWER, "accepted", lambda r: r.outcome.amount == Decimal("30000.50")),
        ("funding", "/approve 30000", REVIEWER, "refused", "only possible in the decision stage"),
        ("decision", "/approve lots", REVIEWER, "usage", "Usage: `/approve <amount>`"),
        ("decision", "/approve 0", REVIEWER, "usage", "Usage: `/approve <amount>`"),
        ("decision", "/approve 60000", REVIEWER, "refused", "over the per-project cap of $50,000"),
        ("decision", "/approve 30000", APPLICANT, "refused", "is for reviewers"),
        ("community", "/decline Out of scope for this round.", REVIEWER, "accepted",
         lambda r: r.outcome.name == "declined" and r.outcome.reason == "Out of scope for this round."),
        ("community", "/decline", REVIEWER, "usage", "Usage: `/decline <reason>`"),
        ("community", "/withdraw", APPLICANT, "accepted", lambda r: r.outcome.name == "withdrawn"),
        ("community", "/withdraw", REVIEWER, "refused", "is for applicants"),
        ("technical", "/recheck", APPLICANT, "accepted", lambda r: r.checks),
        ("technical", "/recheck", STRANGER, "refused", "applicants or reviewers"),
        ("technical", "/report Lots done", APPLICANT, "refused", "is for funded maintainers"),
        ("technical", "/frobnicate", STRANGER, "unknown", "not a command I know"),
        ("technical", "/help", STRANGER, "reply", "`/help`"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_command_role_stage_table(rules, stage, body, who, outcome, check):
    record = at_stage(rules, stage)
    decision, after = comment_on(rules, record, body, who)
    reply = reply_of(decision)
    if outcome == "accepted":
        assert acked(decision), reply
        assert check(after), after
        assert after.last_comment_id == record.last_comment_id + 1  # the comment `comment_on` made
    else:
        assert not acked(decision) or outcome == "reply"
        assert check in reply, reply
        assert reply.startswith(f"@{who['user']}")
        # Refused or not, the record says the comment was processed (so it is never run twice).
        assert after.last_comment_id == record.last_comment_id + 1  # the comment `comment_on` made
        assert after.stage == record.stage and after.outcome == record.outcome


def test_a_command_is_carried_out_once(rules):
    record = at_stage(rules, "community")
    decision, after = comment_on(rules, record, "/advance", REVIEWER)
    assert after.stage == "funding"
    # The same comment seen again (a redelivery, or the sweep) does nothing.
    again, final = comment_on(rules, after, "/advance", REVIEWER, comment_id=after.last_comment_id)
    assert final.stage == "funding" and not acked(again) and reply_of(again) == ""


def test_min_scores_counts_distinct_reviewers_in_the_stage(rules):
    scores = (Score("rita", "technical", 4, "technical", T1), Score("rita", "impact", 5, "technical", T1))
    record = at_stage(rules, "technical", scores=scores)
    decision, _ = comment_on(rules, record, "/advance", REVIEWER)
    assert "1 more needed" in reply_of(decision)
    scores += (Score("ravi", "technical", 3, "technical", T1),)
    decision, after = comment_on(rules, at_stage(rules, "technical", scores=scores), "/advance", REVIEWER)
    assert after.stage == "community"


def test_a_later_score_replaces_the_reviewers_earlier_one(rules):
    record = at_stage(rules, "technical")
    _, record = comment_on(rules, record, "/score impact 2", REVIEWER)
    issue = make_issue(comments=3)
    comment = make_comment(1001, "/score impact 5\n/score technical 4", user="rita", at=T0 + dt.timedelta(hours=1))
    _, record = run(snapshot(issue, record, comments=(comment,)),
                    Trigger(TriggerKind.COMMENT, actor="rita", comment=comment), rules)
    assert sorted((s.criterion, s.value) for s in record.scores) == [("impact", 5), ("technical", 4)]


def test_approve_beyond_what_is_left_in_the_pool_is_refused_with_the_figures(rules):
    pool = rules.funding.pool(rules.funding.rounds[0].name)
    ledger = FundingLedger(committed=pool - 10_000, grants={7: pool - 10_000})
    decision, after = comment_on(rules, at_stage(rules, "decision"), "/approve 20000", REVIEWER, ledger=ledger)
    reply = reply_of(decision)
    assert after.outcome is None
    assert "$10,000 of $500,000" in reply and "$490,000 already granted" in reply


def test_decline_closes_and_funded_stays_open(rules):
    decision, _ = comment_on(rules, at_stage(rules, "funding"), "/decline Not open source enough.", REVIEWER)
    assert CloseIssue("not_planned") in decision.actions
    labels = ("fund: application", "stage: decision", "eligibility: passed")
    decision, after = comment_on(rules, at_stage(rules, "decision"), "/approve 10000", REVIEWER,
                                 issue_kw={"labels": labels})
    assert not any(isinstance(a, CloseIssue) for a in decision.actions)
    assert labels_after(decision, labels) == {
        "fund: application", "status: funded", "eligibility: passed"}


def test_waiving_a_failed_check_makes_the_application_eligible(rules):
    _, record = open_application(rules, facts=dataclasses.replace(GOOD, people=2))
    assert record.stage == "screening"
    decision, after = comment_on(rules, record, "/waive community A young project with a growing community.",
                                 REVIEWER)
    assert after.eligible and after.stage == "technical"
    assert after.waivers[0].by == "rita"
    status = next(a for a in decision.actions if isinstance(a, UpsertStatusComment)).body
    assert "waived by @\u2060rita" in status and "growing community" in status
    refused, _ = comment_on(rules, record, "/waive licence because", REVIEWER)
    assert "has not failed" in reply_of(refused)


def test_needs_info_is_cleared_by_the_applicants_comment(rules):
    record = at_stage(rules, "technical")
    decision, record = comment_on(rules, record, "/needs-info Who maintains the ARM port?", REVIEWER)
    assert "needs: info" in labels_after(decision)
    assert reply_of(decision).count("@applicant") == 1 and "@alice-dev" in reply_of(decision)
    issue = make_issue(comments=3, labels=("fund: application", "stage: technical", "needs: info"))
    answer = make_comment(1001, "Alice does, since 2024.", user="applicant", association="NONE",
                          at=T0 + dt.timedelta(hours=2))
    decision, after = run(snapshot(issue, record, comments=(answer,)),
                          Trigger(TriggerKind.COMMENT, actor="applicant", comment=answer), rules)
    assert after.needs_info is None and RemoveLabel("needs: info") in decision.actions


def test_assign_checks_who_can_be_assigned(rules):
    record = at_stage(rules, "technical")
    decision, _ = comment_on(rules, record, "/assign @ravi", REVIEWER, assignable={"ravi": True})
    assert Assign(("ravi",)) in decision.actions
    decision, _ = comment_on(rules, record, "/assign @nobody", REVIEWER, assignable={"nobody": False})
    assert "cannot be assigned" in reply_of(decision)


def test_the_applicant_cannot_review_their_own_application(rules):
    record = at_stage(rules, "community")
    owner = dict(user="applicant", association="OWNER")
    decision, after = comment_on(rules, record, "/advance", owner)
    assert "not of this application: you are the author" in reply_of(decision) and after.stage == "community"


def test_bots_and_the_bot_itself_are_never_answered(rules):
    record = at_stage(rules, "community")
    issue = make_issue(comments=2)
    comment = make_comment(1000, "/advance", user="dependabot[bot]", bot=True)
    decision, after = run(snapshot(issue, record, comments=(comment,)),
                          Trigger(TriggerKind.COMMENT, actor="dependabot[bot]", comment=comment), rules)
    assert after.stage == "community" and not acked(decision) and reply_of(decision) == ""


def label_by_hand(rules, record, label="stage: community", who="rita"):
    issue = make_issue(labels=("fund: application", "stage: technical", label, "eligibility: passed"), comments=1)
    return run(snapshot(issue, record), Trigger(TriggerKind.LABELED, actor=who, label=label, delivery="d-1"), rules)


def test_a_stage_label_put_on_by_hand_moves_the_stage(rules):
    scores = (Score("rita", "technical", 4, "technical", T1), Score("ravi", "technical", 3, "technical", T1))
    decision, after = label_by_hand(rules, at_stage(rules, "technical", scores=scores))
    assert after.stage == "community" and after.history[-1].via == "label"
    assert RemoveLabel("stage: technical") in decision.actions


@pytest.mark.parametrize(
    "record_changes, who, why",
    [({}, "rita", "needs scores from 2 reviewers"),
     ({"stage": "screening", "checks": (CheckResult("licence", False, Note("licence.none")),)}, "rita",
      "has not passed screening"),
     ({"outcome": None}, "applicant", "you are the author of this application")],
    ids=["skips-scores", "skips-eligibility", "by-the-applicant"],
)
def test_a_stage_label_that_skips_the_rules_is_undone_with_a_reply(rules, record_changes, who, why):
    record = at_stage(rules, "technical")
    record = dataclasses.replace(record, **record_changes)
    decision, after = label_by_hand(rules, record, who=who)
    assert after.stage == record.stage
    assert RemoveLabel("stage: community") in decision.actions
    assert why in reply_of(decision) and reply_of(decision).startswith(f"@{who}")


def test_community_votes_exclude_bots_the_author_and_the_repositorys_own_maintainers(rules):
    # alice-dev is listed as a maintainer and really is one of the repository's people: not a voter.
    record = at_stage(rules, "community", repo_people=("tiny-org", "alice-dev"))
    reactions = tuple(Reaction(c, User(u, t)) for c, u, t in [
        ("+1", "ann", "User"), ("+1", "ben", "User"), ("-1", "cat", "User"), ("+1", "applicant", "User"),
        ("+1", "alice-dev", "User"), ("+1", "ci[bot]", "Bot"), ("heart", "dan", "User"), ("+1", "ann", "User")])
    _, after = run(snapshot(make_issue(comments=1), record, reactions=reactions), Trigger(TriggerKind.SWEEP), rules)
    assert (after.votes_up, after.votes_down) == (2, 1)


def test_listing_strangers_as_maintainers_does_not_discard_their_votes(rules):
    body = application_body(maintainers="@alice-dev, @cat")  # cat is no maintainer of the repository
    record = at_stage(rules, "community", repo_people=("tiny-org", "alice-dev"))
    reactions = (Reaction("-1", User("cat")), Reaction("+1", User("ann")))
    _, after = run(snapshot(make_issue(body=body, comments=1), record, reactions=reactions),
                   Trigger(TriggerKind.SWEEP), rules)
    assert (after.votes_up, after.votes_down) == (1, 1)
