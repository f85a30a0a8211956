"""Builders for the objects tests need: issues and comments in GitHub's shape, and (from
`bot.demo.samples`, shared with `fundbot demo`) application bodies written the way GitHub
renders the form."""
from __future__ import annotations

import datetime as dt

from bot.policy.models import Comment, Issue, User
from bot.demo.samples import application_answers, application_body, report_body

__all__ = ["T0", "application_answers", "application_body", "make_comment", "make_issue", "report_body"]

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def make_issue(number: int = 1, body: str | None = None, *, user: str = "applicant", labels: tuple[str, ...] =
               ("fund: application",), state: str = "open", created: dt.datetime = T0, assignees: tuple[str, ...] = (),
               comments: int = 0, repo: str = "fund/applications") -> Issue:
    return Issue(
        repo=repo, number=number, title="[Application]: Tiny Inference", body=application_body() if body is None else body,
        state=state, user=User(user), author_association="NONE", labels=labels, assignees=assignees,
        created_at=created, updated_at=created, comments=comments, is_pull_request=False,
        html_url=f"https://github.com/{repo}/issues/{number}",
    )


def make_comment(comment_id: int, body: str, *, user: str = "reviewer", association: str = "MEMBER",
                 at: dt.datetime = T0, bot: bool = False) -> Comment:
    return Comment(id=comment_id, body=body, user=User(user, "Bot" if bot else "User"),
                   author_association=association, created_at=at)
