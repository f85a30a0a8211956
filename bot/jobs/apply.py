"""apply: turn `decide`'s actions into the fewest GitHub writes, comparing with what is there.

A repeated delivery changes nothing: labels already present are not added, the status comment is
edited only when its body differs, a one-off comment whose marker is already on the issue is not
posted again, and a reaction GitHub already has answers 200. With `dry_run`, nothing is written:
the actions are described instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.policy.decide import Snapshot
from bot.github.gateway import GitHubGateway
from bot.jobs.gather import notice_marker
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, PostComment, React, RemoveLabel, UpsertStatusComment,
)

log = logging.getLogger("fundbot.executor")


@dataclass
class Applied:
    """What `apply` did (or, in a dry run, would do), one line per write."""

    lines: list[str] = field(default_factory=list)


def describe(action: Action, number: int) -> str:
    match action:
        case UpsertStatusComment():
            return f"#{number}: update the status comment"
        case AddLabels(names=names):
            return f"#{number}: add labels {', '.join(names)}"
        case RemoveLabel(name=name):
            return f"#{number}: remove label {name}"
        case PostComment(key=key, number=other):
            return f"#{other or number}: comment ({key})"
        case React(comment_id=cid, content=content):
            return f"#{number}: react {content} to comment {cid}"
        case Assign(logins=logins):
            return f"#{number}: assign {', '.join(logins)}"
        case CloseIssue(reason=reason, number=other):
            return f"#{other or number}: close ({reason})"
    return f"#{number}: {action}"


def apply(gateway: GitHubGateway, snap: Snapshot, actions: tuple[Action, ...], *, dry_run: bool = False) -> Applied:
    """Carry out `actions` on the snapshot's issue; skip whatever is already true."""
    issue = snap.issue
    repo, number = issue.repo, issue.number
    done = Applied()
    present = {label.lower() for label in issue.labels}
    for action in actions:
        if _already_true(action, snap, present):
            continue
        done.lines.append(describe(action, number))
        if dry_run:
            continue
        match action:
            case UpsertStatusComment(body=body):
                if snap.status_comment is None:
                    gateway.create_comment(repo, number, body)
                else:
                    gateway.edit_comment(repo, snap.status_comment.id, body)
            case AddLabels(names=names):
                gateway.add_labels(repo, number, names)
            case RemoveLabel(name=name):
                gateway.remove_label(repo, number, name)
            case PostComment(key=key, body=body, number=other):
                gateway.create_comment(repo, other or number, f"{body}\n\n{notice_marker(key)}")
            case React(comment_id=comment_id, content=content):
                gateway.react_to_comment(repo, comment_id, content)
            case Assign(logins=logins):
                gateway.add_assignees(repo, number, logins)
            case CloseIssue(reason=reason, number=other):
                gateway.update_issue(repo, other or number, state="closed", state_reason=reason)
    return done


def _already_true(action: Action, snap: Snapshot, present: set[str]) -> bool:
    match action:
        case UpsertStatusComment(body=body):
            return snap.status_comment is not None and snap.status_comment.body == body
        case AddLabels(names=names):
            return all(name.lower() in present for name in names)
        case RemoveLabel(name=name):
            return name.lower() not in present
        case PostComment(key=key):
            return key in snap.bot_markers
        case Assign(logins=logins):
            return all(login.lower() in {a.lower() for a in snap.issue.assignees} for login in logins)
        case CloseIssue(number=None):
            return snap.issue.state == "closed"
    return False
