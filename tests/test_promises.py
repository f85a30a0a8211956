"""SPEC §11, item by item, against the sandbox GitHub, each tried the hostile way: the same delivery
thirty times at once, stale payloads, a restart and GitHub's redelivery, duplicates left by older
versions, forged records, huge and hostile comments, writes GitHub refuses or answers late, a
closed grant, a stage nobody is named for. (`test_properties.py` interleaves all of it at random.)"""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from factories import application_body, report_body
from pipeline_world import bot_replies, filed, number_of, say

from bot.policy.wording import english
from bot.policy.markers import STATUS_MARKER, record_block
from decimal import Decimal

from bot.policy.record import Outcome, Record, parse_iso
from bot.sandbox import Faults
from bot.demo.world import FUND_REPO, World

APP_LOGIN = "fund-bot[bot]"


@pytest.fixture
def world(make_world):
    return make_world("tiny-org/tiny-inference", workers=8)


def file(world: World, user: str = "applicant") -> tuple[int, list]:
    """An application filed; returns its number and every delivery GitHub sent for it (not posted)."""
    opened = filed(world.sandbox, user)
    return number_of(opened), [opened] + world.sandbox.pending_deliveries()


def own_comments(world: World, number: int) -> list[dict]:
    return [c for c in world.sandbox.comments(FUND_REPO, number) if c["user"]["login"] == APP_LOGIN]


def post_all(world: World, deliveries: list) -> None:
    """Every delivery sent at once (none waits for another), then every one processed."""
    for delivery in deliveries:
        world.post(delivery, wait=False)
    assert world.runtime.queue.join(60)
    world.flush()


# --- one status comment per application -------------------------------------------------------------


def test_thirty_deliveries_at_once_leave_one_status_comment(world):
    number, sent = file(world)
    edit = world.sandbox.edit_issue(FUND_REPO, number, "applicant", body=application_body(milestones="Ship 1.0 " * 5))
    burst = []
    for i in range(30):
        delivery = copy.deepcopy(sent[i % len(sent)] if i % 3 else edit)
        burst.append(type(delivery)(delivery.event, delivery.payload))  # new delivery ids: none is a duplicate
    post_all(world, burst)
    assert len(world.status_comments(number)) == 1
    assert world.record(number).stage == "technical"


def test_an_edit_whose_payload_says_no_comments_yet_does_not_add_a_second(world):
    number, sent = file(world)
    post_all(world, sent)
    stale = world.sandbox.edit_issue(FUND_REPO, number, "applicant", body=application_body(license="Apache-2.0"))
    stale.payload["issue"]["comments"] = 0  # as it was when the event happened, before the bot commented
    post_all(world, [stale])
    assert len(world.status_comments(number)) == 1


def test_a_restart_then_githubs_redelivery_changes_nothing(world, sandbox, sandbox_server, app_key):
    from sandbox_fixtures import APP_ID

    number, sent = file(world)
    post_all(world, sent)
    comment = world.sandbox.comment(FUND_REPO, number, "rita", "/score technical 4")
    post_all(world, [comment])
    before = world.sandbox.comments(FUND_REPO, number), world.labels(number)
    world.close()
    restarted = World(sandbox, sandbox_server.url, APP_ID, app_key, workers=8, seed=False)  # nothing remembered
    sandbox.clear_log()
    post_all(restarted, sent + [comment])  # redelivered from the App's settings: the same ids
    assert (world.sandbox.comments(FUND_REPO, number), world.labels(number)) == before
    assert sandbox.request_counts().writes == 0
    restarted.close()


def test_the_sweep_merges_duplicates_an_older_version_left(world):
    number, sent = file(world)
    post_all(world, sent)
    genuine = world.status_comment(number)
    duplicates = [world.sandbox.add_comment(FUND_REPO, number, APP_LOGIN, genuine) for _ in range(2)]  # as wave 1 left
    forged = world.sandbox.add_comment(FUND_REPO, number, "mallory", genuine)  # not the App's: left alone
    oldest = world.status_comments(number)[0]["id"]
    world.sandbox.clear_log()
    world.sweep()
    assert [c["id"] for c in world.status_comments(number)] == [oldest]
    deleted = [int(r.path.rsplit("/", 1)[-1]) for r in world.sandbox.requests("DELETE")]
    assert sorted(deleted) == sorted(duplicates)
    assert any(c["id"] == forged for c in world.sandbox.comments(FUND_REPO, number))


# --- only the App's own comments count ----------------------------------------------------------------


def test_another_bots_copy_of_a_funded_record_is_not_adopted(world):
    number, sent = file(world)
    funded = Record(stage="decision", outcome=Outcome("funded", "rita", parse_iso("2026-01-02T00:00:00Z"),
                                                      Decimal("50000")))
    world.sandbox.add_comment(FUND_REPO, number, "copycat[bot]", f"{STATUS_MARKER}\n{record_block(funded)}")
    post_all(world, sent)
    assert world.record(number).outcome is None and "status: funded" not in world.labels(number)
    assert len(world.status_comments(number)) == 1
    own = world.status_comments(number)[0]["id"]  # its own it edits (the evidence pack, issue 21), never others'
    assert [r.path for r in world.sandbox.requests("PATCH", f"/repos/{FUND_REPO}/issues/comments/*")
            if not r.path.endswith(f"/comments/{own}")] == []


# --- bounded work, bounded output ---------------------------------------------------------------------


def test_a_strangers_twenty_kilobyte_comment_costs_a_handful_of_requests(world):
    number, sent = file(world)
    post_all(world, sent)
    junk = "\n".join(["/assign " + " ".join(f"@user{i}" for i in range(60))] * 40 +
                     [f"/nope-{i} {'x' * 30}" for i in range(300)])[:20_000]
    world.sandbox.clear_log()
    say(world, number, "stan", junk)
    counts = world.sandbox.request_counts()
    assert counts.reads + counts.not_modified + counts.writes <= 4  # issue, comments, one reply, the status
    assert world.sandbox.requests(path=f"/repos/{FUND_REPO}/assignees/*") == []  # no lookup for a stranger
    [reply] = bot_replies(world, number)
    assert len(reply) < 5_000 and "did not carry out" in reply


def test_ten_commands_a_comment_and_ten_names_an_assign(world):
    number, sent = file(world)
    post_all(world, sent)
    world.sandbox.clear_log()
    names = " ".join(f"@user{i}" for i in range(11))
    say(world, number, "rita", f"/assign {names}")
    assert world.sandbox.requests(path=f"/repos/{FUND_REPO}/assignees/*") == []  # refused before any lookup
    assert "name one to 10 GitHub users" in bot_replies(world, number)[-1]
    say(world, number, "rita", "\n".join(["/score technical 4"] * 12))
    assert "2 more commands that I did not carry out" in bot_replies(world, number)[-1]


def test_a_refused_reply_leaves_nothing_stuck(world):
    number, sent = file(world)
    post_all(world, sent)
    world.sandbox.refuse("POST", f"/repos/{FUND_REPO}/issues/{number}/comments", 422, "Body is too long")
    stranger = say(world, number, "stan", "/frobnicate")
    record = world.record(number)
    assert record.last_comment_id == stranger  # the cursor moved past it
    assert record.failures and record.failures[-1].status == 422
    assert "Body is too long" in world.status_comment(number)  # visible where the reviewers look
    say(world, number, "rita", "/score technical 4")  # later commands still work
    assert [s.value for s in world.record(number).scores] == [4]
    assert world.sweep().ok  # and no sweep stumbles on it again


def test_a_comment_posted_but_answered_502_is_not_posted_twice(world):
    number, sent = file(world)
    post_all(world, sent)
    world.sandbox.faults = Faults(lost_answer_rate=1.0)  # every write is done, and answered 502
    say(world, number, "stan", "/frobnicate")
    world.sandbox.faults = Faults()
    assert len(bot_replies(world, number)) == 1 and len(world.status_comments(number)) == 1
    world.sweep()
    assert len(bot_replies(world, number)) == 1


# --- every sweep finishes; grants stay accountable; someone is reminded -------------------------------------


def test_one_poisoned_application_fails_one_sweep_for_itself_only(world):
    numbers = []
    for _ in range(4):
        number, sent = file(world)
        post_all(world, sent)
        numbers.append(number)
    poisoned = numbers[1]
    world.sandbox.refuse("POST", f"/repos/{FUND_REPO}/issues/{poisoned}/comments", 422, "Validation Failed")
    world.sandbox.travel(dt.timedelta(days=30))  # every application stalls: each gets a reminder
    first = world.sweep()
    assert [english(f).split(":")[0] for f in first.failures] == [f"#{poisoned}"]
    assert all(any(r.startswith("@") for r in bot_replies(world, n)) for n in numbers if n != poisoned)
    assert world.sweep().ok


def test_a_funded_application_closed_by_anyone_still_owes_its_reports(world):
    number, sent = file(world)
    post_all(world, sent)
    for user, text in [("rita", "/score technical 4"), ("ravi", "/score technical 3"), ("rita", "/advance"),
                       ("rita", "/advance"), ("ravi", "/score funding 4"), ("rita", "/advance"),
                       ("rita", "/approve 20000")]:
        say(world, number, user, text)
    world.deliver(world.sandbox.close_issue(FUND_REPO, number, "applicant"))
    world.sandbox.travel(dt.timedelta(days=80))
    world.sweep()
    assert any("a progress report is due" in r for r in bot_replies(world, number))
    world.sandbox.travel(dt.timedelta(days=20))
    world.sweep()
    assert "report: overdue" in world.labels(number)
    assert any("is overdue" in r for r in bot_replies(world, number))
    assert world.sandbox.issue(FUND_REPO, number)["state"] == "closed"  # reminded where it is: not reopened


def test_a_stalled_stage_names_someone_with_the_default_rules(world):
    number, sent = file(world)
    post_all(world, sent)
    world.sandbox.travel(dt.timedelta(days=30))  # technical allows 21 days; nobody is assigned or named
    world.sweep()
    [reminder] = [r for r in bot_replies(world, number) if "longer than the 21 days" in r]
    assert "@rita" in reminder and "@ravi" in reminder  # the repository's collaborators


def test_a_report_naming_an_issue_that_is_no_application_gets_a_reply(world):
    number, sent = file(world)
    post_all(world, sent)
    other = world.sandbox.add_issue(FUND_REPO, "someone", "A question", "How do I apply?")
    report = world.sandbox.open_issue(FUND_REPO, "applicant", "Progress report", report_body(other),
                                      labels=["fund: report"])
    world.deliver(report)
    report_number = report.payload["issue"]["number"]
    assert any("is not an application" in c["body"] for c in own_comments(world, report_number))
