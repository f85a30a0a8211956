"""The calendar: what falls due with time — report reminders and overdue notices after a grant, and
reminders of applications that sat in a stage longer than the rules allow (SPEC §7, §11). Pure.

Each notice is posted once: its key names the due date or the stage and day it started, so a sweep
run twice, or late, never repeats one. Reports are owed while the grant runs, whoever closed the
issue: the reminders go on, on the closed issue, and still notify the people they mention.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import Translator
from bot.policy.markers import NoticeKey
from bot.policy.models import Action, Issue, PostComment
from bot.policy.plan import stalled
from bot.policy.record import Record
from bot.policy.reports import ReportState, report_status
from bot.policy.roles import applicant_logins
from bot.policy.rules import Rules
from bot.policy.waiting import escalation_due, reminder_days, reviewers_to_remind

MAX_MENTIONS = 10  # people one reminder mentions


def mentions(people: list[str]) -> str:
    unique = list(dict.fromkeys(p.lower() for p in people if p))[:MAX_MENTIONS]
    return " ".join(f"@{p}" for p in unique)


def day_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).date().isoformat()


def calendar(record: Record, issue: Issue, form: ParsedForm, rules: Rules, now: dt.datetime,
             posted: set[str], collaborators: tuple[str, ...] | None, tr: Translator,
             away: Collection[str] = ()) -> tuple[Record, list[Action]]:
    """The notices due now, each noted in the record so it is never posted twice (`away`: reviewers away
    today, whom no reminder names)."""
    actions: list[Action] = []
    today = now.date()
    maintainers = mentions(list(applicant_logins(issue, form)))

    def notice(key: str, body: str) -> None:
        nonlocal record
        if key not in posted:
            actions.append(PostComment(key=key, body=body))
        record = record.with_notice(key)

    if record.funded:
        status = report_status(record, rules.reports, today)
        due = status.next_due.isoformat() if status.next_due else ""
        if status.state is ReportState.OVERDUE:
            cc = _overdue_mentions(issue, record, rules)
            text = tr.gettext("%(maintainers)s the progress report due on **%(date)s** (UTC) is overdue. Please comment "
                              "`/report` followed by the report, or open a progress-report issue naming #%(number)s.",
                              maintainers=maintainers, date=tr.date(status.next_due), number=issue.number)
            notice(NoticeKey.report_overdue(due), text + ("\n\ncc " + cc if cc else ""))
        elif status.state is ReportState.DUE and NoticeKey.report_overdue(due) not in posted:
            notice(NoticeKey.report_reminder(due),
                   tr.gettext("%(maintainers)s a progress report is due on **%(date)s** (UTC): progress against "
                              "milestones, use of funds, community feedback and outcomes. Comment `/report` followed "
                              "by the report, or open a progress-report issue naming #%(number)s.",
                              maintainers=maintainers, date=tr.date(status.next_due), number=issue.number))
    elif stalled(record, rules, now) and issue.state == "open":
        stage = rules.stages.stage(record.stage)
        assert stage is not None and record.stage_since is not None
        since = day_of(record.stage_since)
        people = reviewers_to_remind(record, issue, rules, away, collaborators)
        who = mentions(people) or tr.gettext("Reviewers:")
        notice(NoticeKey.stalled(stage.name, since),
               tr.ngettext("%(mentions)s this application has been in **%(stage)s** since %(date)s (UTC), longer than "
                           "the %(n)s day the rules allow. Please review it, or move it on with `/advance`.",
                           "%(mentions)s this application has been in **%(stage)s** since %(date)s (UTC), longer than "
                           "the %(n)s days the rules allow. Please review it, or move it on with `/advance`.",
                           stage.max_days or 0, mentions=who, stage=stage.name,
                           date=tr.date(record.stage_since.astimezone(dt.timezone.utc).date())))
        if escalation_due(record, rules, now) and stage.leads is not None:
            first, _ = reminder_days(record, rules)
            notice(NoticeKey.escalated(stage.name, since),
                   tr.gettext("%(leads)s this application has been in **%(stage)s** since %(date)s (UTC), and has "
                              "not moved since its reviewers were reminded on %(reminded)s. As the stage's leads, "
                              "please see that it is reviewed: reassign it (`/assign @someone`) or move it on.",
                              leads=mentions(list(stage.leads.mentions) + people), stage=stage.name,
                              date=tr.date(record.stage_since.astimezone(dt.timezone.utc).date()),
                              reminded=tr.date(first) if first else "—"))
    return record, actions


def _overdue_mentions(issue: Issue, record: Record, rules: Rules) -> str:
    r = rules.reports
    people: list[str] = []
    if r.mention_reviewers:
        # The reviewers of the rules, and those who reviewed this application (scored, decided).
        reviewers = rules.stages.reviewers
        people += sorted(reviewers.users) + [str(t) for t in reviewers.teams]
        people += [record.outcome.by] if record.outcome else []
        people += sorted({s.reviewer for s in record.scores})
    if r.mention_assignees:
        people += list(issue.assignees)
    people += list(r.mention_users)
    return mentions(people)
