"""Votes and approvals end to end (SPEC §14): the real service against the sandbox GitHub — a vote of
established accounts that closes by the sandbox's clock (reactions made after it change nothing), a grant
two reviewers must approve (a redelivered `/approve` changes nothing), and the lookups GitHub answers
for voters (members, teams, GraphQL's contribution graph)."""
from __future__ import annotations

import datetime as dt
import json

from fund_config import (RIVER_REPO, app_environ, config_issues, fund_file, funding_section, push, section,
                         two_funds, use_funding, use_stages)
from pipeline_world import ACTIVE_REPO, START, advance_to, bot_replies, frozen_world, open_application, say

from bot.cli import main
from bot.config.rules import fund_rules
from bot.demo.world import FUND_OWNER, FUND_REPO, INSTALLATION_ID, World
from bot.policy.approvals import released_with_approvers
from bot.policy.rules import FUND_FILE

DAY = dt.timedelta(days=1)
OLD = START - 400 * DAY


# --- a vote that closes by time ----------------------------------------------------------------------------


def test_a_vote_of_established_accounts_closes_by_time_and_is_frozen(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        use_stages(world, community={"vote": {"min_days": 2, "max_days": 5},
                                     "voters": {"who": "established", "min_account_days": 30,
                                                "min_contributions": 3}})
        for login, made, public, private in (("ann", OLD, 5, 0), ("ben", OLD, 0, 40), ("cal", START, 50, 0),
                                             ("dan", OLD, 9, 0), ("eve", OLD, 9, 0)):
            sb.add_user(login, created_at=made, contributions=public, restricted=private)
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Voted On", repo=ACTIVE_REPO)
        advance_to(world, number, "community")
        for who, vote in (("ann", "+1"), ("ben", "+1"), ("cal", "-1"), ("ada", "+1")):
            sb.react(FUND_REPO, number, who, vote)
        sb.clear_log()
        sb.travel(DAY)
        world.sweep()
        record = world.record(number)
        assert (record.votes_up, record.votes_down, dict(record.votes_uncounted)) == (1, 0, {"applicant": 1,
                                                                                         "ineligible": 2})
        assert len(sb.requests("POST", "/graphql")) == 1  # ann, ben and cal in one query; ada never asked about
        status = world.status_comment(number)
        assert "The vote closes on Jan 9, 2027 (UTC)." in status and "3 reactions not counted" in status

        say(world, number, "rita", "/advance")  # a day in: the vote stays open two days
        assert world.record(number).stage == "community"
        assert any("stays open at least 2 days, until Jan 6, 2027 (UTC)" in r for r in bot_replies(world, number))

        sb.travel(5 * DAY)  # past the close (Jan 9, 09:00): dan votes after it, and only then does the sweep run
        sb.react(FUND_REPO, number, "dan", "+1")
        sb.clear_log()
        world.sweep()
        record = world.record(number)
        assert record.vote.closed == START + 5 * DAY and record.vote.closed_by == "fund-bot"
        assert (record.votes_up, dict(record.votes_uncounted)) == (1, {"applicant": 1, "ineligible": 2, "late": 1})
        assert "reactions made since change nothing" in world.status_comment(number)

        sb.travel(DAY)
        sb.react(FUND_REPO, number, "eve", "+1")
        sb.clear_log()
        world.sweep()
        assert sb.requests("GET", f"/repos/{FUND_REPO}/issues/{number}/reactions") == []  # frozen: never read again
        assert world.record(number).votes_up == 1
        say(world, number, "stan", "/tally")
        assert any("The vote closed on Jan 9, 2027 (UTC); reactions made since change nothing." in r
                   for r in bot_replies(world, number))
        say(world, number, "rita", "/advance")
        assert world.record(number).stage == "funding" and world.record(number).vote.closed == START + 5 * DAY


def test_voters_from_a_team_or_an_organisation_are_looked_up_once(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        sb.add_team(FUND_OWNER, "voters", ["ann"])
        use_stages(world, community={"voters": {"who": "team", "team": f"{FUND_OWNER}/voters"}})
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Team Vote", repo=ACTIVE_REPO)
        advance_to(world, number, "community")
        for who in ("ann", "bob"):
            sb.react(FUND_REPO, number, who, "+1")
        sb.travel(DAY)
        world.sweep()
        record = world.record(number)
        assert (record.votes_up, dict(record.votes_uncounted)) == (1, {"ineligible": 1})
        asked = sb.requests("GET", f"/orgs/{FUND_OWNER}/teams/voters/memberships/*")
        assert sorted(r.path.rsplit("/", 1)[1] for r in asked) == ["ann", "bob"]
        sb.react(FUND_REPO, number, "cy", "-1")
        sb.clear_log()
        say(world, number, "stan", "/tally")
        asked = sb.requests("GET", f"/orgs/{FUND_OWNER}/teams/voters/memberships/*")
        assert [r.path.rsplit("/", 1)[1] for r in asked] == ["cy"]  # ann and bob are known


def test_the_gateway_reads_members_teams_and_contribution_graphs_as_github_answers(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        sb.add_org_member(FUND_OWNER, "pub")
        sb.add_org_member(FUND_OWNER, "hidden", public=False)
        sb.add_user("elsewhere", "Organization")
        sb.add_org_member("elsewhere", "hidden", public=False)
        sb.add_org_member("elsewhere", "pub")
        sb.add_team(FUND_OWNER, "voters", ["pub"])
        sb.add_user("old", created_at=OLD, contributions=7, restricted=30)
        gateway = world.github.for_installation(INSTALLATION_ID)
        # The App reads its own organisation's members, private ones too; elsewhere only the public list.
        assert [gateway.is_org_member(FUND_OWNER, who) for who in ("pub", "hidden", "nobody")] == [True, True, False]
        assert [gateway.is_org_member("elsewhere", who) for who in ("pub", "hidden")] == [True, False]
        assert gateway.team_exists(FUND_OWNER, "voters") and not gateway.team_exists(FUND_OWNER, "nope")
        found = gateway.users_contributions(["old", "no-such-user"] + [f"x{i}" for i in range(30)],
                                            START - 365 * DAY, START)
        assert found["old"] == (OLD, 7) and found["no-such-user"] is None
        assert len(sb.requests("POST", "/graphql")) == 2  # 32 users, 25 a query


# --- several approvers ---------------------------------------------------------------------------------------


def at_decision_with_two_approvers(world: World, project: str) -> int:
    """An application in the decision stage of a fund whose grants two reviewers must approve."""
    use_funding(world, approvals={"grant": 2})
    world.add_applicant_repo(ACTIVE_REPO)
    number = open_application(world, "ada", project, repo=ACTIVE_REPO)
    advance_to(world, number, "decision")
    return number


def test_a_grant_two_reviewers_approve_with_a_redelivered_approve(app_key, capsys):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        number = at_decision_with_two_approvers(world, "Two Keys")
        first = sb.comment(FUND_REPO, number, "rita", "/approve 20000")
        world.deliver(first)
        world.deliver(first)  # GitHub redelivers it
        record = world.record(number)
        assert not record.funded and [(a.by, str(a.amount)) for a in record.approvals] == [("rita", "20000")]
        assert sum("Approval recorded: 1 of 2" in r for r in bot_replies(world, number)) == 1
        assert "1 of 2 approvals for $20,000" in world.status_comment(number)
        say(world, number, "rita", "/approve 20000")  # the same person again: refused, nothing moves
        say(world, number, "ravi", "/approve 25000")  # another amount: refused with the figures
        assert any("approved $20,000. Approvals must be for the same amount" in r for r in bot_replies(world, number))
        assert not world.record(number).funded and "status: funded" not in world.labels(number)
        second = sb.comment(FUND_REPO, number, "ravi", "/approve 20000")
        world.deliver(second)
        world.deliver(second)
        record = world.record(number)
        assert record.funded and record.outcome.by == "ravi" and "status: funded" in world.labels(number)
        assert [(a.by, str(a.amount)) for a in record.approvals] == [("rita", "20000"), ("ravi", "20000")]
        assert released_with_approvers(record, world.rules) == []
        assert "The grant was approved by @\u2060rita (Jan 4, 2027) and @\u2060ravi (Jan 4, 2027)." in \
            world.status_comment(number)
        capsys.readouterr()
        assert main(["export", "--audit"], app_environ(world, app_key)) == 0
        entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        approvals = [(e["by"], e["detail"]) for e in entries if e["what"] == "approve"]
        assert approvals == [("rita", "grant 20000: 1 of 2"), ("ravi", "grant 20000: 2 of 2")]


# --- a team that does not exist ---------------------------------------------------------------------------


def test_a_team_that_does_not_exist_is_a_listed_problem_and_the_last_valid_rules_stay(app_key, capsys):
    with two_funds(app_key) as world:
        stages = section("stages")
        stages["voters"] = {"who": "team", "team": "open-source-fund/voters"}
        stages["stages"][4]["leads"] = {"teams": ["open-source-fund/leads"]}
        push(world, FUND_REPO, FUND_FILE, fund_file(stages=stages))
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "open"
        assert "| stages.voters.team | the team 'open-source-fund/voters' does not exist" in issue["body"]
        assert r"| stages.stages\[4\].leads.teams\[0\] | the team 'open-source-fund/leads' does not exist" in \
            issue["body"]
        world.sandbox.add_file(RIVER_REPO, FUND_FILE, fund_file(stages=stages))
        assert main(["validate", "--repo", RIVER_REPO], app_environ(world, app_key, repo=None)) == 1
        assert "the team 'open-source-fund/voters' does not exist" in capsys.readouterr().out
        world.sandbox.add_team("open-source-fund", "voters", ["ann"])
        world.sandbox.add_team("open-source-fund", "leads", ["lea"])
        push(world, FUND_REPO, FUND_FILE, fund_file(stages=stages) + "\n")
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "closed"


# --- the hostile versions ----------------------------------------------------------------------------------


def test_two_approvers_at_once_thirty_deliveries_and_a_restart_make_one_grant(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        number = at_decision_with_two_approvers(world, "Rush")
        say(world, number, "rita", "/approve 20000")
        # A restart: the pending approval lives on GitHub, in the sealed record.
        world.runtime.queue.close(10)
        world = World(sb, world.settings.api_url, world.settings.app_id, world.settings.private_key, seed=False)
        try:
            money = fund_rules(world.rules, fund_file(funding=funding_section(approvals={"grant": 2})), {})
            deliveries = [sb.comment(FUND_REPO, number, "ravi", "/approve 20000"),
                          sb.comment(FUND_REPO, number, "rita", "/approve 20000")]
            for delivery in (deliveries * 15):  # thirty at once, each redelivered many times
                world.post(delivery, wait=False)
            assert world.runtime.queue.join(60)
            world.flush()
            record = world.record(number)
            assert record.funded and [a.by for a in record.approvals] == ["rita", "ravi"]
            assert len(world.status_comments(number)) == 1 and released_with_approvers(record, money) == []
            granted = [r for r in sb.requests("PATCH", f"/repos/{FUND_REPO}/issues/*") if "fund-data" in
                       str(r.body)]
            assert len(granted) == 1  # the ledger written once
        finally:
            world.close()


def test_voter_lookups_github_refuses_leave_those_voters_unchecked_and_nothing_stuck(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        use_stages(world, community={"voters": {"who": "established", "min_account_days": 30}})
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Refused Lookups", repo=ACTIVE_REPO)
        advance_to(world, number, "community")
        sb.add_user("ann", created_at=OLD, contributions=3)
        sb.react(FUND_REPO, number, "ann", "+1")
        sb.refuse("POST", "/graphql", 403, "Resource not accessible by integration")
        say(world, number, "stan", "/tally")
        assert dict(world.record(number).votes_uncounted) == {"unchecked": 1}
        assert any("1 not checked yet" in r for r in bot_replies(world, number))
        sb.stop_refusing()
        sb.travel(DAY)
        world.sweep()  # a voter left unchecked is looked up by the next run, though no vote moved
        record = world.record(number)
        assert (record.votes_up, dict(record.votes_uncounted)) == (1, {})


def test_reading_a_vote_of_five_thousand_reactions_costs_at_most_sixty_requests(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Popular", repo=ACTIVE_REPO)
        advance_to(world, number, "community")
        for i in range(5000):
            sb.react(FUND_REPO, number, f"voter{i}", "+1" if i % 4 else "-1")
        tail = f"/issues/{number}/reactions"
        for step in range(2):
            if step:
                sb.react(FUND_REPO, number, "one-more", "+1")
            sb.clear_log()
            say(world, number, "stan", "/tally")
            pages = [r for r in sb.requests("GET") if r.path.endswith(tail)]
            assert len(pages) <= 60, len(pages)
            assert sum(r.not_modified for r in pages) == (0 if not step else len(pages) - 1)
        assert (world.record(number).votes_up, world.record(number).votes_down) == (3751, 1250)
