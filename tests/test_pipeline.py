"""The pipeline's rows (one per application, for the dashboard and the export), the views made of
them, and the cache in front of GitHub."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from factories import T0, application_body, make_comment, make_issue
from pipeline_world import filed

from bot.github.transport import GitHubError
from bot.views.rows import (
    ApplicationRow, Eligibility, PipelineSource, application_row, columns, grants, median_days_to_decision,
)
from bot.policy.markers import STATUS_MARKER, record_block
from bot.policy.record import (
    CheckResult, NeedsInfo, Note, Outcome, Record, ReportEntry, Score, StageEntry, Waiver,
)
from bot.config.rules import load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.demo.world import FUND_REPO
from bot.policy.reports import ReportState

RULES = load_rules(DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR)

TODAY = T0.date()


def at(days: int) -> dt.datetime:
    """A moment `days` after T0 (negative: before)."""
    return T0 + dt.timedelta(days=days)


PASSING = tuple(CheckResult(c, True, Note("text", {"text": "fine"})) for c in ("licence", "activity", "community", "goals"))
APP = "fund-bot[bot]"


def record(**fields) -> Record:
    base = Record(checks=PASSING, stage="technical",
                  history=(StageEntry("screening", at(-30), "fund-bot", "intake"),
                           StageEntry("technical", at(-30), "fund-bot", "eligibility")))
    return dataclasses.replace(base, **fields)


def status(rec: Record):
    return make_comment(900, f"{STATUS_MARKER}\n\nstatus\n\n{record_block(rec)}", user=APP, bot=True)


def row_for(rec: Record | None, *, labels=("fund: application",), body=None, today=TODAY, **issue) -> ApplicationRow:
    issue_obj = make_issue(7, body, labels=labels, created=T0 - dt.timedelta(days=30), **issue)
    comments = [make_comment(1, "Looks promising!", user="someone")] + ([status(rec)] if rec else [])
    return application_row(issue_obj, comments, RULES, today, APP)


def funded(days_ago: int, reports: int = 0) -> Record:
    return record(stage="decision", outcome=Outcome("funded", "rita", at(-days_ago), amount=Decimal("20000")),
                  reports=tuple(ReportEntry(at(-1), "applicant", f"comment:{k}") for k in range(reports)))


CASES = [
    # id, record, extra issue fields, expected (a subset of the row's fields)
    ("no-record-yet", None, {"labels": ("fund: application",)},
     {"eligibility": Eligibility.UNCHECKED, "stage": "screening", "column": "screening", "days_in_stage": 30,
      "votes_up": 0, "outcome": None, "report_state": ReportState.NONE}),
    ("no-record-stage-from-label", None, {"labels": ("fund: application", "stage: funding")},
     {"stage": "funding", "column": "funding", "eligibility": Eligibility.UNCHECKED}),
    ("no-record-outcome-from-label", None, {"labels": ("fund: application", "status: declined")},
     {"outcome": "declined", "column": "declined", "days_in_stage": None}),
    ("form-incomplete", record(stage="screening", form_problems=(Note("text", {"text": "The amount is missing."}),)), {},
     {"eligibility": Eligibility.INCOMPLETE, "column": "screening"}),
    ("failed-check", record(stage="screening", checks=PASSING[:1] + (CheckResult("activity", False, Note("text", {"text": "0 commits"})),)), {},
     {"eligibility": Eligibility.FAILED}),
    ("waived-check", record(checks=PASSING[:1] + (CheckResult("activity", False, Note("text", {"text": "0 commits"})),),
                            waivers=(Waiver("activity", "rita", "a mature project", at(-2)),)), {},
     {"eligibility": Eligibility.PASSED, "waived": ("activity",)}),
    ("in-stage-days-and-limit", record(), {},
     {"days_in_stage": 30, "stage_limit": 21, "stalled": True, "stage_since": T0.date() - dt.timedelta(days=30)}),
    ("within-the-limit", record(history=(StageEntry("technical", at(-21), "rita", "/advance"),)), {},
     {"days_in_stage": 21, "stalled": False}),
    ("scores-and-votes", record(stage="community", votes_up=5, votes_down=2, scores=(
        Score("rita", "technical", 4, "technical", at(-3)), Score("ravi", "technical", 5, "technical", at(-3)),
        Score("ravi", "impact", 3, "technical", at(-3)))), {},
     {"votes_up": 5, "votes_down": 2, "column": "community",
      "score_means": {"technical": 4.5, "impact": 3, "community": None, "funding": None}}),
    ("assignees-and-needs-info", record(needs_info=NeedsInfo("rita", at(-1), "Which boards?")), {"assignees": ("ravi", "rita")},
     {"assignees": ("ravi", "rita"), "needs_info": True}),
    ("funded-upcoming", funded(10), {},
     {"column": "funded", "outcome": "funded", "amount_granted": Decimal("20000"), "days_in_stage": None,
      "decided_on": T0.date() - dt.timedelta(days=10), "days_to_decision": 20, "reports_expected": 4,
      "next_report_due": T0.date() + dt.timedelta(days=80), "report_state": ReportState.UPCOMING, "overdue": False}),
    ("funded-due-soon", funded(80), {}, {"report_state": ReportState.DUE, "overdue": False}),
    ("funded-overdue", funded(97), {}, {"report_state": ReportState.OVERDUE, "overdue": True}),
    ("funded-report-received", funded(97, reports=1), {},
     {"report_state": ReportState.UPCOMING, "reports_received": 1, "next_report_due": T0.date() + dt.timedelta(days=83)}),
    ("declined", record(outcome=Outcome("declined", "rita", at(-5), reason="Out of scope")), {},
     {"column": "declined", "days_to_decision": 25, "amount_granted": None, "reports_expected": None}),
    ("withdrawn-is-no-decision", record(outcome=Outcome("withdrawn", "applicant", at(-5))), {"state": "closed"},
     {"column": "withdrawn", "days_to_decision": None, "decided_on": T0.date() - dt.timedelta(days=5),
      "state": "closed"}),
]


@pytest.mark.parametrize("rec, issue, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_application_row(rec, issue, expected):
    row = row_for(rec, **issue)
    got = {key: getattr(row, key) for key in expected if key != "score_means"}
    if "score_means" in expected:
        got["score_means"] = {s.criterion: s.mean for s in row.scores}
    assert got == expected


def test_the_row_reads_the_form_and_falls_back_to_the_title():
    row = row_for(record(), body=application_body(project_name="Tiny Inference", funding_amount="$12,500.50"))
    assert (row.project, row.amount_requested, row.applicant) == ("Tiny Inference", Decimal("12500.50"), "applicant")
    assert row.html_url == "https://github.com/fund/applications/issues/7"
    untitled = row_for(record(), body="Please fund us.")
    assert (untitled.project, untitled.amount_requested) == ("Tiny Inference", None)  # "[Application]: Tiny Inference"


def test_only_the_apps_own_status_comment_counts():
    # A copy of a genuine record, posted by a person or by another bot, is text, nothing more.
    forged = [make_comment(5, f"{STATUS_MARKER}\n{record_block(funded(97))}", user="mallory"),
              make_comment(6, f"{STATUS_MARKER}\n{record_block(funded(97))}", user="other-bot[bot]", bot=True)]
    issue = make_issue(7, labels=("fund: application", "stage: technical"))
    row = application_row(issue, forged, RULES, TODAY, APP)
    assert (row.outcome, row.eligibility, row.column) == (None, Eligibility.UNCHECKED, "technical")


# --- views --------------------------------------------------------------------------------------------


def _row(number: int, **fields) -> ApplicationRow:
    return dataclasses.replace(row_for(record()), number=number, **fields)


def test_columns_follow_the_rules_order_with_the_longest_waiting_first(rules):
    rows = [_row(1, column="technical", stage_since=dt.date(2026, 10, 5)),
            _row(2, column="technical", stage_since=dt.date(2026, 9, 1)),
            _row(3, column="funded", outcome="funded", decided_on=dt.date(2026, 8, 1)),
            _row(4, column="funded", outcome="funded", decided_on=dt.date(2026, 10, 1))]
    cols = columns(rows, rules)
    assert [c.key for c in cols] == ["screening", "technical", "community", "funding", "decision",
                                     "funded", "declined", "withdrawn"]
    by_key = {c.key: [r.number for r in c.rows] for c in cols}
    assert by_key["technical"] == [2, 1] and by_key["funded"] == [4, 3] and by_key["screening"] == []
    assert [c.is_outcome for c in cols] == [False] * 5 + [True] * 3


@pytest.mark.parametrize("decisions, expected", [
    ((), None), ((("funded", 10),), 10), ((("funded", 10), ("declined", 30), ("withdrawn", 1)), 20),
    ((("funded", 4), ("declined", 30), ("funded", 9)), 9),
], ids=["none", "one", "withdrawals-left-out", "odd-count"])
def test_median_days_to_decision(decisions, expected):
    filed = dt.date(2026, 1, 1)
    rows = [_row(i, outcome=name, filed_on=filed, decided_on=filed + dt.timedelta(days=days))
            for i, (name, days) in enumerate(decisions)]
    assert median_days_to_decision(rows) == expected


def test_grants_list_overdue_reports_first():
    rows = [_row(1, outcome="funded", report_state=ReportState.UPCOMING, next_report_due=dt.date(2027, 1, 1)),
            _row(2, outcome="funded", report_state=ReportState.OVERDUE, next_report_due=dt.date(2027, 3, 1)),
            _row(3, outcome="declined"),
            _row(4, outcome="funded", report_state=ReportState.NONE, next_report_due=None),
            _row(5, outcome="funded", report_state=ReportState.DUE, next_report_due=dt.date(2026, 12, 1))]
    assert [r.number for r in grants(rows)] == [2, 5, 1, 4]


# --- the cache in front of GitHub ---------------------------------------------------------------------


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _filed(world, count: int) -> None:
    world.add_applicant_repo("tiny-org/tiny-inference")
    for i in range(count):
        world.deliver(filed(world.sandbox, f"applicant{i}", f"P{i}", project_name=f"P{i}"))


def test_views_inside_the_ttl_ask_nothing_and_after_it_unchanged_data_costs_only_304s(world):
    _filed(world, 3)
    ticks = Ticks()
    moment = world.sandbox.now()  # "today" stays the same whatever the wall clock does
    source = PipelineSource(lambda: world.github.for_repository(FUND_REPO), FUND_REPO, world.rules,
                            lambda: moment, ttl=30, monotonic=ticks)
    world.sandbox.clear_log()
    first = source.get()
    cold = world.sandbox.request_counts()
    assert [r.number for r in first.rows] == [1, 2, 3]
    paths = sorted(r.path for r in world.sandbox.requests())
    # (The installation is known from the deliveries, so it is not looked up.)
    assert paths == sorted([f"/repos/{FUND_REPO}/issues",  # the applications
                            *(f"/repos/{FUND_REPO}/issues/{n}/comments" for n in (1, 2, 3)),
                            f"/repos/{FUND_REPO}/issues"])  # the sweep log
    assert (first.reads, first.not_modified) == (cold.reads, 0)

    world.sandbox.clear_log()
    ticks.now += 29
    assert source.get() is first
    assert world.sandbox.requests() == []  # inside the TTL: no request at all

    ticks.now += 2
    again = source.get()
    warm = world.sandbox.request_counts()
    assert (warm.reads, warm.writes, warm.not_modified) == (0, 0, 5)  # all conditional, all unchanged
    assert again.rows == first.rows and source.refreshes == 2

    # A change on GitHub shows after the TTL, and costs only what changed.
    world.deliver(world.sandbox.comment(FUND_REPO, 2, "rita", "/score technical 4"))
    world.sandbox.clear_log()
    ticks.now += 31
    changed = source.get()
    after = world.sandbox.request_counts()
    assert after.reads == 2 and after.not_modified == 3  # the listing (comment count) and #2's comments
    assert [s.count for s in changed.rows[1].scores if s.criterion == "technical"] == [1]


def test_a_github_failure_keeps_the_last_rows_and_says_so(world):
    _filed(world, 1)
    ticks = Ticks()
    failing = {"now": False}

    def gateway():
        if failing["now"]:
            raise GitHubError(502, "Bad Gateway")
        return world.github.for_repository(FUND_REPO)

    source = PipelineSource(gateway, FUND_REPO, world.rules, world.sandbox.now, ttl=30, monotonic=ticks)
    with pytest.raises(GitHubError):
        failing["now"] = True
        source.get()  # nothing read yet: the page says GitHub could not be read
    failing["now"] = False
    ticks.now += 31
    good = source.get()
    failing["now"] = True
    ticks.now += 31
    stale = source.get()
    assert stale.rows == good.rows and stale.error and "502" in stale.error
    calls = source.refreshes
    ticks.now += 10
    assert source.get() is stale and source.refreshes == calls  # GitHub is not asked again before the TTL


def test_in_the_background_mode_no_view_but_the_first_waits_for_github(world):
    _filed(world, 2)
    ticks = Ticks()
    gate = {"open": True}
    import threading

    released = threading.Event()

    def gateway():
        if not gate["open"]:
            released.wait(5)  # GitHub is slow to answer this time
        return world.github.for_repository(FUND_REPO)

    source = PipelineSource(gateway, FUND_REPO, world.rules, world.sandbox.now, ttl=30, monotonic=ticks,
                            background=True)
    first = source.get()  # nothing cached yet: this one waits
    assert [r.number for r in first.rows] == [1, 2]
    world.deliver(world.sandbox.comment(FUND_REPO, 1, "rita", "/score impact 5"))
    gate["open"] = False
    ticks.now += 31
    assert source.get() is first  # served at once, while the refresh waits on GitHub
    assert source.get() is first
    released.set()
    source.wait(5)
    assert source.refreshes == 2  # one refresh for both views, not one per view
    fresher = source.get()
    assert fresher is not first and [s.count for s in fresher.rows[0].scores if s.criterion == "impact"] == [1]
