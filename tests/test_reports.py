"""The progress-report schedule: due dates from the decision, reminder and overdue windows (UTC dates)."""
import dataclasses
import datetime as dt

import pytest

from decimal import Decimal

from bot.policy.record import Outcome, Record, ReportEntry, parse_iso
from bot.policy.reports import ReportState, report_status

FUNDED = Record(outcome=Outcome(name="funded", by="rita", at=parse_iso("2027-01-10T23:30:00Z"), amount=Decimal("10000")))


@pytest.mark.parametrize(
    "today, reports, state, due",
    [
        ("2027-01-11", 0, ReportState.UPCOMING, "2027-04-10"),
        ("2027-03-26", 0, ReportState.UPCOMING, "2027-04-10"),
        ("2027-03-27", 0, ReportState.DUE, "2027-04-10"),  # 14 days before
        ("2027-04-10", 0, ReportState.DUE, "2027-04-10"),
        ("2027-04-16", 0, ReportState.DUE, "2027-04-10"),  # inside the 7-day grace
        ("2027-04-17", 0, ReportState.OVERDUE, "2027-04-10"),
        ("2027-04-17", 1, ReportState.UPCOMING, "2027-07-09"),
        ("2027-12-30", 3, ReportState.DUE, "2028-01-05"),
        ("2028-06-01", 4, ReportState.NONE, None),  # max_reports reached
    ],
    ids=lambda v: str(v),
)
def test_schedule(rules, today, reports, state, due):
    entries = tuple(ReportEntry(at=parse_iso("2027-04-01T00:00:00Z"), by="alice", ref=f"comment:{i}") for i in range(reports))
    status = report_status(dataclasses.replace(FUNDED, reports=entries), rules.reports, dt.date.fromisoformat(today))
    assert status.state is state
    assert (status.next_due.isoformat() if status.next_due else None) == due


def test_decision_date_is_the_utc_calendar_date(rules):
    # Decided at 23:30 UTC on the 10th: in UTC+8 that is already the 11th, but dates here are UTC.
    status = report_status(FUNDED, rules.reports, dt.date(2027, 1, 11))
    assert status.next_due == dt.date(2027, 1, 10) + dt.timedelta(days=90)


def test_not_funded_has_no_schedule(rules):
    assert report_status(Record(), rules.reports, dt.date(2027, 1, 1)).state is ReportState.NONE
