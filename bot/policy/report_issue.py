"""Progress-report issues (SPEC §7): an issue from the progress-report form that names an application
(`#123`) counts as its report — or is answered with what is wrong. Pure.

Two steps, each under its issue's own lock: the report issue itself is refused with a reply that says
what is wrong (each kind of refusal has its own key, so a report fixed by an edit is still taken), or
passed on; then, on the application it names, it is recorded as the maintainers' report (and the
report issue closed) — or refused there, when the application is not funded or the author is not
one of its maintainers.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import Translator
from bot.policy.markers import NoticeKey
from bot.policy.models import Action, CloseIssue, Issue, PostComment
from bot.policy.record import Record, ReportEntry
from bot.policy.reports import report_status
from bot.policy.roles import applicant_logins
from bot.policy.rules import Rules
from bot.policy.status import person
from bot.policy.text import escape_inline
from bot.policy.triggers import ReportIssue
from bot.policy.wording import describe


class Named(enum.Enum):
    """What a progress-report issue's `application` answer names."""

    NOTHING = "nothing"  # no readable issue number
    MISSING = "missing"  # no such issue in the repository
    NOT_APPLICATION = "not-application"  # an issue, but not an application
    APPLICATION = "application"


@dataclass(frozen=True)
class ReportDecision:
    """What to do on a progress-report issue itself, and whether to record it on the application."""

    actions: tuple[Action, ...]
    forward: ReportIssue | None  # record it on the application it names


def report_language(rules: Rules, form: ParsedForm, application: Issue | None) -> str:
    """The language a progress-report issue is answered in: its application's; when it names none,
    the report form's (`progress-report.zh.yml`), else the fund's."""
    if application is not None:
        return rules.language_of(rules.read_application(application.body))
    return rules.language_of(form)


def decide_report_issue(report: Issue, form: ParsedForm, named: Named, posted: frozenset[str],
                        tr: Translator) -> ReportDecision:
    """A progress-report issue: refused with a reply that says what is wrong, or passed on."""
    author = report.user.login
    number = form.application_number
    if report.state != "open":
        return ReportDecision((), None)
    refusal: tuple[tuple[str, ...], str] | None = None  # (its keys, the first the one to post; its words)
    if named is Named.NOTHING or number is None:
        problems = " ".join(escape_inline(describe(p.note, tr, form.template), 500)
                            for p in form.problems_for("application")) or tr.gettext("the application is not named.")
        refusal = ((NoticeKey.report_refused(report.number, "unnamed"),),
                   tr.gettext("@%(author)s I could not tell which application this reports on: %(problems)s",
                              author=author, problems=problems))
    elif form.problems:
        shown = form.problems[:20]
        # The key comes from the problems, not from their words in a language.
        keys = (NoticeKey.report_incomplete(report.number, ((p.note.code, p.note.params) for p in shown)),
                NoticeKey.report_incomplete_before_v4(report.number, (escape_inline(p.message, 500) for p in shown)))
        missing = "\n".join(f"- {escape_inline(describe(p.note, tr, form.template), 500)}" for p in shown)
        refusal = (keys, tr.gettext("@%(author)s this progress report is not complete yet; edit the issue to fix:",
                                    author=author) + f"\n\n{missing}")
    elif named is Named.MISSING:
        refusal = ((NoticeKey.report_refused(report.number, f"missing-{number}"),),
                   tr.gettext("@%(author)s there is no issue #%(number)s in this repository. Edit this issue to name "
                              "your application.", author=author, number=number))
    elif named is Named.NOT_APPLICATION:
        refusal = ((NoticeKey.report_refused(report.number, f"not-application-{number}"),),
                   tr.gettext("@%(author)s #%(number)s is not an application to the fund. Edit this issue to name "
                              "one.", author=author, number=number))
    if refusal is not None:
        keys, text = refusal
        said = any(key in posted for key in keys)
        return ReportDecision(() if said else (PostComment(key=keys[0], body=text),), None)
    assert number is not None
    return ReportDecision((), ReportIssue(number=report.number, author=author, created_at=report.created_at))


def record_report_issue(report: ReportIssue, record: Record, issue: Issue, form: ParsedForm,
                        rules: Rules, tr: Translator) -> tuple[Record, list[Action]]:
    """On the application a report issue names: recorded as its maintainers' progress report (and the
    report issue closed), or refused there with a reply on the report issue."""
    ref = f"issue:{report.number}"
    if any(r.ref == ref for r in record.reports):
        return record, [CloseIssue("completed", number=report.number)]  # recorded; only the closing was lost
    maintainers = {a.lower() for a in applicant_logins(issue, form)}
    if not record.funded:
        text = tr.gettext("@%(author)s #%(number)s is not a funded application, so it takes no progress reports.",
                          author=report.author, number=issue.number)
        return record, [PostComment(key=NoticeKey.report_refused(report.number, "not-funded"), body=text,
                                    number=report.number)]
    if report.author.lower() not in maintainers:
        names = tr.join(person(m) for m in applicant_logins(issue, form))
        text = tr.gettext("@%(author)s only the maintainers of #%(number)s (%(names)s) can report on it, so this issue "
                          "was not recorded as its progress report.", author=report.author, number=issue.number,
                          names=names)
        return record, [PostComment(key=NoticeKey.report_refused(report.number, "not-maintainer"), body=text,
                                    number=report.number)]
    entry = ReportEntry(at=report.created_at, by=report.author, ref=ref)
    record = dataclasses.replace(record, reports=record.reports + (entry,)).audited(
        report.created_at, report.author, "report", ref)
    status = report_status(record, rules.reports, report.created_at.date())
    if status.next_due:
        text = tr.gettext("Thank you, @%(author)s: recorded as a progress report on #%(number)s. The next one is due "
                          "on %(date)s (UTC).", author=report.author, number=issue.number,
                          date=tr.date(status.next_due))
    else:
        text = tr.gettext("Thank you, @%(author)s: recorded as a progress report on #%(number)s. That was the last "
                          "report the grant needs.", author=report.author, number=issue.number)
    return record, [PostComment(key=NoticeKey.report_ack(report.number), body=text, number=report.number),
                    CloseIssue("completed", number=report.number)]
