"""Who an application waits on, since when, and when the next reminder falls due (SPEC §7, §14). Pure.

One answer for the stalled-review view of the dashboard, `fundbot status`, the weekly digest and the
reminders themselves (`bot.policy.calendar`), so they never disagree. A stage's reminder goes to its
assignees who are not away — or, with none, to the reviewers the stage names, else to those who acted
on it, else to the repository's collaborators; `leads:` get a second reminder `after_days` after the
first fell due. Reassignment moves nothing else: scores and approvals belong to who gave them, and
stay counted whoever is assigned now.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from dataclasses import dataclass

from bot.policy.approvals import needed_for, pending
from bot.policy.markers import NoticeKey
from bot.policy.models import Issue
from bot.policy.parsed_form import ParsedForm
from bot.policy.plan import stalled
from bot.policy.record import BOT_ACTOR, Record
from bot.policy.reports import ReportState, report_status
from bot.policy.roles import applicant_logins, stage_reviewer_mentions
from bot.policy.rules import Rules


class WaitingOn(enum.Enum):
    """What an application waits for; the value is a stable key (the export, `fundbot status --json`)."""

    APPLICANT = "applicant"  # to answer a question, fix the form, or pass screening
    ROUND = "round"  # for its funding round to open
    REVIEWERS = "reviewers"  # to review it and move it on
    VOTE = "vote"  # for its community vote to close
    APPROVERS = "approvers"  # for more reviewers to approve the grant
    MAINTAINERS = "maintainers"  # for a progress report
    REPORT_REVIEW = "report review"  # for reviewers to accept or reject a report


@dataclass(frozen=True)
class Waiting:
    on: WaitingOn
    people: tuple[str, ...]  # logins (and "org/team"s) it waits on, as a reminder would name them
    since: dt.datetime
    next_reminder: dt.date | None = None  # the next reminder about it, when one is due by the rules
    escalated: bool = False  # the stage's leads were reminded


def day_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).date().isoformat()


def _acted_on(record: Record) -> list[str]:
    """Reviewers who already acted on this application (moved it, scored it), newest first."""
    people = [e.by for e in reversed(record.history) if e.by != BOT_ACTOR and e.via != "intake"]
    return people + [s.reviewer for s in reversed(record.scores)]


def reviewers_to_remind(record: Record, issue: Issue, rules: Rules, away: Collection[str],
                        collaborators: tuple[str, ...] | None = ()) -> list[str]:
    """Whom a stage's reminder names: its assignees who are not away; with none, the reviewers the stage
    names, else those who acted on it, else the repository's collaborators."""
    gone = {a.lower() for a in away}
    present = [a for a in issue.assignees if a.lower() not in gone]
    return present or list(stage_reviewer_mentions(rules, record.stage)) or _acted_on(record) or \
        list(collaborators or ())


def reminder_days(record: Record, rules: Rules) -> tuple[dt.date | None, dt.date | None]:
    """When the stage's reminder and its escalation to the leads fall due (None: never)."""
    stage = rules.stages.stage(record.stage)
    if stage is None or not stage.max_days or record.stage_since is None:
        return None, None
    first = record.stage_since.astimezone(dt.timezone.utc).date() + dt.timedelta(days=stage.max_days + 1)
    leads = stage.leads
    return first, first + dt.timedelta(days=leads.after_days) if leads is not None else None


def escalation_due(record: Record, rules: Rules, now: dt.datetime) -> bool:
    """The stage's leads are to be reminded: the stage stalled a second interval past its first reminder."""
    stage = rules.stages.stage(record.stage)
    if not stalled(record, rules, now) or stage is None or stage.leads is None or record.stage_since is None:
        return False
    return (now - record.stage_since).days > (stage.max_days or 0) + stage.leads.after_days


def waiting(record: Record | None, issue: Issue, form: ParsedForm, rules: Rules, now: dt.datetime,
            away: Collection[str] = ()) -> Waiting | None:
    """What the application waits for now, and on whom (None: nothing — declined, withdrawn, or a grant
    with every report in)."""
    if record is None or not record.history:
        return None
    today = now.astimezone(dt.timezone.utc).date()
    if record.outcome is not None:
        return _after_grant(record, issue, form, rules, today) if record.funded else None
    if record.needs_info is not None:
        return Waiting(WaitingOn.APPLICANT, applicant_logins(issue, form), record.needs_info.at)
    if rules.funding.dated and not record.round:
        return Waiting(WaitingOn.ROUND, (), record.checked_at or record.history[0].at)
    if record.stage == rules.stages.first.name and (record.form_problems or not record.eligible):
        return Waiting(WaitingOn.APPLICANT, applicant_logins(issue, form), record.checked_at or record.stage_since)
    first, second = reminder_days(record, rules)
    posted = set(record.notices)
    since = record.stage_since or now
    escalated = NoticeKey.escalated(record.stage, day_of(since)) in posted
    reminded = NoticeKey.stalled(record.stage, day_of(since)) in posted
    upcoming = first if not reminded else second if not escalated else None
    if record.vote is not None and record.vote.is_open and record.vote.stage == record.stage:
        return Waiting(WaitingOn.VOTE, (), record.vote.opened,
                       record.vote.closes.date() if record.vote.closes else upcoming)
    people = reviewers_to_remind(record, issue, rules, away)
    stage = rules.stages.stage(record.stage)
    if escalated and stage is not None and stage.leads is not None:
        people = list(dict.fromkeys(people + list(stage.leads.mentions)))
    given = pending(record, "grant")
    if given and stage is not None and stage.decides and len(given) < needed_for("grant", rules, given[-1].amount):
        done = {a.by.lower() for a in given}
        return Waiting(WaitingOn.APPROVERS, tuple(p for p in people if p.lower() not in done), given[0].at, upcoming,
                       escalated)
    return Waiting(WaitingOn.REVIEWERS, tuple(people), since, upcoming, escalated)


def _after_grant(record: Record, issue: Issue, form: ParsedForm, rules: Rules, today: dt.date) -> Waiting | None:
    unreviewed = next((r for r in record.reports if not r.review), None)
    if unreviewed is not None and len(record.tranche_plan(rules.funding.tranches)) > len(record.tranches):
        reviewers = list(issue.assignees) or list(stage_reviewer_mentions(rules, record.stage)) or \
            ([record.outcome.by] if record.outcome else [])
        return Waiting(WaitingOn.REPORT_REVIEW, tuple(reviewers), unreviewed.at)
    status = report_status(record, rules.reports, today)
    if status.next_due is None:
        return None
    due = status.next_due
    reminder = due - dt.timedelta(days=rules.reports.reminder_lead_days)
    overdue = due + dt.timedelta(days=rules.reports.overdue_grace_days)
    upcoming = reminder if today < reminder else overdue if status.state is not ReportState.OVERDUE else None
    # Since the period this report covers began: the grant, or the last report.
    since = max([record.outcome.at] + [r.at for r in record.reports]) if record.outcome else record.history[-1].at
    return Waiting(WaitingOn.MAINTAINERS, applicant_logins(issue, form), since, upcoming)


__all__ = ["Waiting", "WaitingOn", "escalation_due", "reminder_days", "reviewers_to_remind", "waiting"]
