"""Builders for the objects tests need: issues and comments in GitHub's shape, and (from
`bot.demo.samples`, shared with `fundbot demo`) application bodies written the way GitHub
renders the form."""
from __future__ import annotations

import datetime as dt

from bot.policy.models import Comment, Issue, User
from bot.demo.samples import application_answers, application_body, report_body

__all__ = ["REVIEW_STEPS", "T0", "TO_DECISION", "application_answers", "application_body", "make_comment", "make_issue",
           "report_body"]

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)

# The reviewers' comments that take an eligible application from `technical` to `decision` under the
# shipped rules (stages.yml: two reviewers' scores to leave technical, one to leave funding), by the
# stage each group of comments reaches; rita and ravi are the fund's reviewers.
REVIEW_STEPS = {
    "community": (("rita", "/score technical 4"), ("ravi", "/score technical 5\n/score impact 3"),
                  ("rita", "/advance")),
    "funding": (("rita", "/advance"),),
    "decision": (("ravi", "/score funding 4"), ("rita", "/advance")),
}
TO_DECISION = tuple(comment for comments in REVIEW_STEPS.values() for comment in comments)


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
