"""Races the stateful property test (tests/test_properties.py) found or pointed at, each made to happen every time.

A race a thread scheduler shows only now and then is pinned here with the interleaving forced (a
barrier where the two runs must meet), so the test fails for the bug, not for the scheduler.
"""
from __future__ import annotations

import datetime as dt
import threading

import yaml
from factories import TO_DECISION
from pipeline_world import filed, number_of

import bot.config.funds as funds_module
import bot.jobs.sweep as sweep_module
from bot.demo.world import FUND_REPO, World, running_world
from bot.policy.markers import FUND_STATE_MARKER
from bot.policy.rules import FUND_FILE
from bot.config.settings import DEFAULT_RULES_DIR

SHIPPED = yaml.safe_load((DEFAULT_RULES_DIR / "funding.yml").read_text())
CAP = SHIPPED["max_per_project"]
# The shipped funding rules, with a pool that holds one grant at the cap and half of another.
FUND_YAML = yaml.safe_dump({"funding": {**SHIPPED, "round": {**SHIPPED["round"], "pool": CAP * 3 // 2}}})
FUND_STATE_BUG = ("bug: Funds._valid_now reads and writes the fund-state issue outside the fund's lock; two deliveries "
                  "reading a fund's configuration for the first time at once each create a fund-state issue; the "
                  "process goes on with the newest, a restarted one reads the oldest, whose ledger lacks the grants")


def two_applications_read_the_configuration_together(world, monkeypatch) -> tuple[int, int]:
    """Two applications filed, their first deliveries processed at once, both reading the fund's files
    before either records them."""
    sandbox = world.sandbox
    world.add_applicant_repo("tiny-org/tiny-inference")
    sandbox.add_file(FUND_REPO, FUND_FILE, FUND_YAML)  # a fund with a file of its own: its sha is recorded
    both_read = threading.Barrier(2)
    read = funds_module.read_fund_files

    def read_together(gateway, repo, **kw):
        files = read(gateway, repo, **kw)
        try:
            both_read.wait(timeout=5)  # both deliveries have read the files before either records them
        except threading.BrokenBarrierError:
            pass  # the reads were serialised: nothing to meet
        return files

    monkeypatch.setattr(funds_module, "read_fund_files", read_together)
    opened = [filed(sandbox, "applicant", name) for name in ("One", "Two")]
    sandbox.pending_deliveries()  # the labels' deliveries: not needed here
    for delivery in opened:
        world.post(delivery, wait=False)
    assert world.runtime.queue.join(60)
    monkeypatch.undo()
    world.flush()
    return opened[0].payload["issue"]["number"], opened[1].payload["issue"]["number"]


def fund_states(world) -> list[int]:
    return [i["number"] for i in world.sandbox.issues(FUND_REPO)
            if i["user"]["login"] == world.app_login and FUND_STATE_MARKER in (i["body"] or "")]


def approve(world, number: int, amount: int) -> None:
    for who, text in TO_DECISION + (("rita", f"/approve {amount}"),):
        world.deliver(world.sandbox.comment(FUND_REPO, number, who, text))


def test_two_first_reads_of_a_funds_configuration_at_once_keep_one_fund_state_issue(monkeypatch):
    with running_world(now=lambda: dt.datetime(2027, 1, 4, 9, tzinfo=dt.timezone.utc), workers=2) as world:
        two_applications_read_the_configuration_together(world, monkeypatch)
        assert len(fund_states(world)) == 1, f"fund-state issues: {fund_states(world)}"


def test_after_a_restart_the_pool_still_holds(monkeypatch):
    with running_world(now=lambda: dt.datetime(2027, 1, 4, 9, tzinfo=dt.timezone.utc), workers=2) as world:
        first, second = two_applications_read_the_configuration_together(world, monkeypatch)
        approve(world, first, CAP)
        world.runtime.queue.close(10)  # the service restarts
        restarted = World(world.sandbox, world.settings.api_url, world.settings.app_id, world.settings.private_key,
                          workers=2, seed=False)
        try:
            approve(restarted, second, CAP)  # half a grant is left in the pool: refused
            granted = [restarted.record(n).outcome for n in (first, second)]
            total = sum(outcome.amount for outcome in granted if outcome and outcome.name == "funded")
            assert total <= CAP * 3 // 2, f"{total} granted from a pool of {CAP * 3 // 2}"
        finally:
            restarted.close()


def test_a_grant_made_while_the_sweep_runs_stays_in_the_ledger(monkeypatch):
    with running_world(now=lambda: dt.datetime(2027, 1, 4, 9, tzinfo=dt.timezone.utc), workers=2) as world:
        sandbox = world.sandbox
        world.add_applicant_repo("tiny-org/tiny-inference")
        sandbox.add_file(FUND_REPO, FUND_FILE, FUND_YAML)
        world.sweep()  # the configuration recorded, alone (see above)
        first, second = (file_application(world, name) for name in ("One", "Two"))
        for who, text in TO_DECISION:
            world.deliver(sandbox.comment(FUND_REPO, first, who, text))
        reconcile = sweep_module._reconcile_ledger

        def approved_meanwhile(*args, **kwargs):
            # The sweep has examined every application; a reviewer's /approve is processed now.
            world.deliver(sandbox.comment(FUND_REPO, first, "rita", f"/approve {CAP}"))
            return reconcile(*args, **kwargs)

        monkeypatch.setattr(sweep_module, "_reconcile_ledger", approved_meanwhile)
        assert world.sweep().ok
        monkeypatch.undo()
        approve(world, second, CAP)  # half a grant is left in the pool: refused
        granted = [world.record(n).outcome for n in (first, second)]
        total = sum(outcome.amount for outcome in granted if outcome and outcome.name == "funded")
        assert total <= CAP * 3 // 2, f"{total} granted from a pool of {CAP * 3 // 2}"


def file_application(world, name: str) -> int:
    delivery = filed(world.sandbox, "applicant", name)
    world.deliver(delivery)
    return number_of(delivery)
