"""apply: turn `decide`'s actions into the fewest GitHub writes, comparing with what is there.

A repeated delivery changes nothing: labels already present are not added, the status comment is
edited only when its body differs, a one-off comment whose marker is already on the issue is not
posted again (nor when GitHub did post it but lost the answer: it is found by its marker), and a
reaction GitHub already has answers 200. With `dry_run`, nothing is written: the actions are
described instead.

A write GitHub refuses for good (422, 404, 410, a 403 that is not a rate limit) does not stop the
others: it is logged and returned as a `WriteFailure`, which the record keeps and the status
comment shows, and nothing retries it — so one hostile input can never leave an application stuck
(SPEC §11). GitHub being unavailable (`GitHubUnavailable`) still fails the whole run, to be
retried or finished by the sweep; so does a refused status comment, since the record lives in it.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable
from bot.policy.decide import Snapshot
from bot.policy.markers import STATUS_MARKER, notice
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, DeleteComment, PostComment, React, RemoveLabel, UpsertStatusComment,
)
from bot.policy.record import Record, WriteFailure
from bot.policy.sweeplog import (
    LINE_ADD_LABELS, LINE_ASSIGN, LINE_CLOSE, LINE_COMMENT, LINE_DELETE, LINE_REACT, LINE_REMOVE_LABEL, LINE_STATUS,
)
from bot.policy.wording import WRITE_ASSIGN, WRITE_CLOSE, WRITE_COMMENT, WRITE_DELETE, WRITE_LABELS, WRITE_REACTION

log = logging.getLogger("fundbot.apply")


@dataclass
class Applied:
    """What `apply` did (or, in a dry run, would do), one line per write, and what GitHub refused."""

    lines: list[str] = field(default_factory=list)
    failures: list[WriteFailure] = field(default_factory=list)
    record: Record | None = None  # the application's record as decided (what the sweep reconciles with)


def describe(action: Action, number: int) -> str:
    """The line a write makes in the output and the sweep log (a message of `bot.policy.sweeplog.LINES`)."""
    match action:
        case UpsertStatusComment():
            return LINE_STATUS % {"number": number}
        case AddLabels(names=names):
            return LINE_ADD_LABELS % {"number": number, "labels": ", ".join(names)}
        case RemoveLabel(name=name):
            return LINE_REMOVE_LABEL % {"number": number, "label": name}
        case PostComment(key=key, number=other):
            return LINE_COMMENT % {"number": other or number, "key": key}
        case React(comment_id=cid, content=content):
            return LINE_REACT % {"number": number, "content": content, "comment": cid}
        case Assign(logins=logins):
            return LINE_ASSIGN % {"number": number, "logins": ", ".join(logins)}
        case CloseIssue(reason=reason, number=other):
            return LINE_CLOSE % {"number": other or number, "reason": reason}
        case DeleteComment(comment_id=cid):
            return LINE_DELETE % {"number": number, "comment": cid}
    return f"#{number}: {action}"


def what(action: Action) -> str:
    """A short name for a write, for the status comment's list of refused writes: a catalogue message
    in English (`bot.policy.wording.WRITES`), which the status comment shows in the application's language."""
    match action:
        case PostComment(key=key):
            return WRITE_COMMENT % {"key": key}
        case React(comment_id=cid):
            return WRITE_REACTION % {"comment": cid}
        case AddLabels() | RemoveLabel():
            return WRITE_LABELS
        case Assign(logins=logins):
            return WRITE_ASSIGN % {"logins": ", ".join(logins)}
        case CloseIssue():
            return WRITE_CLOSE
        case DeleteComment(comment_id=cid):
            return WRITE_DELETE % {"comment": cid}
    return type(action).__name__


def apply(gateway: GitHubGateway, snap: Snapshot, actions: tuple[Action, ...], now: dt.datetime, *,
          dry_run: bool = False, delivery: str | None = None,
          restate: Callable[[list[WriteFailure]], str] | None = None) -> Applied:
    """Carry out `actions` on the snapshot's issue; skip whatever is already true.

    The status comment comes after the other writes; when GitHub refused some of them, `restate`
    gives its body again with the refusals recorded."""
    issue = snap.issue
    repo, number = issue.repo, issue.number
    done = Applied()
    present = {label.lower() for label in issue.labels}
    for action in actions:
        if isinstance(action, UpsertStatusComment) and done.failures and restate is not None:
            action = UpsertStatusComment(restate(done.failures))
        if _already_true(action, snap, present):
            continue
        done.lines.append(describe(action, number))
        if dry_run:
            continue
        try:
            _write(gateway, snap, action)
        except GitHubUnavailable:
            raise
        except GitHubError as err:
            if isinstance(action, UpsertStatusComment) or err.status in (0, 401):
                raise
            done.failures.append(WriteFailure(now, what(action), err.status, err.message[:300]))
            log.warning("GitHub refused a write; going on without it",
                        extra={"delivery": delivery, "repo": repo, "issue": number, "status": err.status,
                               "reason": f"{what(action)}: {err.message[:200]}"})
    return done


def _write(gateway: GitHubGateway, snap: Snapshot, action: Action) -> None:
    repo, number = snap.issue.repo, snap.issue.number
    match action:
        case UpsertStatusComment(body=body):
            if snap.status_comment is None:  # the answer an applicant waits for: paced ahead of the rest
                gateway.create_comment(repo, number, body, marker=STATUS_MARKER, urgent=True)
            else:
                gateway.edit_comment(repo, snap.status_comment.id, body)
        case AddLabels(names=names):
            gateway.add_labels(repo, number, names)
        case RemoveLabel(name=name):
            gateway.remove_label(repo, number, name)
        case PostComment(key=key, body=body, number=other):
            marker = notice(key)
            gateway.create_comment(repo, other or number, f"{body}\n\n{marker}", marker=marker)
        case React(comment_id=comment_id, content=content):
            gateway.react_to_comment(repo, comment_id, content)
        case Assign(logins=logins):
            gateway.add_assignees(repo, number, logins)
        case CloseIssue(reason=reason, number=other):
            gateway.update_issue(repo, other or number, state="closed", state_reason=reason)
        case DeleteComment(comment_id=comment_id):
            gateway.delete_comment(repo, comment_id)


def _already_true(action: Action, snap: Snapshot, present: set[str]) -> bool:
    match action:
        case UpsertStatusComment(body=body):
            return snap.status_comment is not None and snap.status_comment.body == body
        case AddLabels(names=names):
            return all(name.lower() in present for name in names)
        case RemoveLabel(name=name):
            return name.lower() not in present
        case PostComment(key=key):
            return key in snap.posted
        case Assign(logins=logins):
            return all(login.lower() in {a.lower() for a in snap.issue.assignees} for login in logins)
        case CloseIssue(number=None):
            return snap.issue.state == "closed"
    return False
