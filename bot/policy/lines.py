"""What the bot did and what it could not do, as it keeps them: message ids with parameters. Pure.

A write (`line`), a write GitHub refused (`write_what`) and a failure of the sweep (`failure`) are kept
as `Note`s — in the record, in the sweep log — never as English, so they are shown in the fund's or
the application's language and survive any rewording of the messages (`bot.policy.wording.describe`
puts them in words; `english` gives the words the process logs and prints).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.policy.i18n import N_
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, DeleteComment, PostComment, React, RecordAssignment, RecordGrant, RemoveLabel,
    SetAway, UpsertStatusComment,
)
from bot.policy.record import Note

# A line of the sweep log and of `fundbot` output: one write. %(number)s is the issue the write was on.
# Translators: a line of the sweep log: one write the sweep made on GitHub.
LINES: dict[str, str] = {
    "line.status": N_("#%(number)s: update the status comment"),
    "line.add_labels": N_("#%(number)s: add labels %(labels)s"),
    "line.remove_label": N_("#%(number)s: remove label %(label)s"),
    "line.comment": N_("#%(number)s: comment (%(key)s)"),
    "line.react": N_("#%(number)s: react %(content)s to comment %(comment)s"),
    "line.assign": N_("#%(number)s: assign %(logins)s"),
    "line.close": N_("#%(number)s: close (%(reason)s)"),
    "line.delete": N_("#%(number)s: delete duplicate status comment %(comment)s"),
    "line.grant": N_("#%(number)s: enter the grant of %(amount)s in the ledger (%(round)s)"),
    "line.away": N_("#%(number)s: %(login)s away until %(date)s"),
    "line.back": N_("#%(number)s: %(login)s back"),
    "line.assigned": N_("#%(number)s: note the assignment of %(logins)s by load"),
    "line.ledger": N_("%(repo)s: put the ledger in step with the funded applications"),
}

# What a sweep could not finish. %(error)s is GitHub's answer (or the exception) as it was.
# Translators: a failure listed in the sweep log.
FAILURES: dict[str, str] = {
    "failure.config_read": N_("reading the configuration of %(repo)s: %(error)s"),
    "failure.not_fund": N_("%(repo)s is not a fund, or has no valid configuration yet"),
    "failure.not_fund_problems": N_("%(repo)s is not a fund, or has no valid configuration yet (%(count)s problems)"),
    "failure.config_problems": N_("%(repo)s: the configuration has %(count)s problems; the last valid configuration "
                                  "is used meanwhile (see the configuration issue)"),
    "failure.log": N_("writing the sweep log: %(error)s"),
    "failure.listing": N_("listing applications of %(repo)s: %(error)s"),
    "failure.application": N_("#%(number)s: %(error)s"),
    "failure.refused": N_("#%(number)s: GitHub refused %(what)s: %(status)s %(message)s"),
    "failure.reports": N_("listing progress-report issues: %(error)s"),
    "failure.report": N_("report #%(number)s: %(error)s"),
    "failure.ledger": N_("reconciling the ledger: %(error)s"),
    "failure.read": N_("reading %(repo)s: %(error)s"),
    "failure.digest": N_("writing the weekly digest: %(error)s"),
}


def line(code: str, **params: Any) -> Note:
    """A write, as kept: `code` is a key of `LINES` without its `line.` prefix."""
    assert f"line.{code}" in LINES, code
    return Note(f"line.{code}", params)


def failure(code: str, **params: Any) -> Note:
    """A failure, as kept: `code` is a key of `FAILURES` without its `failure.` prefix."""
    assert f"failure.{code}" in FAILURES, code
    return Note(f"failure.{code}", params)


def refused(number: int, what: Note, status: int, message: str) -> Note:
    """A write GitHub refused on application `number`, as a sweep failure."""
    return failure("refused", number=number, what={"code": what.code, "params": dict(what.params)}, status=status,
                   message=message)


def nested(value: Any) -> Note | None:
    """A note kept inside another note's parameters (`refused`'s `what`), or None."""
    if isinstance(value, Mapping) and isinstance(value.get("code"), str):
        return Note(value["code"], dict(value.get("params") or {}))
    return None


def action_line(action: Action, number: int) -> Note:
    """The line a write makes in the output and the sweep log."""
    match action:
        case UpsertStatusComment():
            return line("status", number=number)
        case AddLabels(names=names):
            return line("add_labels", number=number, labels=", ".join(names))
        case RemoveLabel(name=name):
            return line("remove_label", number=number, label=name)
        case PostComment(key=key, number=other):
            return line("comment", number=other or number, key=key)
        case React(comment_id=cid, content=content):
            return line("react", number=number, content=content, comment=cid)
        case Assign(logins=logins):
            return line("assign", number=number, logins=", ".join(logins))
        case CloseIssue(reason=reason, number=other):
            return line("close", number=other or number, reason=reason)
        case DeleteComment(comment_id=cid):
            return line("delete", number=number, comment=cid)
        case RecordGrant(round=round_name, amount=amount):
            return line("grant", number=number, amount=format(amount, "f"), round=round_name)
        case SetAway(login=login, until=until):
            return line("away", number=number, login=login, date=until.isoformat()) if until else \
                line("back", number=number, login=login)
        case RecordAssignment(logins=logins):
            return line("assigned", number=number, logins=", ".join(logins))
    raise TypeError(f"no line for {type(action).__name__}")


def write_what(action: Action) -> Note:
    """A short name for a write, for the status comment's list of refused writes."""
    match action:
        case PostComment(key=key):
            return Note("write.comment", {"key": key})
        case React(comment_id=cid):
            return Note("write.reaction", {"comment": cid})
        case AddLabels() | RemoveLabel():
            return Note("write.labels")
        case Assign(logins=logins):
            return Note("write.assign", {"logins": ", ".join(logins)})
        case CloseIssue():
            return Note("write.close")
        case DeleteComment(comment_id=cid):
            return Note("write.delete", {"comment": cid})
    return Note("text", {"text": type(action).__name__})
