"""Governance (SPEC §14) as tables over `decide`: conflicts of interest, assignment by load, tranches,
rounds, the vote's quorum and the sealed record. No I/O; the end-to-end versions are in
tests/test_governance_e2e.py."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import factories
from factories import T0, application_body, make_comment, make_issue
from fund_config import section
from decide_tables import (
    NOW, GOOD, REVIEWER, APPLICANT, snapshot, run, open_application, T1, at_stage, labels_after, comment_on,
    with_sections, stage_rules, funding_rules, reply_of, acked, funded, with_report,
)

from bot.policy.assign import ReviewerLoad, pick_reviewers
from bot.policy.decide import decide
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.markers import FoundRecord, read_record, record_payload
from bot.policy.models import (
    Assign, PostComment, Reaction, RecordAssignment, RecordGrant, SetAway, UpsertStatusComment, User,
)
from bot.policy.record import Record
from bot.policy.seal import seal, verified


# --- conflicts of interest ---------------------------------------------------------------------


@pytest.mark.parametrize("who, record_changes, issue_kw, why", [
    ("applicant", {}, {}, "the author of this application"),
    ("mia", {}, {"body_kw": {"maintainers": "@mia"}}, "listed as a maintainer"),
    ("tiny-org", {"repo_people": ("tiny-org", "dev0")}, {}, "an owner, member or top contributor"),
    ("dev0", {"repo_people": ("tiny-org", "dev0")}, {}, "an owner, member or top contributor"),
    ("ola", {"affiliated": ("ola",)}, {}, "an owner, member or top contributor"),
], ids=["author", "listed-maintainer", "owner", "top-contributor", "public-member-of-the-org"])
@pytest.mark.parametrize("command", ["/score technical 5", "/advance", "/waive licence reason", "/decline No."])
def test_a_conflicted_reviewer_is_refused_and_the_conflict_is_listed(rules, who, record_changes, issue_kw, why,
                                                                      command):
    from factories import application_body

    record = at_stage(rules, "technical", **record_changes)
    kw = {"body": application_body(**issue_kw["body_kw"])} if "body_kw" in issue_kw else {}
    decision, after = comment_on(rules, record, command, dict(user=who, association="MEMBER"), issue_kw=kw)
    assert not acked(decision) and why in reply_of(decision)
    assert after.stage == "technical" and after.outcome is None and after.scores == record.scores
    if who != "applicant":  # the author's own application is plain; the others are listed
        status = next(a.body for a in decision.actions if isinstance(a, UpsertStatusComment))
        assert "Conflicts of interest" in status and who in status.split("### Conflicts of interest")[1]


def test_recusing_takes_a_reviewers_scores_and_commands_off_the_application(rules):
    record = at_stage(rules, "technical")
    _, scored = comment_on(rules, record, "/score technical 5\n/score impact 4", REVIEWER)
    assert scored.scorers_in("technical") == {"rita"}
    decision, recused = comment_on(rules, scored, "/recuse I advise the project", REVIEWER)
    assert acked(decision) and recused.recused("rita").reason == "I advise the project"
    assert recused.scorers_in("technical") == set()  # the score stays in the record, and no longer counts
    assert any(a.what == "recuse" for a in recused.audit)
    decision, after = comment_on(rules, recused, "/score technical 1", REVIEWER)
    assert "recused from this application (I advise the project)" in reply_of(decision)
    assert after.scores == recused.scores
    decision, _ = comment_on(rules, recused, "/recuse again", REVIEWER)
    assert "already" in reply_of(decision)


def test_a_recused_reviewers_vote_does_not_count(rules):
    record = at_stage(rules, "community", recusals=())
    _, recused = comment_on(rules, record, "/recuse", REVIEWER)
    reactions = tuple(Reaction("+1", User(login)) for login in ("rita", "v1", "v2"))
    issue = make_issue(comments=2)
    decision = decide(Trigger(TriggerKind.SWEEP), snapshot(issue, recused, reactions=reactions), rules, NOW)
    assert decision.record.votes_up == 2


# --- assignment by load --------------------------------------------------------------------------


LOAD = ReviewerLoad(candidates={"technical": ("ana", "ben", "cy", "dee")},
                    open={"ana": 3, "ben": 1, "cy": 1, "dee": 0},
                    last={"ben": T0, "cy": T0 - dt.timedelta(days=3)}, away=frozenset({"dee"}))


@pytest.mark.parametrize("count, excluded, assigned, chosen", [
    (1, (), (), ("cy",)),  # dee is away; ben and cy have one each, cy was assigned longer ago
    (2, (), (), ("cy", "ben")),
    (2, ("cy",), (), ("ben", "ana")),  # a conflicted reviewer is never chosen
    (2, (), ("ben",), ("cy",)),  # one already assigned counts towards the two
    (2, (), ("ben", "ana"), ()),
    (9, (), (), ("cy", "ben", "ana")),  # not more than there are
], ids=["fewest-then-least-recent", "two", "conflicted-skipped", "assigned-counts", "enough", "few"])
def test_pick_reviewers(count, excluded, assigned, chosen):
    assert pick_reviewers(LOAD, "technical", count, excluded=excluded, assigned=assigned) == chosen


def test_pick_reviewers_is_deterministic_on_ties():
    load = ReviewerLoad(candidates={"s": ("zed", "amy", "max")})
    assert pick_reviewers(load, "s", 2) == ("amy", "max")


def test_entering_a_stage_with_assign_assigns_by_load_once(rules):
    assigning = stage_rules(rules, technical={"assign": {"count": 2}})
    load = ReviewerLoad(candidates={"technical": ("ana", "ben", "applicant")}, open={"ana": 2})
    issue = make_issue()
    snap = snapshot(issue, repo_facts=GOOD, load=load)
    decision, record = run(snap, Trigger(TriggerKind.OPENED, actor="applicant"), assigning)
    assert record.stage == "technical"
    # The applicant is a candidate (a collaborator, say) but conflicted on their own application.
    assert Assign(("ben", "ana")) in decision.actions
    assert RecordAssignment(("ben", "ana"), NOW) in decision.actions
    again = decide(Trigger(TriggerKind.SWEEP), snapshot(issue, record, load=load), assigning, NOW)
    assert not any(isinstance(a, Assign) for a in again.actions)  # once per entry into the stage


@pytest.mark.parametrize("body, until", [
    ("/away until 2026-12-24", dt.date(2026, 12, 24)),
    ("/away 2026-12-24", dt.date(2026, 12, 24)),
    ("/back", None),
])
def test_away_and_back_change_the_fund_state(rules, body, until):
    decision, _ = comment_on(rules, at_stage(rules, "technical"), body, REVIEWER)
    assert SetAway("rita", until) in decision.actions and acked(decision)


@pytest.mark.parametrize("body", ["/away", "/away until tomorrow", "/away until 2026-11-01", "/away until 2030-01-01",
                                  "/away until 2026-13-40"])
def test_away_needs_a_day_after_today_within_a_year(rules, body):
    decision, _ = comment_on(rules, at_stage(rules, "technical"), body, REVIEWER)
    assert not any(isinstance(a, SetAway) for a in decision.actions) and "Usage" in reply_of(decision)


def test_a_stranger_cannot_say_a_reviewer_is_away(rules):
    decision, _ = comment_on(rules, at_stage(rules, "technical"), "/away until 2026-12-24",
                             dict(user="stan", association="NONE"))
    assert not any(isinstance(a, SetAway) for a in decision.actions)


# --- tranches ------------------------------------------------------------------------------------


def test_a_grant_in_tranches_releases_the_first_at_approval(rules):
    split = funding_rules(rules, tranches=[40, 60])
    record = funded(split, "30001")
    assert [(t.k, t.n, t.amount, t.ref) for t in record.tranches] == [(1, 2, Decimal("12000.40"), "approve")]


def test_an_accepted_report_releases_the_next_tranche_once(rules):
    split = funding_rules(rules, tranches=[40, 60])
    record = with_report(funded(split, "30001"))
    decision, after = comment_on(split, record, "/accept-report", REVIEWER)
    assert acked(decision) and "part 2 of 2" in reply_of(decision)
    assert [t.amount for t in after.tranches] == [Decimal("12000.40"), Decimal("18000.60")]  # adds up exactly
    assert sum(t.amount for t in after.tranches) == Decimal("30001")
    decision, again = comment_on(split, after, "/accept-report", REVIEWER)  # no report waits
    assert again.tranches == after.tranches and "no progress report waits" in reply_of(decision)
    status = next(a.body for a in decision.actions if isinstance(a, UpsertStatusComment))
    assert "| 2 of 2 | $18,000.60 |" in status and "rita (an accepted report)" in status


def test_a_rejected_report_asks_for_another_and_releases_nothing(rules):
    split = funding_rules(rules, tranches=[50, 50])
    record = with_report(funded(split))
    decision, after = comment_on(split, record, "/reject-report The milestones are not addressed.", REVIEWER)
    assert len(after.tranches) == 1 and after.reports[0].review == "rejected"
    assert "@applicant" in reply_of(decision) and "please send another" in reply_of(decision)
    from bot.policy.reports import report_status

    assert report_status(after, split.reports, T1.date()).received == 0  # still owed


def test_only_reviewers_accept_reports(rules):
    split = funding_rules(rules, tranches=[50, 50])
    record = with_report(funded(split))
    decision, after = comment_on(split, record, "/accept-report", dict(user="applicant", association="NONE"))
    assert len(after.tranches) == 1 and not acked(decision)


# --- rounds ---------------------------------------------------------------------------------------


ROUNDS = [{"name": "autumn", "opens": "2026-09-01", "closes": "2026-10-31", "pool": 100000},
          {"name": "spring", "opens": "2027-03-01", "closes": "2027-04-30", "pool": 50000, "max_per_project": 20000}]


def test_an_application_filed_between_rounds_waits_and_is_told_when_the_next_opens(rules):
    rounds = funding_rules(rules, rounds=ROUNDS)
    decision, record = open_application(rounds)  # filed on 2026-11-02: after autumn, before spring
    assert record.round == "" and record.stage == "screening" and record.eligible
    [told] = [a for a in decision.actions if isinstance(a, PostComment)]
    assert "spring" in told.body and "Mar 1, 2027" in told.body
    again = decide(Trigger(TriggerKind.SWEEP), snapshot(make_issue(), record), rounds, NOW)
    assert not any(isinstance(a, PostComment) for a in again.actions)  # told once
    opened = dt.datetime(2027, 3, 1, 6, tzinfo=dt.timezone.utc)
    joined = decide(Trigger(TriggerKind.SWEEP), snapshot(make_issue(), record), rounds, opened)
    assert joined.record.round == "spring" and joined.record.stage == "technical"
    assert "round: spring" in labels_after(joined)


def test_a_waiting_application_cannot_be_moved_on(rules):
    rounds = funding_rules(rules, rounds=ROUNDS)
    _, record = open_application(rounds)
    decision, after = comment_on(rounds, record, "/stage technical", REVIEWER)
    assert after.stage == "screening" and "waits for the next funding round" in reply_of(decision)


def test_pool_and_cap_are_the_rounds(rules):
    rounds = funding_rules(rules, rounds=ROUNDS)
    record = at_stage(rounds, "decision", round="spring")
    decision, after = comment_on(rounds, record, "/approve 25000", REVIEWER)
    assert after.outcome is None and "cap of $20,000" in reply_of(decision)
    from bot.policy.ledger import FundingLedger

    ledger = FundingLedger(committed=Decimal(40000), grants={})
    decision, after = comment_on(rounds, record, "/approve 15000", REVIEWER, ledger=ledger)
    assert after.outcome is None and "left in round spring: $10,000 of $50,000" in reply_of(decision)
    decision, after = comment_on(rounds, record, "/approve 10000", REVIEWER, ledger=ledger)
    assert after.funded and RecordGrant("spring", 1, Decimal(10000), (Decimal(100),)) in decision.actions


@pytest.mark.parametrize("rounds, problem", [
    ([dict(ROUNDS[0], closes="2026-08-01")], "closes before it opens"),
    ([ROUNDS[0], dict(ROUNDS[1], opens="2026-10-01")], "overlap"),
    ([ROUNDS[0], dict(ROUNDS[1], name="autumn")], "defined twice"),
    ([dict(ROUNDS[1], max_per_project=60000)], "larger than the round's pool"),
])
def test_bad_rounds_are_refused(rules, rounds, problem):
    from bot.policy.rules import RulesError

    with pytest.raises(RulesError) as err:
        funding_rules(rules, rounds=rounds)
    assert any(problem in e for e in err.value.errors)


def test_tranches_must_add_up_to_a_hundred(rules):
    from bot.policy.rules import RulesError

    with pytest.raises(RulesError) as err:
        funding_rules(rules, tranches=[50, 40])
    assert any("add up to 100" in e for e in err.value.errors)


# --- the vote's quorum ----------------------------------------------------------------------------


@pytest.mark.parametrize("up, down, moves, figures", [
    (2, 0, False, "at least 3 voters; 2 so far"),
    (2, 2, False, "needs 60% 👍; it has 50%"),
    (3, 2, True, ""),
    (6, 0, True, ""),
])
def test_advance_out_of_the_community_stage_waits_for_the_quorum(rules, up, down, moves, figures):
    quorum = stage_rules(rules, community={"min_voters": 3, "min_approval": 0.6})
    record = at_stage(quorum, "community")
    reactions = tuple(Reaction("+1", User(f"up{i}")) for i in range(up)) + \
        tuple(Reaction("-1", User(f"down{i}")) for i in range(down))
    decision, after = comment_on(quorum, record, "/advance", REVIEWER, reactions=reactions)
    assert (after.stage == "funding") is moves
    if figures:
        assert figures in reply_of(decision)


def test_quorum_keys_need_a_community_vote(rules):
    from bot.policy.rules import RulesError

    with pytest.raises(RulesError) as err:
        stage_rules(rules, technical={"min_voters": 3})
    assert any("need community_vote" in e for e in err.value.errors)


# --- the sealed record ----------------------------------------------------------------------------


KEY = b"k" * 32


def sealed_status(rules, record: Record, number: int = 1) -> str:
    issue = make_issue(number=number)
    decision = decide(Trigger(TriggerKind.SWEEP), snapshot(issue, record, seal_key=KEY), rules, NOW)
    return next(a.body for a in decision.actions if isinstance(a, UpsertStatusComment))


def test_a_sealed_record_is_trusted_and_an_edited_or_copied_one_is_not(rules):
    _, record = open_application(rules)
    body = sealed_status(rules, record)
    found = read_record(body)
    assert verified(found, KEY, "fund/applications", 1).record == found.record
    assert verified(found, KEY, "fund/applications", 2).problem == "tampered"  # copied to another issue
    assert verified(found, KEY, "other/repo", 1).problem == "tampered"
    edited = dataclasses.replace(found.record, stage="decision")
    forged = body.replace(found.block.payload, record_payload(edited))
    assert verified(read_record(forged), KEY, "fund/applications", 1).problem == "tampered"
    unsigned = body.split(" sig:")[0] + " -->\n"
    assert verified(read_record(unsigned), KEY, "fund/applications", 1).problem == "unsealed"
    assert verified(found, None, "fund/applications", 2).record == found.record  # no key: nothing checked
    assert seal(KEY, "Fund/Applications", 1, "x") == seal(KEY, "fund/applications", 1, "x")


def test_a_record_that_fails_its_seal_is_rebuilt_from_the_comments_and_the_status_says_so(rules):
    _, record = open_application(rules)
    commands = (make_comment(1001, "/score technical 4", user="rita", at=T0 + dt.timedelta(minutes=5)),)
    issue = make_issue(comments=1)
    forged = FoundRecord(None, None, "tampered")
    snap = snapshot(issue, None, comments=commands, repo_facts=GOOD, seal_key=KEY)
    snap = dataclasses.replace(snap, found=forged)
    decision = decide(Trigger(TriggerKind.SWEEP), snap, rules, NOW)
    assert decision.record.stage == "technical" and decision.record.scorers_in("technical") == {"rita"}
    assert "could not be verified" in decision.status and "rebuilt" in decision.status
    assert decision.record.audit[0].what == "rebuilt"


# --- in the application's language (SPEC §15) ----------------------------------------------------------

ZH = {"body": application_body(lang="zh")}  # the Chinese form: the application is answered in Chinese


def zh_at_stage(rules, stage: str) -> Record:
    _, record = open_application(rules, **ZH)
    return record.moved_to(stage, at=T1, by="rita", via="/stage")


def test_a_recusal_in_a_chinese_application_is_answered_and_listed_in_chinese(rules):
    decision, after = comment_on(rules, zh_at_stage(rules, "technical"), "/recuse I advise the project", REVIEWER,
                                 issue_kw=ZH)
    assert after.recused("rita")
    assert reply_of(decision) == "@rita 已记录：您已回避本申请。您在此的评分和投票不再计入，您也不能再对本申请使用评审命令。"
    assert "### 利益冲突" in decision.status and "- @\u2060rita 于 2026年11月2日 回避：I advise the project" in decision.status
    # How each stage was entered, beside who moved it: words too, not the record's identifiers.
    assert "| screening | 2026年11月2日 | @\u2060applicant（提交申请） |" in decision.status
    assert "| technical | 2026年11月2日 | @\u2060fund-bot（资格检查通过） |" in decision.status
    assert "(intake)" not in decision.status and "(eligibility)" not in decision.status


def test_tranches_of_a_chinese_application_are_shown_in_chinese(rules):
    split = funding_rules(rules, tranches=[40, 60])
    _, record = comment_on(split, zh_at_stage(split, "decision"), "/approve 30001", REVIEWER, issue_kw=ZH)
    decision, _ = comment_on(split, with_report(record), "/accept-report", REVIEWER, issue_kw=ZH)
    assert reply_of(decision) == "@rita 报告已通过：资助的第 2 期（共 2 期）US$18,000.60 已批准拨付。"
    assert "| 期次 | 金额 | 拨付日期 | 依据 |" in decision.status
    assert "| 第 1 期，共 2 期 | US$12,000.40 | 2026年11月2日 | @\u2060rita（批准） |" in decision.status
    assert "| 第 2 期，共 2 期 | US$18,000.60 | 2026年11月2日 | @\u2060rita（已通过的报告） |" in decision.status


def test_a_quorum_refusal_in_a_chinese_application_is_in_chinese(rules):
    quorum = stage_rules(rules, community={"min_voters": 3, "min_approval": 0.6})
    reactions = tuple(Reaction("+1", User(f"up{i}")) for i in range(2))
    decision, after = comment_on(quorum, zh_at_stage(quorum, "community"), "/advance", REVIEWER, issue_kw=ZH,
                                 reactions=reactions)
    assert after.stage == "community"
    assert reply_of(decision) == "@rita `/advance`：社区投票至少需要 3 人参与；目前为 2 人（👍 2 · 👎 0）。"


def test_a_stage_label_refused_on_a_chinese_application_names_the_label_in_chinese(rules):
    issue = make_issue(labels=("fund: application", "stage: technical", "stage: community"), comments=1, **ZH)
    snap = snapshot(issue, zh_at_stage(rules, "technical"))
    decision, after = run(snap, Trigger(TriggerKind.LABELED, actor="rita", label="stage: community", delivery="d-1"),
                          rules)
    assert after.stage == "technical"
    reply = reply_of(decision)
    assert reply.startswith("@rita `标签 stage: community`：") and "`label " not in reply


# --- a rebuild is faithful to what was decided then; a grant keeps its tranche plan ----------------------


REPORT = "/report " + "We shipped the plugin API and the ARM test farm, and two releases. " * 3
RAVI = dict(user="ravi", association="MEMBER")
TO_DECISION = [({"rita": REVIEWER, "ravi": RAVI}[user], text) for user, text in factories.TO_DECISION]


def history(*said):
    """The comments of an application's life, a minute apart (`said`: (who, body) pairs)."""
    return tuple(make_comment(2001 + i, body, user=who["user"], association=who["association"],
                              at=T0 + dt.timedelta(minutes=5 + i)) for i, (who, body) in enumerate(said))


def lived(rules, comments, ledger=None):
    """The application as the App ran it, one delivery per comment: the record, the notice keys it posted,
    and the fund's ledger (grants and their plans, as the runner enters them)."""
    from bot.policy.ledger import FundingLedger

    _, record = open_application(rules)
    posted: set[str] = set()
    ledger = ledger or FundingLedger(committed=Decimal(0), grants={})
    for i, comment in enumerate(comments):
        snap = snapshot(make_issue(comments=i + 1), record, comments=comments[:i + 1], ledger=ledger,
                        posted=frozenset(posted))
        decision, record = run(snap, Trigger(TriggerKind.COMMENT, actor=comment.user.login, comment=comment), rules)
        posted |= {a.key for a in decision.actions if isinstance(a, PostComment)}
        for grant in (a for a in decision.actions if isinstance(a, RecordGrant)):
            ledger = FundingLedger(ledger.committed + grant.amount, {**ledger.grants, grant.number: grant.amount},
                                   {**ledger.plans, grant.number: grant.plan})
    return record, frozenset(posted), ledger


def rebuilt(rules, comments, posted, ledger, problem="tampered", trigger=None, **snap_kw):
    """The same application after its record failed its seal, decided again from its comments alone."""
    snap = dataclasses.replace(snapshot(make_issue(comments=len(comments)), None, comments=comments, repo_facts=GOOD,
                                        ledger=ledger, posted=posted, **snap_kw), found=FoundRecord(None, None, problem))
    return decide(trigger or Trigger(TriggerKind.SWEEP), snap, rules, NOW)


def new_replies(decision, posted) -> list[str]:
    return [a.key for a in decision.actions if isinstance(a, PostComment) and a.key not in posted]


@pytest.mark.parametrize("funding_now, sections_now", [
    (dict(tranches=[20, 80]), {}),
    (dict(tranches=[30, 30, 40]), {}),
    (dict(tranches=[100]), {}),
    (dict(tranches=[50, 50], max_per_project=1000), {}),
    (dict(tranches=[50, 50]), {"reports": dict(section("reports"), min_words=500)}),
], ids=["tranches-20-80", "three-tranches", "one-tranche", "cap-lowered", "reports-need-more-words"])
@pytest.mark.parametrize("problem", ["tampered", "unsealed", "unreadable"])
def test_a_rebuild_after_the_rules_changed_keeps_the_grant_its_tranches_and_says_nothing_new(
        rules, funding_now, sections_now, problem):
    then = funding_rules(rules, tranches=[50, 50])
    comments = history(*TO_DECISION, (REVIEWER, "/approve 30000"), (APPLICANT, REPORT), (RAVI, "/accept-report"))
    record, posted, ledger = lived(then, comments)
    assert [t.amount for t in record.tranches] == [Decimal("15000.00"), Decimal("15000.00")]
    funding = dict(section("funding"), **funding_now)
    now = with_sections(rules, funding=funding, **sections_now)
    decision = rebuilt(now, comments, posted, ledger, problem=problem)
    after = decision.record
    assert after.funded and after.outcome.amount == Decimal(30000) and after.outcome.by == "rita"
    assert [(t.k, t.n, t.amount, t.by) for t in after.tranches] == \
        [(t.k, t.n, t.amount, t.by) for t in record.tranches]
    assert after.plan == (Decimal(50), Decimal(50)) and after.reports == record.reports
    assert new_replies(decision, posted) == []  # not a word to a weeks-old command
    assert after.audit[0].what == "rebuilt" and "rebuilt the application's state" in decision.status
    assert "| 2 of 2 | $15,000 |" in decision.status


def test_a_rebuild_does_not_grant_what_was_refused_then_though_todays_rules_would(rules):
    then = funding_rules(rules, max_per_project=40000)
    comments = history(*TO_DECISION, (REVIEWER, "/approve 45000"), (REVIEWER, "/approve 30000"))
    record, posted, ledger = lived(then, comments)
    assert record.outcome.amount == Decimal(30000) and f"reply:{comments[-2].id}" in posted
    decision = rebuilt(funding_rules(rules, max_per_project=50000), comments, posted, ledger)
    assert decision.record.outcome.amount == Decimal(30000) and new_replies(decision, posted) == []


@pytest.mark.parametrize("ledger_says, funded, said", [
    ("the grant", True, False),  # the App entered it: the /approve stands, with that amount
    ("another amount", False, False),  # the App granted no such amount: not replayed as a grant
    ("nothing", False, False),
    ("edited", False, False),  # an edited ledger proves nothing: judged under today's rules, silently (an old comment)
    ("unread", False, False),  # nothing the App wrote proves a grant: judged under today's rules (cap $1,000), silently
], ids=["ledger-holds-it", "ledger-differs", "ledger-empty", "ledger-edited", "no-ledger"])
def test_a_rebuild_takes_the_apps_own_ledger_as_the_word_on_an_approve(rules, ledger_says, funded, said):
    from bot.policy.ledger import FundingLedger

    comments = history(*TO_DECISION, (REVIEWER, "/approve 30000"))
    _, posted, ledger = lived(rules, comments)
    ledger = {"the grant": ledger, "another amount": FundingLedger(Decimal(1), {1: Decimal(1)}),
              "nothing": FundingLedger(Decimal(0), {}), "unread": None,
              "edited": dataclasses.replace(ledger, verified=False)}[ledger_says]
    decision = rebuilt(funding_rules(rules, max_per_project=1000), comments, posted, ledger)
    assert decision.record.funded is funded and bool(new_replies(decision, posted)) is said


def test_a_rebuild_grants_nothing_to_a_caller_who_may_not_approve(rules):
    """A stranger's /approve that went unanswered (its reply lost, or never seen) is no grant — not even
    one naming the amount the ledger holds, ahead of the reviewer's: the grant and its audit are rita's."""
    stranger = dict(user="mallory", association="NONE")
    comments = history(*TO_DECISION, (stranger, "/approve 30000"), (REVIEWER, "/approve 30000"))
    _, posted, ledger = lived(rules, comments)
    posted = frozenset(posted) - {f"reply:{comments[-2].id}"}  # her refusal never reached GitHub
    decision = rebuilt(rules, comments, posted, ledger)
    assert decision.record.funded and decision.record.outcome.by == "rita"
    assert [t.by for t in decision.record.tranches] == ["rita"]
    lone = history(*TO_DECISION, (stranger, "/approve 999999"))
    _, posted, _ = lived(rules, lone)
    assert rebuilt(rules, lone, frozenset(), None).record.outcome is None  # no ledger to ask: refused as ever


def test_what_a_rebuild_refused_is_not_judged_again_by_the_next_run(rules):
    """The rebuild moves the cursor past every comment it replays: an /approve the ledger does not
    hold (its amount edited since) is not granted by the next sweep under today's rules instead."""
    from bot.policy.ledger import FundingLedger

    comments = history(*TO_DECISION, (REVIEWER, "/approve 45000"))
    _, posted, _ = lived(rules, comments)
    ledger = FundingLedger(Decimal(10000), {1: Decimal(10000)})  # the App granted 10,000; the comment says 45,000
    first = rebuilt(rules, comments, posted, ledger)
    assert not first.record.funded and first.record.last_comment_id == comments[-1].id
    snap = snapshot(make_issue(comments=len(comments)), first.record, comments=comments, ledger=ledger,
                    posted=posted)
    again, record = run(snap, Trigger(TriggerKind.SWEEP), rules)
    assert not record.funded and new_replies(again, posted) == []


def test_a_rebuild_keeps_a_grant_whose_comment_also_held_a_refused_command(rules):
    """The App replies once per comment: a refused `/score` beside an accepted `/approve` does not
    make the rebuild drop the grant the ledger holds."""
    comments = history(*TO_DECISION, (REVIEWER, "/approve 30000\n/score nonsense 9"))
    record, posted, ledger = lived(rules, comments)
    assert record.funded and f"reply:{comments[-1].id}" in posted
    decision = rebuilt(rules, comments, posted, ledger)
    assert decision.record.funded and decision.record.outcome.amount == Decimal(30000)
    assert new_replies(decision, posted) == []


def test_a_new_approve_in_the_rebuilding_delivery_is_judged_under_todays_rules(rules):
    comments = history(*TO_DECISION)
    _, posted, ledger = lived(rules, comments)
    fresh = make_comment(3001, "/approve 30000", user="rita", at=T0 + dt.timedelta(hours=1))
    lowered = funding_rules(rules, max_per_project=1000)
    decision = rebuilt(lowered, comments + (fresh,), posted, ledger,
                       trigger=Trigger(TriggerKind.COMMENT, actor="rita", comment=fresh))
    assert not decision.record.funded and new_replies(decision, posted) == ["reply:3001"]
    assert "cap of $1,000" in reply_of(decision)


@pytest.mark.parametrize("tranches_now", [[100], [30, 30, 40], [20, 80]])
def test_a_grants_tranche_plan_is_pinned_at_approval(rules, tranches_now):
    then = funding_rules(rules, tranches=[50, 50])
    record = with_report(funded(then))
    assert record.plan == (Decimal(50), Decimal(50))
    now = funding_rules(rules, tranches=tranches_now)
    status = sealed_status(now, record)
    assert "| 2 of 2 | 50% | when a progress report is accepted" in status and "of 3" not in status
    decision, after = comment_on(now, record, "/accept-report", REVIEWER)
    assert [(t.k, t.n, t.amount) for t in after.tranches] == [(1, 2, Decimal("15000.00")), (2, 2, Decimal("15000.00"))]
    assert "part 2 of 2" in reply_of(decision)


def test_a_record_from_before_plans_were_pinned_follows_the_rules(rules):
    from bot.policy.record_json import from_json, to_json

    then = funding_rules(rules, tranches=[50, 50])
    record = with_report(funded(then))
    data = {k: v for k, v in to_json(record).items() if k != "plan"}
    assert to_json(record)["v"] >= 3 and to_json(record)["plan"] == ["50", "50"]  # version 3 pinned the plan
    old = from_json(dict(data, v=2))  # version 2 had no plan
    assert old.plan == () and dataclasses.replace(old, plan=record.plan) == record
    _, after = comment_on(funding_rules(rules, tranches=[50, 25, 25]), old, "/accept-report", REVIEWER)
    assert [(t.k, t.n, t.amount) for t in after.tranches][-1] == (2, 3, Decimal("7500.00"))


def test_the_ledger_keeps_each_grants_plan(rules):
    from bot.policy.fundstate import FundState, decode, render
    from bot.policy.i18n import translator

    state = FundState().with_change(RecordGrant("2026", 7, Decimal(30000), (Decimal(50), Decimal(50))))
    state = state.with_change(RecordGrant("2026", 8, Decimal(1000)))
    read = decode(render(state, "USD", translator("en")))
    assert read == state and read.plans == {7: (Decimal(50), Decimal(50))}
    assert decode(render(state.with_grant("2026", 7, None), "USD", translator("en"))).plans == {}


@pytest.mark.parametrize("stage", ["community", "decision", "funded"])
def test_a_rebuild_counts_the_votes_again_whatever_the_stage(rules, stage):
    from bot.policy.plan import plan

    moves = {"community": TO_DECISION[:3], "decision": TO_DECISION,
             "funded": TO_DECISION + [(REVIEWER, "/approve 30000")]}[stage]
    comments = history(*moves, (dict(user="rex", association="MEMBER"), "/recuse I advise them"))
    _, posted, ledger = lived(rules, comments)
    reactions = (Reaction("+1", User("v1")), Reaction("+1", User("v2")), Reaction("-1", User("v3")),
                 Reaction("+1", User("rex")), Reaction("+1", User("applicant")))
    issue = dataclasses.replace(make_issue(comments=len(comments)), reactions_up=4, reactions_down=1)
    assert plan(Trigger(TriggerKind.SWEEP), issue, comments, None, rules.read_application(issue.body), rules, NOW).reactions
    decision = rebuilt(rules, comments, posted, ledger, reactions=reactions)
    assert (decision.record.votes_up, decision.record.votes_down) == (2, 1)  # not the applicant, not the recused
    assert "👍 2 · 👎 1" in decision.status


def test_a_grant_and_an_absence_are_one_write_of_the_fund_state_issue_when_it_was_read(rules):
    # Under the fund's lock the pipeline reads the fund-state issue; decide then writes it once, with every
    # change of the run, before the record, sealed, in the fund's language; the changes each make a line.
    from bot.policy.fundstate import FundRead, FundState, decode
    from bot.policy.ledger import FundingLedger
    from bot.policy.models import UpsertIssue
    from bot.policy.seal import fund_state_holds

    rounds = funding_rules(rules, rounds=ROUNDS)
    record = at_stage(rounds, "decision", round="spring")
    before = FundState(grants={"spring": {7: Decimal(5000)}})
    ledger = FundingLedger(committed=Decimal(5000), grants={7: Decimal(5000)})
    key = b"k" * 32
    decision, after = comment_on(rounds, record, "/approve 10000\n/away until 2026-12-01", REVIEWER, ledger=ledger,
                                 fund=FundRead(before, 12), seal_key=key)
    [write] = [a for a in decision.actions if isinstance(a, UpsertIssue)]
    assert decision.actions[0] is write and not any(isinstance(a, (RecordGrant, SetAway)) for a in decision.actions)
    assert write.number == 12 and {type(c) for c in write.changes} == {RecordGrant, SetAway}
    state = decode(write.body, lambda payload, sig: fund_state_holds(key, "fund/applications",
                                                                     payload, sig))
    assert state.verified and state.grants == {"spring": {7: Decimal(5000), 1: Decimal(10000)}}
    assert state.away == {REVIEWER["user"]: dt.date(2026, 12, 1)} and after.funded


def test_the_sweeps_reconciliation_leaves_a_grant_made_while_it_ran(rules):
    # The sweep read application 7's record (not funded yet), then 7 was granted (the ledger first, its record
    # after): reconciling with what the sweep read must not take 7 out of the ledger (the pool would then be
    # granted twice) — unless the ledger already held 7 before the sweep read its record (a crash's leftover).
    from bot.policy.fundstate import FundState
    from bot.policy.ledger import reconcile

    unfunded = Record(stage="decision", round="2026")
    now = FundState(grants={"2026": {7: Decimal(30000)}})
    assert reconcile(now, [(7, unfunded)], rules, held_before={}) is None
    assert reconcile(now, [(7, unfunded)], rules, held_before={"2026": {7: Decimal(30000)}}).grants == {}
    assert reconcile(now, [(7, unfunded)], rules).grants == {}  # without knowing, the record is taken (as before)
