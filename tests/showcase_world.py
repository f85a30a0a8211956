"""A fund whose grants make a showcase, built the way people build it, for the showcase's build and browser
tests: grants paid in two tranches, progress reports by comment and by issue (accepted, and one not yet),
a hostile project name and report, a 100 KB report, a record edited by hand, and applications that must
never appear (declined, withdrawn, open). `seed_showcase` returns the issue numbers by role."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from fund_config import fund_file, funding_section, use_fund_file
from pipeline_world import ACTIVE_REPO, advance_to, open_application, say

from bot.demo.samples import report_body
from bot.demo.world import FUND_REPO, World

HOSTILE_NAME = '<script>alert("x")</script> <b>Bold</b> \u202eevil'
HOSTILE_REPORT = ('<script>alert("report")</script> We <b>shipped</b> the plugin API. '
                  '<a href="https://example.com/x">a link</a> and <img src=x onerror=alert(2)> and the farm.')
# 35,000 Chinese characters: 105,000 bytes in UTF-8, within GitHub's 65,536 characters of a comment.
LONG_REPORT = ("我们完成了插件接口和测试农场的建设。" * 2000)[:35_000]
REPORT = ('<script>alert("report")</script> We <b>shipped</b> the plugin API. '
                  '<a href="https://example.com/x">a link</a> and <img src=x onerror=alert(2)> and the farm.')
# 35,000 Chinese characters: 105,000 bytes in UTF-8, within GitHub's 65,536 characters of a comment.
LONG_REPORT = ("我们完成了插件接口和测试农场的建设。" * 2000)[:35_000]
TO_DECISION = [("rita", "/score technical 4"), ("ravi", "/score technical 5\n/score impact 3"), ("rita", "/advance"),
               ("rita", "/advance"), ("ravi", "/score funding 4"), ("rita", "/advance")]
REPORT = ("/report We shipped the plugin API and the ARM test farm, released 1.0 with twelve new contributors, and "
          "spent the first half of the grant on two maintainers.")


def showcase_fund_file(**fund: object) -> str:
    """The fund's `.github/fund-bot.yml`: grants paid in two halves (and `fund:` keys, when given)."""
    return fund_file(funding=funding_section(tranches=[50, 50]), **({"fund": fund} if fund else {}))


def funded(world: World, user: str, project: str, amount: str) -> int:
    number = open_application(world, user, project, repo=ACTIVE_REPO)
    advance_to(world, number, "decision")
    say(world, number, "rita", f"/approve {amount}")
    return number


def seed_showcase(world: World) -> dict[str, int]:
    sb = world.sandbox
    use_fund_file(world, showcase_fund_file())
    world.add_applicant_repo(ACTIVE_REPO)
    n: dict[str, int] = {}
    n["reported"] = funded(world, "ada", "Tiny Inference", "30000")
    n["hostile"] = funded(world, "bo", HOSTILE_NAME, "20000")
    n["long"] = funded(world, "cy", "长报告项目", "10000")
    n["fresh"] = funded(world, "dee", "Fresh Grant", "12000.50")
    n["edited"] = funded(world, "eve", "Edited Record", "5000")
    n["declined"] = open_application(world, "fay", "Declined Thing", repo=ACTIVE_REPO)
    say(world, n["declined"], "rita", "/decline Out of the fund's scope this round.")
    n["withdrawn"] = open_application(world, "gus", "Changed Mind", repo=ACTIVE_REPO)
    say(world, n["withdrawn"], "gus", "/withdraw")
    n["open"] = open_application(world, "hal", "Still In Review", repo=ACTIVE_REPO)

    sb.travel(dt.timedelta(days=80))
    say(world, n["reported"], "ada", REPORT)
    say(world, n["reported"], "ravi", "/accept-report")
    say(world, n["reported"], "ada", "/report A second report that no reviewer has accepted yet: the docs site and a "
                                    "third release are under way with the new contributors.")
    report = sb.open_issue(FUND_REPO, "bo", "[Report]: hostile", report_body(n["hostile"], progress=HOSTILE_REPORT),
                           labels=["fund: report"])
    world.deliver(report)
    n["report_issue"] = int(report.payload["issue"]["number"])
    say(world, n["hostile"], "ravi", "/accept-report")
    say(world, n["long"], "cy", "/report\n" + LONG_REPORT)
    say(world, n["long"], "ravi", "/accept-report")

    # Someone with write access edits the status comment: the grant "was" 999,999.
    from bot.policy.markers import read_record, record_payload

    [status] = world.status_comments(n["edited"])
    found = read_record(status["body"])
    inflated = dataclasses.replace(found.record, outcome=dataclasses.replace(found.record.outcome,
                                                                             amount=Decimal(999999)))
    sb.edit_comment(FUND_REPO, status["id"], "open-source-fund",
                    status["body"].replace(found.block.payload, record_payload(inflated)))
    sb.pending_deliveries()  # the edit's delivery is lost: the record stays edited for the build to find
    return n
