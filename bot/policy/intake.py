"""Intake: what counts as an application, what a sweep or a recheck takes up, and an application's
form and eligibility checks taken in (SPEC §2, §3, §14 rounds). Pure.

An issue is an application when the issue form labelled it, or when its body parses as the
application form; a progress-report issue likewise by its own label or form. The checks run when
the application is new, its body changed, or it was reopened — never again for a redelivered
`opened` — and, on `fundbot recheck`, for an open application still in screening. An application
filed outside every dated round waits, told once when the next round opens.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable

from bot.policy.eligibility import evaluate
from bot.policy.evidence_flow import with_evidence_checks
from bot.policy.form_body import could_be_form, parse_any
from bot.policy.form_template import FormTemplate
from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import Translator
from bot.policy.ledger import round_of
from bot.policy.markers import NoticeKey
from bot.policy.models import Action, Issue, PostComment, RepoFacts
from bot.policy.record import BOT_ACTOR, Record
from bot.policy.rules import Rules
from bot.policy.text import escape_inline
from bot.policy.triggers import Trigger, TriggerKind

# --- what an issue is --------------------------------------------------------------------------


def _is_form(templates: tuple[FormTemplate, ...], body: str) -> bool:
    """The body is one of `templates` (a form in its languages): a cheap look at its headings first."""
    return could_be_form(templates[0], body) and parse_any(templates, body).recognised


def is_report_issue(issue: Issue, rules: Rules) -> bool:
    if issue.has_label(rules.stages.labels.report.name):
        return True
    return not issue.has_label(rules.stages.labels.application.name) and _is_form(rules.report_forms, issue.body)


def is_application(issue: Issue, rules: Rules) -> bool:
    """Labelled by the issue form, or a body that parses as the application form."""
    if issue.is_pull_request:
        return False
    if issue.has_label(rules.stages.labels.application.name):
        return True
    return not is_report_issue(issue, rules) and _is_form(rules.application_forms, issue.body)


def to_sweep(applications: Iterable[Issue], rules: Rules) -> list[Issue]:
    """The applications a sweep brings up to date: the open ones, and the funded ones however closed
    (reports are owed while the grant runs, SPEC §11)."""
    funded = rules.stages.outcomes["funded"].label.name
    return [i for i in applications if i.state == "open" or i.has_label(funded)]


def to_recheck(open_applications: Iterable[Issue], rules: Rules) -> list[Issue]:
    """The open applications a recheck may take up: those whose labels do not show them moved on
    past screening (the rest of `recheck_due` is decided under the lock, on the record read again)."""
    later = {s.label.name.lower() for s in rules.stages.stages[1:]}
    later |= {o.label.name.lower() for o in rules.stages.outcomes.values()}
    return [i for i in open_applications if not {name.lower() for name in i.labels} & later]


# --- when the checks run -----------------------------------------------------------------------


def body_sha(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode()).hexdigest()[:16]


def intake_due(trigger: Trigger, record: Record | None, issue: Issue) -> bool:
    """A new application, a changed body, or a reopened one; not a redelivered `opened`."""
    if record is None or not record.checks:
        return True
    if trigger.kind is TriggerKind.REOPENED:
        return True
    return record.body_sha != body_sha(issue.body)


def recheck_due(trigger: Trigger, record: Record | None, issue: Issue, rules: Rules) -> bool:
    """`fundbot recheck`: the checks run again, under the rules now in force, on an open application
    still in the first stage (screening) with no outcome — never on one a reviewer has moved on."""
    return trigger.kind is TriggerKind.RECHECK and issue.state == "open" and (
        record is None or (record.outcome is None and record.stage == rules.stages.first.name))


def checks_due(trigger: Trigger, record: Record | None, issue: Issue, rules: Rules) -> bool:
    return intake_due(trigger, record, issue) or recheck_due(trigger, record, issue, rules)


# --- taking it in ------------------------------------------------------------------------------


def take_in(record: Record, form: ParsedForm, issue: Issue, facts: RepoFacts | None, rules: Rules,
            now: dt.datetime) -> Record:
    """The form's problems and the eligibility checks recorded; a new application enters the first
    stage (as of its filing) and the round it was filed in."""
    checks = evaluate(form, rules.application_form, facts, rules.eligibility, now)
    repository = (facts.full_name or facts.requested) if facts else ""
    record = dataclasses.replace(
        record,
        body_sha=body_sha(issue.body),
        form_problems=tuple(p.note for p in form.problems),
        checks=checks,
        checked_at=now,
        repository=repository or "",
        repo_people=facts.people_logins if facts and facts.people_logins else record.repo_people,
    )
    if not record.stage:
        record = record.moved_to(rules.stages.first.name, at=issue.created_at, by=issue.user.login, via="intake")
    if facts and facts.owner_is_org and (facts.full_name or ""):
        record = dataclasses.replace(record, repo_org=(facts.full_name or "").split("/", 1)[0].lower())
    if not record.round:
        record = dataclasses.replace(record, round=round_of(rules, issue.created_at.date()))
    return with_evidence_checks(record, rules)  # the thresholds on the evidence pack, when the rules set any


def auto_advance(record: Record, rules: Rules, at: dt.datetime) -> Record:
    """Screening passed: move on, when the rules say so — as soon as it passes, so that what
    follows (scores, commands) happens in the next stage whenever the bot gets to see it. Not when
    a reviewer has sent the application back to screening on purpose, nor while it waits for a round."""
    first = rules.stages.first
    if rules.funding.dated and not record.round:
        return record
    if rules.stages.auto_advance and record.stage == first.name and record.eligible and first.next \
            and not record.outcome and record.history and record.history[-1].via == "intake":
        return record.moved_to(first.next[0], at=at, by=BOT_ACTOR, via="eligibility")
    return record


def join_round(record: Record, issue: Issue, rules: Rules, now: dt.datetime, posted: set[str],
               tr: Translator) -> tuple[Record, list[Action]]:
    """With dated rounds, an application filed outside every round waits: it is told (once) when the
    next round opens, and joins the round that is open when the bot next sees it."""
    if record.round or record.outcome or not record.checks:
        return record, []
    if not rules.funding.dated:  # one round: a record from before rounds were kept joins it
        return dataclasses.replace(record, round=rules.funding.rounds[0].name), []
    today = now.astimezone(dt.timezone.utc).date()
    current = rules.funding.round_on(today)
    if current is not None:
        joined = dataclasses.replace(record, round=current.name).audited(now, BOT_ACTOR, "round", current.name)
        return joined, []
    upcoming = rules.funding.next_round(today)
    key = NoticeKey.round_wait(upcoming.name if upcoming else None)
    if key in posted or key in record.notices:
        return record, []
    filed = tr.date(issue.created_at.astimezone(dt.timezone.utc).date())
    if upcoming is not None and upcoming.opens is not None:
        text = tr.gettext("@%(login)s applications are taken during the fund's rounds, and this one was filed on "
                          "%(filed)s (UTC), outside them. The next round, **%(round)s**, opens on **%(opens)s**: the "
                          "application waits for it, and its review starts then. Nothing needs doing meanwhile; "
                          "edits are checked as usual.", login=issue.user.login, filed=filed,
                          round=escape_inline(upcoming.name, 40), opens=tr.date(upcoming.opens))
    else:
        text = tr.gettext("@%(login)s applications are taken during the fund's rounds, and this one was filed on "
                          "%(filed)s (UTC), outside them. No later round is announced yet: the application waits, "
                          "and its review starts when the next round opens.", login=issue.user.login, filed=filed)
    return record.with_notice(key), [PostComment(key=key, body=text)]
