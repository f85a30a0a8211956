"""Community votes as tables over `decide` (SPEC §14): a vote's window (opened on entry, closed by time, by
`/close-vote` or by leaving the stage, frozen at its close), who counts, and the tally of what was not
counted and why. No I/O; the end-to-end version (a vote closed by the sandbox's clock) is in
tests/test_votes_e2e.py."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from factories import make_issue
from fund_config import section
from decide_tables import (
    REVIEWER, STRANGER, snapshot, run, T1, at_stage, with_sections, stage_rules, reply_of, acked, DAY,
    windowed, votes, swept, status_of,
)

from bot.policy.markers import read_record
from bot.policy.models import Reaction, User
from bot.policy.record import Recusal
from bot.policy.triggers import Trigger, TriggerKind
from bot.policy.votes import MAX_VOTER_LOOKUPS, VoterFacts, to_look_up

# --- the window ----------------------------------------------------------------------------------------


def test_a_vote_opens_on_entry_with_its_dates_pinned_and_the_status_says_when_it_closes(rules):
    ruled = windowed(rules)
    decision, record = swept(ruled, at_stage(ruled, "community"), T1 + DAY, votes(3, 1))
    assert (record.vote.opened, record.vote.earliest, record.vote.closes) == (T1, T1 + 3 * DAY, T1 + 7 * DAY)
    assert record.vote.is_open and (record.votes_up, record.votes_down) == (3, 1)
    status = status_of(decision)
    assert "👍 3 · 👎 1" in status and "The vote closes on Nov 9, 2026 (UTC)." in status
    assert "may move on from Nov 5, 2026" in status
    # A later change of the rules does not move a vote people already see.
    later = windowed(rules, max_days=30)
    _, again = swept(later, record, T1 + 2 * DAY, votes(3, 1))
    assert again.vote.closes == T1 + 7 * DAY


def test_a_vote_closes_by_time_counting_only_what_was_there_at_its_close(rules):
    ruled = windowed(rules)
    _, record = swept(ruled, at_stage(ruled, "community"), T1 + DAY, votes(2, 1))
    # The sweep runs two days late: two 👍 made after the close are there, and are not counted.
    late = votes(2, 1) + votes(2, 0, at=T1 + 8 * DAY, prefix="late")
    decision, closed = swept(ruled, record, T1 + 9 * DAY, late)
    assert closed.vote.closed == T1 + 7 * DAY and closed.vote.closed_by == "fund-bot"
    assert (closed.votes_up, closed.votes_down, dict(closed.votes_uncounted)) == (2, 1, {"late": 2})
    assert "2 reactions not counted: 2 made after the vote closed." in status_of(decision)
    assert "reactions made since change nothing" in status_of(decision)
    assert closed.audit[-1].what == "vote" and "+1 2, -1 1" in closed.audit[-1].detail
    # Frozen: more reactions, read later, change nothing.
    _, after = swept(ruled, closed, T1 + 20 * DAY, late + votes(40, 0, at=T1 + 15 * DAY, prefix="x"))
    assert (after.votes_up, after.votes_down, after.vote) == (2, 1, closed.vote)


def test_a_vote_due_to_close_closes_even_without_reactions_read(rules):
    ruled = windowed(rules)
    _, record = swept(ruled, at_stage(ruled, "community"), T1 + DAY, votes(4, 0))
    _, closed = swept(ruled, record, T1 + 7 * DAY)
    assert closed.vote.closed == T1 + 7 * DAY and closed.votes_up == 4


@pytest.mark.parametrize("days, moves, said", [
    (1, False, "the community vote opened on Nov 2, 2026 and stays open at least 3 days, until Nov 5, 2026 (UTC); "
               "2 days to go"),
    (2.9, False, "1 day to go"),
    (3, True, ""),
], ids=["a day in", "hours before", "on the day"])
def test_advance_waits_for_the_votes_minimum_days(rules, days, moves, said):
    ruled = windowed(rules)
    _, record = swept(ruled, at_stage(ruled, "community"), T1, votes(3))
    record = dataclasses.replace(record, last_comment_id=0)
    decision, after = comment_at(ruled, record, "/advance", REVIEWER, T1 + dt.timedelta(days=days))
    assert (after.stage == "funding") is moves
    if said:
        assert said in reply_of(decision)
    else:  # leaving the stage closed the vote then, with its count
        assert after.vote.closed == T1 + dt.timedelta(days=days) and after.votes_up == 3


def comment_at(rules, record, body, who, at, **snap_kw):
    from factories import make_comment

    comment = make_comment(record.last_comment_id + 1, body, user=who["user"], association=who["association"], at=at)
    snap = snapshot(make_issue(comments=2), record, comments=(comment,), **snap_kw)
    return run(snap, Trigger(TriggerKind.COMMENT, actor=who["user"], comment=comment), rules, at)


def test_moving_back_closes_the_vote_and_coming_back_opens_a_new_one(rules):
    ruled = windowed(rules)
    _, record = swept(ruled, at_stage(ruled, "community"), T1, votes(2))
    _, back = comment_at(ruled, record, "/stage technical", REVIEWER, T1 + DAY)
    assert back.stage == "technical" and back.vote.closed == T1 + DAY
    again = back.moved_to("community", at=T1 + 4 * DAY, by="rita", via="/stage")
    _, reopened = swept(ruled, again, T1 + 5 * DAY, votes(1))
    assert reopened.vote.opened == T1 + 4 * DAY and reopened.vote.is_open and reopened.votes_up == 1


@pytest.mark.parametrize("close, days, said, closes", [
    ("manual", 1, "stays open at least 3 days", False),
    ("manual", 4, "The community vote is closed: 👍 2 · 👎 0", True),
    ("auto", 4, "this vote closes by itself on Nov 9, 2026 (UTC): `close: auto` in .github/fund-bot.yml", False),
], ids=["manual too soon", "manual", "auto"])
def test_close_vote(rules, close, days, said, closes):
    ruled = windowed(rules, close=close)
    _, record = swept(ruled, at_stage(ruled, "community"), T1, votes(2))
    decision, after = comment_at(ruled, record, "/close-vote", REVIEWER, T1 + days * DAY)
    assert said in reply_of(decision)
    assert (not after.vote.is_open) is closes and acked(decision) is closes
    if closes:
        assert after.vote.closed_by == REVIEWER["user"] and after.stage == "community"
        again, _ = comment_at(ruled, after, "/close-vote", REVIEWER, T1 + 5 * DAY)
        assert "the vote closed on Nov 6, 2026 (UTC) already" in reply_of(again)


def test_only_a_reviewer_closes_a_vote_and_anyone_may_ask_for_the_tally(rules):
    ruled = windowed(rules, close="manual")
    _, record = swept(ruled, at_stage(ruled, "community"), T1, votes(2, 1))
    refused, after = comment_at(ruled, record, "/close-vote", STRANGER, T1 + 4 * DAY)
    assert "is for reviewers" in reply_of(refused) and after.vote.is_open
    told, _ = comment_at(ruled, record, "/tally", STRANGER, T1 + 4 * DAY)
    assert "Community vote: 👍 2 · 👎 1" in reply_of(told)
    _, closed = swept(ruled, record, T1 + 8 * DAY, votes(2, 1))
    asked, _ = comment_at(ruled, closed, "/tally", STRANGER, T1 + 9 * DAY)
    assert "The vote closed on Nov 9, 2026 (UTC); reactions made since change nothing." in reply_of(asked)


def test_without_a_window_the_vote_counts_as_it_always_did(rules):
    _, record = swept(rules, at_stage(rules, "community"), T1 + 30 * DAY, votes(3, 2))
    assert record.vote is None and (record.votes_up, record.votes_down) == (3, 2)
    decision, moved = comment_at(rules, record, "/advance", REVIEWER, T1 + 30 * DAY)
    assert moved.stage == "funding" and moved.vote is None


# --- who counts --------------------------------------------------------------------------------------


OLD = T1 - 400 * DAY


@pytest.mark.parametrize("voters, facts, up, uncounted", [
    ({"who": "anyone"}, {}, 3, {}),
    ({"who": "members", "org": "fund"}, {"vup0": VoterFacts("vup0", member=True),
                                         "vup1": VoterFacts("vup1", member=False)}, 1, {"ineligible": 1, "unchecked": 1}),
    ({"who": "team", "team": "fund/voters"}, {f"vup{i}": VoterFacts(f"vup{i}", member=True) for i in range(3)}, 3, {}),
    ({"who": "established", "min_account_days": 90, "min_contributions": 10},
     {"vup0": VoterFacts("vup0", created_at=OLD, contributions=10),
      "vup1": VoterFacts("vup1", created_at=T1 - 89 * DAY, contributions=500),
      "vup2": VoterFacts("vup2", created_at=OLD, contributions=9)}, 1, {"ineligible": 2}),
    ({"who": "established", "min_account_days": 90},
     {"vup0": VoterFacts("vup0", exists=False), "vup1": VoterFacts("vup1", created_at=OLD, contributions=0),
      "vup2": VoterFacts("vup2", created_at=T1 - 90 * DAY, contributions=0)}, 2, {"ineligible": 1}),
], ids=["anyone", "members", "team", "established: too new, too few", "established: gone, old, just old enough"])
def test_whose_votes_count(rules, voters, facts, up, uncounted):
    ruled = stage_rules(rules, community={"voters": voters})
    _, record = swept(ruled, at_stage(ruled, "community"), T1 + DAY, votes(3), voters=facts)
    assert (record.votes_up, dict(record.votes_uncounted)) == (up, uncounted)


def test_bots_the_applicants_and_conflicted_reviewers_never_count_and_the_tally_says_so(rules):
    stages = section("stages")
    stages["voters"] = {"who": "members", "org": "fund"}
    ruled = with_sections(rules, stages=stages)
    record = at_stage(ruled, "community", recusals=(Recusal("rita", "", T1),), affiliated=("ravi",))
    reactions = (Reaction("+1", User("helper[bot]", "Bot")), Reaction("+1", User("applicant")),
                 Reaction("+1", User("rita")), Reaction("-1", User("ravi")), Reaction("+1", User("member")),
                 Reaction("heart", User("member")), Reaction("+1", User("member")))
    facts = {who: VoterFacts(who, member=True) for who in ("helper[bot]", "applicant", "rita", "ravi", "member")}
    decision, after = swept(ruled, record, T1 + DAY, reactions, voters=facts)
    assert (after.votes_up, after.votes_down) == (1, 0)
    assert dict(after.votes_uncounted) == {"bot": 1, "applicant": 1, "conflicted": 2}
    assert ("👍 1 · 👎 0; 4 reactions not counted: 1 by a bot, 1 by the application's own people, and 2 by "
            "conflicted reviewers." in status_of(decision))
    assert "Only the votes of members of fund count." in status_of(decision)


def test_a_vote_by_ten_thousand_new_accounts_counts_none_of_them_and_says_why(rules):
    ruled = stage_rules(rules, community={"voters": {"who": "established", "min_account_days": 30},
                                          "min_voters": 3})
    crowd = votes(10_000, prefix="new")
    looked = {login: VoterFacts(login, created_at=T1, contributions=0) for login in
              to_look_up(crowd, (), (), MAX_VOTER_LOOKUPS)}
    assert len(looked) == MAX_VOTER_LOOKUPS  # a run looks up at most this many
    decision, record = swept(ruled, at_stage(ruled, "community"), T1 + DAY, crowd + votes(2, prefix="old"),
                             voters=looked | {f"oldup{i}": VoterFacts(f"oldup{i}", created_at=OLD, contributions=1)
                                              for i in range(2)})
    assert (record.votes_up, dict(record.votes_uncounted)) == (2, {"ineligible": 100, "unchecked": 9_900})
    assert "9,900 not checked yet (at most 100 voters are looked up a run)" in status_of(decision)
    refused, after = comment_at(ruled, record, "/advance", REVIEWER, T1 + 2 * DAY)
    assert after.stage == "community"
    assert "needs at least 3 voters; 2 so far" in reply_of(refused)


def test_look_ups_skip_bots_known_voters_and_those_never_counted():
    reactions = (Reaction("+1", User("a")), Reaction("-1", User("A")), Reaction("+1", User("bot[bot]", "Bot")),
                 Reaction("+1", User("known")), Reaction("+1", User("applicant")), Reaction("heart", User("h")),
                 Reaction("-1", User("b")))
    assert to_look_up(reactions, excluded={"applicant"}, known={"known"}, limit=5) == ("a", "b")
    assert to_look_up(reactions, excluded=(), known=(), limit=1) == ("a",)


def test_the_vote_is_kept_in_the_sealed_record(rules):
    ruled = windowed(rules)
    decision, record = swept(ruled, at_stage(ruled, "community"), T1 + 8 * DAY, votes(2, 1))
    kept = read_record(status_of(decision)).record
    assert kept.vote == record.vote and kept.votes_uncounted == record.votes_uncounted and not kept.vote.is_open
