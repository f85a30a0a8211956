"""Progress reports (SPEC §7): the schedule after a grant, derived from the record and a date.

Pure: the decision date and the reports received are read from the record, `today` is an
argument (a UTC calendar date), so the sweep can be run at any moment, twice, or with
`--now` to travel in time, and it always reaches the same answer.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from bot.policy.command_parse import parse_commands
from bot.policy.record import Record, decision_date
from bot.policy.rules import ReportRules


class ReportState(enum.Enum):
    NONE = "none"  # not funded, or every report received
    UPCOMING = "upcoming"  # next due date is further than the reminder lead
    DUE = "due"  # inside the reminder window, or past the due date within the grace period
    OVERDUE = "overdue"  # the grace period after the due date has run out


@dataclass(frozen=True)
class ReportStatus:
    state: ReportState
    next_due: dt.date | None
    received: int
    expected: int | None  # None: the grant reports without end


def due_dates(decided: dt.date, rules: ReportRules, count: int) -> list[dt.date]:
    """The first `count` due dates: every `cadence_days` from the decision."""
    return [decided + dt.timedelta(days=rules.cadence_days * k) for k in range(1, count + 1)]


def report_status(record: Record, rules: ReportRules, today: dt.date) -> ReportStatus:
    """Where the funded application stands with its reports on `today`."""
    decided = decision_date(record)
    received = sum(1 for r in record.reports if r.review != "rejected")  # a rejected one asks for another
    if decided is None:
        return ReportStatus(ReportState.NONE, None, received, rules.max_reports)
    if rules.max_reports is not None and received >= rules.max_reports:
        return ReportStatus(ReportState.NONE, None, received, rules.max_reports)
    # Each report answers the earliest due date not yet answered.
    next_due = due_dates(decided, rules, received + 1)[-1]
    if today >= next_due + dt.timedelta(days=rules.overdue_grace_days):
        state = ReportState.OVERDUE
    elif today >= next_due - dt.timedelta(days=rules.reminder_lead_days):
        state = ReportState.DUE
    else:
        state = ReportState.UPCOMING
    return ReportStatus(state, next_due, received, rules.max_reports)


def report_text(args: str, rest: str) -> str:
    """A `/report` command's report: the rest of its line, then the comment's lines after it."""
    return "\n".join(part for part in (args, rest) if part)


def comment_report(body: str | None) -> str | None:
    """The progress report a comment holds (`/report` and what follows it), or None when it holds none."""
    return next((report_text(c.args, c.rest) for c in parse_commands(body) if c.name == "report"), None)
