"""Governance end to end (SPEC §14): the real service against the sandbox GitHub — a conflicted
reviewer refused, a grant paid in two tranches after an accepted report (redeliveries included), an
application filed between rounds, and an edited record detected and rebuilt."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from fund_config import app_environ, fund_file, funding_section, use_funding
from pipeline_world import ACTIVE_REPO, advance_to, bot_replies, frozen_world, open_application, say
from sandbox_fixtures import APP_ID

from bot.cli import main
from bot.config.rules import fund_rules
from bot.demo.world import FUND_REPO, World


def test_a_reviewer_from_the_applicants_organisation_is_refused_with_one_lookup(app_key):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        sb.add_user("tiny-org", "Organization")
        world.add_applicant_repo(ACTIVE_REPO)
        sb.add_org_member("tiny-org", "ola")  # a public member of the applicant's organisation
        sb.set_permission(FUND_REPO, "ola", "write")  # and a reviewer of the fund
        number = open_application(world, "ada", "Org Project", repo=ACTIVE_REPO)
        sb.clear_log()
        say(world, number, "ola", "/score technical 5")
        assert any("not of this application" in r and "member" in r for r in bot_replies(world, number))
        assert world.record(number).scores == ()
        say(world, number, "rita", "/score technical 4")  # rita is not a member: her score counts
        say(world, number, "ola", "/advance")
        lookups = sb.requests("GET", "/orgs/tiny-org/public_members/*")
        assert sorted(r.path.rsplit("/", 1)[1] for r in lookups) == ["ola", "rita"]  # once each, kept in the record
        assert [s.reviewer for s in world.record(number).scores] == ["rita"]
        status = world.status_comment(number)
        assert "Conflicts of interest" in status and "ola" in status.split("Conflicts of interest")[1]


def at_decision_in_two_tranches(world: World) -> int:
    """An application in the decision stage of a fund that pays grants in two halves."""
    use_funding(world, tranches=[50, 50])
    world.add_applicant_repo(ACTIVE_REPO)
    number = open_application(world, "ada", "Two Parts", repo=ACTIVE_REPO)
    advance_to(world, number, "decision")
    return number


def test_a_grant_in_two_tranches_is_paid_after_an_accepted_report_and_never_twice(app_key, tmp_path):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        number = at_decision_in_two_tranches(world)
        approve = sb.comment(FUND_REPO, number, "rita", "/approve 30000")
        world.deliver(approve)
        assert [(t.k, str(t.amount)) for t in world.record(number).tranches] == [(1, "15000.00")]
        world.deliver(approve)  # redelivered: nothing more
        sb.travel(dt.timedelta(days=80))
        say(world, number, "ada", "/report " + "We shipped the plugin API and the ARM test farm. " * 3)
        accept = sb.comment(FUND_REPO, number, "ravi", "/accept-report")
        world.deliver(accept)
        for _ in range(2):  # a redelivery, and a second reviewer accepting the same report
            world.deliver(accept)
        say(world, number, "rita", "/accept-report")
        record = world.record(number)
        assert [(t.k, t.n, str(t.amount), t.by) for t in record.tranches] == [
            (1, 2, "15000.00", "rita"), (2, 2, "15000.00", "ravi")]
        assert any("no progress report waits" in r for r in bot_replies(world, number))
        out = tmp_path / "payouts.csv"
        assert main(["export", "--payouts", "-o", str(out)], app_environ(world, app_key)) == 0
        lines = out.read_text().splitlines()
        assert lines[0] == "date,application,project,payee,amount,currency,tranche"
        assert [line.split(",")[3:] for line in lines[1:]] == [["ada", "15000.00", "USD", "1 of 2"],
                                                              ["ada", "15000.00", "USD", "2 of 2"]]

        # Someone with write access edits the status comment: part 1 "was" 999,999. Not a payout.
        from bot.policy.markers import read_record, record_payload

        [status] = world.status_comments(number)
        found = read_record(status["body"])
        inflated = dataclasses.replace(found.record, tranches=(
            dataclasses.replace(found.record.tranches[0], amount=Decimal(999999)), *found.record.tranches[1:]))
        sb.edit_comment(FUND_REPO, status["id"], "open-source-fund",
                        status["body"].replace(found.block.payload, record_payload(inflated)))
        sb.pending_deliveries()
        assert main(["export", "--payouts", "-o", str(out)], app_environ(world, app_key)) == 1
        assert out.read_text().splitlines() == [lines[0]]  # left out, and said on stderr


def test_an_application_filed_between_rounds_waits_for_the_next(app_key, capsys):
    rounds = [{"name": "autumn", "opens": "2026-09-01", "closes": "2026-12-20", "pool": 100000},
              {"name": "spring", "opens": "2027-02-01", "closes": "2027-03-31", "pool": 50000}]
    with frozen_world(app_key) as world:  # the sandbox's day: 2027-01-04
        use_funding(world, rounds=rounds)
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Early Bird", repo=ACTIVE_REPO)
        record = world.record(number)
        assert record.eligible and record.round == "" and record.stage == "screening"
        [told] = bot_replies(world, number)
        assert "spring" in told and "Feb 1, 2027" in told
        assert "waiting for spring" in world.status_comment(number)
        say(world, number, "rita", "/stage technical")
        assert world.record(number).stage == "screening"
        world.sandbox.travel(dt.timedelta(days=30))
        world.sweep()
        record = world.record(number)
        assert record.round == "spring" and record.stage == "technical"
        assert "round: spring" in world.labels(number)
        assert len(bot_replies(world, number)) == 2  # told once; the refused /stage answered once
        capsys.readouterr()
        assert main(["export", "--round", "spring", "--format", "json"], app_environ(world, app_key)) == 0
        assert [a["number"] for a in json.loads(capsys.readouterr().out)["applications"]] == [number]
        assert main(["export", "--round", "Spring "], app_environ(world, app_key)) == 2  # no such round: said, not empty
        assert "no funding round named 'Spring '" in capsys.readouterr().err


def test_an_edited_record_is_detected_rebuilt_and_said(app_key, capsys):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Honest", repo=ACTIVE_REPO)
        say(world, number, "rita", "/score technical 2")
        assert main(["verify"], app_environ(world, app_key)) == 0
        # An admin edits the status comment's record: moves it to decision and fakes a second score.
        [status] = world.status_comments(number)
        from bot.policy.markers import read_record, record_payload

        found = read_record(status["body"])
        forged = found.record.moved_to("decision", at=found.record.checked_at, by="rita", via="/stage")
        body = status["body"].replace(found.block.payload, record_payload(forged))
        sb.edit_comment(FUND_REPO, status["id"], "open-source-fund", body)
        sb.pending_deliveries()
        capsys.readouterr()
        assert main(["verify"], app_environ(world, app_key)) == 1
        assert f"{FUND_REPO}#{number}" in capsys.readouterr().out
        say(world, number, "ravi", "/score impact 4")  # the next delivery finds the record untrustworthy
        record = world.record(number)
        assert record.stage == "technical" and {s.reviewer for s in record.scores} == {"rita", "ravi"}
        assert "could not be verified" in world.status_comment(number)
        assert main(["verify"], app_environ(world, app_key)) == 0
        capsys.readouterr()
        assert main(["export", "--audit"], app_environ(world, app_key)) == 0
        entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert {"rebuilt", "score", "stage"} <= {e["what"] for e in entries}
        assert all(e["application"] == number and e["sealed"] for e in entries)


def test_a_private_key_rotated_as_the_readme_says_keeps_every_seal(app_key, capsys):
    """GITHUB_PRIVATE_KEY_PREVIOUS while rotating: the records and the ledger sealed with the old key
    still hold (nothing rebuilt, though the rules changed meanwhile); one sweep seals them anew, and
    then the old key can go."""
    from bot.sandbox.keys import throwaway_app_key

    with frozen_world(app_key) as world:
        sb = world.sandbox
        number = at_decision_in_two_tranches(world)
        say(world, number, "rita", "/approve 30000")
        replies = bot_replies(world, number)
        new_key = throwaway_app_key()
        sb.register_app(APP_ID, new_key)
        changed = fund_file(funding=funding_section(tranches=[20, 80], max_per_project=1000))
        rotating = World(sb, world.settings.api_url, APP_ID, new_key, seed=False,
                         settings={"private_key_previous": app_key})
        try:
            rotating.use_rules(fund_rules(rotating.rules, changed, {}))
            sb.travel(dt.timedelta(days=1))
            assert rotating.sweep().ok
            record = rotating.record(number)
            assert record.funded and [(t.k, t.n, str(t.amount)) for t in record.tranches] == [(1, 2, "15000.00")]
            assert "could not be verified" not in rotating.status_comment(number)
            assert bot_replies(rotating, number) == replies
        finally:
            rotating.close()
        rotated = World(sb, world.settings.api_url, APP_ID, new_key, seed=False)  # the old key gone
        try:
            rotated.use_rules(fund_rules(rotated.rules, changed, {}))
            env = {**app_environ(world, app_key), "GITHUB_PRIVATE_KEY": new_key}
            capsys.readouterr()
            assert main(["verify"], env) == 0  # every record sealed anew by the sweep
            sb.travel(dt.timedelta(days=70))
            say(rotated, number, "ada", "/report " + "We shipped the plugin API and the ARM test farm. " * 3)
            say(rotated, number, "ravi", "/accept-report")
            assert [str(t.amount) for t in rotated.record(number).tranches] == ["15000.00", "15000.00"]
            assert "could not be verified" not in rotated.status_comment(number)
        finally:
            rotated.close()
