"""Reviewers kept moving, end to end (SPEC §7, §14): the real service against the sandbox GitHub — a stalled
stage reminding its assignees (not the one away), then escalating to its leads once; the stalled-review view
on the dashboard and in `fundbot status`; and the weekly digest, one issue edited in place and opened anew
when deleted."""
from __future__ import annotations

import datetime as dt
import json
import re

from fund_config import app_environ, fund_file, stages_section, use_fund_file
from pipeline_world import ACTIVE_REPO, advance_to, frozen_world, open_application, say

from bot.cli import main
from bot.demo.world import FUND_REPO, World
from bot.policy.markers import DIGEST_MARKER

DAY = dt.timedelta(days=1)


def notices(world: World, number: int, kind: str) -> list[str]:
    return [b for b in world.bot_comments(number) if f"<!-- fund-bot:notice {kind}:" in b]


def digests(world: World) -> list[dict]:
    return [i for i in world.sandbox.issues(FUND_REPO) if DIGEST_MARKER in (i["body"] or "")]


def with_leads_and_digest(world: World) -> None:
    stages = stages_section(decision={"leads": {"users": ["lea"], "after_days": 7}})
    stages["digest"] = True
    use_fund_file(world, fund_file(stages=stages))


def test_a_stalled_stage_escalates_to_its_leads_and_the_views_say_who_is_waited_on(app_key, capsys):
    with frozen_world(app_key) as world:
        sb = world.sandbox
        with_leads_and_digest(world)
        sb.set_permission(FUND_REPO, "ruth", "write")
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Slow Money", repo=ACTIVE_REPO)
        advance_to(world, number, "decision")
        say(world, number, "rita", "/assign @ravi @ruth")
        say(world, number, "ruth", "/away until 2027-03-01")

        sb.travel(15 * DAY)
        world.sweep()
        world.sweep()  # twice: nothing twice
        [reminder] = notices(world, number, "stalled")
        assert "@ravi" in reminder and "@ruth" not in reminder  # ruth is away
        assert notices(world, number, "escalated") == []

        capsys.readouterr()
        assert main(["status", "--json", "--now", sb.now().isoformat()], app_environ(world, app_key)) == 0
        [row] = [r for r in json.loads(capsys.readouterr().out) if r["number"] == number]
        assert row["stalled"] and row["waiting_on"] == "reviewers" and row["people"] == ["ravi"]
        assert row["next_reminder"] == "2027-01-26" and not row["escalated"]

        sb.travel(7 * DAY)
        world.sweep()
        [escalation] = notices(world, number, "escalated")
        assert "@lea" in escalation and "@ravi" in escalation and "reminded on Jan 19, 2027" in escalation
        sb.travel(10 * DAY)
        world.sweep()
        assert len(notices(world, number, "escalated")) == 1 and len(notices(world, number, "stalled")) == 1

        assert main(["status", "--stalled", "--now", sb.now().isoformat()], app_environ(world, app_key)) == 0
        out = capsys.readouterr().out
        assert re.search(rf"#{number}\s+decision\s+waiting for its reviewers\s+on @ravi, @lea", out), out
        assert "[stalled, escalated to the leads]" in out

        html = world.client.get(f"/dashboard/{FUND_REPO}").get_data(as_text=True)
        waiting = html.split('id="waiting-heading"')[1].split("</section>")[0]
        assert f"#{number} Slow Money" in waiting and "escalated to the leads" in waiting and "@lea" in waiting


def test_the_weekly_digest_is_one_issue_edited_once_a_week_and_opened_anew_when_deleted(app_key):
    with frozen_world(app_key) as world:  # Monday, Jan 4, 2027
        sb = world.sandbox
        with_leads_and_digest(world)
        world.add_applicant_repo(ACTIVE_REPO)
        waiting = open_application(world, "ada", "Waiting Project", repo=ACTIVE_REPO)
        say(world, waiting, "rita", "/assign @ravi")
        asked = open_application(world, "bo", "Asked Project", repo=ACTIVE_REPO)
        say(world, asked, "rita", "/needs-info Which boards?")
        world.sweep()
        [digest] = digests(world)
        assert digest["user"]["type"] == "Bot" and "What waits on whom" in digest["body"]
        assert "### @\u2060ravi" in digest["body"] and f"#{waiting} Waiting Project (technical)" in digest["body"]
        assert "### @\u2060bo" in digest["body"] and "waiting for the applicant" in digest["body"]
        sb.clear_log()
        sb.travel(2 * DAY)
        world.sweep()  # the same week: not written, not even read
        assert sb.requests("PATCH", f"/repos/{FUND_REPO}/issues/{digest['number']}") == []
        assert sb.requests("GET", f"/repos/{FUND_REPO}/issues/{digest['number']}") == []
        sb.travel(5 * DAY)  # the next week
        world.sweep()
        [edited] = digests(world)
        assert edited["number"] == digest["number"] and "Week 2027-W02" in edited["body"]
        sb.delete_issue(FUND_REPO, digest["number"])
        sb.travel(7 * DAY)
        world.sweep()
        [anew] = digests(world)
        assert anew["number"] != digest["number"] and "Week 2027-W03" in anew["body"]


def test_without_digest_in_the_rules_no_digest_is_written(app_key):
    with frozen_world(app_key) as world:
        world.add_applicant_repo(ACTIVE_REPO)
        open_application(world, "ada", "Quiet", repo=ACTIVE_REPO)
        world.sweep()
        assert digests(world) == []
