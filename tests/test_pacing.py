"""Content writes paced under GitHub's secondary limits (SPEC §13): per installation, shared across
processes with Redis, the status comment ahead of less urgent writes. The sandbox enforces the
limits with GitHub's own answer; the windows are shortened here so a test takes seconds."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from pipeline_world import filed

from bot.config.settings import Need, Settings
from bot.demo.world import FUND_REPO
from bot.github.app import GitHubApp
from bot.github.pacing import Limits, LocalPacer, RedisPacer, wait_for_slot
from bot.github.transport import RetryPolicy
from bot.jobs.context import connect
from bot.sandbox import ContentLimits

SHORT = Limits(minute=4, hour=12, minute_other=2, hour_other=8, minute_seconds=1.0, hour_seconds=6.0)
# What the sandbox allows: above the pacer's budget by a margin, as GitHub's 80/500 are above its 70/450
# (the pacer counts a write when it sends it, GitHub when it arrives; on a loaded machine a second's
# writes can arrive late, together with the next second's, so the margin here is two windows' worth —
# still well under the 12 a rush sends unpaced).
SANDBOX = ContentLimits(per_minute=8, per_hour=20, minute=dt.timedelta(seconds=1), hour=dt.timedelta(seconds=6))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_holds_at_most_its_limit_and_says_when_a_slot_frees_up():
    clock = Clock()
    pacer = LocalPacer(SHORT, clock)
    assert [pacer.try_take("i1", urgent=True) for _ in range(4)] == [0, 0, 0, 0]
    assert pacer.try_take("i1", urgent=True) == pytest.approx(1.0)  # the minute window is full
    assert pacer.try_take("i2", urgent=True) == 0  # another installation has windows of its own
    clock.now += 1.0
    assert pacer.try_take("i1", urgent=True) == 0


def test_less_urgent_writes_leave_room_for_the_status_comment():
    clock = Clock()
    pacer = LocalPacer(SHORT, clock)
    assert [pacer.try_take("i", urgent=False) for _ in range(2)] == [0, 0]
    assert pacer.try_take("i", urgent=False) > 0  # reminders stop at their share ...
    assert pacer.try_take("i", urgent=True) == 0  # ... the status comment does not wait for them


def test_the_hour_window_counts_too():
    clock = Clock()
    pacer = LocalPacer(SHORT, clock)
    for _ in range(3):
        assert [pacer.try_take("i", urgent=True) for _ in range(4)] == [0] * 4
        clock.now += 1.0
    assert pacer.try_take("i", urgent=True) == pytest.approx(3.0)  # 12 an "hour" (6 s): the first frees at 6 s


@pytest.mark.parametrize(("setting", "urgent_per_minute"), [(None, 70), ("16/100", 14), ("1000/10000", 875)])
def test_the_pacer_keeps_under_the_limits_the_operator_sets(setting, urgent_per_minute):
    """github.com's 80/500 by default; a GitHub Enterprise Server's own limits with FUNDBOT_CONTENT_LIMITS."""
    env = {} if setting is None else {"FUNDBOT_CONTENT_LIMITS": setting}
    pacer = GitHubApp(Settings.from_env(env, Need.NOTHING)).pacer
    taken = [pacer.try_take("i", urgent=True) for _ in range(urgent_per_minute + 1)]
    assert taken[:-1] == [0] * urgent_per_minute and taken[-1] > 0  # a minute's slots, then a wait


def test_processes_share_the_windows_through_redis(redis_url):
    first, second = RedisPacer(connect(redis_url), SHORT), RedisPacer(connect(redis_url), SHORT)
    taken = [p.try_take("77", urgent=True) == 0 for p in (first, second) * 4]
    assert taken.count(True) == 4  # the two processes together got the window's four slots, no more


@pytest.fixture
def world(make_world, sandbox):
    sandbox.content_limits = SANDBOX
    made = make_world("tiny-org/tiny-inference", workers=4)
    made.github.pacer = LocalPacer(SHORT)
    return made


def test_a_rush_of_applications_meets_no_secondary_limit(world):
    numbers = []
    for i in range(12):
        opened = filed(world.sandbox, f"dev{i}", f"P{i}")
        world.post(opened, wait=False)
        numbers.append(opened.payload["issue"]["number"])
    assert world.runtime.queue.join(120)
    assert all(len(world.status_comments(n)) == 1 for n in numbers)
    refused = [r for r in world.sandbox.requests("POST") if r.status == 403]
    assert refused == []  # 12 status comments in about 3 s of 1-s windows, none over the limit


def test_without_pacing_the_sandbox_answers_as_github_does(world):
    unpaced = GitHubApp(world.settings, policy=RetryPolicy(attempts=1),  # no retry after the 403
                        pacer=LocalPacer(Limits(minute=100, hour=100, minute_other=100, hour_other=100)))
    gateway = unpaced.for_installation(77)
    number = world.sandbox.add_issue(FUND_REPO, "dev", "x", "y")
    answers = []
    for _ in range(SANDBOX.per_minute + 2):
        try:
            gateway._t.request("POST", f"/repos/{FUND_REPO}/issues/{number}/comments", body={"body": "hi"},
                               idempotent=False)
            answers.append(201)
        except Exception as err:  # the gateway's own error for GitHub's 403
            answers.append(getattr(err, "status", 0))
    assert answers[:SANDBOX.per_minute] == [201] * SANDBOX.per_minute and 403 in answers[SANDBOX.per_minute:]


def test_wait_for_slot_sleeps_until_the_window_frees():
    clock = Clock()
    pacer = LocalPacer(SHORT, clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    for _ in range(6):
        wait_for_slot(pacer, "i", True, sleep)
    assert sum(slept) == pytest.approx(1.0)  # the fifth and sixth waited for the minute window


def test_threads_of_one_process_never_pass_the_limit():
    pacer = LocalPacer(Limits(minute=10, hour=1000, minute_other=10, hour_other=1000, minute_seconds=60))
    got = []
    threads = [threading.Thread(target=lambda: got.append(pacer.try_take("i", True) == 0)) for _ in range(40)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert got.count(True) == 10
