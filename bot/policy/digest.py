"""The weekly digest: one issue in the fund's repository, edited in place, listing what waits on whom. Pure.

The sweep gathers, for every application it swept, what it waits on (`bot.policy.waiting`) and hands it
here; the digest is written at most once a week (the ISO week it was written for is kept hidden in it), in
the fund's language, found again by its own marker — and opened anew when it was deleted. A dry run never
writes it; a second digest is never made (the App's oldest issue with the marker is the digest).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.policy.i18n import N_, Translator, translator
from bot.policy.markers import DIGEST_MARKER, DIGEST_TAG, hidden, read_hidden
from bot.policy.models import Issue, UpsertIssue
from bot.policy.rules import Rules
from bot.policy.text import escape_inline
from bot.policy.waiting import Waiting, WaitingOn

DIGEST_TITLE = N_("Fund Bot: weekly digest of what waits on whom")
DIGEST_VERSION = 1
SHOW_ITEMS = 200  # applications listed (the longest waiting first); the body stays far below GitHub's limit
SHOW_PEOPLE = 60

# What an application waits for, in words (a catalogue message each).
WAITING_WORDS = {
    WaitingOn.APPLICANT: N_("the applicant"),
    WaitingOn.ROUND: N_("its funding round"),
    WaitingOn.REVIEWERS: N_("its reviewers"),
    WaitingOn.VOTE: N_("the community vote"),
    WaitingOn.APPROVERS: N_("more approvers"),
    WaitingOn.MAINTAINERS: N_("a progress report"),
    WaitingOn.REPORT_REVIEW: N_("a review of its progress report"),
}


@dataclass(frozen=True)
class DigestItem:
    """One application in the digest: which, where it is, and what it waits on."""

    number: int
    project: str
    stage: str
    waiting: Waiting


def week_of(moment: dt.datetime) -> str:
    """The ISO week of a moment, in UTC: `2027-W01`."""
    year, week, _ = moment.astimezone(dt.timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def written_week(body: str | None) -> str:
    """The week a digest's body was written for ("" when it has none)."""
    block = read_hidden(DIGEST_TAG, body)
    return str(block.data.get("week", "")) if block else ""


def _item_line(item: DigestItem, tr: Translator) -> str:
    w = item.waiting
    parts = [tr.gettext("#%(number)s %(project)s (%(stage)s): waiting for %(what)s since %(date)s",
                        number=item.number, project=escape_inline(item.project, 80), stage=item.stage,
                        what=tr.gettext(WAITING_WORDS[w.on]), date=tr.date(w.since.astimezone(dt.timezone.utc).date()))]
    if w.next_reminder:
        parts.append(tr.gettext("next reminder %(date)s", date=tr.date(w.next_reminder)))
    if w.escalated:
        parts.append(tr.gettext("escalated to the stage's leads"))
    return tr.figures(parts)


def render_digest(items: Sequence[DigestItem], week: str, now: dt.datetime, tr: Translator) -> str:
    """The digest's body: by person, what waits on them; then the applications waiting on no one person."""
    ordered = sorted(items, key=lambda i: (i.waiting.since, i.number))[:SHOW_ITEMS]
    by_person: dict[str, list[DigestItem]] = {}
    for item in ordered:
        for who in item.waiting.people:
            by_person.setdefault(who.lower(), []).append(item)
    parts = [DIGEST_MARKER, "## " + tr.gettext("What waits on whom"),
             tr.gettext("Fund Bot edits this issue once a week, after the sweep. Week %(week)s; as of %(date)s "
                        "(UTC).", week=week, date=tr.date(now.astimezone(dt.timezone.utc).date()))]
    if not ordered:
        parts.append(tr.gettext("Nothing waits on anyone."))
    for who, waiting in sorted(by_person.items(), key=lambda p: (-len(p[1]), p[0]))[:SHOW_PEOPLE]:
        # Named without notifying them: the digest is a list to read, not a reminder.
        parts.append(f"### {escape_inline('@' + who, 60)}\n\n" + "\n".join(f"- {_item_line(i, tr)}" for i in waiting))
    rest = [i for i in ordered if not i.waiting.people]
    if rest:
        parts.append("### " + tr.gettext("Waiting on no one person") + "\n\n"
                     + "\n".join(f"- {_item_line(i, tr)}" for i in rest))
    if len(items) > len(ordered):
        parts.append(tr.ngettext("… and %(n)s more application.", "… and %(n)s more applications.",
                                 len(items) - len(ordered)))
    parts.append(hidden(DIGEST_TAG, {"v": DIGEST_VERSION, "week": week}))
    return "\n\n".join(parts) + "\n"


def digest_write(found: Issue | None, items: Iterable[DigestItem], rules: Rules, now: dt.datetime
                 ) -> UpsertIssue | None:
    """The digest written for this week (None: it was already); opened the first time — or again, when the
    one there was deleted — in the fund's language."""
    week = week_of(now)
    if found is not None and written_week(found.body) == week:
        return None
    tr = translator(rules.language)
    body = render_digest(list(items), week, now, tr)
    return UpsertIssue(DIGEST_MARKER, tr.gettext(DIGEST_TITLE), body, found.number if found else None,
                       labels=(rules.stages.labels.bot.name,))


__all__ = ["DIGEST_TITLE", "DigestItem", "digest_write", "render_digest", "week_of", "written_week"]
