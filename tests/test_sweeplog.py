"""The sweep log: one issue, created once and edited in place, written only when a sweep changed
something or failed, or once a UTC day when all is quiet; never by a dry run."""
from __future__ import annotations

import datetime as dt

import pytest
from factories import report_body
from pipeline_world import filed

from bot.policy.lines import failure, line
from bot.demo.world import FUND_REPO
from bot.policy.i18n import SOURCE, translator
from bot.policy.sweeplog import (
    KEEP_RUNS, LOG_MARKER, SweepRun, decode_runs, make_run, render_log, should_log,
)

START = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.timezone.utc)  # the `frozen` fixture's moment


def log_issues(world) -> list[dict]:
    """The issues carrying the sweep log's label (issue numbers are contiguous, from 1)."""
    found, number = [], 1
    while True:
        try:
            issue = world.sandbox.issue(FUND_REPO, number)
        except KeyError:
            return found
        if any(label["name"] == "fund: bot" for label in issue["labels"]):
            found.append(issue)
        number += 1


def log_writes(world) -> list[str]:
    """The sweep-log writes in the request log: `POST …/issues` (create) and `PATCH …/issues/{n}`."""
    return [f"{r.method} {r.path}" for r in world.sandbox.requests()
            if (r.method, r.path) == ("POST", f"/repos/{FUND_REPO}/issues")
            or (r.method == "PATCH" and isinstance(r.body, dict) and set(r.body) == {"body"})]


def apply_once(world) -> int:
    world.add_applicant_repo("tiny-org/tiny-inference")
    delivery = filed(world.sandbox)
    world.deliver(delivery)
    return int(delivery.payload["issue"]["number"])


def test_the_log_is_created_once_then_edited_in_place_under_the_quiet_day_rule(frozen):
    world = frozen
    apply_once(world)
    world.sandbox.clear_log()
    first = world.sweep()  # nothing to change, but no run is logged yet
    assert first.ok and first.lines == [] and first.logged
    assert log_writes(world) == [f"POST /repos/{FUND_REPO}/issues"]
    [issue] = log_issues(world)
    assert issue["user"]["type"] == "Bot" and LOG_MARKER in issue["body"]
    assert "**Last logged run:** Jan 4, 2027 15:00 · 1 application and 0 report issues swept, 0 changes" in issue["body"]

    world.sandbox.travel(dt.timedelta(hours=8))  # 23:00 UTC, the same day, nothing changed
    world.sandbox.clear_log()
    quiet = world.sweep()
    assert not quiet.logged and world.sandbox.request_counts().writes == 0
    assert quiet.log is not None and quiet.log.number == issue["number"]

    world.sandbox.travel(dt.timedelta(hours=2))  # 01:00 UTC the next day: one quiet run is logged
    world.sandbox.clear_log()
    assert world.sweep().logged
    assert log_writes(world) == [f"PATCH /repos/{FUND_REPO}/issues/{issue['number']}"]
    world.sandbox.clear_log()
    assert not world.sweep().logged and world.sandbox.request_counts().writes == 0

    world.sandbox.travel(dt.timedelta(days=30))  # a stalled stage: the sweep reminds and changes the record
    changed = world.sweep()
    assert changed.lines and changed.logged
    [after] = log_issues(world)
    assert after["number"] == issue["number"]
    runs = decode_runs(after["body"])
    assert [r.at for r in runs] == ["2027-02-04T01:00:00Z", "2027-01-05T01:00:00Z", "2027-01-04T15:00:00Z"]
    assert runs[0].changes == len(changed.lines) and runs[0].lines == tuple(changed.lines)
    assert runs[1].lines == () and runs[2].lines == ()  # only the latest run keeps its list


def test_a_dry_run_never_writes_the_log(frozen):
    world = frozen
    apply_once(world)
    world.sandbox.travel(dt.timedelta(days=30))
    world.sandbox.clear_log()
    dry = world.sweep(dry_run=True)
    assert dry.lines and not dry.logged and dry.log is None
    assert world.sandbox.request_counts().writes == 0 and log_issues(world) == []


def test_failures_are_logged_at_once_and_not_repeated(frozen):
    world = frozen
    number = apply_once(world)
    world.sweep()
    # GitHub will not take the stalled-stage reminder on this application (as for a locked issue).
    world.sandbox.refuse("POST", f"/repos/{FUND_REPO}/issues/{number}/comments", 403, "Issue is locked")
    world.sandbox.travel(dt.timedelta(days=30))
    world.sandbox.clear_log()
    failed = world.sweep()
    assert failed.failures and failed.logged
    [issue] = log_issues(world)
    assert "### Could not finish" in issue["body"] and "GitHub refused comment stalled:" in issue["body"]
    assert decode_runs(issue["body"])[0].failures == tuple(failed.failures)
    assert "Issue is locked" in world.status_comment(number)  # shown where the reviewers look
    assert world.sweep().ok  # reported once, not retried: the next sweep is clean


def test_a_report_naming_a_missing_issue_gets_a_reply_and_the_sweep_finishes(frozen):
    world = frozen
    apply_once(world)
    report = world.sandbox.add_issue(FUND_REPO, "alice-dev", "Progress report", report_body(999),
                                     labels=["fund: report"])
    result = world.sweep()
    assert result.ok
    assert any("there is no issue #999" in b for b in world.bot_comments(report))
    assert world.sweep().ok and world.sweep().lines == []  # answered once


def test_a_log_whose_marker_was_edited_away_is_still_the_log(frozen):
    world = frozen
    apply_once(world)
    world.sweep()
    [issue] = log_issues(world)
    world.sandbox.edit_issue(FUND_REPO, issue["number"], "rita", body="Someone tidied this up.")
    world.sandbox.travel(dt.timedelta(days=1))
    assert world.sweep().logged
    [again] = log_issues(world)
    assert again["number"] == issue["number"] and LOG_MARKER in again["body"]


def test_the_log_issue_is_neither_an_application_nor_a_report(frozen):
    world = frozen
    number = apply_once(world)
    world.sweep()
    [issue] = log_issues(world)
    world.flush()
    assert world.bot_comments(issue["number"]) == []  # the bot's own deliveries are ignored
    world.sandbox.travel(dt.timedelta(days=1))
    result = world.sweep()
    assert (result.applications, result.reports) == (1, 0)
    assert number != issue["number"]


# --- the quiet-day rule and the body, as tables ------------------------------------------------------


def run(at: str, changes: int = 0, failures: tuple[str, ...] = ()) -> SweepRun:
    return SweepRun(at=at, applications=3, reports=0, changes=changes, failures=failures)


@pytest.mark.parametrize("last, this, expected", [
    (None, run("2027-01-04T15:00:00Z"), True),
    (run("2027-01-04T01:00:00Z"), run("2027-01-04T23:59:59Z"), False),
    (run("2027-01-04T23:59:59Z"), run("2027-01-05T00:00:00Z"), True),
    (run("2027-01-04T01:00:00Z"), run("2027-01-04T02:00:00Z", changes=2), True),
    (run("2027-01-04T01:00:00Z"), run("2027-01-04T02:00:00Z", failures=("#3: 502",)), True),
], ids=["first-ever", "quiet-same-day", "quiet-next-utc-day", "changed", "failed"])
def test_should_log(last, this, expected):
    assert should_log(last, this) is expected


def test_the_body_escapes_what_it_repeats_and_reads_back():
    at = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.timezone.utc)
    made = make_run(at, 2, 1, [line("assign", number=1, logins="@ravi")],
                    [failure("application", number=2, error="GitHub answered 502: bad -- gateway <b>")], "5r/1w/2nm/0retry")
    body = render_log((made,) + tuple(run(f"2027-01-0{d}T01:00:00Z") for d in (3, 2, 1)), translator(SOURCE))
    assert "@ravi" not in body and "#1" not in body and "\\<b\\>" in body  # no mention, no reference, no HTML
    assert body.count("-->") == 2  # the marker and the data block: `--` in the text cannot end the comment
    assert decode_runs(body)[0] == made
    assert decode_runs("no data here") == () and decode_runs("<!-- fund-bot:sweep-data {bad -->") == ()


def test_the_history_is_bounded(frozen):
    world = frozen
    apply_once(world)
    for _ in range(KEEP_RUNS + 3):
        world.sandbox.travel(dt.timedelta(days=1))
        world.sweep()
    [issue] = log_issues(world)
    assert len(decode_runs(issue["body"])) == KEEP_RUNS
