"""Many funds on one App (SPEC §13): each fund's `.github/fund-bot.yml`, every installation, a bad
configuration kept out loud, the round's ledger at a constant cost, and new funds prepared unasked.

One service (`World` with `FUNDBOT_REPO` unset) serves two organisations' funds, each installed on
its own; the sandbox GitHub holds their files, issues and installations.
"""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from fund_config import (APPLICANT_REPO, CONFIG_TTL, RIVER_INSTALLATION, RIVER_OWNER, RIVER_REPO, app_environ,
                         config_issues, fund_file, push, section, strict, two_funds)
from pipeline_world import filed, open_application
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET

from bot.cli import main
from bot.config.settings import DEFAULT_RULES_DIR
from bot.demo.world import FUND_REPO, World, running_world
from bot.config.funds import discover
from bot.policy.fundstate import decode, render
from bot.policy.i18n import translator
from bot.policy.markers import FUND_STATE_MARKER, STATUS_MARKER, read_record
from bot.policy.rules import FUND_FILE
from bot.policy.seal import fund_state_holds


def status_record(world: World, repo: str, number: int):
    comments = [c for c in world.sandbox.comments(repo, number)
                if c["user"]["login"] == world.app_login and c["body"].startswith(STATUS_MARKER)]
    return (read_record(comments[0]["body"]).record if comments else None), len(comments)


def apply(world: World, fund: str, user: str = "applicant", project: str = "Tiny") -> int:
    return open_application(world, user, project, repo=APPLICANT_REPO, fund=fund)


def test_two_funds_with_different_thresholds_judge_the_same_repository_by_their_own_rules(app_key):
    with two_funds(app_key) as world:
        strict_fund = apply(world, FUND_REPO)
        river = apply(world, RIVER_REPO)
        ours, count = status_record(world, FUND_REPO, strict_fund)
        theirs, river_count = status_record(world, RIVER_REPO, river)
        assert count == river_count == 1
        assert not ours.eligible and theirs.eligible  # five contributors: fewer than 10, more than 2
        assert "eligibility: failed" in world.sandbox.issue_labels(FUND_REPO, strict_fund)
        assert "eligibility: failed" not in world.sandbox.issue_labels(RIVER_REPO, river)


def test_a_new_installation_is_prepared_without_a_command_line(app_key):
    with two_funds(app_key) as world:
        wanted = {label.name for label in world.rules.stages.all_labels()}
        assert wanted <= {label["name"] for label in world.sandbox.labels(RIVER_REPO)}
        assert config_issues(world, RIVER_REPO) == []  # its file is valid
        # A repository added to the installation later, with an invalid file: its labels are made
        # and the configuration issue is opened at once.
        world.sandbox.add_repo("river-fund/second-round")
        world.sandbox.add_file("river-fund/second-round", FUND_FILE, "funding: {pool: lots}\n")
        world.deliver(world.sandbox.change_installation_repos(RIVER_INSTALLATION, RIVER_OWNER,
                                                              add=["river-fund/second-round"]))
        [issue] = config_issues(world, "river-fund/second-round")
        assert issue["state"] == "open" and "funding" in issue["body"]


def test_a_repository_without_the_file_is_not_a_fund(app_key):
    with two_funds(app_key) as world:
        world.sandbox.add_repo("river-fund/website")
        world.deliver(world.sandbox.change_installation_repos(RIVER_INSTALLATION, RIVER_OWNER,
                                                              add=["river-fund/website"]))
        world.sandbox.clear_log()
        number = apply(world, "river-fund/website")
        assert status_record(world, "river-fund/website", number) == (None, 0)
        assert world.sandbox.requests("POST") == [] and world.sandbox.requests("PATCH") == []
        refs = discover(world.github, world.context.funds)
        assert sorted(f.repo for f in refs) == sorted([FUND_REPO, RIVER_REPO])


def test_the_sweep_walks_every_installation_and_repairs_both_funds(app_key, capsys):
    with two_funds(app_key) as world:
        lost = {}
        for repo in (FUND_REPO, RIVER_REPO):  # each fund loses an application's delivery
            delivery = filed(world.sandbox, "applicant", "Lost", fund=repo, project_name="Lost",
                             repository=f"https://github.com/{APPLICANT_REPO}")
            world.sandbox.pending_deliveries()  # lost as well: the label's delivery
            lost[repo] = int(delivery.payload["issue"]["number"])
        assert main(["sweep"], app_environ(world, app_key, repo=None)) == 0
        out = capsys.readouterr().out
        assert f"of {FUND_REPO}" in out and f"of {RIVER_REPO}" in out
        for repo, number in lost.items():
            record, count = status_record(world, repo, number)
            assert count == 1 and record is not None
        assert not status_record(world, FUND_REPO, lost[FUND_REPO])[0].eligible
        assert status_record(world, RIVER_REPO, lost[RIVER_REPO])[0].eligible


def test_one_funds_failure_does_not_stop_the_sweep_of_the_others(app_key, capsys):
    with two_funds(app_key) as world:
        world.sandbox.refuse("GET", f"/repos/{FUND_REPO}/issues", 502, "Server Error")
        number = filed(world.sandbox, "applicant", "Lost", fund=RIVER_REPO, project_name="Lost",
                       repository=f"https://github.com/{APPLICANT_REPO}")
        world.sandbox.pending_deliveries()
        # GitHub keeps answering 502 there: the sweep gives up on that fund after FUNDBOT_MAX_RETRY_WAIT.
        assert main(["sweep"], app_environ(world, app_key, repo=None, FUNDBOT_MAX_RETRY_WAIT="1")) == 1  # said, and exit 1
        captured = capsys.readouterr()
        assert FUND_REPO in captured.err
        assert status_record(world, RIVER_REPO, int(number.payload["issue"]["number"]))[1] == 1


def test_with_redis_the_sweep_queues_one_job_per_fund_for_the_workers(app_key, redis_url, capsys):
    with two_funds(app_key, redis_url=redis_url) as world:
        numbers = {}
        for repo in (FUND_REPO, RIVER_REPO):
            delivery = filed(world.sandbox, "applicant", "Lost", fund=repo, project_name="Lost",
                             repository=f"https://github.com/{APPLICANT_REPO}")
            world.sandbox.pending_deliveries()
            numbers[repo] = int(delivery.payload["issue"]["number"])
        env = app_environ(world, app_key, repo=None, FUNDBOT_REDIS_URL=redis_url)
        assert main(["sweep"], env) == 0
        out = capsys.readouterr().out
        assert out.count("queued for the workers") == 2
        assert main(["sweep"], env) == 0  # again before a worker ran: not queued twice
        assert capsys.readouterr().out.count("already queued or running") == 2
        for repo, number in numbers.items():
            assert status_record(world, repo, number)[1] == 0  # nothing done by the command itself
        world.work()  # `fundbot worker --burst`
        for repo, number in numbers.items():
            assert status_record(world, repo, number)[1] == 1


def test_an_invalid_file_keeps_the_last_valid_configuration_and_one_issue_listing_every_problem(app_key):
    with two_funds(app_key) as world:
        sb = world.sandbox
        bad = fund_file(eligibility=section("eligibility", community__min_contributors="many"),
                        stagez={"x": 1})
        push(world, FUND_REPO, FUND_FILE, bad)
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "open"
        assert "is not of type" in issue["body"] and "stagez" in issue["body"]  # both problems, file and key
        assert "last valid configuration" in issue["body"]
        # Applications go on under the last valid rules: 10 contributors, not the server's 3.
        number = apply(world, FUND_REPO)
        assert not status_record(world, FUND_REPO, number)[0].eligible

        # Another mistake: the same issue, updated.
        push(world, FUND_REPO, FUND_FILE, "eligibility: [1, 2]\n")
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "open" and "stagez" not in issue["body"] and "eligibility" in issue["body"]

        # A restart: the new process finds the last valid configuration by its blob sha.
        restarted = World(sb, world.settings.api_url, APP_ID, app_key, settings={"repo": None}, seed=False)
        try:
            again = apply(restarted, FUND_REPO, user="someone", project="After restart")
            assert not status_record(restarted, FUND_REPO, again)[0].eligible
        finally:
            restarted.close()

        # Fixed: the issue closes, and the new rules apply.
        push(world, FUND_REPO, FUND_FILE, strict(4))
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "closed" and "valid again" in issue["body"]
        fixed = apply(world, FUND_REPO, user="third", project="After the fix")
        assert status_record(world, FUND_REPO, fixed)[0].eligible


def test_a_file_whose_values_cannot_be_read_is_refused_and_the_other_funds_are_swept(app_key, capsys):
    """Valid YAML that PyYAML cannot turn into values (a 30th of February) was an exception every
    delivery and every sweep of every fund tripped on: now it is a problem listed like any other."""
    with two_funds(app_key) as world:
        sb = world.sandbox
        push(world, FUND_REPO, FUND_FILE, "funding:\n  rounds:\n    - {opens: 2027-02-30}\n")
        [issue] = config_issues(world, FUND_REPO)
        assert "line 3" in issue["body"] and "day is out of range for month" in issue["body"]
        number = apply(world, FUND_REPO)  # still answered, under the last valid rules (10 contributors)
        assert not status_record(world, FUND_REPO, number)[0].eligible
        lost = filed(sb, "applicant", "Lost", fund=RIVER_REPO, project_name="Lost",
                     repository=f"https://github.com/{APPLICANT_REPO}")
        sb.pending_deliveries()
        assert main(["sweep"], app_environ(world, app_key, repo=None)) == 1  # the invalid configuration is said
        assert "the configuration has 1 problems" in capsys.readouterr().err
        assert status_record(world, RIVER_REPO, int(lost.payload["issue"]["number"]))[1] == 1


def test_a_fund_that_never_had_a_valid_configuration_is_left_alone(app_key):
    with two_funds(app_key) as world:
        sb = world.sandbox
        sb.add_user("brook-fund", "Organization")
        sb.add_repo("brook-fund/apply")
        sb.add_file("brook-fund/apply", FUND_FILE, "reports: {every: soon}\nfunding: 7\n")
        world.deliver(sb.install(99, "brook-fund", ["brook-fund/apply"], "brook-fund"))
        [issue] = config_issues(world, "brook-fund/apply")
        assert "does nothing here" in issue["body"] and "reports" in issue["body"] and "funding" in issue["body"]
        number = apply(world, "brook-fund/apply")
        assert status_record(world, "brook-fund/apply", number) == (None, 0)


def test_a_push_that_touches_the_configuration_takes_effect_at_once(app_key):
    with two_funds(app_key) as world:
        world.context.funds.ttl = 3600.0  # without the push, the old rules would stay an hour
        assert not status_record(world, FUND_REPO, apply(world, FUND_REPO))[0].eligible
        push(world, FUND_REPO, "README.md", "hello")
        world.sandbox.clear_log()
        push(world, FUND_REPO, "docs/other.md", "x")
        assert world.sandbox.requests() == []  # a push elsewhere costs nothing
        push(world, FUND_REPO, FUND_FILE, strict(5))
        assert status_record(world, FUND_REPO, apply(world, FUND_REPO, user="next", project="Next"))[0].eligible


def test_uninstalling_stops_all_work_there(app_key, capsys):
    with two_funds(app_key) as world:
        number = apply(world, RIVER_REPO)
        late = world.sandbox.comment(RIVER_REPO, number, "rosa", "/help")  # sent before, delivered after
        world.deliver(world.sandbox.uninstall(RIVER_INSTALLATION, RIVER_OWNER))
        world.sandbox.clear_log()
        world.deliver(late)
        assert world.sandbox.requests("POST", f"/repos/{RIVER_REPO}/*") == []
        assert main(["sweep"], app_environ(world, app_key, repo=None)) == 0
        assert RIVER_REPO not in capsys.readouterr().out
        assert [f.repo for f in discover(world.github, world.context.funds)] == [FUND_REPO]


# --- the round's ledger --------------------------------------------------------------------------


def pool_of(amount: int) -> str:
    return fund_file(eligibility=section("eligibility", community__min_contributors=2),
                     funding=section("funding", round__pool=amount, max_per_project=50000))


def to_decision(world: World, number: int) -> None:
    for user, text in (("rita", "/score technical 4"), ("ravi", "/score technical 5\n/score impact 3"),
                       ("rita", "/advance"), ("rita", "/advance"), ("ravi", "/score funding 4"), ("rita", "/advance")):
        world.deliver(world.sandbox.comment(FUND_REPO, number, user, text))


def test_two_approvals_racing_for_the_last_of_the_pool_cannot_both_succeed(app_key):
    with two_funds(app_key, workers=4) as world:
        push(world, FUND_REPO, FUND_FILE, pool_of(60000))
        numbers = [apply(world, FUND_REPO, user=f"a{i}", project=f"P{i}") for i in range(2)]
        for number in numbers:
            to_decision(world, number)
        comments = [world.sandbox.comment(FUND_REPO, n, user, "/approve 40000")
                    for n, user in zip(numbers, ("rita", "ravi"))]
        barrier = threading.Barrier(2)

        def send(delivery) -> None:
            barrier.wait()
            world.post(delivery, wait=False)

        threads = [threading.Thread(target=send, args=(d,)) for d in comments]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        world.runtime.queue.join(30)
        world.flush()
        outcomes = [status_record(world, FUND_REPO, n)[0].outcome for n in numbers]
        assert sorted(o.name if o else "" for o in outcomes) == ["", "funded"]
        refused = numbers[outcomes.index(None)]
        assert any("more than is left in round" in body for body in
                   (c["body"] for c in world.sandbox.comments(FUND_REPO, refused) if c["user"]["type"] == "Bot"))


def one_granted_one_waiting(world: World) -> tuple[int, int]:
    """Two applications in the decision stage of a round with a pool of 60,000: the first granted 40,000."""
    push(world, FUND_REPO, FUND_FILE, pool_of(60000))
    first, second = (apply(world, FUND_REPO, user=f"a{i}", project=f"P{i}") for i in range(2))
    for number in (first, second):
        to_decision(world, number)
    world.deliver(world.sandbox.comment(FUND_REPO, first, "rita", "/approve 40000"))
    return first, second


def test_a_ledger_edited_by_hand_is_not_trusted_until_the_sweep_rebuilds_it(app_key, capsys):
    """The fund-state issue is sealed as the records are (SPEC §14): someone with write access who
    takes a grant off the ledger frees no money; the sweep rebuilds it from the sealed records."""
    with two_funds(app_key) as world:
        sb = world.sandbox
        first, second = one_granted_one_waiting(world)
        [ledger] = [i for i in sb.issues(FUND_REPO) if FUND_STATE_MARKER in i["body"]]
        state = decode(ledger["body"])
        assert state.committed("2026") == 40000
        edited = render(state.with_grant("2026", first, None), "USD", translator("en"))  # unsealed, as a person writes
        world.deliver(sb.edit_issue(FUND_REPO, ledger["number"], "open-source-fund", body=edited))

        world.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 40000"))
        assert status_record(world, FUND_REPO, second)[0].outcome is None
        assert "changed by someone other than Fund Bot" in world.bot_comments(second)[-1]

        assert main(["sweep"], app_environ(world, app_key, repo=None)) == 0
        assert "put the ledger in step" in capsys.readouterr().out
        rebuilt = decode(sb.issue(FUND_REPO, ledger["number"])["body"],
                         lambda payload, sig: fund_state_holds(world.context.seal_key, FUND_REPO, payload, sig))
        assert rebuilt.verified and dict(rebuilt.grants["2026"]) == {first: 40000}
        world.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 40000"))
        assert "more than is left in round 2026" in world.bot_comments(second)[-1]
        world.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 20000"))
        assert status_record(world, FUND_REPO, second)[0].outcome.name == "funded"


def counted(world: World, step) -> int:
    world.sandbox.clear_log()
    step()
    c = world.sandbox.request_counts()
    return c.reads + c.not_modified + c.writes


def test_an_approval_costs_the_same_with_more_grants_in_the_round(app_key):
    """The ledger is one conditional read, not a read of every funded application (SPEC §13)."""
    with two_funds(app_key) as world:
        push(world, FUND_REPO, FUND_FILE, pool_of(10_000_000))
        costs = []
        for grants_before in (0, 3):
            for i in range(grants_before):
                n = apply(world, FUND_REPO, user=f"f{i}", project="Filler")
                to_decision(world, n)
                world.deliver(world.sandbox.comment(FUND_REPO, n, "rita", "/approve 1000"))
                assert status_record(world, FUND_REPO, n)[0].outcome.name == "funded"
            advancing, approving = (apply(world, FUND_REPO, user=f"m{grants_before}{i}", project="M") for i in range(2))
            to_decision(world, approving)
            for user, text in (("rita", "/score technical 4"), ("ravi", "/score technical 5\n/score impact 3")):
                world.deliver(world.sandbox.comment(FUND_REPO, advancing, user, text))
            costs.append((
                counted(world, lambda: world.deliver(world.sandbox.comment(FUND_REPO, advancing, "rita", "/advance"))),
                counted(world, lambda: world.deliver(world.sandbox.comment(FUND_REPO, approving, "rita", "/approve 1000"))),
            ))
            assert status_record(world, FUND_REPO, approving)[0].outcome.name == "funded"
        assert costs[0] == costs[1]


def test_a_refusal_names_the_file_the_rule_came_from(app_key):
    with two_funds(app_key) as world:
        push(world, FUND_REPO, FUND_FILE, pool_of(100000))
        number = apply(world, FUND_REPO)
        to_decision(world, number)
        world.deliver(world.sandbox.comment(FUND_REPO, number, "rita", "/approve 60000"))
        replies = [c["body"] for c in world.sandbox.comments(FUND_REPO, number) if c["user"]["type"] == "Bot"]
        assert any("per-project cap" in r and FUND_FILE in r for r in replies)
        assert not any(str(DEFAULT_RULES_DIR) in r for r in replies)  # never a path on the server


def test_validate_repo_reads_a_funds_file_and_lists_every_problem(app_key, capsys):
    with two_funds(app_key) as world:
        env = app_environ(world, app_key, repo=None)
        assert main(["validate", "--repo", RIVER_REPO], env) == 0
        assert "valid" in capsys.readouterr().out
        world.sandbox.add_file(RIVER_REPO, FUND_FILE, "funding: {pool: lots}\nstagez: 1\n")
        world.sandbox.clear_log()
        assert main(["validate", "--repo", RIVER_REPO], env) == 1
        out = capsys.readouterr().out
        assert "stagez" in out and "funding" in out
        assert world.sandbox.requests("POST", f"/repos/{RIVER_REPO}/*") == []  # it only reads
        assert config_issues(world, RIVER_REPO) == []
        assert main(["validate", "--repo", "not a repo"], env) == 2
        assert main(["validate", "--repo", "river-fund/absent"], env) == 2


def test_the_dashboard_lists_the_funds_and_shows_each_one(app_key):
    with two_funds(app_key) as world:
        apply(world, RIVER_REPO, project="River Project")
        listing = world.client.get("/dashboard")
        html = listing.get_data(as_text=True)
        assert listing.status_code == 200
        assert f'href="/dashboard/{FUND_REPO}"' in html and f'href="/dashboard/{RIVER_REPO}"' in html
        page = world.client.get(f"/dashboard/{RIVER_REPO}")
        assert page.status_code == 200 and "River Project" in page.get_data(as_text=True)
        assert "River Project" not in world.client.get(f"/dashboard/{FUND_REPO}").get_data(as_text=True)
        world.sandbox.clear_log()
        stranger = world.client.get("/dashboard/someone-else/private-stuff")
        assert stranger.status_code == 404
        assert world.sandbox.requests(path="/repos/someone-else/*") == []  # an address does not make the App read


def test_a_token_in_the_address_follows_the_links(app_key):
    with two_funds(app_key) as world:
        state = world.app.extensions["fundbot.dashboard"]
        state.token = "s3cret"
        assert world.client.get("/dashboard").status_code == 401
        assert world.client.get(f"/dashboard/{RIVER_REPO}").status_code == 401
        html = world.client.get("/dashboard?token=s3cret").get_data(as_text=True)
        assert f'href="/dashboard/{RIVER_REPO}?token=s3cret"' in html
        assert world.client.get(f"/dashboard/{RIVER_REPO}?token=s3cret").status_code == 200


def test_export_takes_the_fund_by_name(app_key, capsys, tmp_path):
    with two_funds(app_key) as world:
        apply(world, RIVER_REPO, project="River Project")
        out = tmp_path / "river.csv"
        assert main(["export", "--repo", RIVER_REPO, "--output", str(out)], app_environ(world, app_key, repo=None)) == 0
        assert "River Project" in out.read_text()
        world.sandbox.add_repo("river-fund/website")
        world.deliver(world.sandbox.change_installation_repos(RIVER_INSTALLATION, RIVER_OWNER,
                                                              add=["river-fund/website"]))
        assert main(["export", "--repo", "river-fund/website"], app_environ(world, app_key, repo=None)) == 1
        assert "not a fund" in capsys.readouterr().err


# --- nothing an administrator does can wedge a fund (issue 20) -----------------------------------


def fund_state_issue(world: World) -> dict | None:
    return next((i for i in world.sandbox.issues(FUND_REPO) if FUND_STATE_MARKER in i["body"]), None)


@pytest.mark.parametrize("process", ["same", "restarted"])
@pytest.mark.parametrize("how", ["deleted", "transferred"])
def test_a_fund_state_issue_deleted_or_moved_wedges_nothing_and_no_grant_passes_the_pool(app_key, capsys, how,
                                                                                        process):
    """Before: every later delivery that needed the ledger failed with NotFound in every process that had
    read it, until a restart; and a restarted one saw an empty ledger: the pool could be granted twice."""
    with two_funds(app_key) as world:
        sb = world.sandbox
        first, second = one_granted_one_waiting(world)
        ledger = fund_state_issue(world)
        if how == "deleted":
            sb.delete_issue(FUND_REPO, ledger["number"])
        else:
            sb.add_repo("open-source-fund/archive")
            sb.transfer_issue(FUND_REPO, ledger["number"], "open-source-fund/archive")
        assert fund_state_issue(world) is None
        serving = world if process == "same" else World(sb, world.settings.api_url, APP_ID, app_key,
                                                        settings={"repo": None}, seed=False)
        try:
            serving.deliver(sb.comment(FUND_REPO, second, "stan", "/approve 1"))  # a stranger: refused, as ever
            assert "is for reviewers" in serving.bot_comments(second)[-1]
            serving.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 40000"))  # the pool cannot be checked
            assert status_record(serving, FUND_REPO, second)[0].outcome is None
            assert "is missing: it was deleted or moved" in serving.bot_comments(second)[-1]

            assert main(["sweep"], app_environ(world, app_key, repo=None)) == 0  # rebuilt from the sealed records
            assert "put the ledger in step" in capsys.readouterr().out
            rebuilt = fund_state_issue(world)
            assert rebuilt is not None and rebuilt["number"] != ledger["number"]
            state = decode(rebuilt["body"], lambda payload, sig: fund_state_holds(world.context.seal_key, FUND_REPO,
                                                                                  payload, sig))
            assert state.verified and dict(state.grants["2026"]) == {first: 40000}
            serving.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 40000"))
            assert "more than is left in round 2026" in serving.bot_comments(second)[-1]
            serving.deliver(sb.comment(FUND_REPO, second, "ravi", "/approve 20000"))
            assert status_record(serving, FUND_REPO, second)[0].outcome.name == "funded"
            assert [i["number"] for i in sb.issues(FUND_REPO) if FUND_STATE_MARKER in i["body"]] == [rebuilt["number"]]
        finally:
            if serving is not world:
                serving.close()


def test_the_configuration_issue_and_the_sweep_log_deleted_are_opened_anew(app_key):
    with two_funds(app_key) as world:
        sb = world.sandbox
        push(world, FUND_REPO, FUND_FILE, "eligibility: [1]\n")
        [issue] = config_issues(world, FUND_REPO)
        sb.delete_issue(FUND_REPO, issue["number"])
        push(world, FUND_REPO, FUND_FILE, "eligibility: [2]\n")  # this process remembered the deleted one
        [again] = config_issues(world, FUND_REPO)
        assert again["number"] != issue["number"] and again["state"] == "open"
        push(world, FUND_REPO, FUND_FILE, strict(4))
        assert config_issues(world, FUND_REPO)[0]["state"] == "closed"

        number = apply(world, FUND_REPO)
        first = world.sweep()
        assert first.logged
        sb.delete_issue(FUND_REPO, first.log.number)
        world.deliver(sb.comment(FUND_REPO, number, "applicant", "/withdraw"))
        sb.travel(dt.timedelta(days=1))
        second = world.sweep()
        assert second.ok and second.logged and second.log.number not in (first.log.number, number)


def test_a_fund_file_sets_only_what_differs_from_the_servers_rules(app_key, capsys):
    """Before: a section in the file replaced the server's whole section, so one key changed meant copying
    the section (three `required` problems for `eligibility: {community: {min_contributors: 20}}`)."""
    with two_funds(app_key) as world:
        push(world, FUND_REPO, FUND_FILE, "eligibility:\n  community:\n    min_contributors: 20\n")
        assert not config_issues(world, FUND_REPO) or config_issues(world, FUND_REPO)[0]["state"] == "closed"
        assert not status_record(world, FUND_REPO, apply(world, FUND_REPO))[0].eligible  # 5 people, 20 needed

        assert main(["config", "show", "--repo", FUND_REPO], app_environ(world, app_key, repo=None)) == 0
        shown = capsys.readouterr().out.splitlines()
        assert "eligibility.community.min_contributors = 20  (.github/fund-bot.yml)" in shown
        assert any(line.startswith("eligibility.activity.") and line.endswith("eligibility.yml)") for line in shown)

        push(world, FUND_REPO, FUND_FILE, "eligibility:\n  community:\n    min_contributors: null\n")  # the server's again
        assert status_record(world, FUND_REPO, apply(world, FUND_REPO, user="b", project="B"))[0].eligible

        push(world, FUND_REPO, FUND_FILE, "eligibility:\n  community:\n    min_contributors: many\n")
        [issue] = config_issues(world, FUND_REPO)
        assert ".github/fund-bot.yml | eligibility.community.min_contributors | 'many' is not of type" \
               in issue["body"].replace("\\", "")


def test_funds_of_one_organisation_share_defaults_through_extends(app_key, capsys):
    with two_funds(app_key) as world:
        sb = world.sandbox
        sb.add_repo("open-source-fund/.github")
        sb.add_file("open-source-fund/.github", FUND_FILE,
                    "eligibility:\n  community:\n    min_contributors: 20\nfunding:\n  max_per_project: 7000\n")
        push(world, FUND_REPO, FUND_FILE, "_extends: .github\nfunding:\n  max_per_project: 9000\n")
        assert not status_record(world, FUND_REPO, apply(world, FUND_REPO))[0].eligible  # the organisation's 20
        assert main(["config", "show", "--repo", FUND_REPO], app_environ(world, app_key, repo=None)) == 0
        shown = capsys.readouterr().out.splitlines()
        assert "eligibility.community.min_contributors = 20  (open-source-fund/.github:.github/fund-bot.yml)" in shown
        assert "funding.max_per_project = 9000  (.github/fund-bot.yml)" in shown  # the fund's own, over the base


@pytest.mark.parametrize("extends, problem", [
    ("applications", "leads back to open-source-fund/applications:.github/fund-bot.yml"),
    ("open-source-fund/loop-a", "leads back to open-source-fund/loop-a"),
    ("private-org/secret", "was not found, or is in a repository Fund Bot is not installed on"),
    ("open-source-fund/huge", "10,485,760 bytes; at most 65,536 are read"),
    ("open-source-fund/deep-1", "is a third file deep"),
    ("not a repo!", "is not a repository"),
], ids=["itself", "a loop", "a private repository", "a 10 MB file", "three deep", "no repository"])
def test_extends_that_cannot_be_followed_is_a_listed_problem(app_key, extends, problem):
    with two_funds(app_key) as world:
        sb = world.sandbox
        sb.add_user("private-org", "Organization")
        sb.add_repo("private-org/secret", private=True)
        sb.add_file("private-org/secret", FUND_FILE, "fund: {}\n")
        for name, text in (("loop-a", "_extends: loop-b\n"), ("loop-b", "_extends: loop-a\n"),
                           ("huge", "# " + "x" * (10 * 1024 * 1024 - 3) + "\n"),
                           ("deep-1", "_extends: deep-2\n"), ("deep-2", "_extends: deep-3\n"), ("deep-3", "fund: {}\n")):
            sb.add_repo(f"open-source-fund/{name}")
            sb.add_file(f"open-source-fund/{name}", FUND_FILE, text)
        push(world, FUND_REPO, FUND_FILE, f"_extends: {extends}\n")
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "open" and problem in issue["body"].replace("\\", "")
        assert not status_record(world, FUND_REPO, apply(world, FUND_REPO))[0].eligible  # the last valid rules: 10


def test_a_file_that_flips_between_valid_and_invalid_on_every_push(app_key):
    with two_funds(app_key) as world:
        for i in range(6):
            valid = i % 2 == 1
            push(world, FUND_REPO, FUND_FILE, strict(2 + i) if valid else f"eligibility: [{i}]\n")
            [issue] = config_issues(world, FUND_REPO)
            assert issue["state"] == ("closed" if valid else "open")
            record = status_record(world, FUND_REPO, apply(world, FUND_REPO, user=f"u{i}", project=f"P{i}"))[0]
            assert record.eligible == (valid and 2 + i <= 5 or not valid and i > 1 and 2 + i - 1 <= 5)
        assert len(config_issues(world, FUND_REPO)) == 1


def test_a_storm_of_pushes_reads_the_files_once_per_ttl(app_key):
    """Before: each push read the files (and the issues that speak of them, and the labels) again."""
    with two_funds(app_key) as world:
        sb = world.sandbox
        push(world, FUND_REPO, FUND_FILE, strict(4))
        sb.clear_log()
        for i in range(100):  # a minute's pushes, the last one saying 5
            world.deliver(sb.commit_file(FUND_REPO, FUND_FILE, strict(5 + (i + 1) % 2), "open-source-fund"))
        reads = [r for r in sb.requests() if r.path.endswith("/contents/.github/fund-bot.yml")]
        assert reads == []
        sb.travel(dt.timedelta(seconds=CONFIG_TTL + 1))
        number = apply(world, FUND_REPO)
        assert len([r for r in sb.requests() if r.path.endswith("/contents/.github/fund-bot.yml")]) == 1
        assert status_record(world, FUND_REPO, number)[0].eligible  # the last push's 5 is in force


def test_a_fund_without_a_file_keeps_the_servers_rules_when_a_bad_file_comes(app_key):
    """Before: a fund run by the server's rules (FUNDBOT_REPO, no file) that got an invalid file "never had
    a valid configuration", and the bot stopped answering there, although the server's rules were valid."""
    with running_world(openapi=OPENAPI_SUBSET, app_id=APP_ID, app_key=app_key) as world:
        sb = world.sandbox
        world.add_applicant_repo(APPLICANT_REPO, people=5)
        push(world, FUND_REPO, FUND_FILE, "eligibility: [1]\n")
        [issue] = config_issues(world, FUND_REPO)
        assert issue["state"] == "open" and "keeps acting by the last valid configuration" in issue["body"]
        assert status_record(world, FUND_REPO, apply(world, FUND_REPO))[0].eligible  # the server's 3
        state = fund_state_issue(world)
        assert state is not None and "the server's rules (the fund's own file is invalid)" in state["body"]
        restarted = World(sb, world.settings.api_url, APP_ID, app_key, seed=False)
        try:
            number = apply(restarted, FUND_REPO, user="later", project="Later")
            assert status_record(restarted, FUND_REPO, number)[0].eligible
        finally:
            restarted.close()
