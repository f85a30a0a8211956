"""End to end: the real service, run by gunicorn exactly as the Procfile's `web:` line runs it, against
the sandbox GitHub over loopback, fed signed deliveries built from GitHub's example payloads.

One application's whole life: filed with a mistake, edited, a repeated delivery, reviewers'
commands, a refused stranger, community votes, the grant, then reminders, a `/report`, an overdue
report and a progress-report issue by time travel and the sweep. The same lifecycle runs again
with GitHub misbehaving (502s, secondary rate limits with Retry-After, 300 ms on every request)
and must end in the same state: no duplicate comments, nothing lost. Every request the service
makes is checked against GitHub's OpenAPI description (the `sandbox` fixture fails on any).

The service runs on the wall clock while the sandbox and the sweep (run in this process, as
`fundbot sweep` would) run on the sandbox clock, which time travel moves; the service renews the
installation token that GitHub (the sandbox) says has expired.
"""
from __future__ import annotations

from decimal import Decimal
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from e2e_harness import Fund, Service
from sandbox_fixtures import APP_ID
from pipeline_world import filed

from bot.policy.intake import body_sha
from bot.policy.record import Record, decision_date
from bot.policy.reports import due_dates as due_dates_of
from bot.sandbox import Delivery, Faults
from bot.demo.samples import REPORT_TEXT, application_body, report_body
from bot.demo.world import FUND_REPO, World
from bot.jobs.sweep import sweep

pytestmark = pytest.mark.e2e

APPLICANT = "alice-dev"
# With this seed (and the service's retry budget of 1 s) the service gives up on the `issues.opened`
# delivery, and the sweep finishes it; the test must pass with any seed.
FAULTS = Faults(error_rate=0.06, secondary_rate_limit_rate=0.04, latency_ms=300, retry_after=1, seed=3)


@dataclasses.dataclass
class Run:
    """What the lifecycle made: the numbers and ids its end state is stated in."""

    application: int = 0
    report_issue: int = 0
    stranger_comment: int = 0
    command_comments: list[int] = dataclasses.field(default_factory=list)
    report_comment: int = 0
    decided: dt.date | None = None


@pytest.fixture
def fund(sandbox, sandbox_server, app_key, tmp_path, request) -> Iterator[Fund]:
    """The fund on the sandbox (seeded by `World`) and gunicorn serving it. Parametrised with
    "faulted", the service gives up sooner (FUNDBOT_MAX_RETRY_WAIT=1), so that deliveries can fail."""
    faulted = getattr(request, "param", None) == "faulted"
    world = World(sandbox, sandbox_server.url, APP_ID, app_key)
    env = {"FUNDBOT_MAX_RETRY_WAIT": "1"} if faulted else {}
    service = Service(sandbox_server.url, APP_ID, app_key, tmp_path / "gunicorn.log", **env)
    with service:
        # Under faults, a delivery the service gave up on is finished by the sweep: allowed and
        # expected (GitHub does not redeliver by itself; the sweep is the safety net).
        yield Fund(world, service, settle_timeout=60 if faulted else 20, repair=faulted)
    world.close()
    log = service.log()
    assert app_key.strip().splitlines()[1] not in log and service.secret not in log  # never a secret


# --- the lifecycle ---------------------------------------------------------------------------------


def record(fund: Fund, number: int) -> Record | None:
    return fund.world.record(number)


def due_dates(fund: Fund, decided: dt.date) -> list[dt.date]:
    return due_dates_of(decided, fund.world.rules.reports, 2)


def intake_done(fund: Fund, number: int) -> Callable[[], bool]:
    def done() -> bool:
        current = record(fund, number)
        return current is not None and current.body_sha == body_sha(fund.sandbox.issue(FUND_REPO, number)["body"])
    return done


def say(fund: Fund, run: Run, user: str, text: str) -> int:
    """A comment on the application; waits until the service has processed it (the record says so)."""
    delivery = fund.sandbox.comment(FUND_REPO, run.application, user, text)
    comment_id = delivery.payload["comment"]["id"]

    def done() -> bool:
        current = record(fund, run.application)
        return current is not None and current.last_comment_id >= comment_id

    fund.act(delivery, done)
    return comment_id


def travel_to(fund: Fund, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(9), dt.timezone.utc)
    assert moment > fund.sandbox.now()
    fund.sandbox.travel(moment - fund.sandbox.now())


def labels(fund: Fund, number: int) -> set[str]:
    return set(fund.sandbox.issue_labels(FUND_REPO, number))


def lifecycle(fund: Fund) -> Run:
    sb, run = fund.sandbox, Run()
    fund.world.add_applicant_repo("tiny-org/tiny-inference")

    # Filed with a mistake: the status comment says what to fix.
    opened = filed(sb, APPLICANT, "Tiny Inference", funding_amount="forty thousand dollars")
    run.application = opened.payload["issue"]["number"]
    assert fund.act(opened, intake_done(fund, run.application))["status"] == "queued"
    assert "is not an amount in US dollars" in fund.world.status_comment(run.application)
    assert labels(fund, run.application) == {"fund: application", "stage: screening", "eligibility: failed"}

    # The edited form passes and moves on by itself; the same delivery again is processed once.
    edited = sb.edit_issue(FUND_REPO, run.application, APPLICANT, body=application_body())
    fund.act(edited, intake_done(fund, run.application))
    assert record(fund, run.application).stage == "technical"
    again = fund.post(edited)  # GitHub's "Redeliver" keeps the X-GitHub-Delivery id
    if edited in fund.repaired:  # a failed delivery is forgotten, so that a redelivery can retry it
        assert again["status"] == "queued"
    else:
        assert again == {"status": "duplicate", "reason": "this delivery id was already received"}

    # Reviewers' commands, a stranger refused, the community's votes, the grant.
    run.command_comments.append(say(fund, run, "rita", "/score technical 4\n/score impact 5"))
    run.stranger_comment = say(fund, run, "stan", "/advance")
    assert record(fund, run.application).stage == "technical"
    run.command_comments.append(say(fund, run, "ravi", "/score technical 3\n/advance"))
    for voter, vote in [("ann", "+1"), ("ben", "+1"), ("cat", "-1"), (APPLICANT, "+1")]:
        sb.react(FUND_REPO, run.application, voter, vote)
    run.command_comments.append(say(fund, run, "ravi", "/advance"))
    run.command_comments.append(say(fund, run, "rita", "/score funding 4\n/advance\n/approve 40000"))
    run.decided = decision_date(record(fund, run.application))
    assert run.decided is not None

    # After the grant: the sweep's reminder, a /report, a missed date, a progress-report issue.
    reports = fund.world.rules.reports
    due = due_dates(fund, run.decided)
    travel_to(fund, due[0] - dt.timedelta(days=reports.reminder_lead_days))
    fund.sweep_until_ok()
    assert "report: due" in labels(fund, run.application)
    run.report_comment = say(fund, run, APPLICANT, f"/report\n{REPORT_TEXT}")
    run.command_comments.append(run.report_comment)
    assert "report: due" not in labels(fund, run.application)
    travel_to(fund, due[1] + dt.timedelta(days=reports.overdue_grace_days))  # late: the reviewers are told
    fund.sweep_until_ok()
    assert "report: overdue" in labels(fund, run.application)
    report = sb.open_issue(FUND_REPO, APPLICANT, "Progress report: Tiny Inference", report_body(run.application),
                           labels=["fund: report"])
    run.report_issue = report.payload["issue"]["number"]
    fund.act(report, lambda: sb.issue(FUND_REPO, run.report_issue)["state"] == "closed")
    assert fund.sweep_until_ok().lines == []  # the next daily sweep finds nothing left undone
    return run


# --- the end state -----------------------------------------------------------------------------------

NOTICE = re.compile(r"<!-- fund-bot:notice (\S+) -->")


def end_state(fund: Fund, run: Run) -> dict:
    sb, current = fund.sandbox, record(fund, run.application)

    def issue(number: int) -> dict:
        comments = sb.comments(FUND_REPO, number)
        bot = [c["body"] for c in comments if c["user"]["type"] == "Bot"]
        return {
            "labels": labels(fund, number),
            "state": sb.issue(FUND_REPO, number)["state"],
            "bot comments": len(bot),
            "status comments": sum("fund-bot:status" in body for body in bot),
            "notices": sorted(key for body in bot for key in NOTICE.findall(body)),
            "thumbs up": {c["id"]: c["reactions"]["+1"] for c in comments if c["user"]["type"] != "Bot"},
        }

    return {
        "application": issue(run.application),
        "report issue": issue(run.report_issue),
        "outcome": (current.outcome.name, current.outcome.by, current.outcome.amount) if current.outcome else None,
        "history": [(h.stage, h.by, h.via) for h in current.history],
        "scores": sorted((s.reviewer, s.criterion, s.value) for s in current.scores),
        "votes": (current.votes_up, current.votes_down),
        "reports": [(r.by, r.ref) for r in current.reports],
        "form problems": current.form_problems,
        "eligible": current.eligible,
    }


def expected_end_state(fund: Fund, run: Run) -> dict:
    due = due_dates(fund, run.decided)
    notices = [f"reply:{run.stranger_comment}", f"report-reminder:{due[0]}", f"report-overdue:{due[1]}",
               # each report answered with the evidence against the application's (issue 21)
               f"evidence:report:comment:{run.report_comment}", f"evidence:report:issue:{run.report_issue}"]
    return {
        "application": {
            "labels": {"fund: application", "eligibility: passed", "status: funded"},
            "state": "open",
            "bot comments": 1 + len(notices),  # the status comment, and each notice once
            "status comments": 1,
            "notices": sorted(notices),
            "thumbs up": {run.stranger_comment: 0, **{cid: 1 for cid in run.command_comments}},
        },
        "report issue": {"labels": {"fund: report"}, "state": "closed", "bot comments": 1, "status comments": 0,
                         "notices": [f"report-ack:{run.report_issue}"], "thumbs up": {}},
        "outcome": ("funded", "rita", Decimal("40000")),
        "history": [("screening", APPLICANT, "intake"), ("technical", "fund-bot", "eligibility"),
                    ("community", "ravi", "/advance"), ("funding", "ravi", "/advance"),
                    ("decision", "rita", "/advance")],
        "scores": [("ravi", "technical", 3), ("rita", "funding", 4), ("rita", "impact", 5), ("rita", "technical", 4)],
        "votes": (2, 1),  # the applicant's own 👍 does not count
        "reports": [(APPLICANT, f"comment:{run.report_comment}"), (APPLICANT, f"issue:{run.report_issue}")],
        "form problems": (),
        "eligible": True,
    }


def bot_sent(delivery: Delivery) -> bool:
    return delivery.payload.get("sender", {}).get("type") == "Bot"


def check(fund: Fund, run: Run) -> None:
    """What both runs must show: the end state, and every delivery answered at once."""
    assert end_state(fund, run) == expected_end_state(fund, run)
    assert {status for _, status, _ in fund.answers} == {202}
    # GitHub's deliveries for the bot's own writes were posted too, and ignored at the door.
    own = [body for delivery, _, body in fund.answers if bot_sent(delivery)]
    assert own and all(body["status"] == "ignored" for body in own)


def test_an_application_from_filing_to_two_progress_reports(fund):
    run = lifecycle(fund)
    check(fund, run)
    refusal = [c["body"] for c in fund.sandbox.comments(FUND_REPO, run.application)
               if f"reply:{run.stranger_comment}" in c["body"]]
    assert refusal[0].startswith("@stan `/advance` is for reviewers")
    log = fund.service.log()
    assert "ERROR" not in log and "Traceback" not in log, log


@pytest.mark.parametrize("fund", ["faulted"], indirect=True)
def test_the_same_lifecycle_with_github_misbehaving(fund):
    fund.sandbox.faults = FAULTS  # after seeding: the fund's setup is not what is tested here
    run = lifecycle(fund)
    check(fund, run)
    answered = [r.status for r in fund.sandbox.requests()]
    assert answered.count(502) > 0 and answered.count(403) > 0  # GitHub did misbehave


def test_sigterm_finishes_or_hands_back_and_the_sweep_loses_nothing(sandbox, sandbox_server, app_key, tmp_path):
    """A deploy stops the service while deliveries wait in its queue: gunicorn's SIGTERM lets the
    worker finish what it can, the rest is logged by delivery id, and one sweep completes them."""
    world = World(sandbox, sandbox_server.url, APP_ID, app_key)
    world.add_applicant_repo("tiny-org/tiny-inference")
    service = Service(sandbox_server.url, APP_ID, app_key, tmp_path / "gunicorn.log",
                      FUNDBOT_WORKERS="1", GUNICORN_GRACEFUL_TIMEOUT="6").start()
    fund = Fund(world, service)
    sandbox.faults = Faults(latency_ms=2000)  # an intake takes ~10 s: the others must wait in the queue
    opened = [filed(sandbox, f"applicant{i}", f"P{i}") for i in range(3)]
    for delivery in opened:
        assert fund.post(delivery)["status"] == "queued"
    service.stop()  # SIGTERM, as a deploy or a scale-down sends it
    sandbox.faults = Faults()
    handed_back = re.findall(r"delivery not processed before shutdown.*?delivery=(\S+)", service.log())
    assert sorted(handed_back) == sorted(d.id for d in opened[1:])  # the first one was being processed
    assert "Traceback" not in service.log()

    # The service is gone: the sweep (run here, as `fundbot sweep` would) completes every one.
    assert sweep(world.context, world.github.for_repository(FUND_REPO), FUND_REPO).ok
    for delivery in opened:
        number = delivery.payload["issue"]["number"]
        record = world.record(number)
        assert record is not None and record.stage == "technical"
        assert sum("fund-bot:status" in b for b in world.bot_comments(number)) == 1
    world.close()


def test_a_chinese_application_is_answered_in_chinese_from_filing_to_its_reports(fund):
    """SPEC §15 end to end: filed with the Chinese form (a mistake in it), the status comment, a
    stranger's refused command, `/help`, the report reminder and a Chinese progress-report issue —
    every word the bot writes there in Chinese, dates and amounts written the Chinese way."""
    sb, run = fund.sandbox, Run()
    fund.world.add_applicant_repo("tiny-org/tiny-inference")
    opened = sb.open_issue(FUND_REPO, APPLICANT, "[申请]: Tiny Inference",
                           application_body(lang="zh", funding_amount="四万美元"), labels=["fund: application"])
    run.application = opened.payload["issue"]["number"]
    fund.act(opened, intake_done(fund, run.application))
    status = fund.world.status_comment(run.application)
    assert "## Fund Bot 状态" in status and "资金需求（美元）：“四万美元” 不是用数字书写的美元金额" in status
    assert "| 开源许可 | ✅ | MIT |" in status and "Fund Bot status" not in status

    fund.act(sb.edit_issue(FUND_REPO, run.application, APPLICANT, body=application_body(lang="zh")),
             intake_done(fund, run.application))
    run.stranger_comment = say(fund, run, "stan", "/advance")
    say(fund, run, APPLICANT, "/help")
    say(fund, run, "rita", "/score technical 4")
    say(fund, run, "ravi", "/score technical 3\n/advance")
    say(fund, run, "ravi", "/advance")
    say(fund, run, "rita", "/score funding 4\n/advance\n/approve 40000")
    current = record(fund, run.application)
    assert current.outcome and current.outcome.name == "funded"
    status = fund.world.status_comment(run.application)
    decided = f"{current.outcome.at.year}年{current.outcome.at.month}月{current.outcome.at.day}日"
    assert f"**获得资金支持：US$40,000**，@\u2060rita 于 {decided} 批准。" in status

    due = due_dates(fund, decision_date(current))[0]
    travel_to(fund, due - dt.timedelta(days=fund.world.rules.reports.reminder_lead_days))
    fund.sweep_until_ok()
    report = sb.open_issue(FUND_REPO, APPLICANT, "[进展报告]: Tiny Inference", report_body(run.application, lang="zh"),
                           labels=["fund: report"])
    run.report_issue = report.payload["issue"]["number"]
    fund.act(report, lambda: sb.issue(FUND_REPO, run.report_issue)["state"] == "closed")

    said = {key: c["body"] for c in sb.comments(FUND_REPO, run.application) if c["user"]["type"] == "Bot"
            for key in NOTICE.findall(c["body"])}
    assert said[f"reply:{run.stranger_comment}"].startswith("@stan `/advance` 只供评审人使用，而您在这里不是。")
    assert "您在这里可以使用的命令" in next(body for key, body in said.items() if key.startswith("reply:")
                                           and "/withdraw" in body)
    reminder = said[f"report-reminder:{due}"]
    assert f"下一份进展报告将于 **{due.year}年{due.month}月{due.day}日**（UTC）到期" in reminder
    [ack] = [c["body"] for c in sb.comments(FUND_REPO, run.report_issue) if c["user"]["type"] == "Bot"]
    assert ack.startswith(f"谢谢，@{APPLICANT}：已记录为 #{run.application} 的进展报告。")
    for body in [*said.values(), ack, fund.world.status_comment(run.application)]:
        visible = re.sub(r"<!--.*?-->|`[^`]*`|@\S+|https?://\S+", "", body, flags=re.DOTALL)
        assert not re.search(r"\b(the|is|are|you|and|report|due)\b", visible), visible  # no English sentence
