"""The sweep: a year of a grant by time travel, reminders once each, reports by comment and by
issue, and the self-healing that makes lost deliveries harmless."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from factories import application_body, report_body
from pipeline_world import filed, say
from sandbox_fixtures import APP_ID

from bot.policy.wording import english
from bot.demo.world import FUND_REPO, running_world

START = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.timezone.utc)  # the `frozen` fixture's moment


def funded_application(world) -> int:
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(filed(world.sandbox))
    for reviewer in ("rita", "ravi"):
        say(world, 1, reviewer, "/score technical 4")
    say(world, 1, "rita", "/stage community")
    say(world, 1, "rita", "/advance")
    say(world, 1, "rita", "/score funding 4")
    say(world, 1, "rita", "/advance")
    say(world, 1, "rita", "/approve 20000")
    assert world.record(1).outcome.name == "funded"
    return 1


def notices(world, number) -> list[str]:
    keys = []
    for body in world.bot_comments(number):
        keys += re.findall(r"<!-- fund-bot:notice (\S+) -->", body)
    return keys


REPORT = ("Milestone one shipped: the plugin API is stable and documented. We spent the first tranche on "
          "maintainer time and two ARM boards. Users asked for Windows builds, which we will add next.")


def test_a_year_of_a_grant(frozen):
    world = frozen
    funded_application(world)
    decided = START.date()
    due = [decided + dt.timedelta(days=90 * k) for k in range(1, 5)]
    seen: dict[str, dt.date] = {}
    labels_on: dict[dt.date, set[str]] = {}
    # A daily sweep around each due date (where the dates matter), weekly in between.
    near = {d + dt.timedelta(days=k) for d in due for k in range(-16, 11)}
    last = 0
    for day in range(1, 400):
        today = (START + dt.timedelta(days=day)).date()
        if today not in near and day % 7 and day != 399:
            continue
        world.sandbox.travel(dt.timedelta(days=day - last))
        last = day
        if today == due[0] - dt.timedelta(days=10):
            say(world, 1, "applicant", f"/report\n{REPORT}")  # report 1 by comment, after the reminder
        if today == due[1] + dt.timedelta(days=10):  # report 2 late, by a progress-report issue
            opened = world.sandbox.open_issue(FUND_REPO, "alice-dev", "Progress report", report_body(1),
                                              labels=["fund: report"])
            report_number = opened.payload["issue"]["number"]  # the sweep log took a number before it
            world.deliver(opened)
        if today == due[2] - dt.timedelta(days=5):
            say(world, 1, "stranger", f"/report\n{REPORT}")  # not a maintainer: refused
            say(world, 1, "alice-dev", f"/report\n{REPORT}")  # a maintainer named in the form
        if today == due[3] - dt.timedelta(days=1):
            say(world, 1, "applicant", f"/report\n{REPORT}")
        result = world.sweep()
        assert result.ok, result.failures
        for key in notices(world, 1):
            if key.startswith("report-"):
                seen.setdefault(key, today)
        labels_on[today] = world.labels(1)

    lead, grace = dt.timedelta(days=14), dt.timedelta(days=7)
    assert seen == {
        f"report-reminder:{due[0]}": due[0] - lead,
        f"report-reminder:{due[1]}": due[1] - lead,
        f"report-overdue:{due[1]}": due[1] + grace,
        f"report-reminder:{due[2]}": due[2] - lead,
        f"report-reminder:{due[3]}": due[3] - lead,
    }
    assert sorted(k for k in notices(world, 1) if k.startswith("report-")) == sorted(seen)  # once each
    assert "report: due" in labels_on[due[0] - lead] and "report: due" not in labels_on[due[0] - lead - dt.timedelta(days=1)]
    assert "report: overdue" in labels_on[due[1] + grace] and "report: due" not in labels_on[due[1] + grace]
    assert not {"report: due", "report: overdue"} & labels_on[due[1] + dt.timedelta(days=10)]  # the report came
    assert not {"report: due", "report: overdue"} & labels_on[(START + dt.timedelta(days=399)).date()]

    record = world.record(1)
    assert [(r.by, r.ref.split(":")[0]) for r in record.reports] == [
        ("applicant", "comment"), ("alice-dev", "issue"), ("alice-dev", "comment"), ("applicant", "comment")]
    assert "All reports received" in world.status_comment(1)
    refusals = [b for b in world.bot_comments(1) if b.startswith("@stranger")]
    assert len(refusals) == 1 and "funded maintainers" in refusals[0]
    report_issue = world.sandbox.issue(FUND_REPO, report_number)
    assert report_issue["state"] == "closed"  # recorded, acknowledged and closed
    assert any("recorded as a progress report on #1" in b for b in world.bot_comments(report_number))
    overdue = next(b for b in world.bot_comments(1) if f"notice report-overdue:{due[1]}" in b)
    assert overdue.startswith("@applicant @alice-dev the progress report due on")
    assert "cc @rita @ravi" in overdue  # who approved it, then who scored it


def test_a_report_issue_from_someone_else_is_refused(frozen):
    world = frozen
    funded_application(world)
    report = world.sandbox.open_issue(FUND_REPO, "mallory", "Progress report", report_body(1), labels=["fund: report"])
    world.deliver(report)
    number = report.payload["issue"]["number"]
    assert world.record(1).reports == ()
    [reply] = [b for b in world.bot_comments(number)]
    assert reply.startswith("@mallory only the maintainers of #1")
    world.sweep()
    world.sweep()
    assert len(world.bot_comments(number)) == 1  # the refusal is not repeated by later sweeps


def test_sweeping_twice_or_dry_changes_nothing_more(frozen):
    world = frozen
    funded_application(world)
    world.sandbox.travel(dt.timedelta(days=80))
    first = world.sweep()
    assert first.lines  # the reminder, the label, the status comment
    world.sandbox.clear_log()
    again = world.sweep()
    assert again.lines == [] and world.sandbox.request_counts().writes == 0
    world.sandbox.travel(dt.timedelta(days=20))
    world.sandbox.clear_log()
    dry = world.sweep(dry_run=True)
    assert any("report-overdue" in english(line) for line in dry.lines)
    assert world.sandbox.request_counts().writes == 0


def test_a_stalled_stage_reminds_the_assignees_once(frozen):
    world = frozen
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(filed(world.sandbox))
    say(world, 1, "rita", "/assign @ravi")
    world.sandbox.travel(dt.timedelta(days=21))
    world.sweep()
    assert not [k for k in notices(world, 1) if k.startswith("stalled")]  # 21 days is the limit, not past it
    world.sandbox.travel(dt.timedelta(days=1))
    world.sweep()
    world.sandbox.travel(dt.timedelta(days=5))
    world.sweep()
    stalled = [b for b in world.bot_comments(1) if "fund-bot:notice stalled:technical" in b]
    assert len(stalled) == 1 and stalled[0].startswith("@ravi")


# --- self-healing ----------------------------------------------------------------------------------


def scenario(world, lose: set[int]):
    """Three applications and a review, step by step; the steps in `lose` have their delivery lost."""
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.add_applicant_repo("tiny-org/no-licence", license_spdx=None)
    steps = [
        lambda: filed(world.sandbox, "applicant", "A"),
        lambda: filed(world.sandbox, "bea", "B", repository="https://github.com/tiny-org/no-licence"),
        lambda: world.sandbox.comment(FUND_REPO, 1, "rita", "/score technical 4"),
        lambda: world.sandbox.comment(FUND_REPO, 1, "stan", "/advance"),
        lambda: world.sandbox.comment(FUND_REPO, 1, "ravi", "/score technical 5\n/score impact 3"),
        lambda: world.sandbox.edit_issue(FUND_REPO, 2, "bea", body=application_body()),
        lambda: world.sandbox.comment(FUND_REPO, 1, "rita", "/advance"),
        lambda: world.sandbox.comment(FUND_REPO, 2, "rita", "/needs-info What is the ARM port's status?"),
        lambda: world.sandbox.comment(FUND_REPO, 2, "bea", "It ships next month."),
        lambda: filed(world.sandbox, "cy", "C", project_name="C"),
        lambda: world.sandbox.comment(FUND_REPO, 3, "cy", "/withdraw"),
        lambda: world.sandbox.comment(FUND_REPO, 1, "rita", "/advance"),
    ]
    for index, step in enumerate(steps):
        world.deliver(step(), lose=index in lose)


def end_state(world) -> dict:
    state = {}
    for number in (1, 2, 3):
        record = world.record(number)
        bot = world.bot_comments(number)
        state[number] = {
            "labels": world.labels(number),
            "issue": world.sandbox.issue(FUND_REPO, number)["state"],
            "stage": record.stage if record else None,
            "outcome": record.outcome.name if record and record.outcome else None,
            "scores": sorted((s.reviewer, s.criterion, s.value) for s in record.scores) if record else None,
            "needs_info": bool(record and record.needs_info),
            "eligible": record.eligible if record else None,
            "history": [(h.stage, h.by, h.via) for h in record.history] if record else None,
            "status comments": sum("fund-bot:status" in b for b in bot),
            "replies": sorted(b.split("\n")[0] for b in bot if "fund-bot:status" not in b),
        }
    return state


@pytest.mark.parametrize("lose", [{0}, {2, 5}, {1, 3, 6, 8}, {4, 7, 9, 10, 11}, set(range(12))],
                         ids=["lost-opened", "lost-score-and-edit", "lost-a-third", "lost-most", "lost-all"])
def test_after_one_sweep_lost_deliveries_leave_no_trace(frozen, app_key, lose):
    expected = expected_state(app_key)

    scenario(frozen, lose)
    result = frozen.sweep()
    assert result.ok, result.failures
    assert end_state(frozen) == expected


def test_processing_killed_midway_is_finished_by_the_sweep(frozen, app_key):
    expected = expected_state(app_key)

    # Every third GitHub write fails for good (the process dies at that point of a delivery).
    import bot.github.transport as transport_module

    original = transport_module.Transport.request
    calls = {"n": 0}

    def dying(self, verb, url, **kw):
        if verb != "GET" and "access_tokens" not in url:
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                raise RuntimeError("killed midway")
        return original(self, verb, url, **kw)

    transport_module.Transport.request = dying
    try:
        scenario(frozen, set())
    finally:
        transport_module.Transport.request = original
    assert frozen.runtime.queue.stats.failed > 0
    assert frozen.sweep().ok
    assert end_state(frozen) == expected


def expected_state(app_key) -> dict:
    """The end state of the scenario when no delivery is lost, in a world of its own."""
    with running_world(now=lambda: START, app_id=APP_ID, app_key=app_key, quiet=False) as expected_world:
        scenario(expected_world, set())
        return end_state(expected_world)


def test_an_incomplete_report_is_explained_then_recorded_once_fixed(frozen):
    world = frozen
    funded_application(world)
    opened = world.sandbox.open_issue(FUND_REPO, "alice-dev", "Progress report", report_body(1, progress=None),
                                      labels=["fund: report"])
    world.deliver(opened)
    number = opened.payload["issue"]["number"]
    [refusal] = world.bot_comments(number)
    assert "not complete yet" in refusal and "Progress against milestones" in refusal
    assert world.record(1).reports == ()
    world.deliver(world.sandbox.edit_issue(FUND_REPO, number, "alice-dev", body=report_body(1)))
    assert [r.ref for r in world.record(1).reports] == [f"issue:{number}"]
    assert any("recorded as a progress report" in b for b in world.bot_comments(number))
    assert world.sandbox.issue(FUND_REPO, number)["state"] == "closed"
