"""A whole review through the real service: screening to funded, with reviewers' commands,
a refused stranger, community votes, team reviewers and `fundbot labels sync`."""
import dataclasses
from decimal import Decimal

from pipeline_world import bot_replies, open_application, say

from bot.jobs.fund_setup import sync_labels
from bot.policy.rules import TeamRef
from bot.demo.world import FUND_REPO, INSTALLATION_ID


def apply_for(world, user="applicant"):
    world.add_applicant_repo("tiny-org/tiny-inference")
    return open_application(world, user, "Tiny Inference", repo="tiny-org/tiny-inference")


def test_screening_to_funded(world):
    number = apply_for(world)
    assert world.record(number).stage == "technical"

    say(world, number, "rita", "/score technical 4\n/score impact 5")
    say(world, number, "stan", "/advance")  # a stranger: refused, with a reply that says why
    assert "is for reviewers" in bot_replies(world, number)[-1]
    say(world, number, "ravi", "/score technical 3")
    say(world, number, "rita", "/advance")
    assert world.record(number).stage == "community"
    assert world.labels(number) >= {"stage: community", "eligibility: passed"}

    for voter, vote in [("ann", "+1"), ("ben", "+1"), ("cat", "-1"), ("applicant", "+1")]:
        world.sandbox.react(FUND_REPO, number, voter, vote)
    say(world, number, "ravi", "/advance")
    record = world.record(number)
    assert record.stage == "funding" and (record.votes_up, record.votes_down) == (2, 1)

    say(world, number, "rita", "/score funding 4")
    say(world, number, "rita", "/advance")
    say(world, number, "rita", "/approve 30000")
    record = world.record(number)
    assert record.outcome.name == "funded" and record.outcome.amount == Decimal("30000")
    assert world.labels(number) == {"fund: application", "status: funded", "eligibility: passed"}
    status = world.status_comment(number)
    assert "Funded: $30,000" in status and "Next report due" in status
    assert [e.stage for e in record.history] == ["screening", "technical", "community", "funding", "decision"]
    assert world.sandbox.issue(FUND_REPO, number)["state"] == "open"  # reports come here
    # One status comment for the whole review, and one reply: the stranger's.
    assert len([b for b in world.bot_comments(number) if "fund-bot:status" in b]) == 1
    assert len(bot_replies(world, number)) == 1


def test_accepted_commands_get_a_thumbs_up(world):
    number = apply_for(world)
    comment_id = say(world, number, "rita", "/score impact 4")
    reacted = [r for r in world.sandbox.requests(method="POST") if r.path.endswith(f"/comments/{comment_id}/reactions")]
    assert len(reacted) == 1 and reacted[0].body == {"content": "+1"}


def test_decline_closes_the_issue_with_the_reason(world):
    number = apply_for(world)
    say(world, number, "rita", "/decline Outside what this round funds.")
    issue = world.sandbox.issue(FUND_REPO, number)
    assert issue["state"] == "closed" and issue["state_reason"] == "not_planned"
    assert "Outside what this round funds." in world.status_comment(number)
    assert "status: declined" in world.labels(number)


def test_withdraw_by_the_applicant(world):
    number = apply_for(world)
    say(world, number, "applicant", "/withdraw")
    assert world.sandbox.issue(FUND_REPO, number)["state"] == "closed"
    assert world.record(number).outcome.name == "withdrawn"


def test_a_stage_label_put_on_by_hand_moves_the_stage_when_the_rules_allow(world):
    number = apply_for(world)
    world.deliver(world.sandbox.label_issue(FUND_REPO, number, "rita", "stage: community"))
    # Technical needs two reviewers' scores first: the label is taken off again, and the reply says why.
    assert world.record(number).stage == "technical"
    assert world.labels(number) == {"fund: application", "stage: technical", "eligibility: passed"}
    assert "needs scores from 2 reviewers" in bot_replies(world, number)[-1]
    say(world, number, "rita", "/score technical 4")
    say(world, number, "ravi", "/score technical 3")
    world.deliver(world.sandbox.label_issue(FUND_REPO, number, "rita", "stage: community"))
    assert world.record(number).stage == "community"
    assert world.labels(number) == {"fund: application", "stage: community", "eligibility: passed"}


def to_community(world, number):
    say(world, number, "rita", "/score technical 4")
    say(world, number, "ravi", "/score technical 3")
    say(world, number, "rita", "/advance")


def test_team_members_are_reviewers_looked_up_once(world):
    rules = world.rules
    reviewers = dataclasses.replace(rules.stages.reviewers, teams=(TeamRef("open-source-fund", "reviewers"),),
                                    author_associations=frozenset({"OWNER"}))
    world.use_rules(dataclasses.replace(rules, stages=dataclasses.replace(rules.stages, reviewers=reviewers)))
    world.sandbox.add_team("open-source-fund", "reviewers", ["tess"])
    number = apply_for(world)
    world.sandbox.clear_log()
    say(world, number, "tess", "/score impact 4")
    say(world, number, "tess", "/score technical 4")
    say(world, number, "rita", "/score funding 2")  # a collaborator, but the rules trust only teams now
    lookups = world.sandbox.requests(path="/orgs/open-source-fund/teams/reviewers/memberships/*")
    assert [r.path.rsplit("/", 1)[-1] for r in lookups] == ["tess", "rita"]  # tess looked up once
    record = world.record(number)
    assert sorted((s.reviewer, s.criterion) for s in record.scores) == [("tess", "impact"), ("tess", "technical")]
    assert "is for reviewers" in bot_replies(world, number)[-1]


def test_labels_sync_is_idempotent(world):
    gateway = world.github.for_installation(INSTALLATION_ID)
    assert sync_labels(gateway, FUND_REPO, world.rules) == []  # World synced them already
    changed = dataclasses.replace(world.rules.stages.labels.needs_info, color="000000")
    rules = dataclasses.replace(world.rules, stages=dataclasses.replace(
        world.rules.stages, labels=dataclasses.replace(world.rules.stages.labels, needs_info=changed)))
    assert sync_labels(gateway, FUND_REPO, rules) == ["update 'needs: info' (fef2c0 -> 000000)"]
    assert sync_labels(gateway, FUND_REPO, rules) == []


def test_the_sweep_lists_reactions_only_when_the_votes_moved(world):
    number = apply_for(world)
    to_community(world, number)
    world.sandbox.react(FUND_REPO, number, "ann", "+1")
    world.sweep()
    assert world.record(number).votes_up == 1
    world.sandbox.clear_log()
    world.sweep()  # nothing changed: the issue's roll-up says so, no reactions request
    assert world.sandbox.requests(path=f"/repos/{FUND_REPO}/issues/{number}/reactions") == []
    world.sandbox.react(FUND_REPO, number, "ben", "-1")
    world.sweep()
    record = world.record(number)
    assert (record.votes_up, record.votes_down) == (1, 1)


def test_the_decision_stage_shows_what_is_left_of_the_round_at_once(world):
    number = apply_for(world)
    say(world, number, "rita", "/score technical 4")
    say(world, number, "ravi", "/score technical 4")
    say(world, number, "rita", "/advance")
    say(world, number, "rita", "/advance")
    say(world, number, "rita", "/score funding 3")
    say(world, number, "rita", "/advance")  # into decision: the same delivery renders the pool
    assert world.record(number).stage == "decision"
    assert "Round 2026 has $500,000 left of $500,000" in world.status_comment(number)


def test_a_label_description_keeps_its_key_within_githubs_100_characters():
    from bot.policy.markers import label_description, label_key

    for text in ("", "Technical review", "x" * 100, "👍" * 100):
        described = label_description(text, "label:report_overdue")
        assert len(described) <= 100 and label_key(described) == "label:report_overdue"
    assert label_key("Technical review") is None and label_key("[fund-bot:stage:x] and more") is None
